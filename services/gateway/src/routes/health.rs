//! Probes: liveness and readiness answer for the gateway itself. Readiness does not follow the
//! services the gateway calls: one of them restarting must not take every gateway, and so the
//! whole site, out of service. Calls that may be repeated are retried across such a restart
//! (`retry`), and a page that cannot be served says so. Its body reports what the gateway sees of
//! the services, for whoever reads it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::clients::Clients;

/// `GET /healthz`
pub async fn live() -> &'static str {
    "ok"
}

/// `GET /readyz`: 200 while the gateway serves, with the health of the nomination and notification
/// services as it sees them.
pub async fn ready(State(clients): State<Clients>) -> impl IntoResponse {
    let (nomination, notification) = clients.ready().await;
    let state = |up: bool| if up { "serving" } else { "not serving" };
    let body = format!(
        "gateway: serving\nnomination: {}\nnotification: {}\n",
        state(nomination),
        state(notification)
    );
    (StatusCode::OK, body)
}
