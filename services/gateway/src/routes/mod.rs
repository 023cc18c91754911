//! The pages, one module per area, and the layers every response goes through.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Request, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use valued_proto::nomination::v1::Campaign;

use crate::clients::Clients;
use crate::error::{GatewayError, Result};
use crate::{assets, templates};

pub mod admin;
pub mod campaigns;
pub mod confirm;
pub mod consent;
pub mod drafts;
pub mod forms;
pub mod health;
pub mod nominate;
pub mod outbox;
pub mod unsubscribe;
pub mod write_to_mp;

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'";

/// Forms are small: a 300-word story is a few kilobytes.
const BODY_LIMIT: usize = 64 * 1024;

pub fn router(clients: Clients, outbox: bool, auth: &crate::session::AuthSettings) -> Router {
    let pages = Router::new()
        .route("/", get(campaigns::index))
        .route("/campaigns/{slug}", get(campaigns::show))
        .route(
            "/campaigns/{slug}/nominate",
            get(nominate::show).post(nominate::submit),
        )
        .route(
            "/campaigns/{slug}/nominated/{id}",
            get(nominate::confirmation),
        )
        .route(
            "/campaigns/{slug}/nominate/{page}",
            get(nominate::restart).post(nominate::step),
        )
        .route("/drafts/{token}", get(drafts::resume))
        .route(
            "/confirm/{token}",
            get(confirm::show).post(confirm::confirm),
        )
        .route("/consent/{token}", get(consent::show).post(consent::record))
        .route(
            "/write-to-your-mp",
            get(write_to_mp::show).post(write_to_mp::write),
        )
        .route(
            "/write-to-your-mp/confirm/{token}",
            get(write_to_mp::show_confirm).post(write_to_mp::confirm),
        )
        .route(
            "/unsubscribe/{token}",
            get(unsubscribe::show).post(unsubscribe::unsubscribe),
        )
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .route("/assets/{*path}", get(assets::serve));
    let pages = if outbox {
        pages
            .route("/outbox", get(outbox::index))
            .route("/outbox/{id}", get(outbox::show))
    } else {
        pages
    };
    pages
        .merge(admin::router(clients.clone(), auth))
        .fallback(not_found)
        .with_state(clients)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // Pages carry CSRF tokens and personal details: never store them (assets set their own).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        // A page may set its own policy (the email preview does: no scripts, the email's styles).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
}

/// One span per request, continuing the caller's trace when it sent a `traceparent`. Only the path is
/// recorded: query strings can hold email addresses.
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let span = tracing::info_span!(
        "http",
        otel.name = %format!("{} {}", request.method(), request.uri().path()),
        otel.kind = "server",
        http.request.method = %request.method(),
        url.path = %request.uri().path(),
    );
    let traceparent = request
        .headers()
        .get(HeaderName::from_static("traceparent"))
        .and_then(|v| v.to_str().ok());
    valued_platform::telemetry::set_parent(&span, traceparent);
    span
}

async fn not_found() -> GatewayError {
    GatewayError::NotFound
}

/// Renders a page with status 200.
pub(crate) fn page(template: &str, context: impl Serialize) -> Result<Response> {
    page_with_status(StatusCode::OK, template, context)
}

pub(crate) fn page_with_status(
    status: StatusCode,
    template: &str,
    context: impl Serialize,
) -> Result<Response> {
    Ok((status, Html(templates::render(template, context)?)).into_response())
}

/// `303 See Other` to a path built from percent-encoded segments.
pub(crate) fn see_other(location: &str) -> Result<Response> {
    let location = HeaderValue::from_str(location)
        .map_err(|_| GatewayError::Internal(format!("invalid redirect {location:?}")))?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
}

/// Percent-encodes one path segment (everything but RFC 3986 unreserved characters).
pub(crate) fn segment(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// A campaign as the templates see it. `slug` is ready to put in a path.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CampaignView {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    /// The first paragraph of the description.
    pub summary: String,
    pub categories: Vec<CategoryView>,
    /// The story's word limit when every category has the same one.
    pub word_limit: Option<u32>,
    /// Whether nominations are taken now (the nomination service decides; this only informs).
    pub nominations_open: bool,
    /// "31 March 2027", when scheduled.
    pub nominations_open_on: Option<String>,
    pub nominations_close_on: Option<String>,
}

fn date_of(at: Option<&prost_types::Timestamp>) -> Option<chrono::DateTime<chrono::Utc>> {
    at.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct CategoryView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub word_limit: u32,
}

impl From<&Campaign> for CampaignView {
    fn from(campaign: &Campaign) -> Self {
        let categories: Vec<CategoryView> = campaign
            .categories
            .iter()
            .map(|c| CategoryView {
                id: c.id.clone(),
                name: c.name.clone(),
                description: c.description.clone(),
                word_limit: c.word_limit,
            })
            .collect();
        let word_limit = match categories.first() {
            Some(first)
                if first.word_limit > 0
                    && categories.iter().all(|c| c.word_limit == first.word_limit) =>
            {
                Some(first.word_limit)
            }
            _ => None,
        };
        Self {
            id: campaign.id.clone(),
            slug: segment(&campaign.slug),
            name: campaign.name.clone(),
            summary: campaign
                .description
                .replace("\r\n", "\n")
                .split("\n\n")
                .map(str::trim)
                .find(|p| !p.is_empty())
                .unwrap_or_default()
                .to_owned(),
            description: campaign.description.clone(),
            categories,
            word_limit,
            nominations_open: {
                let now = chrono::Utc::now();
                let opens = date_of(campaign.nominations_open_at.as_ref());
                let closes = date_of(campaign.nominations_close_at.as_ref());
                opens.is_some_and(|o| o <= now) && closes.is_none_or(|c| now < c)
            },
            nominations_open_on: date_of(campaign.nominations_open_at.as_ref())
                .map(|d| d.format("%-d %B %Y").to_string()),
            nominations_close_on: date_of(campaign.nominations_close_at.as_ref())
                .map(|d| d.format("%-d %B %Y").to_string()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(segment("health-heroes_2026.x~"), "health-heroes_2026.x~");
        assert_eq!(segment("a b/c?d\"<é"), "a%20b%2Fc%3Fd%22%3C%C3%A9");
    }
}
