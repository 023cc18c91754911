//! What a handler answers with: a rendered page, or a redirect to a path built from segments.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use crate::error::{GatewayError, Result};
use crate::templates;

/// Renders a page with status 200.
pub(crate) fn render(template: &str, context: impl Serialize) -> Result<Response> {
    render_with_status(StatusCode::OK, template, context)
}

pub(crate) fn render_with_status(
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
