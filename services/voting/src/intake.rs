//! One writer per ballot: the votes waiting for a ballot are stored together.
//!
//! A ballot's votes append to one hash chain, so they take turns under the ballot's lock (see
//! [`crate::ledger::store::serialise`]); stored one transaction each, a ballot could take no more
//! votes a second than one over the time from a vote's insert to its commit, whatever the number of
//! voters. Instead, each ballot has a writer task in this process: a vote joins its ballot's queue
//! and waits; the writer takes every vote waiting (up to [`MOST`]) and stores them in one
//! transaction ([`queries::cast_votes`]: one lock, one head read, one commit, one statement per kind
//! of row), then answers each. A lone vote is stored at once (nothing waits for company); under
//! load, the votes that arrive while one batch commits make the next. Replicas each have their own
//! writers, and the lock still orders their batches.
//!
//! A writer with nothing to do for [`IDLE`] ends; the next vote for its ballot starts another.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::sync::{mpsc, oneshot};
use tonic::Status;
use uuid::Uuid;
use valued_platform::outbox::Outbox;

use crate::db::queries::{self, Ballotted, CastVote};
use crate::held;

/// The most votes stored in one transaction.
pub const MOST: usize = 256;

/// How long a ballot's writer waits for a vote before it ends.
const IDLE: Duration = Duration::from_secs(30);

struct Waiting {
    vote: Ballotted,
    answer: oneshot::Sender<Result<CastVote, Status>>,
}

type Writers = Arc<Mutex<HashMap<Uuid, mpsc::UnboundedSender<Waiting>>>>;

/// The ballots' writers of this process.
#[derive(Clone)]
pub struct Intake {
    db: DatabaseConnection,
    outbox: Outbox,
    guard: held::Guard,
    writers: Writers,
}

impl Intake {
    pub fn new(db: DatabaseConnection, outbox: Outbox, guard: held::Guard) -> Self {
        Self {
            db,
            outbox,
            guard,
            writers: Arc::default(),
        }
    }

    /// Stores `vote` in `ballot_id` with the other votes waiting for it; its own answer.
    pub async fn cast(&self, ballot_id: Uuid, vote: Ballotted) -> Result<CastVote, Status> {
        let (answer, answered) = oneshot::channel();
        {
            // Sent under the lock: a writer that ends removes itself under it first, so no vote is
            // ever sent to a writer that has stopped reading.
            let mut writers = self.writers.lock().unwrap_or_else(PoisonError::into_inner);
            let writer = writers
                .entry(ballot_id)
                .or_insert_with(|| self.start(ballot_id));
            if let Err(mpsc::error::SendError(waiting)) = writer.send(Waiting { vote, answer }) {
                // The writer ended without removing itself (it panicked): start another.
                let writer = self.start(ballot_id);
                let _ = writer.send(waiting);
                writers.insert(ballot_id, writer);
            }
        }
        answered
            .await
            .unwrap_or_else(|_| Err(Status::internal("the vote was not stored: try again")))
    }

    fn start(&self, ballot_id: Uuid) -> mpsc::UnboundedSender<Waiting> {
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(self.clone().write(ballot_id, receiver));
        sender
    }

    async fn write(self, ballot_id: Uuid, mut waiting: mpsc::UnboundedReceiver<Waiting>) {
        loop {
            let first = match tokio::time::timeout(IDLE, waiting.recv()).await {
                Ok(Some(first)) => first,
                Ok(None) => return,
                Err(_idle) => {
                    self.writers
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .remove(&ballot_id);
                    // Whatever was sent before the removal is still stored and answered.
                    waiting.close();
                    let mut rest = Vec::new();
                    while let Some(vote) = waiting.recv().await {
                        rest.push(vote);
                    }
                    while !rest.is_empty() {
                        let batch = rest.drain(..rest.len().min(MOST)).collect();
                        self.store(ballot_id, batch).await;
                    }
                    return;
                }
            };
            let mut batch = vec![first];
            while batch.len() < MOST {
                match waiting.try_recv() {
                    Ok(vote) => batch.push(vote),
                    Err(_) => break,
                }
            }
            self.store(ballot_id, batch).await;
        }
    }

    async fn store(&self, ballot_id: Uuid, batch: Vec<Waiting>) {
        let (votes, answers): (Vec<Ballotted>, Vec<_>) =
            batch.into_iter().map(|w| (w.vote, w.answer)).unzip();
        let count = votes.len();
        match queries::cast_votes(&self.db, &self.outbox, Some(&self.guard), ballot_id, votes).await
        {
            Ok(cast) => {
                for (answer, cast) in answers.into_iter().zip(cast) {
                    let _ = answer.send(cast.map_err(Status::from));
                }
            }
            Err(error) => {
                if matches!(error, crate::error::Error::Database(_)) {
                    tracing::error!(%ballot_id, votes = count, %error, "votes not stored");
                }
                let status = Status::from(error);
                for answer in answers {
                    let _ = answer.send(Err(status.clone()));
                }
            }
        }
    }
}
