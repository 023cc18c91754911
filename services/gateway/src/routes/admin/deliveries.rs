//! Deliveries to one address, for platform admins answering "did my email arrive?": each email's
//! template, status, attempts and last error. The notification service checks the caller's ID
//! token itself; the page first asks the nomination service, to say "not for you" early.

use axum::extract::Query;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;
use valued_proto::notification::v1::ListDeliveriesRequest;

use super::signed::{AdminResult, Signed};
use crate::routes::outbox::DeliveryView;
use crate::routes::page;

/// Rows the page shows at most, newest first.
const LIMIT: u32 = 200;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    recipient: String,
}

/// `GET /admin/deliveries?recipient=`
pub async fn search(signed: Signed, Query(query): Query<SearchQuery>) -> AdminResult<Response> {
    signed.platform_admin().await?;
    let recipient = query.recipient.trim();
    let deliveries: Option<Vec<DeliveryView>> = if recipient.is_empty() {
        None
    } else {
        Some(
            signed
                .notification(
                    ListDeliveriesRequest {
                        limit: LIMIT,
                        recipient: recipient.to_owned(),
                    },
                    async |mut c, r| c.list_deliveries(r).await,
                )
                .await?
                .deliveries
                .into_iter()
                .map(DeliveryView::from)
                .collect(),
        )
    };
    Ok(page::render(
        "admin/deliveries.html",
        context! {
            page_title => if recipient.is_empty() { "Email deliveries".to_owned() } else { format!("Email deliveries to {recipient}") },
            recipient => recipient,
            deliveries => deliveries,
            limit => LIMIT,
        },
    )?)
}
