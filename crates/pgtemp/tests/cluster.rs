//! Starts real PostgreSQL clusters (as the `postgres` user when run as root).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;

use graft_pgtemp::{Cluster, ClusterOptions, PgTempError};
use tokio_postgres::{Client, NoTls};

async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

/// A parent directory the `postgres` user can enter, whatever the umask or tempfile version.
fn open_tempdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[tokio::test]
async fn temporary_cluster_serves_a_new_database_and_vanishes_on_stop() {
    let cluster = Cluster::temporary().await.unwrap();
    let data_dir = cluster.data_dir().to_path_buf();
    assert!(data_dir.join("PG_VERSION").is_file());
    assert!(
        cluster
            .url("app")
            .starts_with("postgres://postgres@127.0.0.1:")
    );

    cluster.create_database("app test").await.unwrap();
    let err = cluster.create_database("app test").await.unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    {
        let client = connect(&cluster.url("app test")).await;
        let row = client.query_one("select 1::int4", &[]).await.unwrap();
        assert_eq!(row.get::<_, i32>(0), 1);
        // An open session must not block the forced drop below.
        cluster.drop_database("app test").await.unwrap();
    }
    cluster.drop_database("never existed").await.unwrap();

    cluster.stop().await.unwrap();
    assert!(!data_dir.exists());
    assert!(!data_dir.parent().unwrap().exists());
}

#[tokio::test]
async fn dropping_a_temporary_cluster_stops_it_and_removes_it() {
    let cluster = Cluster::temporary().await.unwrap();
    let root = cluster.data_dir().parent().unwrap().to_path_buf();
    let port = cluster.port();
    drop(cluster);
    assert!(!root.exists());
    let refused = tokio_postgres::connect(
        &format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        NoTls,
    )
    .await;
    assert!(refused.is_err());
}

#[tokio::test]
async fn persistent_cluster_keeps_its_data_across_restarts() {
    let parent = open_tempdir();
    let data_dir = parent.path().join("project/.graft/pgdata");
    let options = || ClusterOptions {
        data_dir: data_dir.clone(),
        port: None,
        binaries: None,
    };

    let first = Cluster::start(options()).await.unwrap();
    let client = connect(&first.url("postgres")).await;
    client
        .batch_execute("create table kept (id int primary key, name text); insert into kept values (1, 'row one')")
        .await
        .unwrap();
    let fsync: String = client.query_one("show fsync", &[]).await.unwrap().get(0);
    assert_eq!(fsync, "on", "the persistent dev cluster must stay durable");

    // A second server on the same data directory is refused clearly.
    let err = Cluster::start(options()).await.unwrap_err();
    assert!(matches!(err, PgTempError::AlreadyRunning { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("already running on this data directory")
    );

    drop(client);
    first.stop().await.unwrap();
    assert!(data_dir.join("PG_VERSION").is_file());
    assert!(!data_dir.join("postmaster.pid").exists());

    let second = Cluster::start(options()).await.unwrap();
    let client = connect(&second.url("postgres")).await;
    let name: String = client
        .query_one("select name from kept where id = 1", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(name, "row one");
    drop(client);
    second.stop().await.unwrap();
}

#[tokio::test]
async fn persistent_cluster_on_a_fixed_port_survives_a_stale_pid_file() {
    let parent = open_tempdir();
    let data_dir = parent.path().join("pgdata");
    let port = {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        listener.local_addr().unwrap().port()
    };
    let options = || ClusterOptions {
        data_dir: data_dir.clone(),
        port: Some(port),
        binaries: None,
    };
    Cluster::start(options())
        .await
        .unwrap()
        .stop()
        .await
        .unwrap();

    // What a crash leaves behind: a lock file naming a pid that is no longer a postmaster.
    let pid_file = data_dir.join("postmaster.pid");
    std::fs::write(
        &pid_file,
        format!("{}\n{}\n", std::process::id(), data_dir.display()),
    )
    .unwrap();

    let cluster = Cluster::start(options()).await.unwrap();
    assert_eq!(cluster.port(), port);
    let client = connect(&cluster.url("postgres")).await;
    client.query_one("select 1", &[]).await.unwrap();
    drop(client);
    cluster.stop().await.unwrap();
}

#[tokio::test]
async fn a_data_dir_with_foreign_files_is_refused() {
    let parent = open_tempdir();
    std::fs::write(parent.path().join("important.txt"), "keep me").unwrap();
    let err = Cluster::start(ClusterOptions {
        data_dir: parent.path().to_path_buf(),
        port: None,
        binaries: None,
    })
    .await
    .unwrap_err();
    assert!(matches!(err, PgTempError::NotAClusterDir { .. }), "{err}");
    assert!(parent.path().join("important.txt").exists());
}

#[tokio::test]
async fn two_temporary_clusters_run_side_by_side_on_different_ports() {
    let (a, b) = tokio::join!(Cluster::temporary(), Cluster::temporary());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.port(), b.port());
    assert_ne!(a.data_dir(), b.data_dir());
    for cluster in [&a, &b] {
        let client = connect(&cluster.url("postgres")).await;
        client.query_one("select 1", &[]).await.unwrap();
    }
    let (stop_a, stop_b) = tokio::join!(a.stop(), b.stop());
    stop_a.unwrap();
    stop_b.unwrap();
}

#[tokio::test]
async fn a_taken_fixed_port_fails_with_the_server_log() {
    let parent = open_tempdir();
    let squatter = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = squatter.local_addr().unwrap().port();
    let err = Cluster::start(ClusterOptions {
        data_dir: parent.path().join("pgdata"),
        port: Some(port),
        binaries: None,
    })
    .await
    .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, PgTempError::StartFailed { .. }), "{message}");
    assert!(message.contains("server log"), "{message}");
    assert!(message.contains("could not bind IPv4 address"), "{message}");
    drop(squatter);
}

#[tokio::test]
async fn a_data_dir_under_a_closed_parent_is_explained_when_running_as_root() {
    // A 0700 root-owned parent is closed to the `postgres` user that root hands the server to.
    let closed = tempfile::tempdir().unwrap();
    std::fs::set_permissions(closed.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let result = Cluster::start(ClusterOptions {
        data_dir: closed.path().join("pgdata"),
        port: None,
        binaries: None,
    })
    .await;
    if nix::unistd::Uid::effective().is_root() {
        let err = result.unwrap_err();
        assert!(matches!(err, PgTempError::DirNotReachable { .. }), "{err}");
        assert!(err.to_string().contains("chmod o+x"), "{err}");
    } else {
        // Our own 0700 directory is fine when the server runs as us.
        result.unwrap().stop().await.unwrap();
    }
}
