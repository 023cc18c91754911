pub mod ballot;
pub mod ballot_choice;
pub mod vote;
