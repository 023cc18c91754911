//! End to end: each service its own `valued serve` process, on a fresh PostgreSQL database each, a
//! fresh RabbitMQ vhost, and an SMTP server the test controls.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod authorisation;
mod browser;
mod cluster;
mod erasure;
mod exactly_once;
mod graceful;
mod journey;
mod migrate;
mod public_vote;
mod rate_limits;
mod recovery;
mod settings;
mod vote_in_browser;
mod write_to_mp;
