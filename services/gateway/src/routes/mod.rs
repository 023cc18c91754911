//! The pages, one module per area, and the layers every response goes through.

use axum::Extension;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::{HeaderName, HeaderValue, Request, header};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::clients::Clients;
use crate::error::GatewayError;

pub mod admin;
pub mod assets;
pub mod campaign_view;
pub mod campaigns;
pub mod claim;
pub mod confirm;
pub mod consent;
pub mod forms;
pub mod health;
pub mod nominate;
pub mod outbox;
pub mod page;
pub mod privacy;
pub mod results;
pub mod story;
pub mod suggestions;
pub mod survey;
pub mod unsubscribe;
pub mod vote;
pub mod write_to_mp;

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'";

/// Forms are small: a 300-word story is a few kilobytes.
const BODY_LIMIT: usize = 64 * 1024;

/// The site; `outbox` serves the developer's mail outbox (`/outbox`) when given.
pub fn router(
    clients: Clients,
    outbox: Option<outbox::MailFiles>,
    auth: &crate::session::AuthSettings,
    privacy: privacy::PrivacySettings,
) -> Router {
    let pages = Router::new()
        .route("/", get(campaigns::index))
        .route("/campaigns/{slug}", get(campaigns::show))
        .route("/campaigns/{slug}/routes/{id}", get(campaigns::open_route))
        .route("/campaigns/{slug}/files/{id}/{name}", get(campaigns::file))
        .route(
            "/trusts/{code}/routes/{id}",
            get(campaigns::open_trust_route),
        )
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
        .route(
            "/campaigns/{slug}/vote",
            get(vote::show).post(vote::request),
        )
        .route("/campaigns/{slug}/vote/code", post(vote::code))
        .route(
            "/campaigns/{slug}/vote/{ballot}",
            get(vote::ballot).post(vote::cast),
        )
        .route(
            "/vote/verify/{token}",
            get(vote::show_verify).post(vote::verify),
        )
        .route("/campaigns/{slug}/results", get(results::show))
        .route(
            "/surveys/invitation",
            get(survey::show_code).post(survey::enter_code),
        )
        .route(
            "/surveys/invitation/{code}",
            get(survey::show_invitation).post(survey::submit_invitation),
        )
        .route("/surveys/thank-you", get(survey::thank_you))
        .route("/surveys/{slug}", get(survey::show).post(survey::submit))
        .route(
            "/campaigns/{slug}/story",
            get(story::show).post(story::submit),
        )
        .route("/campaigns/{slug}/story/sent", get(story::sent))
        .route("/stories/drafts/{token}", get(story::resume))
        .route(
            "/stories/withdraw/{token}",
            get(story::show_withdraw).post(story::withdraw),
        )
        .route("/suggestions", get(suggestions::index))
        .route("/suggestions/{trust}", get(suggestions::board))
        .route(
            "/suggestions/{trust}/new",
            get(suggestions::show_new).post(suggestions::post),
        )
        .route("/suggestions/{trust}/posted", get(suggestions::posted))
        .route(
            "/suggestions/{trust}/{id}/support",
            get(suggestions::show_support).post(suggestions::support),
        )
        .route("/drafts/{token}", get(nominate::drafts::resume))
        .route(
            "/confirm/{token}",
            get(confirm::show).post(confirm::confirm),
        )
        .route("/claim/{token}", get(claim::show).post(claim::claim))
        .route("/consent/{token}", get(consent::show).post(consent::record))
        .route("/consent/{token}/not-me", post(consent::not_me))
        .route(
            "/campaigns/{slug}/write-to-your-mp",
            get(write_to_mp::show_for_campaign).post(write_to_mp::write_for_campaign),
        )
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
        .route(
            "/privacy",
            get(privacy::show).layer(Extension(std::sync::Arc::new(privacy))),
        )
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .route("/assets/{*path}", get(assets::serve));
    let pages = match outbox {
        Some(files) => pages
            .route("/outbox", get(outbox::index))
            .route("/outbox/{id}", get(outbox::show).layer(Extension(files))),
        None => pages,
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

/// Records every request's route template, method, status class and time to its response headers
/// ([`valued_platform::metrics::http`]). Applied with `Router::layer` (outermost, so that requests the
/// overload guard sheds count too), it runs once a route has matched, so the template
/// (`/campaigns/{slug}/nominate`) is known; a request no route matched is `unmatched`. Raw paths
/// are never recorded.
pub async fn metered(
    request: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().clone();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    valued_platform::metrics::http(&route, &method, response.status(), started.elapsed());
    response
}

/// One span per request, continuing the caller's trace when it sent a `traceparent`, named by its
/// route template (a raw path would make a span name per nomination link). Only the path is
/// recorded: query strings can hold email addresses.
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    let span = tracing::info_span!(
        "http",
        otel.name = %format!("{} {route}", request.method()),
        http.route = route,
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
