#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cast_vote;
mod create_ballot;
mod helpers;
mod tally;
