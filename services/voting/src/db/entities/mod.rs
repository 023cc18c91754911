pub mod ballot;
pub mod ballot_choice;
pub mod ledger_entry;
pub mod tally;
pub mod vote;
pub mod vote_audit;
pub mod voter_pass;
pub mod voter_verification;
