#![allow(clippy::unwrap_used, clippy::expect_used)]

mod authorisation;
mod consent_history;
mod drafts_and_matches;
mod duplicates;
mod erasure;
mod helpers;
mod lifecycle;
mod nomination_access;
mod nominees;
mod organisations;
mod people;
mod public_surface;
mod retention;
mod role_grants;
mod submit;
mod windows;
