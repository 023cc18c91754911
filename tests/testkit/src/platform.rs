//! The [`Platform`] a service under test runs on: an in-process bus whose every event is recorded,
//! a shutdown triggered when the test ends and a fresh data directory.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use sea_orm::DatabaseConnection;
use valued_platform::bus::InProcessBus;
use valued_platform::{
    Envelope, EventBus, EventHandler, HandlerError, Platform, RelaySettings, Shutdown, Subscription,
};

/// Keeps every event the bus delivers, as a consumer bound to `#` would.
#[derive(Default)]
struct Recorder(Mutex<Vec<Envelope>>);

#[async_trait]
impl EventHandler for Recorder {
    async fn handle(&self, envelope: &Envelope) -> Result<(), HandlerError> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(envelope.clone());
        Ok(())
    }
}

/// An in-process bus whose every event is recorded, and the [`Platform`] a service under test runs
/// on. Dropping it triggers the shutdown, which stops the service.
pub struct TestPlatform {
    pub bus: Arc<InProcessBus>,
    pub shutdown: Shutdown,
    pub data_dir: PathBuf,
    recorder: Arc<Recorder>,
    /// Events the test published as another service would: not the service's own.
    from_peers: Mutex<HashSet<uuid::Uuid>>,
}

impl TestPlatform {
    /// A bus with a recorder bound to `#` and a fresh data directory under the system temp dir,
    /// named after `service`. Also turns on test logging (see [`crate::init_test_logging`]).
    pub async fn start(service: &str) -> anyhow::Result<Self> {
        crate::init_test_logging();
        let shutdown = Shutdown::new();
        let bus = Arc::new(InProcessBus::new(5));
        let recorder = Arc::new(Recorder::default());
        bus.subscribe(
            Subscription::new("test-recorder", &["#"]),
            recorder.clone(),
            shutdown.clone(),
        )
        .await?;
        let data_dir =
            std::env::temp_dir().join(format!("valued-{service}-test-{}", uuid::Uuid::new_v4()));
        Ok(Self {
            bus,
            shutdown,
            data_dir,
            recorder,
            from_peers: Mutex::default(),
        })
    }

    /// The platform to build the service on; the outbox relay polls every 20 ms so tests are quick.
    pub fn platform(&self) -> Platform {
        Platform {
            bus: self.bus.clone() as Arc<dyn EventBus>,
            shutdown: self.shutdown.clone(),
            data_dir: self.data_dir.clone(),
            relay: RelaySettings {
                poll_interval_ms: 20,
                ..RelaySettings::default()
            },
        }
    }

    /// Publishes `envelopes` as another service would (e.g. the nomination service's
    /// `role.changed.v1`); [`Self::events`] leaves them out.
    pub async fn publish_as_peer(&self, envelopes: &[Envelope]) -> anyhow::Result<()> {
        self.from_peers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(envelopes.iter().map(|e| e.id));
        for result in self.bus.publish(envelopes).await {
            result?;
        }
        Ok(())
    }

    /// Every event delivered so far that the test did not publish itself as a peer, in delivery
    /// order, redeliveries included.
    pub fn events(&self) -> Vec<Envelope> {
        let from_peers = self
            .from_peers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        self.recorder
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|e| !from_peers.contains(&e.id))
            .cloned()
            .collect()
    }

    /// Waits (up to 5 s) until at least `count` events have been delivered, then returns every
    /// event delivered so far, however many that is.
    pub async fn wait_for_events(&self, count: usize) -> Vec<Envelope> {
        for _ in 0..200 {
            if self.events().len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.events()
    }

    /// Every event published so far, once the outbox in `db` holds nothing unpublished. Delivery
    /// is at-least-once (a relay round that fails after publishing publishes again), so events are
    /// told apart by id, as a consumer's inbox does.
    /// An error when the outbox is not drained within 5 s.
    pub async fn published(&self, db: &DatabaseConnection) -> anyhow::Result<Vec<Envelope>> {
        for _ in 0..100 {
            if valued_platform::outbox::pending_count(db).await? == 0 {
                let mut seen = HashSet::new();
                return Ok(self
                    .events()
                    .into_iter()
                    .filter(|e| seen.insert(e.id))
                    .collect());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("the outbox was not drained within 5 s");
    }
}

impl Drop for TestPlatform {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}
