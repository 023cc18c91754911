//! The signed-in flows, for admins and judges: campaigns, moderation, judging and recognition, each
//! authorised next to the data it touches and written to the audit log.

pub mod audit;
pub mod campaigns;
pub mod judging;
pub mod moderation;
pub mod people;
pub mod recognition;
