//! The public flows, open to anyone with the link: submitting a nomination, confirming it, drafts,
//! and the nominee's consent. Each module holds its use cases: checks, transaction and events.

pub mod confirm;
pub mod consent;
pub mod drafts;
pub mod submit;
