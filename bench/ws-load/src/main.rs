//! ws-load: the load generator of `bench/run-subscriptions` (not part of graft).
//!
//! In: a GraphQL-over-WebSocket endpoint, two subscription queries, a PostgreSQL URL and an
//! UPDATE statement. Out: one JSON line on stdout per phase boundary; the Python harness reads
//! them and samples the servers' CPU and memory at each boundary.
//!
//! Phases: connect and subscribe N subscribers (even ones to the shared query, odd ones to the
//! per-variable query over `--distinct-ids` ids) and wait for every first result -> settle ->
//! idle (no writes) -> changing (one UPDATE per interval, which sets a token `bench-<seq>` on
//! the shared query's row and on one per-variable row, rotating) -> drain -> result. A
//! delivery's delay is the instant the client read it minus the instant the UPDATE's commit
//! returned, both on this process's monotonic clock.

mod client;

use clap::Parser;
use client::{Plan, Protocol};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

#[derive(Parser, Debug)]
#[command(about = "Holds N GraphQL WebSocket subscribers and measures change-to-message delay")]
struct Args {
    /// e.g. ws://127.0.0.1:8080/v1/graphql
    #[arg(long)]
    url: String,
    /// graphql-transport-ws or graphql-ws (legacy)
    #[arg(long, default_value = "graphql-transport-ws")]
    protocol: String,
    /// connection_init payload (JSON)
    #[arg(long, default_value = "{}")]
    init_payload: String,
    #[arg(long)]
    subscribers: usize,
    /// The subscription every even subscriber runs, without variables.
    #[arg(long)]
    shared_query: String,
    /// The subscription every odd subscriber runs, with `$<var-name>` set to one of the ids.
    #[arg(long)]
    var_query: String,
    #[arg(long, default_value = "id")]
    var_name: String,
    #[arg(long, default_value_t = 2)]
    first_id: i32,
    #[arg(long, default_value_t = 500)]
    distinct_ids: i32,
    #[arg(long)]
    database_url: String,
    /// One statement: `$1` (text) is the token, `$2` (int) the per-variable row's id.
    #[arg(long)]
    update_sql: String,
    #[arg(long, default_value_t = 3.0)]
    settle_seconds: f64,
    #[arg(long, default_value_t = 10.0)]
    idle_seconds: f64,
    #[arg(long, default_value_t = 20)]
    changes: u64,
    #[arg(long, default_value_t = 1.0)]
    change_interval: f64,
    #[arg(long, default_value_t = 3.0)]
    drain_seconds: f64,
    /// Handshakes in flight at once while connecting.
    #[arg(long, default_value_t = 64)]
    connect_concurrency: usize,
    #[arg(long, default_value_t = 300.0)]
    subscribe_timeout: f64,
    /// Only connect and initialise; no subscription (the first result is then the ack).
    #[arg(long)]
    no_subscribe: bool,
}

/// What every subscriber task reports into.
#[derive(Default)]
pub struct Shared {
    pub with_data: AtomicUsize,
    pub failures: AtomicUsize,
    failure_samples: Mutex<Vec<String>>,
    pub data_messages: AtomicU64,
    pub other_messages: AtomicU64,
    pub stale_messages: AtomicU64,
    /// Results that carried a new write (one message may reflect several coalesced writes).
    pub data_with_token: AtomicU64,
    deliveries: Mutex<Vec<(u64, Instant)>>,
}

