//! The background delivery task: polls every source's event log (and the metadata database's
//! scheduled events), delivering until a poll finds nothing, then sleeps `fetch_interval` or
//! until the configuration changes.
//!
//! Shutdown: [`EventsRuntime::shutdown`] stops claiming and waits for the calls in flight (each
//! bounded by its `timeout_sec`) to be recorded. Dropping the runtime aborts the task instead,
//! like a crash: claimed events stay locked and are reclaimed after `reclaim_after`.

use crate::config::{EventsConfig, WorkerOptions};
use crate::{event_worker, scheduled};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct EventsRuntime {
    config: watch::Sender<Arc<EventsConfig>>,
    shutdown: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl EventsRuntime {
    /// Starts the worker with nothing to deliver; call [`EventsRuntime::update`] next.
    pub fn start(options: WorkerOptions) -> EventsRuntime {
        let (config, config_rx) = watch::channel(Arc::new(EventsConfig::default()));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let task = tokio::spawn(run(options, config_rx, shutdown_rx));
        EventsRuntime {
            config,
            shutdown,
            task: Mutex::new(Some(task)),
        }
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
        if let Some(scheduled) = &config.scheduled {
            match scheduled::tick(scheduled, &options, &http).await {
                Ok(count) => full_batch |= count as i64 >= options.batch_size,
                Err(error) => tracing::warn!(%error, "could not process scheduled events"),
            }
        }
        if full_batch {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(options.fetch_interval) => {}
            changed = shutdown_rx.changed() => if changed.is_err() { break },
            changed = config_rx.changed() => if changed.is_err() { break },
        }
    }
}
