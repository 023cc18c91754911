//! The voting domain: what a well-formed ballot and vote are, who a voter is, and how votes add up.

mod ballot;
mod eligibility;
mod scope;
mod tally;
mod timetable;
mod vote;
mod voter;

pub use ballot::{BallotRequest, ChoiceRequest, NewBallot, NewChoice};
pub use eligibility::{EligibilityRequest, NewEligibility, StaffList, domain_and_parents};
pub use scope::CampaignScope;
pub use tally::{ChoiceCount, Tally};
pub use timetable::{Stage, Timetable};
pub use vote::{NewVote, VoteRequest, Voter, parse_ballot_id};
pub use voter::{VoterKey, signal_digest};
