//! Retrying a call that may be made again without effect (a read, or a submission carrying an
//! idempotency key that its service dedupes by) while its service restarts: a replica killed or
//! rolled, a connection dropped mid-call. Only failures that say nothing about the call's outcome
//! are retried, with a growing, jittered pause, within a bounded budget; then the last failure is
//! the answer. tower's `Retry` layer would need a cloneable request, which a tonic call is not, so
//! the retry wraps the call itself.

use std::error::Error;
use std::future::Future;
use std::time::Duration;

use rand::Rng;
use tokio::time::Instant;
use tonic::{Code, Status};

/// How long a call is retried for at most, from its first attempt: a service restarts in about a
/// second, a rollout's replica swap in a few; well inside a proxy's 30 s request timeout.
pub const BUDGET: Duration = Duration::from_secs(6);
const FIRST_PAUSE: Duration = Duration::from_millis(50);
const LONGEST_PAUSE: Duration = Duration::from_secs(1);

/// Whether `status` is a failure of the transport or of a service going away, not the service's
/// answer: the call may not have been made, or its answer was lost.
pub fn transient(status: &Status) -> bool {
    match status.code() {
        Code::Unavailable | Code::DeadlineExceeded => true,
        // A connection reset mid-call comes back as one of these with the transport's error as
        // its source; the same codes sent by a service have none.
        Code::Unknown | Code::Internal | Code::Cancelled => Error::source(status).is_some(),
        _ => false,
    }
}

/// What retrying came to: the answer or the failure that ended it, and how many attempts it took.
pub struct Outcome<T> {
    pub result: Result<T, Status>,
    pub attempts: u32,
}

/// Calls `call` until it answers or fails with a non-transient status, or [`BUDGET`] runs out.
/// `call` must be safe to repeat.
pub async fn idempotent<T, F, Fut>(what: &'static str, call: F) -> Result<T, Status>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    within(what, BUDGET, call).await.result
}

/// [`idempotent`] with a budget of its own.
pub async fn within<T, F, Fut>(what: &'static str, budget: Duration, mut call: F) -> Outcome<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    let deadline = Instant::now() + budget;
    let mut pause = FIRST_PAUSE;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let result = call().await;
        let status = match result {
            Err(status) if transient(&status) => status,
            result => {
                if attempts > 1 {
                    tracing::info!(what, attempts, "answered after a retry");
                }
                return Outcome { result, attempts };
            }
        };
        let jittered = pause.mul_f64(rand::rng().random_range(0.5..1.0));
        if Instant::now() + jittered >= deadline {
            tracing::warn!(what, attempts, error = %status, "gave up retrying");
            return Outcome {
                result: Err(status),
                attempts,
            };
        }
        tracing::debug!(what, attempts, error = %status, "retrying");
        tokio::time::sleep(jittered).await;
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_call_is_retried_while_its_service_is_away_and_answers_once_it_is_back() {
        let calls = AtomicU32::new(0);
        let outcome = within("test", BUDGET, || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Err(Status::unavailable("connection refused")),
                1 => Err(Status::from_error("connection reset".into())),
                _ => Ok("answered"),
            }
        })
        .await;
        assert_eq!(outcome.result.unwrap(), "answered");
        assert_eq!(outcome.attempts, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_service_s_own_answer_is_not_retried() {
        for status in [
            Status::invalid_argument("bad"),
            Status::unknown("sent by the service"),
            Status::already_exists("sent"),
        ] {
            let calls = AtomicU32::new(0);
            let outcome = within("test", BUDGET, || async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(status.clone())
            })
            .await;
            assert_eq!(outcome.attempts, 1, "{status:?}");
            assert_eq!(outcome.result.unwrap_err().code(), status.code());
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retrying_stops_when_the_budget_is_spent() {
        let started = Instant::now();
        let outcome = within("test", BUDGET, || async {
            Err::<(), _>(Status::unavailable("down"))
        })
        .await;
        assert_eq!(outcome.result.unwrap_err().code(), Code::Unavailable);
        assert!(started.elapsed() <= BUDGET, "{:?}", started.elapsed());
        // 50 ms doubling to 1 s, each pause at least half its length: more than a few tries.
        assert!((5..=20).contains(&outcome.attempts), "{}", outcome.attempts);
    }
}
