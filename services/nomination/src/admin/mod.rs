//! The signed-in flows, for admins and judges: campaigns, moderation, judging, recognition, people's
//! roles and people's data (subject access and erasure), each authorised next to the data it
//! touches and written to the audit log.

pub mod audit;
pub mod campaigns;
pub mod insight;
pub mod judging;
pub mod learning_routes;
pub mod moderation;
pub mod page_files;
pub mod page_items;
pub mod people;
pub mod privacy;
pub mod recognition;
pub mod trusts;
