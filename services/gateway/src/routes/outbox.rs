//! The developer's mail outbox: the most recent emails the notification service made, and each one's
//! plain-text body.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use valued_proto::notification::v1::{Delivery, ListDeliveriesRequest};

use super::{page, segment};
use crate::clients::{Clients, NOTIFICATION};
use crate::error::{GatewayError, Result};

/// Rows the outbox page shows.
const PAGE_SIZE: u32 = 100;
/// How far back `GET /outbox/{id}` looks (there is no RPC that gets one delivery).
const LOOKUP_LIMIT: u32 = 1000;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OutboxQuery {
    recipient: String,
}

#[derive(Serialize)]
struct DeliveryView {
    /// Ready to put in a path.
    id: String,
    recipient: String,
    subject: String,
    template: String,
    status: String,
    status_class: &'static str,
    attempts: u32,
    created_at: String,
    last_error: String,
    cause_event_id: String,
    text_body: String,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        Self {
            id: segment(&d.id),
            status_class: status_class(&d.status),
            created_at: d
                .created_at
                .as_ref()
                .and_then(|t| {
                    chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
                })
                .map(|t| t.format("%-d %b %Y %H:%M:%S UTC").to_string())
                .unwrap_or_default(),
            recipient: d.recipient,
            subject: d.subject,
            template: d.template,
            status: d.status,
            attempts: d.attempts,
            last_error: d.last_error,
            cause_event_id: d.cause_event_id,
            text_body: d.text_body,
        }
    }
}

fn status_class(status: &str) -> &'static str {
    match status.to_ascii_lowercase().as_str() {
        "sent" | "delivered" => "nhsuk-tag--green",
        "failed" | "dead" | "bounced" => "nhsuk-tag--red",
        "pending" | "queued" | "retrying" | "sending" => "nhsuk-tag--blue",
        "suppressed" | "skipped" => "nhsuk-tag--grey",
        _ => "nhsuk-tag--white",
    }
}

async fn deliveries(clients: &Clients, recipient: &str, limit: u32) -> Result<Vec<Delivery>> {
    Ok(clients
        .notification
        .clone()
        .list_deliveries(ListDeliveriesRequest {
            limit,
            recipient: recipient.to_owned(),
        })
        .await
        .map_err(|status| GatewayError::from_status(NOTIFICATION, status))?
        .into_inner()
        .deliveries)
}

/// `GET /outbox?recipient=`
pub async fn index(State(clients): State<Clients>, RawQuery(query): RawQuery) -> Result<Response> {
    let query: OutboxQuery = query
        .and_then(|q| serde_urlencoded::from_str(&q).ok())
        .unwrap_or_default();
    let recipient = query.recipient.trim();
    let rows: Vec<DeliveryView> = deliveries(&clients, recipient, PAGE_SIZE)
        .await?
        .into_iter()
        .map(DeliveryView::from)
        .collect();
    page(
        "outbox.html",
        context! {
            page_title => "Mail outbox",
            recipient => recipient,
            deliveries => rows,
        },
    )
}

/// `GET /outbox/{id}`
pub async fn show(State(clients): State<Clients>, Path(id): Path<String>) -> Result<Response> {
    let delivery = deliveries(&clients, "", LOOKUP_LIMIT)
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or(GatewayError::NotFound)?;
    let delivery = DeliveryView::from(delivery);
    page(
        "delivery.html",
        context! {
            page_title => if delivery.subject.is_empty() { "Email".to_owned() } else { delivery.subject.clone() },
            delivery => delivery,
        },
    )
}
