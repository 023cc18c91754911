//! Work a service does on a schedule (retention purges, digests): one round every period until
//! shutdown, each round's failure logged and the next round tried, never two rounds at once.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::shutdown::Shutdown;

/// Runs `round` every `period` (the first after one period) until `shutdown`; a round that fails is
/// logged under `name` and tried again at the next period.
pub fn every<F, Fut>(
    name: &'static str,
    period: Duration,
    shutdown: Shutdown,
    mut round: F,
) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = shutdown.wait() => break,
                () = tokio::time::sleep(period) => {}
            }
            if let Err(error) = round().await {
                tracing::warn!(job = name, error = %format!("{error:#}"), "scheduled round failed");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn rounds_run_each_period_survive_failures_and_stop_on_shutdown() {
        let rounds = Arc::new(AtomicUsize::new(0));
        let shutdown = Shutdown::new();
        let counted = rounds.clone();
        let job = every(
            "test",
            Duration::from_millis(20),
            shutdown.clone(),
            move || {
                let counted = counted.clone();
                async move {
                    let n = counted.fetch_add(1, Ordering::SeqCst);
                    anyhow::ensure!(n != 0, "the first round fails");
                    Ok(())
                }
            },
        );
        // The failed first round does not stop the rounds after it.
        while rounds.load(Ordering::SeqCst) < 3 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        shutdown.trigger();
        tokio::time::timeout(Duration::from_secs(5), job)
            .await
            .expect("the job stops on shutdown")
            .expect("the job does not panic");
    }
}
