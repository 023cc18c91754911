use std::path::PathBuf;

use async_trait::async_trait;
use lettre::{AsyncFileTransport, AsyncTransport, Tokio1Executor};

use super::{EmailSender, SendError};

/// The embedded default: every message becomes an `.eml` file in the outbox directory, readable
/// with any mail client and listed on the web UI's outbox page.
pub struct FileOutbox {
    transport: AsyncFileTransport<Tokio1Executor>,
    pub dir: PathBuf,
}

impl FileOutbox {
    pub fn new(dir: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            transport: AsyncFileTransport::new(&dir),
            dir,
        })
    }
}

#[async_trait]
impl EmailSender for FileOutbox {
    async fn send(&self, message: lettre::Message) -> Result<String, SendError> {
        self.transport
            .send(message)
            .await
            .map(|id| format!("written as {id}.eml"))
            .map_err(|e| SendError::Transient(e.to_string()))
    }
}
