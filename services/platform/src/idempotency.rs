//! Idempotency keys for public submissions. The gateway puts a fresh key in a form when it shows
//! it, and sends it with the submission; the service that stores the submission records the key,
//! a digest of what was sent and what it answered, in the same transaction as the submission's own
//! rows. A repeat with the same key (the gateway retrying across a restart of the service, a
//! double click, a browser resending the form) is answered as the first was and does nothing
//! again; the same key with other answers is refused rather than taken for the first.
//!
//! Keys are kept for [`KEPT_FOR`]: a repeat comes within seconds or minutes, and a key names no
//! person.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue, ConnectionTrait, EntityTrait, TryInsertResult};
use sha2::{Digest, Sha256};

use crate::domain::FieldError;

/// The request field that carries the key.
pub const FIELD: &str = "idempotency_key";

/// How long a key is remembered.
pub const KEPT_FOR: chrono::Duration = chrono::Duration::days(1);

mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "idempotency_key")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub scope: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub fingerprint: String,
        pub answer: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A key as the form sent it: 16 to 64 letters, digits, `-` or `_` (a UUID fits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// `None` when none was sent: the submission is then new each time it comes.
    pub fn parse(given: &str) -> Result<Option<Self>, FieldError> {
        let given = given.trim();
        if given.is_empty() {
            return Ok(None);
        }
        let well_formed = (16..=64).contains(&given.len())
            && given
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if well_formed {
            Ok(Some(Self(given.to_owned())))
        } else {
            Err(FieldError::new(
                FIELD,
                "This form could not be read. Open it again and send it from there",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One keyed submission: where it goes (`scope`, e.g. the RPC's name, so keys of different forms
/// never meet), its key, and a digest of everything it says.
#[derive(Debug, Clone)]
pub struct Keyed {
    scope: &'static str,
    key: IdempotencyKey,
    fingerprint: String,
}

impl Keyed {
    /// `message` is the request as sent, with its key cleared: two sendings of the same answers
    /// encode alike (prost writes fields in their numbered order; the message must hold no map).
    pub fn new(scope: &'static str, key: IdempotencyKey, message: &impl prost::Message) -> Self {
        let digest = Sha256::digest(message.encode_to_vec());
        let fingerprint = digest.iter().map(|b| format!("{b:02x}")).collect();
        Self {
            scope,
            key,
            fingerprint,
        }
    }
}

/// What is known of a keyed submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// Not taken before: do the work, and [`record`] the answer with it.
    New,
    /// Taken before with the same answers: answer this.
    Answered(String),
    /// Taken before with other answers: refuse it.
    Conflicting,
}

/// Whether `keyed` was taken before, and what it was answered.
pub async fn seen(db: &impl ConnectionTrait, keyed: &Keyed) -> Result<Seen, sea_orm::DbErr> {
    let found = entity::Entity::find_by_id((keyed.scope.to_owned(), keyed.key.0.clone()))
        .one(db)
        .await?;
    Ok(match found {
        None => Seen::New,
        Some(row) if row.fingerprint == keyed.fingerprint => Seen::Answered(row.answer),
        Some(_) => Seen::Conflicting,
    })
}

/// Records `keyed` with its `answer` in the submission's own transaction. `false` when another
/// sending of the same key got there first (on PostgreSQL this waits for that one to commit): roll
/// back, and answer as [`seen`] then says.
pub async fn record(
    txn: &impl ConnectionTrait,
    keyed: &Keyed,
    answer: &str,
    now: DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    let inserted = entity::Entity::insert(entity::ActiveModel {
        scope: ActiveValue::Set(keyed.scope.to_owned()),
        key: ActiveValue::Set(keyed.key.0.clone()),
        fingerprint: ActiveValue::Set(keyed.fingerprint.clone()),
        answer: ActiveValue::Set(answer.to_owned()),
        created_at: ActiveValue::Set(now),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(txn)
    .await?;
    // As in the inbox: sea-orm 2 reports a row skipped by ON CONFLICT DO NOTHING as `Inserted(0)`.
    Ok(matches!(inserted, TryInsertResult::Inserted(rows) if rows > 0))
}

/// Forgets keys recorded before `now - KEPT_FOR`, 500 at a time; returns how many.
pub async fn purge(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, sea_orm::DbErr> {
    use sea_orm::sea_query::{Expr, ExprTrait, Query};
    const BATCH: u64 = 500;
    let before = now - KEPT_FOR;
    let mut deleted = 0;
    loop {
        let keys = Query::select()
            .columns([entity::Column::Scope, entity::Column::Key])
            .from(entity::Entity)
            .and_where(Expr::col(entity::Column::CreatedAt).lt(before))
            .limit(BATCH)
            .to_owned();
        let delete = Query::delete()
            .from_table(entity::Entity)
            .and_where(
                Expr::tuple([
                    Expr::col(entity::Column::Scope),
                    Expr::col(entity::Column::Key),
                ])
                .in_subquery(keys),
            )
            .to_owned();
        let batch = db.execute(&delete).await?.rows_affected();
        deleted += batch;
        if batch < BATCH {
            return Ok(deleted);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use sea_orm::{Database, TransactionTrait};
    use sea_orm_migration::MigratorTrait;

    use super::*;

    struct Keys;

    impl MigratorTrait for Keys {
        fn migrations() -> Vec<Box<dyn sea_orm_migration::MigrationTrait>> {
            crate::migrations::idempotency()
        }
    }

    async fn db() -> sea_orm::DatabaseConnection {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        Keys::up(&db, None).await.unwrap();
        db
    }

    fn keyed(key: &str, answers: &str) -> Keyed {
        let key = IdempotencyKey::parse(key).unwrap().unwrap();
        Keyed::new("Submit", key, &answers.to_owned())
    }

    #[test]
    fn a_key_is_optional_and_bounded() {
        assert_eq!(IdempotencyKey::parse(" ").unwrap(), None);
        let uuid = "0193a1b2-0000-7000-8000-000000000001";
        assert_eq!(IdempotencyKey::parse(uuid).unwrap().unwrap().as_str(), uuid);
        for bad in [
            "short",
            &"k".repeat(65),
            "0193a1b2 0000 7000 8000",
            "0193a1b2-0000-7000-8000'--",
        ] {
            let error = IdempotencyKey::parse(bad).unwrap_err();
            assert_eq!(error.field, FIELD, "{bad}");
        }
    }

    #[tokio::test]
    async fn a_repeat_is_answered_as_the_first_and_other_answers_are_refused() {
        let db = db().await;
        let first = keyed("0193a1b2-0000-7000-8000-000000000001", "my answers");
        assert_eq!(seen(&db, &first).await.unwrap(), Seen::New);
        let txn = db.begin().await.unwrap();
        assert!(record(&txn, &first, "answer-1", Utc::now()).await.unwrap());
        txn.commit().await.unwrap();

        assert_eq!(
            seen(&db, &first).await.unwrap(),
            Seen::Answered("answer-1".into())
        );
        let changed = keyed("0193a1b2-0000-7000-8000-000000000001", "other answers");
        assert_eq!(seen(&db, &changed).await.unwrap(), Seen::Conflicting);
        // A second recording of the key writes nothing.
        assert!(!record(&db, &first, "answer-2", Utc::now()).await.unwrap());
        assert_eq!(
            seen(&db, &first).await.unwrap(),
            Seen::Answered("answer-1".into())
        );
        // The same key for another form is another submission.
        let elsewhere = Keyed::new(
            "Other",
            IdempotencyKey::parse("0193a1b2-0000-7000-8000-000000000001")
                .unwrap()
                .unwrap(),
            &"my answers".to_owned(),
        );
        assert_eq!(seen(&db, &elsewhere).await.unwrap(), Seen::New);
    }

    #[tokio::test]
    async fn keys_are_forgotten_a_day_later() {
        let db = db().await;
        let now = Utc::now();
        let old = keyed("0193a1b2-0000-7000-8000-000000000001", "a");
        let recent = keyed("0193a1b2-0000-7000-8000-000000000002", "b");
        assert!(
            record(
                &db,
                &old,
                "1",
                now - KEPT_FOR - chrono::Duration::seconds(1)
            )
            .await
            .unwrap()
        );
        assert!(
            record(
                &db,
                &recent,
                "2",
                now - KEPT_FOR + chrono::Duration::seconds(5)
            )
            .await
            .unwrap()
        );
        assert_eq!(purge(&db, now).await.unwrap(), 1);
        assert_eq!(seen(&db, &old).await.unwrap(), Seen::New);
        assert_eq!(
            seen(&db, &recent).await.unwrap(),
            Seen::Answered("2".into())
        );
    }
}
