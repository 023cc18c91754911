//! The developer's mail outbox: the most recent emails the notification service made, and each one's
//! plain-text body.

use std::path::{Path as FsPath, PathBuf};

use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use valued_proto::notification::v1::{Delivery, ListDeliveriesRequest};

use crate::clients::{Clients, NOTIFICATION};
use crate::error::{GatewayError, Result};
use crate::routes::page::{self, segment};

/// Where the embedded default's file transport writes each email as an `.eml` file, if it does.
#[derive(Debug, Clone, Default)]
pub struct MailFiles(pub Option<PathBuf>);

/// How many of the newest `.eml` files an email is looked for in.
const FILES_SEARCHED: usize = 2000;

/// Rows the outbox page shows.
const PAGE_SIZE: u32 = 100;
/// How far back `GET /outbox/{id}` looks (there is no RPC that gets one delivery).
const LOOKUP_LIMIT: u32 = 1000;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OutboxQuery {
    recipient: String,
}

/// A delivery as the outbox and the admin deliveries search show it.
#[derive(Serialize)]
pub(crate) struct DeliveryView {
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
            created_at: valued_platform::uk_time::of(d.created_at.as_ref())
                .map(valued_platform::uk_time::when_exactly)
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
        "suppressed" | "unsubscribed" | "capped" | "skipped" => "nhsuk-tag--grey",
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
    page::render(
        "outbox.html",
        context! {
            page_title => "Mail outbox",
            recipient => recipient,
            deliveries => rows,
        },
    )
}

/// `GET /outbox/{id}`: the email as the notification service lists it (link tokens removed) or,
/// where its `.eml` file is at hand, its text whole, links working, for the developer to follow.
pub async fn show(
    State(clients): State<Clients>,
    Extension(files): Extension<MailFiles>,
    Path(id): Path<String>,
) -> Result<Response> {
    let delivery = deliveries(&clients, "", LOOKUP_LIMIT)
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or(GatewayError::NotFound)?;
    let mut delivery = DeliveryView::from(delivery);
    if let (Some(dir), Ok(id)) = (files.0, uuid::Uuid::parse_str(&id)) {
        let found = tokio::task::spawn_blocking(move || text_of_file(&dir, id)).await;
        if let Ok(Some(text)) = found {
            delivery.text_body = text;
        }
    }
    page::render(
        "delivery.html",
        context! {
            page_title => if delivery.subject.is_empty() { "Email".to_owned() } else { delivery.subject.clone() },
            delivery => delivery,
        },
    )
}

/// The plain-text body of delivery `id`'s `.eml` file in `dir`: the one whose Message-ID the
/// notification service derived from the delivery (`<id@valued.delivery>`), newest files first.
fn text_of_file(dir: &FsPath, id: uuid::Uuid) -> Option<String> {
    let message_id = format!("{}@valued.delivery", id.simple());
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().extension().is_some_and(|e| e == "eml"))
        .filter_map(|entry| Some((entry.metadata().ok()?.modified().ok()?, entry.path())))
        .collect();
    files.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
    files
        .into_iter()
        .take(FILES_SEARCHED)
        .find_map(|(_, path)| {
            let bytes = std::fs::read(path).ok()?;
            let message = mail_parser::MessageParser::default().parse(&bytes)?;
            (message.message_id() == Some(message_id.as_str()))
                .then(|| message.body_text(0).map(|text| text.into_owned()))
                .flatten()
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::templates::render;

    fn delivery() -> Delivery {
        Delivery {
            id: "0193a1b2-0000-7000-8000-0000000000aa".into(),
            recipient: "sam@example.com".into(),
            template: "nomination_received".into(),
            subject: "Thank you for your <nomination>".into(),
            text_body: "Hello Sam,\n\n<b>Thank you</b> & goodbye.".into(),
            status: "sent".into(),
            attempts: 1,
            last_error: String::new(),
            created_at: Some(prost_types::Timestamp {
                seconds: 1_790_000_000,
                nanos: 0,
            }),
            cause_event_id: "0193a1b2-0000-7000-8000-0000000000bb".into(),
        }
    }

    #[test]
    fn the_outbox_lists_deliveries_with_links() {
        let html = render(
            "outbox.html",
            context! {
                page_title => "Mail outbox",
                recipient => "sam@example.com",
                deliveries => vec![DeliveryView::from(delivery())],
            },
        )
        .unwrap();
        assert!(html.contains(r#"value="sam@example.com""#));
        assert!(html.contains(
            r#"<a href="/outbox/0193a1b2-0000-7000-8000-0000000000aa">Thank you for your &lt;nomination&gt;</a>"#
        ));
        assert!(html.contains("nhsuk-tag--green"));
        assert!(
            html.contains("21 September 2026 at 15:13:20 (UK time)"),
            "{html}"
        );
        assert!(html.contains("nomination_received"));
    }

    #[test]
    fn the_file_of_a_delivery_gives_its_text_whole() {
        let dir = std::env::temp_dir().join(format!("valued-mail-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let id = uuid::Uuid::now_v7();
        let eml = |message_id: &str, link: &str| {
            format!(
                "From: Valued <no-reply@valued.example.org>\r\nTo: sam@example.com\r\n\
                 Subject: Confirm your nomination\r\nMessage-ID: <{message_id}>\r\n\
                 MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
                 Content-Transfer-Encoding: quoted-printable\r\n\r\n\
                 Confirm it here:=20\r\n{link}\r\n"
            )
        };
        std::fs::write(
            dir.join("other.eml"),
            eml(
                "0000@valued.delivery",
                "http://127.0.0.1:8080/confirm/other",
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("this.eml"),
            eml(
                &format!("{}@valued.delivery", id.simple()),
                "http://127.0.0.1:8080/confirm/c0ffee",
            ),
        )
        .unwrap();
        let text = text_of_file(&dir, id).expect("the delivery's file");
        assert!(
            text.contains("Confirm it here: \nhttp://127.0.0.1:8080/confirm/c0ffee")
                || text.contains("Confirm it here: \r\nhttp://127.0.0.1:8080/confirm/c0ffee"),
            "{text:?}"
        );
        assert_eq!(
            text_of_file(&dir, uuid::Uuid::now_v7()),
            None,
            "no file, no text"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_delivery_shows_its_body_escaped_in_a_pre() {
        let html = render(
            "delivery.html",
            context! { page_title => "Email", delivery => DeliveryView::from(delivery()) },
        )
        .unwrap();
        assert!(html.contains(
            "<pre class=\"nhsuk-code__container\" tabindex=\"0\"><code class=\"nhsuk-code__content\">Hello Sam,\n\n&lt;b&gt;Thank you&lt;&#x2f;b&gt; &amp; goodbye.</code></pre>"
        ));
        assert!(!html.contains("<b>"));
    }
}
