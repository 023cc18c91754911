//! Which parts of the bus are down, and since when: each consumer and the publisher report here as
//! they lose and regain the broker. Liveness fails when one has been down longer than the bound (an
//! orchestrator then restarts the process); a gauge and a periodic log line name the part and when
//! it went down.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, SystemTime};

use opentelemetry::KeyValue;
use opentelemetry::metrics::Gauge;
use tokio::time::Instant;

static DOWN_SINCE: LazyLock<Gauge<u64>> = LazyLock::new(|| crate::metrics::BUS_DOWN_SINCE.gauge());

/// A part of the bus that can be down: `consumer <name>` or `publisher`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Part(String);

impl Part {
    pub fn consumer(name: &str) -> Self {
        Self(format!("consumer {name}"))
    }

    pub fn publisher() -> Self {
        Self("publisher".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A part that is down: since when (wall clock, for people) and for how long (monotonic).
#[derive(Debug, Clone)]
pub struct Down {
    pub part: Part,
    pub since: SystemTime,
    pub duration: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Since {
    wall: SystemTime,
    at: Instant,
}

/// Shared by the bus and the health monitor.
#[derive(Debug, Clone)]
pub struct BusHealth {
    stalled_after: Duration,
    down: Arc<Mutex<BTreeMap<Part, Since>>>,
}

impl BusHealth {
    /// `stalled_after`: how long a part may be down before liveness fails.
    pub fn new(stalled_after: Duration) -> Self {
        Self {
            stalled_after,
            down: Arc::default(),
        }
    }

    /// `part` cannot reach the broker; keeps the first time it was marked until it is up again.
    pub fn mark_down(&self, part: &Part) {
        let mut down = self.lock();
        if !down.contains_key(part) {
            let since = Since {
                wall: SystemTime::now(),
                at: Instant::now(),
            };
            let unix = since
                .wall
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            DOWN_SINCE.record(unix, &[KeyValue::new("part", part.as_str().to_owned())]);
            down.insert(part.clone(), since);
        }
    }

    /// `part` works again.
    pub fn mark_up(&self, part: &Part) {
        if let Some(since) = self.lock().remove(part) {
            DOWN_SINCE.record(0, &[KeyValue::new("part", part.as_str().to_owned())]);
            tracing::info!(%part, down_for = ?since.at.elapsed(), "back on the broker");
        }
    }

    /// Every part down now.
    pub fn down(&self) -> Vec<Down> {
        self.lock()
            .iter()
            .map(|(part, since)| Down {
                part: part.clone(),
                since: since.wall,
                duration: since.at.elapsed(),
            })
            .collect()
    }

    /// Parts down for longer than the bound: the process is not live.
    pub fn stalled(&self) -> Vec<Down> {
        self.down()
            .into_iter()
            .filter(|d| d.duration > self.stalled_after)
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Part, Since>> {
        self.down.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for BusHealth {
    fn default() -> Self {
        Self::new(Duration::from_secs(60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_part_is_stalled_only_after_the_bound_and_recovers() {
        let health = BusHealth::new(Duration::from_millis(40));
        let consumer = Part::consumer("notification");
        health.mark_down(&consumer);
        assert_eq!(health.down().len(), 1);
        assert!(health.stalled().is_empty(), "within the bound");
        tokio::time::sleep(Duration::from_millis(25)).await;
        // Marking it down again keeps when it first went down.
        health.mark_down(&consumer);
        tokio::time::sleep(Duration::from_millis(25)).await;
        let stalled = health.stalled();
        assert_eq!(stalled.len(), 1, "down 50 ms in all, past the 40 ms bound");
        assert_eq!(stalled[0].part, consumer);
        health.mark_up(&consumer);
        assert!(health.down().is_empty());
        assert!(health.stalled().is_empty());
    }
}
