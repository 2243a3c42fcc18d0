//! Multiplexed live queries: many subscribers, few statements.
//!
//! In: subscriptions, each a multiplexed statement (`graft_sql::print_multiplexed`), the
//! subscriber's parameter values and a sink. Out: `{"data": ...}` payloads pushed to the sinks,
//! only when a subscriber's result changed.
//!
//! Subscribers with the same statement text share one [`poller`]; among them, those with the same
//! parameter values (variables and session values) form one cohort and share one result. Every
//! refetch interval a poller runs ONE statement per batch of cohorts, hashes each cohort's
//! result and pushes it only to cohorts whose hash changed (and to subscribers that have not
//! had a result yet). A poller with no subscriber stops, so idle costs nothing.
//!
//! It sits after translation in the subscription pipeline: the WebSocket edge validates and
//! translates an operation, then hands the statement here; this crate never sees a role.

mod poller;

pub use poller::{LiveEvent, LiveResult, Sink};

use deadpool_postgres::Pool;
use poller::{Poller, PollerKind};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// How live queries are polled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveConfig {
    /// `HASURA_GRAPHQL_LIVE_QUERIES_MULTIPLEXED_REFETCH_INTERVAL` (default 1 s).
    pub refetch_interval: Duration,
    /// `HASURA_GRAPHQL_LIVE_QUERIES_MULTIPLEXED_BATCH_SIZE` (default 100): cohorts per statement.
    pub batch_size: usize,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            refetch_interval: Duration::from_secs(1),
            batch_size: 100,
        }
    }
}

/// Counters for `/dev/subscriptions` and the benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LiveStats {
    pub pollers: usize,
    pub cohorts: usize,
    pub subscribers: usize,
    /// Multiplexed statements run since start.
    pub statements: u64,
}

/// Which poller a subscription belongs to: the source and the statement text.
type PollerKey = (String, Arc<str>);

/// The registry of running pollers. Cheap to clone.
#[derive(Clone)]
pub struct Multiplexer {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) config: LiveConfig,
    pollers: Mutex<HashMap<PollerKey, Arc<Poller>>>,
    pub(crate) statements: AtomicU64,
    next_subscriber: AtomicU64,
}

impl Multiplexer {
    pub fn new(config: LiveConfig) -> Self {
        Multiplexer {
            shared: Arc::new(Shared {
                config: LiveConfig {
                    batch_size: config.batch_size.max(1),
                    ..config
                },
                pollers: Mutex::new(HashMap::new()),
                statements: AtomicU64::new(0),
                next_subscriber: AtomicU64::new(1),
            }),
        }
    }

    /// Adds a live-query subscriber. It receives its first result at once (the poller is
    /// woken), then a new one whenever the result changes, until the returned handle is dropped.
    pub fn subscribe(
        &self,
        source: &str,
        pool: Pool,
        sql: Arc<str>,
        params: Vec<Option<String>>,
        sink: Sink,
    ) -> Subscription {
        self.join(source, pool, sql, PollerKind::Live, params, sink)
    }

    /// Adds a streaming subscriber: every batch of rows past its cursor is pushed, and the
    /// cursor (the parameters at `cursor_params`) moves on. Empty batches send nothing.
    pub fn subscribe_stream(
        &self,
        source: &str,
        pool: Pool,
        sql: Arc<str>,
        params: Vec<Option<String>>,
        cursor_params: Vec<usize>,
        sink: Sink,
    ) -> Subscription {
        let kind = PollerKind::Stream { cursor_params };
        self.join(source, pool, sql, kind, params, sink)
    }

    fn join(
        &self,
        source: &str,
        pool: Pool,
        sql: Arc<str>,
        kind: PollerKind,
        params: Vec<Option<String>>,
        sink: Sink,
    ) -> Subscription {
        let id = self.shared.next_subscriber.fetch_add(1, Ordering::Relaxed);
        let key = (source.to_string(), sql);
        let mut pollers = lock(&self.shared.pollers);
        let poller = pollers
            .entry(key.clone())
            .or_insert_with(|| Poller::start(Arc::downgrade(&self.shared), key, kind, pool))
            .clone();
        poller.add(id, params, sink);
        drop(pollers);
        Subscription {
            poller: Arc::downgrade(&poller),
            id,
        }
    }

    pub fn stats(&self) -> LiveStats {
        let pollers = lock(&self.shared.pollers);
        let mut stats = LiveStats {
            pollers: pollers.len(),
            statements: self.shared.statements.load(Ordering::Relaxed),
            ..LiveStats::default()
        };
        for poller in pollers.values() {
            let (cohorts, subscribers) = poller.counts();
            stats.cohorts += cohorts;
            stats.subscribers += subscribers;
        }
        stats
    }
}

impl Shared {
    /// Removes `key`'s poller if it has no subscriber left; called by the poller itself. The
    /// registry lock is held while checking, so a subscriber joining at the same moment either
    /// finds the poller still registered (and keeps it alive) or starts a new one.
    pub(crate) fn retire(&self, key: &PollerKey) -> bool {
        let mut pollers = lock(&self.pollers);
        let idle = pollers.get(key).is_some_and(|p| p.counts().1 == 0);
        if idle {
            pollers.remove(key);
        }
        idle
    }
}

/// A subscriber; dropping it unsubscribes.
pub struct Subscription {
    poller: Weak<Poller>,
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(poller) = self.poller.upgrade() {
            poller.remove(self.id);
        }
    }
}

/// Locks a mutex, recovering from poisoning: every critical section here leaves the maps
/// consistent, so a panic elsewhere is no reason to stop serving subscribers.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(crate) fn weak_shared(shared: &Weak<Shared>) -> Option<Arc<Shared>> {
    shared.upgrade()
}
