//! The PostgreSQL server the folders run against: a throwaway cluster from `graft-pgtemp`, or
//! an existing server given by a superuser URL. Each folder gets a fresh database with the
//! extensions and schema the original harness created (HARNESS 4.3).

use tokio_postgres::NoTls;

/// Errors from the database server.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("cannot start a temporary PostgreSQL cluster: {0}")]
    Cluster(String),
    #[error("cannot connect to {url}: {source}")]
    Connect {
        url: String,
        source: tokio_postgres::Error,
    },
    #[error("{what} failed: {source}")]
    Sql {
        what: String,
        source: tokio_postgres::Error,
    },
    #[error("cannot use {0} as a PostgreSQL URL (expected postgres://...)")]
    Url(String),
}

/// SQL run once in the template every folder's database is copied from.
const PREPARE_SQL: &str = "CREATE EXTENSION IF NOT EXISTS citext; \
CREATE EXTENSION IF NOT EXISTS ltree; \
CREATE EXTENSION IF NOT EXISTS pgcrypto; \
CREATE SCHEMA IF NOT EXISTS hge_tests;";

/// PostGIS when the machine has it (`scripts/test-extras.sh` installs it); without it, the
/// classes with the `postgis` marker still run and their PostGIS cases fail.
const POSTGIS_SQL: &str = "CREATE EXTENSION IF NOT EXISTS postgis; \
CREATE EXTENSION IF NOT EXISTS postgis_raster; \
CREATE EXTENSION IF NOT EXISTS postgis_topology;";

/// Copying a prepared template is much faster than creating extensions in each database.
const TEMPLATE: &str = "conf_template";

/// Where databases are created.
pub enum DbServer {
    Temporary(graft_pgtemp::Cluster),
    External { admin_url: String },
}

impl DbServer {
    /// Uses `pg_url` when given, else starts a temporary cluster.
    pub async fn start(pg_url: Option<&str>) -> Result<DbServer, DatabaseError> {
        match pg_url {
            Some(url) => {
                with_database(url, "postgres")?;
                Ok(DbServer::External {
                    admin_url: url.to_string(),
                })
            }
            None => {
                let cluster = graft_pgtemp::Cluster::temporary()
                    .await
                    .map_err(|e| DatabaseError::Cluster(e.to_string()))?;
                Ok(DbServer::Temporary(cluster))
            }
        }
    }

    /// Creates the template database with the extensions and schema of HARNESS 4.3.
    pub async fn prepare_template(&self) -> Result<(), DatabaseError> {
        let admin = self.admin_url()?;
        let ident = quote_ident(TEMPLATE);
        execute(
            &admin,
            &format!("DROP DATABASE IF EXISTS {ident} WITH (FORCE)"),
            "dropping an old template",
        )
        .await?;
        execute(
            &admin,
            &format!("CREATE DATABASE {ident}"),
            "CREATE DATABASE (template)",
        )
        .await?;
        let url = self.url(TEMPLATE)?;
        execute(&url, PREPARE_SQL, "creating extensions").await?;
        if execute(&url, POSTGIS_SQL, "creating PostGIS")
            .await
            .is_err()
        {
            eprintln!("note: PostGIS is not available; cases that need it will fail");
        }
        Ok(())
    }

    /// The URL of database `db` on this server.
    pub fn url(&self, db: &str) -> Result<String, DatabaseError> {
        match self {
            DbServer::Temporary(cluster) => Ok(cluster.url(db).to_string()),
            DbServer::External { admin_url } => with_database(admin_url, db),
        }
    }

    fn admin_url(&self) -> Result<String, DatabaseError> {
        match self {
            DbServer::Temporary(_) => self.url("postgres"),
            DbServer::External { admin_url } => Ok(admin_url.clone()),
        }
    }

    /// Creates database `name` (dropping a leftover of the same name) and prepares it; returns
    /// its URL.
    pub async fn create_database(&self, name: &str) -> Result<String, DatabaseError> {
        let admin = self.admin_url()?;
        let ident = quote_ident(name);
        execute(
            &admin,
            &format!("DROP DATABASE IF EXISTS {ident} WITH (FORCE)"),
            "dropping an old database",
        )
        .await?;
        execute(
            &admin,
            &format!("CREATE DATABASE {ident} TEMPLATE {}", quote_ident(TEMPLATE)),
            "CREATE DATABASE",
        )
        .await?;
        self.url(name)
    }

    pub async fn drop_database(&self, name: &str) -> Result<(), DatabaseError> {
        let admin = self.admin_url()?;
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name));
        execute(&admin, &sql, "DROP DATABASE").await
    }

    /// Stops the temporary cluster (an external server is left alone).
    pub async fn stop(self) -> Result<(), DatabaseError> {
        match self {
            DbServer::Temporary(cluster) => cluster
                .stop()
                .await
                .map_err(|e| DatabaseError::Cluster(e.to_string())),
            DbServer::External { .. } => Ok(()),
        }
    }
}

async fn execute(url: &str, sql: &str, what: &str) -> Result<(), DatabaseError> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|source| DatabaseError::Connect {
            url: url.to_string(),
            source,
        })?;
    let connection_task = tokio::spawn(connection);
    let result = client
        .batch_execute(sql)
        .await
        .map_err(|source| DatabaseError::Sql {
            what: what.to_string(),
            source,
        });
    drop(client);
    let _ = connection_task.await;
    result
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `url` with its database name replaced by `db`.
pub fn with_database(url: &str, db: &str) -> Result<String, DatabaseError> {
    let scheme_end = url
        .find("://")
        .filter(|_| url.starts_with("postgres://") || url.starts_with("postgresql://"))
        .ok_or_else(|| DatabaseError::Url(url.to_string()))?;
    let rest_start = scheme_end + 3;
    let rest = &url[rest_start..];
    let query_at = rest.find('?').unwrap_or(rest.len());
    let (authority_and_path, query) = rest.split_at(query_at);
    let authority = authority_and_path
        .split_once('/')
        .map(|(authority, _)| authority)
        .unwrap_or(authority_and_path);
    Ok(format!("{}{authority}/{db}{query}", &url[..rest_start]))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_in_urls() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "conf_1").unwrap(),
            "postgres://u:p@h:5432/conf_1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgresql://h:1", "x").unwrap(),
            "postgresql://h:1/x"
        );
        assert!(with_database("host=h dbname=x", "y").is_err());
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
