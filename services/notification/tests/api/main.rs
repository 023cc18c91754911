#![allow(clippy::unwrap_used, clippy::expect_used)]

mod delivery;
mod dkim;
mod helpers;
mod lifecycle;
mod link_tokens;
mod mps_digest;
mod mps_directory;
mod mps_postcodes;
mod mps_support;
mod preview;
mod sending_policy;
mod tenants;
mod unsolicited_cap;
mod unsubscribe;
mod webhook;
mod write_to_mp;
