#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cast_vote;
mod create_ballot;
mod eligibility;
mod export_person;
mod held;
mod helpers;
mod ledger;
mod organisers;
mod public_vote;
mod tally;
mod verification;
mod vote_moments;
