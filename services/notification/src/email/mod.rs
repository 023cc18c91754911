//! Sending email: lettre behind a small trait, so the embedded default writes files to a readable
//! outbox while production speaks SMTP through a pooled transport.

mod dkim;
mod file;
mod message;
mod smtp;

use async_trait::async_trait;

pub use dkim::Dkim;
pub use file::FileOutbox;
pub use message::{RenderedEmail, build_message};
pub use smtp::SmtpSender;

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth retrying later: 4xx replies, a connection lost mid-message, timeouts.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// The server could not be reached at all (refused, timed out, a 4xx greeting): nothing about
    /// this email is wrong, so it is retried for as long as the outage lasts.
    #[error("SMTP server unavailable: {0}")]
    Unavailable(String),
    /// Will never succeed, through no fault of the recipient's address: a message that cannot be
    /// built, TLS settings, a 5xx reply while connecting, signing in or to MAIL FROM.
    #[error("permanent failure: {0}")]
    Permanent(String),
    /// The server answered RCPT TO, DATA or the message with a 5xx reply: a hard bounce. The
    /// address goes on the suppression list.
    #[error("rejected: {0}")]
    Rejected(String),
}

#[async_trait]
pub trait EmailSender: Send + Sync + 'static {
    /// Hands `message` to the next hop; `Ok` carries the server's acceptance (e.g. its queue id).
    async fn send(&self, message: lettre::Message) -> Result<String, SendError>;
}
