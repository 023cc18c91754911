#![allow(clippy::unwrap_used, clippy::expect_used)]

mod create_survey;
mod helpers;
mod submit_response;
mod summary;
