//! Erasing a person (UK GDPR Article 17). The nomination service takes the request (`valued erase`),
//! keeps it under a hash of the address, and announces `person.erasure_requested.v1`; every service,
//! this one included, erases its own data and answers `person.erased.v1`, which this service records
//! so that the request's progress can be followed until all have answered.
//!
//! Here a person's data is pseudonymised rather than deleted wherever deleting would change what a
//! campaign counted: a nomination they made stays (with its votes of confidence in the nominee and
//! its scores) but no longer names them; a nomination about them stays but loses their name, story
//! and address; their unconfirmed nominations and their drafts are deleted. The audit log is kept as
//! it is: it records what admins did, which the trust must be able to show.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use uuid::Uuid;
use valued_platform::db::{contains_text, same_email};
use valued_platform::erasure::{Erase, Person, SERVICES};
use valued_platform::inbox::TransactionalHandler;
use valued_platform::outbox::Outbox;
use valued_platform::{Envelope, HandlerError, Subscription};
use valued_proto::events::Event;
use valued_proto::events::v1::{ErasureRequested, PersonErased};

use crate::admin::audit;
use crate::auth::Actor;
use crate::db::entities::{
    consent_record, draft, erasure_answer, erasure_request, nomination, nominee, nominee_address,
};
use crate::domain::{Status, hash_token};
use crate::error::{Error, Result};
use crate::nominees::known_by;
use crate::subject_access::address;

/// What stands in for an erased name or text.
pub const ERASED: &str = "[erased]";

