//! The background delivery task: polls every source's event log (and the metadata database's
//! scheduled events), delivering until a poll finds nothing, then sleeps `fetch_interval` or
//! until the configuration changes.
//!
//! Scheduled events are not polled every `fetch_interval`: after a pass the worker knows when
//! the next pending one falls due and sleeps until then, at most [`SCHEDULED_IDLE_POLL`] (events
//! created by another instance, Hasura's own poll interval). A `create_scheduled_event` on this
//! instance wakes it at once ([`EventsRuntime::wake_scheduled`]); so does a new configuration.
//!
//! Shutdown: [`EventsRuntime::shutdown`] stops claiming and waits for the calls in flight (each
//! bounded by its `timeout_sec`) to be recorded. Dropping the runtime aborts the task instead,
//! like a crash: claimed events stay locked and are reclaimed after `reclaim_after`.

use crate::config::{EventsConfig, WorkerOptions};
use crate::{event_worker, scheduled};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The longest the worker goes without looking at the scheduled events.
pub const SCHEDULED_IDLE_POLL: Duration = Duration::from_secs(10);

pub struct EventsRuntime {
    config: watch::Sender<Arc<EventsConfig>>,
    shutdown: watch::Sender<bool>,
    scheduled_wake: Arc<Notify>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl EventsRuntime {
    /// Starts the worker with nothing to deliver; call [`EventsRuntime::update`] next.
    pub fn start(options: WorkerOptions) -> EventsRuntime {
        let (config, config_rx) = watch::channel(Arc::new(EventsConfig::default()));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let scheduled_wake = Arc::new(Notify::new());
        let task = tokio::spawn(run(options, config_rx, shutdown_rx, scheduled_wake.clone()));
        EventsRuntime {
            config,
            shutdown,
            scheduled_wake,
            task: Mutex::new(Some(task)),
        }
    }

    /// A scheduled event was created: look at the scheduled events now rather than at the
    /// next planned pass.
    pub fn wake_scheduled(&self) {
        self.scheduled_wake.notify_one();
    }

    /// Replaces what is delivered (a new metadata version).
    pub fn update(&self, config: EventsConfig) {
        self.config.send_replace(Arc::new(config));
    }

    /// Stops claiming, lets the deliveries in flight finish and be recorded.
    pub async fn shutdown(&self) {
        self.shutdown.send_replace(true);
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

impl EventsRuntime {
    /// Stops the worker at once, as a crash would: claimed events stay locked until another
    /// worker reclaims them. For fault tests; dropping the runtime does the same.
    pub fn abort(&self) {
        if let Ok(mut task) = self.task.lock()
            && let Some(task) = task.take()
        {
            task.abort();
        }
    }
}

impl Drop for EventsRuntime {
    fn drop(&mut self) {
        self.abort();
    }
}

async fn run(
    options: WorkerOptions,
    mut config_rx: watch::Receiver<Arc<EventsConfig>>,
    mut shutdown_rx: watch::Receiver<bool>,
    scheduled_wake: Arc<Notify>,
) {
    let http = match reqwest::Client::builder()
        .user_agent(concat!(
            "hasura-graphql-engine/graft-",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "could not build the HTTP client of the event worker");
            return;
        }
    };
    // When the scheduled events are next looked at, and whether the configuration changed
    // since the last look.
    let mut scheduled_at = Instant::now();
    let mut config_changed = true;
    loop {
        if *shutdown_rx.borrow() {
            break;
        }
        let config = config_rx.borrow_and_update().clone();
        let mut full_batch = false;
        for source in &config.sources {
            match event_worker::process_batch(source, &options, &http).await {
                Ok(count) => full_batch |= count as i64 >= options.batch_size,
                Err(error) => {
                    tracing::warn!(source = %source.source, %error, "could not fetch events");
                }
            }
            if *shutdown_rx.borrow() {
                return;
            }
        }
        if let Some(scheduled) = &config.scheduled
            && Instant::now() >= scheduled_at
        {
            scheduled_at = match scheduled::tick(scheduled, &options, &http, config_changed).await {
                Ok(tick) => {
                    config_changed = false;
                    full_batch |= tick.claimed as i64 >= options.batch_size;
                    Instant::now() + next_scheduled_pass(tick.next_due, options.fetch_interval)
                }
                Err(error) => {
                    tracing::warn!(%error, "could not process scheduled events");
                    Instant::now() + options.fetch_interval
                }
            };
        }
        if full_batch {
            continue;
        }
        let now = Instant::now();
        let mut wake_at = scheduled_at.max(now);
        if !config.sources.is_empty() {
            wake_at = wake_at.min(now + options.fetch_interval);
        }
        tokio::select! {
            _ = tokio::time::sleep_until(wake_at) => {}
            _ = scheduled_wake.notified() => scheduled_at = Instant::now(),
            changed = shutdown_rx.changed() => if changed.is_err() { break },
            changed = config_rx.changed() => {
                if changed.is_err() {
                    break;
                }
                scheduled_at = Instant::now();
                config_changed = true;
            }
        }
    }
}

/// How long until the next look at the scheduled events: when the next one is due, at most
/// [`SCHEDULED_IDLE_POLL`]; an event already due but not claimed (another instance holds it)
/// is looked at again after `fetch_interval`.
fn next_scheduled_pass(next_due: Option<f64>, fetch_interval: Duration) -> Duration {
    match next_due {
        None => SCHEDULED_IDLE_POLL,
        Some(seconds) if seconds <= 0.0 => fetch_interval.min(SCHEDULED_IDLE_POLL),
        Some(seconds) => Duration::from_secs_f64(seconds).min(SCHEDULED_IDLE_POLL),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduled_passes_follow_the_next_due_event() {
        let second = Duration::from_secs(1);
        assert_eq!(next_scheduled_pass(None, second), SCHEDULED_IDLE_POLL);
        assert_eq!(next_scheduled_pass(Some(-3.0), second), second);
        assert_eq!(
            next_scheduled_pass(Some(0.25), second),
            Duration::from_millis(250)
        );
        assert_eq!(
            next_scheduled_pass(Some(3600.0), second),
            SCHEDULED_IDLE_POLL
        );
    }
}
