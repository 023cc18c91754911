//! Sending email: lettre behind a small trait, so the embedded default writes files to a readable
//! outbox while production speaks SMTP through a pooled transport.

mod file;
mod message;
mod smtp;

use async_trait::async_trait;

pub use file::FileOutbox;
pub use message::{RenderedEmail, build_message};
pub use smtp::SmtpSender;

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth retrying later: 4xx replies, connection failures, timeouts.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// Will never succeed: 5xx replies, an address the server refuses.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

#[async_trait]
pub trait EmailSender: Send + Sync + 'static {
    /// Hands `message` to the next hop; `Ok` carries the server's acceptance (e.g. its queue id).
    async fn send(&self, message: lettre::Message) -> Result<String, SendError>;
}
