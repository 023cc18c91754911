//! End to end: each service its own `valued serve` process, on a fresh PostgreSQL database each, a
//! fresh RabbitMQ vhost, and an SMTP server the test controls.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod authorisation;
mod backup;
mod browser;
mod cluster;
mod erasure;
mod exactly_once;
mod graceful;
mod journey;
mod migrate;
mod newcomer;
mod public_vote;
mod rate_limits;
mod recovery;
mod restarts;
mod settings;
mod sign_in_by_email;
mod starting;
mod story_in_browser;
mod suggestions_in_browser;
mod survey_in_browser;
mod telemetry;
mod vote_in_browser;
mod write_to_mp;
