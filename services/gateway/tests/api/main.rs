//! The gateway on its own: with nothing behind it (the peers point at closed ports), or in front of a
//! fake nomination service (`fake.rs`) for the pages of the nomination journey, and the real voting
//! service for the public vote's pages (`vote.rs`). What needs the services working together over
//! the broker is tested end to end in `tests/`.

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
mod story;
mod suggestions;
mod survey;
mod vote;
