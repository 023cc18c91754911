//! The gateway on its own, with nothing behind it: the peers point at closed ports. What needs the
//! real services (pages with campaigns, submitting a nomination) is tested end to end in `tests/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod assets;
mod health;
mod helpers;
mod pages;
mod security;
