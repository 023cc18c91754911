//! Graceful shutdown: one token cancelled on SIGTERM or Ctrl-C. Servers stop taking work when it is
//! cancelled, consumers and relays finish what is in flight, then the process flushes telemetry.

use tokio_util::sync::CancellationToken;

#[derive(Clone, Debug, Default)]
pub struct Shutdown {
    token: CancellationToken,
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels this shutdown when the process receives SIGTERM or SIGINT; if the process is still
    /// draining `budget` later, it exits with status 1, saying so. Every wait in the drain has its
    /// own bound (README, "Shutdown"); the budget is the backstop that keeps the end of the process
    /// its own rather than an orchestrator's SIGKILL, which flushes nothing and says nothing.
    pub fn on_signals(self, budget: std::time::Duration) -> Self {
        let token = self.token.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!(
                budget_seconds = budget.as_secs(),
                "shutdown signal received: draining"
            );
            token.cancel();
            tokio::time::sleep(budget).await;
            tracing::error!(
                budget_seconds = budget.as_secs(),
                "still draining when the shutdown budget ran out: exiting"
            );
            std::process::exit(1);
        });
        self
    }

    pub fn trigger(&self) {
        self.token.cancel();
    }

    pub fn is_triggered(&self) -> bool {
        self.token.is_cancelled()
    }

    pub async fn wait(&self) {
        self.token.cancelled().await;
    }

    pub fn token(&self) -> CancellationToken {
        self.token.clone()
    }
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut sigterm) => {
            tokio::select! {
                _ = sigterm.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(error) => {
            tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops the process");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
