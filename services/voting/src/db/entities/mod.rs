pub mod ballot;
pub mod ballot_choice;
pub mod ledger_entry;
pub mod tally;
pub mod vote;
