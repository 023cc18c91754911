//! Every service's part in erasing a person (UK GDPR Article 17): it consumes
//! `person.erasure_requested.v1`, erases or pseudonymises what it holds about that email address in
//! one transaction, and in the same transaction announces `person.erased.v1` with how many rows it
//! changed, so that the request's progress is visible until every service has answered. A service
//! says what "its data about a person" is by implementing [`Erase`]; [`ServiceHost::erasure`]
//! wires it up.
//!
//! [`ServiceHost::erasure`]: crate::host::ServiceHost::erasure

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::DatabaseTransaction;
use valued_proto::events::Event;
use valued_proto::events::v1::{ErasureRequested, PersonErased};

use crate::bus::{HandlerError, Subscription};
use crate::envelope::Envelope;
use crate::inbox::TransactionalHandler;
use crate::outbox::Outbox;

/// Every service that holds data about people and so must answer an erasure request.
pub const SERVICES: [&str; 4] = ["nomination", "voting", "survey-feedback", "notification"];

/// Who is to be erased: their normalised email address, and the names the requesting service knows
/// them by (for data that holds them only in free text).
#[derive(Debug, Clone)]
pub struct Person {
    pub email: String,
    pub names: Vec<String>,
}

/// A service's own erasure of one person inside `txn`; the number of rows erased, deleted or
/// pseudonymised.
#[async_trait]
pub trait Erase: Send + Sync + 'static {
    async fn erase(
        &self,
        txn: &DatabaseTransaction,
        person: &Person,
    ) -> Result<u64, sea_orm::DbErr>;
}

/// Two erasures of one service's data, in one transaction: the rows of both.
#[async_trait]
impl<A: Erase, B: Erase> Erase for (A, B) {
    async fn erase(
        &self,
        txn: &DatabaseTransaction,
        person: &Person,
    ) -> Result<u64, sea_orm::DbErr> {
        Ok(self.0.erase(txn, person).await? + self.1.erase(txn, person).await?)
    }
}

/// The consumer that erases a service's data: `<service>-erasure`.
pub fn subscription(service: &str) -> Subscription {
    Subscription::new(&format!("{service}-erasure"), &[ErasureRequested::TYPE])
}

/// Runs a service's [`Erase`] for each request and announces what it did. Wrap it in the inbox.
pub struct Eraser<E> {
    pub service: &'static str,
    pub outbox: Outbox,
    pub erase: E,
}

#[async_trait]
impl<E: Erase> TransactionalHandler for Eraser<E> {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        let request: ErasureRequested = envelope
            .decode()
            .map_err(|e| HandlerError::Poison(e.into()))?;
        let email = request.email.trim().to_lowercase();
        if email.is_empty() {
            return Err(HandlerError::Poison(anyhow::anyhow!(
                "erasure request {} names no email",
                request.request_id
            )));
        }
        let person = Person {
            email,
            names: request
                .names
                .iter()
                .map(|n| n.trim().to_owned())
                .filter(|n| n.chars().count() >= 3)
                .collect(),
        };
        let records = self
            .erase
            .erase(txn, &person)
            .await
            .map_err(|e| HandlerError::Retry(e.into()))?;
        let now = Utc::now();
        let erased = PersonErased {
            request_id: request.request_id.clone(),
            service: self.service.to_owned(),
            records,
            erased_at: Some(prost_types::Timestamp {
                seconds: now.timestamp(),
                nanos: 0,
            }),
        };
        self.outbox
            .enqueue_caused_by(txn, envelope, &erased)
            .await
            .map_err(|e| HandlerError::Retry(e.into()))?;
        tracing::info!(
            service = self.service,
            request = %request.request_id,
            records,
            "erased a person's data"
        );
        Ok(())
    }

    fn after_commit(&self) {
        self.outbox.wake();
    }
}

/// For a service that keeps nothing by email address (its records are anonymous or keyed by a
/// one-way hash): it answers every request with nothing erased, so that the request can complete.
pub struct NothingByEmail;

#[async_trait]
impl Erase for NothingByEmail {
    async fn erase(&self, _: &DatabaseTransaction, _: &Person) -> Result<u64, sea_orm::DbErr> {
        Ok(0)
    }
}
