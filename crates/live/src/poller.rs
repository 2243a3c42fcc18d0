//! One poller: the subscribers of one multiplexed statement, grouped in cohorts by their
//! parameter values, and the task that refetches their results.

use crate::{PollerKey, Shared, lock, weak_shared};
use deadpool_postgres::Pool;
use graft_execute::{CohortRow, DbError, DbErrorKind};
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use tokio::sync::{Notify, mpsc};
use tokio::time::MissedTickBehavior;

/// What a subscriber receives.
#[derive(Debug, Clone)]
pub enum LiveResult {
    /// The whole payload, `{"data": ...}`, shared by every subscriber of the cohort.
    Data(Arc<str>),
    /// The statement failed for a reason other than a lost connection.
    Error(Arc<DbError>),
}

/// A result for the subscription tagged `tag`.
#[derive(Debug, Clone)]
pub struct LiveEvent {
    pub tag: Arc<str>,
    pub result: LiveResult,
}

/// Where a subscriber's results go: a connection's channel and the operation's tag (its id).
#[derive(Debug, Clone)]
pub struct Sink {
    /// Boxed events keep the channel's first block (allocated with the channel, 32 slots)
    /// small: each idle connection holds one.
    pub sender: mpsc::UnboundedSender<Box<LiveEvent>>,
    pub tag: Arc<str>,
}

impl Sink {
    fn send(&self, result: &LiveResult) {
        // A closed channel means the connection is going away; its subscriptions are dropped
        // (and removed) with it.
        let _ = self.sender.send(Box::new(LiveEvent {
            tag: self.tag.clone(),
            result: result.clone(),
        }));
    }
}

pub(crate) type Params = Vec<Option<String>>;

/// What the poller's statement is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PollerKind {
    /// A live query: the whole result, pushed when it changes.
    Live,
    /// A streaming subscription: each non-empty batch is pushed, then the cohort's cursor (the
    /// parameters at these positions) moves past it.
    Stream { cursor_params: Vec<usize> },
}

#[derive(Default)]
struct Cohort {
    subscribers: HashMap<u64, Sink>,
    /// Subscribers that have had no result yet.
    fresh: Vec<u64>,
    last_hash: Option<u64>,
    last: Option<LiveResult>,
}

#[derive(Default)]
struct Cohorts {
    by_params: HashMap<Params, Cohort>,
    /// Subscriber → the key of its cohort (a stream's key changes as its cursor moves).
    members: HashMap<u64, Params>,
}

pub(crate) struct Poller {
    shared: Weak<Shared>,
    key: PollerKey,
    kind: PollerKind,
    pool: Pool,
    sql: Arc<str>,
    cohorts: Mutex<Cohorts>,
    /// Woken when a subscriber without a result joins, so it need not wait a whole interval.
    wake: Notify,
}

impl Poller {
    pub(crate) fn start(
        shared: Weak<Shared>,
        key: PollerKey,
        kind: PollerKind,
        pool: Pool,
    ) -> Arc<Poller> {
        let poller = Arc::new(Poller {
            shared,
            sql: key.1.clone(),
            key,
            kind,
            pool,
            cohorts: Mutex::new(Cohorts::default()),
            wake: Notify::new(),
        });
        tokio::spawn(poller.clone().run());
        poller
    }

    pub(crate) fn add(&self, id: u64, params: Params, sink: Sink) {
        let mut cohorts = lock(&self.cohorts);
        cohorts.members.insert(id, params.clone());
        let cohort = cohorts.by_params.entry(params).or_default();
        match (&self.kind, &cohort.last) {
            // The cohort's latest result is at most one interval old: the new subscriber gets it
            // now, and what changes after it at the next poll.
            (PollerKind::Live, Some(last)) => sink.send(last),
            _ => {
                cohort.fresh.push(id);
                self.wake.notify_one();
            }
        }
        cohort.subscribers.insert(id, sink);
    }

    pub(crate) fn remove(&self, id: u64) {
        let mut cohorts = lock(&self.cohorts);
        let Some(params) = cohorts.members.remove(&id) else {
            return;
        };
        if let Some(cohort) = cohorts.by_params.get_mut(&params) {
            cohort.subscribers.remove(&id);
            cohort.fresh.retain(|fresh| *fresh != id);
            if cohort.subscribers.is_empty() {
                cohorts.by_params.remove(&params);
            }
        }
    }

    /// (cohorts, subscribers)
    pub(crate) fn counts(&self) -> (usize, usize) {
        let cohorts = lock(&self.cohorts);
        (cohorts.by_params.len(), cohorts.members.len())
    }

