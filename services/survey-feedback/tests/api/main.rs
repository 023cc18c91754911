#![allow(clippy::unwrap_used, clippy::expect_used)]

mod anonymity;
mod answering;
mod builder;
mod helpers;
mod results;
mod stories;
mod suggestions;
