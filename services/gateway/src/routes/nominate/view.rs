//! Drawing a page of the nomination form: a question page, Check your answers or Save and come back
//! later, with the browser's CSRF token.

use axum::http::HeaderMap;
use axum::response::Response;
use valued_platform::domain::FieldError;
use valued_proto::nomination::v1::Campaign;

use super::answers::NominationForm;
use super::pages::{self, Page};
use crate::error::Result;
use crate::routes::forms::{form_page, status_for};

/// What a nomination form page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Page(Page),
    Check,
    Save,
}

/// Draws a page of the form with `errors`, keeping the browser's CSRF token (or giving it one).
pub fn render(
    headers: &HeaderMap,
    shown: Shown,
    campaign: &Campaign,
    form: &NominationForm,
    errors: &[FieldError],
) -> Result<Response> {
    form_page(headers, status_for(errors), |token| match shown {
        Shown::Page(page) => pages::render_page(page, campaign, form, errors, token),
        Shown::Check => pages::render_check(campaign, &form.keyed(), errors, token),
        Shown::Save => pages::render_save(campaign, form, errors, token),
    })
}
