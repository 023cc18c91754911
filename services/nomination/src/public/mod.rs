//! The public flows, open to anyone with the link: submitting a nomination, confirming it, drafts,
//! the nominee's claim to a thank-you passed on by their manager, and their consent. Each module
//! holds its use cases: checks, transaction and events.

pub mod claim;
pub mod confirm;
pub mod consent;
pub mod drafts;
pub mod submit;
