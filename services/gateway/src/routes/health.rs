//! Probes: liveness answers while the process serves; readiness asks the services it calls.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::clients::Clients;

/// `GET /healthz`
pub async fn live() -> &'static str {
    "ok"
}

/// `GET /readyz`: 200 when the nomination and notification services both answer SERVING.
pub async fn ready(State(clients): State<Clients>) -> impl IntoResponse {
    let (nomination, notification) = clients.ready().await;
    let state = |up: bool| if up { "serving" } else { "not serving" };
    let body = format!(
        "nomination: {}\nnotification: {}\n",
        state(nomination),
        state(notification)
    );
    if nomination && notification {
        (StatusCode::OK, body)
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, body)
    }
}