impl Shared {
    pub fn record_failure(&self, reason: &str) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        let mut samples = lock(&self.failure_samples);
        if samples.len() < 5 && !samples.iter().any(|s| s == reason) {
            samples.push(reason.to_string());
        }
    }

    pub fn record_deliveries(&self, seqs: impl Iterator<Item = u64>, received: Instant) {
        lock(&self.deliveries).extend(seqs.map(|seq| (seq, received)));
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn emit(event: &str, mut fields: Value) {
    if let Value::Object(map) = &mut fields {
        map.insert("event".into(), json!(event));
    }
    println!("{fields}");
}

fn seconds(value: f64) -> Duration {
    Duration::from_secs_f64(value.max(0.0))
}

/// The per-variable row (offset from `--first-id`) that write `seq` (from 1) updates.
fn written_offset(seq: u64, distinct: u64) -> u64 {
    (seq - 1) % distinct
}

/// The writes that touch the row at `offset`, as (residue, modulus) of their sequence numbers.
fn writes_touching(offset: u64, distinct: u64) -> (u64, u64) {
    ((offset + 1) % distinct, distinct)
}

/// xorshift64*: enough randomness for spacing writes, no dependency.
struct Jitter(u64);

impl Jitter {
    fn seeded() -> Jitter {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15);
        Jitter(nanos | 1)
    }

    /// Uniform in [0, 1).
    fn next_unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if let Err(message) = run(args).await {
        emit("fatal", json!({"error": message}));
        std::process::exit(1);
    }
    // Exiting drops every socket at once; the servers see the connections close.
    std::process::exit(0);
}

