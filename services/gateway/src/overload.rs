//! Timeouts and load shedding for every page: a request is given `http.request_timeout_seconds`
//! to be answered, and at most `http.max_in_flight` are handled at once. One more is refused at
//! once with a 503 page and `Retry-After` rather than queued behind the others, so that a burst
//! (a vote opening, a newsletter going out) slows nobody already being served and the pod's memory
//! stays bounded; the probes are never refused, so a busy gateway is not taken for a dead one.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::error::GatewayError;

/// The bounds of [`guard`].
#[derive(Clone)]
pub struct Bounds {
    timeout: Duration,
    in_flight: Arc<Semaphore>,
}

impl Bounds {
    pub fn new(timeout: Duration, max_in_flight: usize) -> Self {
        Self {
            timeout,
            in_flight: Arc::new(Semaphore::new(max_in_flight.max(1))),
        }
    }
}

/// Answers the request within the bounds, or with a 503 page.
pub async fn guard(State(bounds): State<Bounds>, request: Request, next: Next) -> Response {
    if matches!(request.uri().path(), "/healthz" | "/readyz") {
        return next.run(request).await;
    }
    let Ok(_permit) = bounds.in_flight.clone().try_acquire_owned() else {
        return GatewayError::Overloaded.into_response();
    };
    match tokio::time::timeout(bounds.timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => GatewayError::TimedOut(bounds.timeout).into_response(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    fn app(bounds: Bounds) -> Router {
        Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    "done"
                }),
            )
            .route("/healthz", get(|| async { "ok" }))
            .layer(axum::middleware::from_fn_with_state(bounds, guard))
    }

    fn get_request(path: &str) -> Request {
        Request::builder().uri(path).body(Body::empty()).unwrap()
    }

    #[tokio::test]
    async fn a_request_past_the_limit_is_refused_at_once_and_the_probes_still_answer() {
        let app = app(Bounds::new(Duration::from_secs(5), 2));
        let busy: Vec<_> = (0..2)
            .map(|_| tokio::spawn(app.clone().oneshot(get_request("/slow"))))
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = std::time::Instant::now();
        let refused = app.clone().oneshot(get_request("/slow")).await.unwrap();
        assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            started.elapsed() < Duration::from_millis(200),
            "refused at once"
        );
        assert_eq!(refused.headers()["retry-after"], "5");
        let probe = app.clone().oneshot(get_request("/healthz")).await.unwrap();
        assert_eq!(probe.status(), StatusCode::OK);
        for answer in busy {
            assert_eq!(answer.await.unwrap().unwrap().status(), StatusCode::OK);
        }
        // The load has passed: served again.
        let served = app.oneshot(get_request("/slow")).await.unwrap();
        assert_eq!(served.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_request_not_answered_in_time_gets_a_page_saying_so() {
        let app = app(Bounds::new(Duration::from_millis(100), 8));
        let answer = app.oneshot(get_request("/slow")).await.unwrap();
        assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(answer.into_body(), 1 << 20)
            .await
            .unwrap();
        let page = String::from_utf8_lossy(&body);
        assert!(
            page.contains("Sorry, there is a problem with the service"),
            "{page}"
        );
    }
}
