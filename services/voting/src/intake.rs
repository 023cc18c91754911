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
//! What a batch needs to know of its voters is read for the batch too: one read finds the holders
//! of every pass waiting ([`verification::voters_of`]) and one the eligibility of their campaign,
//! and the transaction counts what each voter has left to vote in, so that a vote costs the
//! database a share of a batch's statements rather than reads of its own.
//!
//! A writer with nothing to do for [`IDLE`] ends; the next vote for its ballot starts another.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sea_orm::DatabaseConnection;
use secrecy::SecretString;
use tokio::sync::{mpsc, oneshot};
use tonic::Status;
use uuid::Uuid;
use valued_platform::outbox::Outbox;

use crate::db::queries::{self, Ballotted, CastVote};
use crate::error::Result;
use crate::{eligibility, held, verification};

/// The most votes stored in one transaction.
pub const MOST: usize = 256;

/// How long a ballot's writer waits for a vote before it ends.
const IDLE: Duration = Duration::from_secs(30);

/// A vote as it reaches the intake.
#[derive(Debug)]
pub enum Incoming {
    /// A public vote by a voter pass, from the client address given (for the burst flags): who
    /// holds the pass, and whether the campaign's vote admits them, is read with the batch.
    Pass {
        pass: String,
        choice_id: String,
        client: Option<String>,
    },
    /// A vote whose voter is known already (an address typed on a ballot made by hand).
    Known(Ballotted),
}

struct Waiting {
    vote: Incoming,
    answer: oneshot::Sender<std::result::Result<CastVote, Status>>,
}

type Writers = Arc<Mutex<HashMap<Uuid, mpsc::UnboundedSender<Waiting>>>>;

/// The ballots' writers of this process.
#[derive(Clone)]
pub struct Intake {
    db: DatabaseConnection,
    outbox: Outbox,
    guard: held::Guard,
    /// The key of the voters' keyed hashes (for staff-only eligibility).
    secret: SecretString,
    writers: Writers,
}

impl Intake {
    pub fn new(
        db: DatabaseConnection,
        outbox: Outbox,
        guard: held::Guard,
        secret: SecretString,
    ) -> Self {
        Self {
            db,
            outbox,
            guard,
            secret,
            writers: Arc::default(),
        }
    }

    /// Stores `vote` in `ballot_id` with the other votes waiting for it; its own answer.
    pub async fn cast(
        &self,
        ballot_id: Uuid,
        vote: Incoming,
    ) -> std::result::Result<CastVote, Status> {
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
        let (incoming, waiting): (Vec<Incoming>, Vec<_>) =
            batch.into_iter().map(|w| (w.vote, w.answer)).unzip();
        let resolved = match self.resolve(incoming).await {
            Ok(resolved) => resolved,
            Err(error) => {
                tracing::error!(%ballot_id, votes = waiting.len(), %error, "voters not read");
                let status = Status::from(error);
                for answer in waiting {
                    let _ = answer.send(Err(status.clone()));
                }
                return;
            }
        };
        let (mut votes, mut answers) = (Vec::new(), Vec::new());
        for (answer, vote) in waiting.into_iter().zip(resolved) {
            match vote {
                Ok(vote) => {
                    votes.push(vote);
                    answers.push(answer);
                }
                Err(refused) => {
                    let _ = answer.send(Err(Status::from(refused)));
                }
            }
        }
        if votes.is_empty() {
            return;
        }
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

    /// Each vote's voter, in order, or why the vote is refused: a pass expired or never issued, or
    /// a voter the campaign's vote no longer admits. The outer error is the database's.
    async fn resolve(&self, incoming: Vec<Incoming>) -> Result<Vec<Result<Ballotted>>> {
        let passes: Vec<&str> = incoming
            .iter()
            .filter_map(|vote| match vote {
                Incoming::Pass { pass, .. } => Some(pass.as_str()),
                Incoming::Known(_) => None,
            })
            .collect();
        let holders = verification::voters_of(&self.db, &passes).await?;
        let mut settings = HashMap::new();
        for holder in holders.values() {
            if !settings.contains_key(&holder.campaign_id) {
                // Against the setting as it is now, from what the pass holds (see `eligibility`).
                let setting = eligibility::of(&self.db, &holder.campaign_id).await?;
                settings.insert(holder.campaign_id.clone(), setting);
            }
        }
        let mut resolved = Vec::with_capacity(incoming.len());
        for vote in incoming {
            resolved.push(match vote {
                Incoming::Known(vote) => Ok(vote),
                Incoming::Pass {
                    pass,
                    choice_id,
                    client,
                } => match holders.get(&pass) {
                    None => Err(verification::session_ended()),
                    Some(holder) => {
                        let setting = &settings[&holder.campaign_id];
                        eligibility::check_pass(
                            &self.db,
                            &self.secret,
                            setting,
                            &holder.voter,
                            &holder.domains,
                        )
                        .await
                        .map(|()| Ballotted {
                            choice_id,
                            voter: holder.voter.clone(),
                            verified_for: Some(holder.campaign_id.clone()),
                            signals: Some(self.guard.signals(client.as_deref(), holder, setting)),
                            receipt_to: holder.email.clone(),
                        })
                    }
                },
            });
        }
        Ok(resolved)
    }
}