    async fn run(self: Arc<Self>) {
        let Some(config) = weak_shared(&self.shared).map(|s| s.config) else {
            return;
        };
        let mut interval = tokio::time::interval(config.refetch_interval);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let only_fresh = tokio::select! {
                _ = interval.tick() => false,
                () = self.wake.notified() => true,
            };
            let Some(shared) = weak_shared(&self.shared) else {
                return;
            };
            let batch: Vec<Params> = lock(&self.cohorts)
                .by_params
                .iter()
                .filter(|(_, cohort)| !only_fresh || !cohort.fresh.is_empty())
                .map(|(params, _)| params.clone())
                .collect();
            if batch.is_empty() {
                if !only_fresh && shared.retire(&self.key) {
                    return;
                }
                continue;
            }
            for chunk in batch.chunks(config.batch_size) {
                shared.statements.fetch_add(1, Ordering::Relaxed);
                self.poll(chunk).await;
            }
        }
    }

    /// Runs the statement for `chunk` and delivers what changed.
    async fn poll(&self, chunk: &[Params]) {
        let rows = match self.fetch(chunk).await {
            Ok(rows) => rows,
            Err(error) if error.kind == DbErrorKind::Connection => {
                // Subscribers stay; the next interval tries again on a fresh connection.
                tracing::warn!(error = %error, "subscription poll could not reach the database");
                return;
            }
            Err(error) => {
                let hash = hash_of(&format!("error:{error:?}"));
                let result = LiveResult::Error(Arc::new(error));
                for params in chunk {
                    self.deliver_change(params, hash, &result);
                }
                return;
            }
        };
        for row in rows {
            let Some(params) = usize::try_from(row.cohort - 1)
                .ok()
                .and_then(|i| chunk.get(i))
            else {
                continue;
            };
            let data = row.result.as_deref().unwrap_or("null");
            let payload = LiveResult::Data(format!("{{\"data\":{data}}}").into());
            match &self.kind {
                PollerKind::Live => self.deliver_change(params, hash_of(data), &payload),
                PollerKind::Stream { cursor_params } => match row.cursor {
                    Some(cursor) => self.deliver_batch(params, cursor_params, cursor, &payload),
                    None => self.nothing_new(params),
                },
            }
        }
    }

    async fn fetch(&self, chunk: &[Params]) -> Result<Vec<CohortRow>, DbError> {
        let cohorts = serde_json::to_string(chunk)
            .map_err(|e| DbError::connection(format!("cannot encode cohorts: {e}")))?;
        let client = self
            .pool
            .get()
            .await
            .map_err(|e| DbError::connection(e.to_string()))?;
        graft_execute::query_multiplexed(&client, &self.sql, &cohorts).await
    }

    /// Sends `result` to the cohort's subscribers if it changed, else only to the fresh ones.
    fn deliver_change(&self, params: &Params, hash: u64, result: &LiveResult) {
        let mut cohorts = lock(&self.cohorts);
        let Some(cohort) = cohorts.by_params.get_mut(params) else {
            return;
        };
        if cohort.last_hash == Some(hash) {
            for id in &cohort.fresh {
                if let Some(sink) = cohort.subscribers.get(id) {
                    sink.send(result);
                }
            }
        } else {
            for sink in cohort.subscribers.values() {
                sink.send(result);
            }
            cohort.last_hash = Some(hash);
            cohort.last = Some(result.clone());
        }
        cohort.fresh.clear();
    }

    /// A stream's batch: sent to every subscriber of the cohort, whose cursor then moves to
    /// `cursor`. Cohorts that arrive at the same cursor merge.
    fn deliver_batch(
        &self,
        params: &Params,
        cursor_params: &[usize],
        cursor: String,
        result: &LiveResult,
    ) {
        let mut cohorts = lock(&self.cohorts);
        let Some(mut cohort) = cohorts.by_params.remove(params) else {
            return;
        };
        for sink in cohort.subscribers.values() {
            sink.send(result);
        }
        cohort.fresh.clear();
        let mut moved = params.clone();
        for index in cursor_params {
            if let Some(slot) = moved.get_mut(*index) {
                *slot = Some(cursor.clone());
            }
        }
        for id in cohort.subscribers.keys() {
            cohorts.members.insert(*id, moved.clone());
        }
        let target = cohorts.by_params.entry(moved).or_default();
        target.subscribers.extend(cohort.subscribers);
    }

    /// A stream with no new rows: nothing to send.
    fn nothing_new(&self, params: &Params) {
        if let Some(cohort) = lock(&self.cohorts).by_params.get_mut(params) {
            cohort.fresh.clear();
        }
    }
}

fn hash_of(text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}
