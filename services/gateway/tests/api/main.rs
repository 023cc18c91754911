//! The gateway on its own: with nothing behind it (the peers point at closed ports), or in front of a
//! fake nomination service (`fake.rs`) for the pages of the nomination journey. What needs the real
//! services working together is tested end to end in `tests/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod assets;
mod confirm_and_consent;
mod fake;
mod health;
mod helpers;
mod nomination_form;
mod pages;
mod security;