/// Records a request to erase `email` (already checked and normalised) made by `actor`, audited
/// (naming the address by its hash only), and announces it to every service; its id.
pub async fn request(
    db: &impl TransactionTrait<Transaction = DatabaseTransaction>,
    outbox: &Outbox,
    email: &str,
    actor: &Actor<'_>,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    let now = Utc::now();
    let txn = db.begin().await?;
    erasure_request::Entity::insert(erasure_request::ActiveModel {
        id: ActiveValue::Set(id),
        email_hash: ActiveValue::Set(hash_token(email)),
        requested_by: ActiveValue::Set(actor.name().to_owned()),
        requested_at: ActiveValue::Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    let detail = format!("erasure request {id}: {}", address(email));
    audit::record_as(&txn, actor.name(), "request_erasure", None, "", &detail).await?;
    let requested = ErasureRequested {
        request_id: id.to_string(),
        email: email.to_owned(),
        names: names_of(&txn, email).await?,
        requested_at: Some(prost_types::Timestamp {
            seconds: now.timestamp(),
            nanos: 0,
        }),
    };
    outbox.enqueue(&txn, None, &requested).await?;
    outbox.commit(txn).await?;
    Ok(id)
}

/// The names `email`'s person goes by here: as a nominator and as a nominee.
async fn names_of(db: &impl ConnectionTrait, email: &str) -> Result<Vec<String>> {
    let mut names: Vec<String> = nomination::Entity::find()
        .filter(same_email(nomination::Column::NominatorEmail, email))
        .all(db)
        .await?
        .into_iter()
        .map(|n| n.nominator_name)
        .chain(known_by(db, email).await?.into_iter().map(|n| n.name))
        .filter(|name| !name.trim().is_empty() && name != ERASED)
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// A request and the services that have answered it.
#[derive(Debug, Clone)]
pub struct Progress {
    pub id: Uuid,
    pub requested_at: DateTime<Utc>,
    /// An admin's email, or `command line`.
    pub requested_by: String,
    /// `(service, rows erased, when)` for each service that has answered.
    pub answered: Vec<(String, i64, DateTime<Utc>)>,
    /// The services yet to answer.
    pub waiting: Vec<&'static str>,
}

/// Where the request `id` stands.
pub async fn progress(db: &impl ConnectionTrait, id: Uuid) -> Result<Progress> {
    let request = erasure_request::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("erasure request {id}")))?;
    Ok(progress_of(db, vec![request]).await?.remove(0))
}

/// The `limit` most recent requests, newest first, and where each stands.
pub async fn recent(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<Progress>> {
    let requests = erasure_request::Entity::find()
        .order_by_desc(erasure_request::Column::RequestedAt)
        .order_by_desc(erasure_request::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    progress_of(db, requests).await
}

/// Where each of `requests` stands, in their order.
async fn progress_of(
    db: &impl ConnectionTrait,
    requests: Vec<erasure_request::Model>,
) -> Result<Vec<Progress>> {
    let answers = erasure_answer::Entity::find()
        .filter(erasure_answer::Column::RequestId.is_in(requests.iter().map(|r| r.id)))
        .order_by_asc(erasure_answer::Column::ErasedAt)
        .all(db)
        .await?;
    Ok(requests
        .into_iter()
        .map(|request| {
            let answered: Vec<(String, i64, DateTime<Utc>)> = answers
                .iter()
                .filter(|a| a.request_id == request.id)
                .map(|a| (a.service.clone(), a.records, a.erased_at))
                .collect();
            let waiting = SERVICES
                .into_iter()
                .filter(|s| !answered.iter().any(|(answered, ..)| answered == s))
                .collect();
            Progress {
                id: request.id,
                requested_at: request.requested_at,
                requested_by: request.requested_by,
                answered,
                waiting,
            }
        })
        .collect())
}

/// The nomination service's own data about a person.
pub struct Nominations;

#[async_trait]
impl Erase for Nominations {
    async fn erase(
        &self,
        txn: &DatabaseTransaction,
        person: &Person,
    ) -> std::result::Result<u64, sea_orm::DbErr> {
        let email = person.email.as_str();
        let mut records = 0;
        // What they never confirmed never counted: gone.
        records += nomination::Entity::delete_many()
            .filter(same_email(nomination::Column::NominatorEmail, email))
            .filter(nomination::Column::Status.eq(Status::Unconfirmed.slug()))
            .exec(txn)
            .await?
            .rows_affected;
        // What they nominated stays, no longer naming them.
        records += nomination::Entity::update_many()
            .col_expr(nomination::Column::NominatorName, Expr::value(ERASED))
            .col_expr(nomination::Column::NominatorEmail, Expr::value(""))
            // Out of the duplicate check (which skips an empty key): two erased nominators of one
            // nominee would otherwise clash there.
            .col_expr(nomination::Column::NomineeKey, Expr::value(""))
            .filter(same_email(nomination::Column::NominatorEmail, email))
            .exec(txn)
            .await?
            .rows_affected;
        // Nominations about them, by their work address or one they verified, keep their place but
        // lose them.
        let about = known_by(txn, email).await?;
        let about_ids: Vec<Uuid> = about.iter().map(|n| n.id).collect();
        for person in &about {
            records += nomination::Entity::update_many()
                .col_expr(nomination::Column::NomineeName, Expr::value(ERASED))
                .col_expr(nomination::Column::NomineeJobTitle, Expr::value(""))
                .col_expr(nomination::Column::Story, Expr::value(ERASED))
                .col_expr(nomination::Column::NomineeEmail, Expr::value(""))
                .col_expr(nomination::Column::NomineeKey, Expr::value(""))
                .filter(nomination::Column::NomineeId.eq(person.id))
                .exec(txn)
                .await?
                .rows_affected;
        }
        records += nomination::Entity::update_many()
            .col_expr(nomination::Column::NomineeEmail, Expr::value(""))
            .filter(same_email(nomination::Column::NomineeEmail, email))
            .exec(txn)
            .await?
            .rows_affected;
        records += nominee::Entity::update_many()
            .col_expr(nominee::Column::Name, Expr::value(ERASED))
            .col_expr(nominee::Column::Email, Expr::value(""))
            .col_expr(
                nominee::Column::NameKey,
                Expr::value(format!("erased {}", Uuid::now_v7())),
            )
            .col_expr(nominee::Column::ClaimTokenHash, Expr::value(None::<String>))
            .col_expr(
                nominee::Column::ClaimExpiresAt,
                Expr::value(None::<DateTime<Utc>>),
            )
            .col_expr(nominee::Column::ListedPublicly, Expr::value(false))
            .col_expr(nominee::Column::StoryPublished, Expr::value(false))
            .col_expr(nominee::Column::SharedWithMp, Expr::value(false))
            .filter(nominee::Column::Id.is_in(about_ids.clone()))
            .exec(txn)
            .await?
            .rows_affected;
        // Every address (and consent link) of the nominee they are, and their address wherever it
        // was given for someone else; the consent history keeps its answers but not the address.
        records += nominee_address::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(nominee_address::Column::NomineeId.is_in(about_ids.clone()))
                    .add(same_email(nominee_address::Column::Email, email)),
            )
            .exec(txn)
            .await?
            .rows_affected;
        records += consent_record::Entity::update_many()
            .col_expr(consent_record::Column::Address, Expr::value(None::<String>))
            .filter(consent_record::Column::Address.is_not_null())
            .filter(
                Condition::any()
                    .add(consent_record::Column::NomineeId.is_in(about_ids))
                    .add(same_email(consent_record::Column::Address, email)),
            )
            .exec(txn)
            .await?
            .rows_affected;
        // Half-finished forms that carry their address.
        records += draft::Entity::delete_many()
            .filter(contains_text(draft::Column::Answers, email))
            .exec(txn)
            .await?
            .rows_affected;
        Ok(records)
    }
}

/// The consumer recording each service's answer: `nomination-erasure-answers`.
pub fn answers_subscription() -> Subscription {
    Subscription::new("nomination-erasure-answers", &[PersonErased::TYPE])
}

/// Records `person.erased.v1` answers. Wrap it in the inbox.
pub struct Answers;

#[async_trait]
impl TransactionalHandler for Answers {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        envelope: &Envelope,
    ) -> std::result::Result<(), HandlerError> {
        let answer: PersonErased = envelope
            .decode()
            .map_err(|e| HandlerError::Poison(e.into()))?;
        let request_id =
            Uuid::parse_str(&answer.request_id).map_err(|e| HandlerError::Poison(e.into()))?;
        let erased_at = answer
            .erased_at
            .and_then(|t| DateTime::from_timestamp(t.seconds, 0))
            .unwrap_or_else(Utc::now);
        erasure_answer::Entity::insert(erasure_answer::ActiveModel {
            request_id: ActiveValue::Set(request_id),
            service: ActiveValue::Set(answer.service),
            records: ActiveValue::Set(i64::try_from(answer.records).unwrap_or(i64::MAX)),
            erased_at: ActiveValue::Set(erased_at),
        })
        .on_conflict_do_nothing()
        .exec_without_returning(txn)
        .await
        .map_err(|e| HandlerError::Retry(e.into()))?;
        Ok(())
    }
}
