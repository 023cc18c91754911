//! What the notification service consumes, and what each event makes it send.

mod nomination_submitted;

pub use nomination_submitted::NominationSubmittedHandler;

/// The consumer name: the queue `<prefix>.notification`.
pub const CONSUMER: &str = "notification";
