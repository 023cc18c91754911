#![allow(clippy::unwrap_used, clippy::expect_used)]

mod delivery;
mod helpers;
mod lifecycle;
