//! The embedded NHS.UK frontend files, below `/assets/`.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::assets;
use crate::error::GatewayError;

/// `GET /assets/{*path}`
pub async fn serve(Path(path): Path<String>) -> Response {
    match assets::get(&path) {
        Some(asset) => (
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(asset.content_type),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static(asset.cache_control),
                ),
            ],
            asset.bytes,
        )
            .into_response(),
        None => GatewayError::NotFound.into_response(),
    }
}
