//! Deliveries to one address, for platform admins answering "did my email arrive?": each email's
//! template, status, attempts and last error. The notification service has no sign-in of its own,
//! so the page first asks the nomination service whether the caller is a platform admin.

use axum::extract::Query;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;
use valued_proto::notification::v1::ListDeliveriesRequest;

use super::notifications::notification_failed;
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
    let mut notification = signed.notification_for_platform_admin().await?;
    let recipient = query.recipient.trim();
    let deliveries: Option<Vec<DeliveryView>> = if recipient.is_empty() {
        None
    } else {
        Some(
            notification
                .list_deliveries(ListDeliveriesRequest {
                    limit: LIMIT,
                    recipient: recipient.to_owned(),
                })
                .await
                .map_err(notification_failed)?
                .into_inner()
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