async fn run(args: Args) -> Result<(), String> {
    let protocol = Protocol::parse(&args.protocol)
        .ok_or_else(|| format!("unknown protocol {}", args.protocol))?;
    let init_payload: Value = serde_json::from_str(&args.init_payload)
        .map_err(|e| format!("--init-payload is not JSON: {e}"))?;
    let host_port = args
        .url
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(rest).to_string())
        .ok_or_else(|| format!("--url has no scheme: {}", args.url))?;
    let distinct = args.distinct_ids.max(1);

    let (db, connection) = tokio_postgres::connect(&args.database_url, tokio_postgres::NoTls)
        .await
        .map_err(|e| format!("writer cannot connect: {e}"))?;
    tokio::spawn(connection);
    let update = db
        .prepare(&args.update_sql)
        .await
        .map_err(|e| format!("--update-sql: {e}"))?;

    let shared = Arc::new(Shared::default());
    let shared_query: Arc<str> = Arc::from(args.shared_query.as_str());
    let var_query: Arc<str> = Arc::from(args.var_query.as_str());
    let mut per_id: HashMap<i32, usize> = HashMap::new();
    let mut shared_subscribers = 0usize;
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(args.connect_concurrency.max(1)));
    for index in 0..args.subscribers {
        let (query, variables, writes) = if index % 2 == 0 {
            shared_subscribers += 1;
            (shared_query.clone(), json!({}), None)
        } else {
            let offset = (index / 2) as i32 % distinct;
            let id = args.first_id + offset;
            *per_id.entry(id).or_default() += 1;
            let writes = Some(writes_touching(offset as u64, distinct as u64));
            (
                var_query.clone(),
                json!({ args.var_name.as_str(): id }),
                writes,
            )
        };
        let permit = gate
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        let plan = Plan {
            url: args.url.clone(),
            host_port: host_port.clone(),
            protocol,
            init_payload: init_payload.clone(),
            query,
            variables,
            subscribe: !args.no_subscribe,
            writes,
        };
        tokio::spawn(client::run(plan, shared.clone(), permit));
    }
    let deadline = started + seconds(args.subscribe_timeout);
    loop {
        let settled =
            shared.with_data.load(Ordering::Relaxed) + shared.failures.load(Ordering::Relaxed);
        if settled >= args.subscribers || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    emit(
        "subscribed",
        json!({
            "subscribers": args.subscribers,
            "with_data": shared.with_data.load(Ordering::Relaxed),
            "failed": shared.failures.load(Ordering::Relaxed),
            "failure_samples": *lock(&shared.failure_samples),
            "seconds": started.elapsed().as_secs_f64(),
        }),
    );

    tokio::time::sleep(seconds(args.settle_seconds)).await;
    let counts = |shared: &Shared| {
        (
            shared.data_messages.load(Ordering::Relaxed),
            shared.other_messages.load(Ordering::Relaxed),
        )
    };
    let before_idle = counts(&shared);
    emit("idle_start", json!({}));
    tokio::time::sleep(seconds(args.idle_seconds)).await;
    let after_idle = counts(&shared);
    emit(
        "idle_end",
        json!({
            "data_messages": after_idle.0 - before_idle.0,
            "other_messages": after_idle.1 - before_idle.1,
            "seconds": args.idle_seconds,
        }),
    );

    emit("change_start", json!({}));
    let mut commits: HashMap<u64, Instant> = HashMap::new();
    let mut expected: u64 = 0;
    let mut write_ms: Vec<f64> = Vec::new();
    // Updates at uniformly random moments (one per interval on average, 0.5x to 1.5x apart):
    // at a fixed period the writer would lock onto a fixed phase of the server's refetch timer
    // and every delay would be the same.
    let mut jitter = Jitter::seeded();
    for seq in 1..=args.changes {
        tokio::time::sleep(seconds(args.change_interval * (0.5 + jitter.next_unit()))).await;
        let id = args.first_id + written_offset(seq, distinct as u64) as i32;
        let token = format!("bench-{seq}");
        let sent = Instant::now();
        db.execute(&update, &[&token, &id])
            .await
            .map_err(|e| format!("update failed: {e}"))?;
        let committed = Instant::now();
        write_ms.push((committed - sent).as_secs_f64() * 1000.0);
        commits.insert(seq, committed);
        expected += (shared_subscribers + per_id.get(&id).copied().unwrap_or(0)) as u64;
    }
    tokio::time::sleep(seconds(args.change_interval)).await;
    let after_change = counts(&shared);
    emit(
        "change_end",
        json!({
            "data_messages": after_change.0 - after_idle.0,
            "other_messages": after_change.1 - after_idle.1,
            "seconds": args.changes as f64 * args.change_interval,
        }),
    );
    tokio::time::sleep(seconds(args.drain_seconds)).await;

    let deliveries = std::mem::take(&mut *lock(&shared.deliveries));
    let mut delays: Vec<f64> = Vec::with_capacity(deliveries.len());
    let mut early = 0u64;
    for (seq, received) in &deliveries {
        let Some(committed) = commits.get(seq) else {
            continue;
        };
        match received.checked_duration_since(*committed) {
            Some(delay) => delays.push(delay.as_secs_f64() * 1000.0),
            None => {
                early += 1;
                delays.push(0.0);
            }
        }
    }
    delays.sort_by(f64::total_cmp);
    write_ms.sort_by(f64::total_cmp);
    emit(
        "result",
        json!({
            "subscribers": args.subscribers,
            "shared_subscribers": shared_subscribers,
            "distinct_ids": per_id.len(),
            "changes": args.changes,
            "expected_deliveries": expected,
            "deliveries": delays.len(),
            "messages_with_new_write": shared.data_with_token.load(Ordering::Relaxed),
            "stale_messages": shared.stale_messages.load(Ordering::Relaxed),
            "read_before_commit_returned": early,
            "delay_ms": {
                "p50": percentile(&delays, 50.0),
                "p90": percentile(&delays, 90.0),
                "p99": percentile(&delays, 99.0),
                "max": delays.last(),
            },
            "write_ms_p50": percentile(&write_ms, 50.0),
            "failed": shared.failures.load(Ordering::Relaxed),
            "failure_samples": *lock(&shared.failure_samples),
            "still_connected_estimate": args.subscribers.saturating_sub(shared.failures.load(Ordering::Relaxed)),
        }),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscriber_expects_exactly_the_writes_to_its_row() {
        for distinct in [1u64, 3, 500] {
            for offset in 0..distinct {
                let (residue, modulus) = writes_touching(offset, distinct);
                for seq in 1..=3 * distinct {
                    assert_eq!(
                        written_offset(seq, distinct) == offset,
                        seq % modulus == residue,
                        "distinct {distinct}, offset {offset}, seq {seq}"
                    );
                }
            }
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&sorted, 50.0), Some(50.0));
        assert_eq!(percentile(&sorted, 99.0), Some(99.0));
        assert_eq!(percentile(&[], 99.0), None);
    }
}
