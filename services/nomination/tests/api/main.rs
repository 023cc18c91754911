#![allow(clippy::unwrap_used, clippy::expect_used)]

mod duplicates;
mod helpers;
mod nominees;
mod organisations;
mod submit;
mod windows;
