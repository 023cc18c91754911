//! The deployment-wide rate of emails to the SMTP relay (`sender.max_per_second`).
//!
//! A relay (NHSmail, GOV.UK Notify, Amazon SES) caps what one account sends a second or a minute,
//! however many notification replicas the autoscaler runs; a limit kept by each replica would be
//! multiplied by their number. So every replica's sender draws on one token bucket, the single row
//! of `smtp_rate` in this service's own database: in the transaction that claims emails it
//! [`take`]s tokens, claims at most as many emails as it was granted, and [`give_back`]s the tokens
//! of those it did not find (`delivery::claim_due_at_rate`). The row stays locked until that
//! transaction commits, so no other sender takes in between, and the tokens taken are exactly the
//! emails claimed. With none granted it waits until the next token is due ([`Grant::next_in`]).
//!
//! The bucket refills at the rate up to its burst, one second's worth: in any window of `w`
//! seconds it grants at most `rate × w + burst` tokens, across all replicas. A relay that counts
//! per minute therefore sees at most 61 seconds' worth in any minute: set the rate a little below
//! the relay's limit. (A second's worth lets a sender claim, decide and send a second's emails in
//! one round, with one claim and one policy decision; a smaller burst means more rounds.) The
//! bound is on the tokens: an email reaches the relay after its token by its round's claim, policy
//! decision and send, and where a round takes longer than a later one, their emails arrive a
//! little closer together than their tokens were taken (41 in a second for a bound of 40, measured
//! with 20 a second on a busy machine). Taking a token per email just before its send would narrow
//! that, at a write to this one row per email.
//!
//! A take is one `UPDATE … RETURNING` on that row: the refill since the last take is computed in
//! SQL from the database's own clock (replicas' clocks do not matter), and concurrent takers are
//! serialised by the row's lock, so they never share a token. On PostgreSQL the time is the
//! statement's start; a taker that waited for the row's lock gets no refill for the wait (the row
//! keeps the later time), which can only grant less. Tokens taken for emails that were then not
//! sent (the policy skipped them, the sender stopped) are not given back: the rate errs low.

use std::num::NonZeroU32;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

/// The rate `sender.max_per_second` sets: emails a second to the relay, from the whole deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmtpRate {
    per_second: NonZeroU32,
}

impl SmtpRate {
    /// The setting's rate; `None` for 0, no limit (and then the bucket is never touched).
    pub fn per_second(per_second: u32) -> Option<Self> {
        NonZeroU32::new(per_second).map(|per_second| Self { per_second })
    }

    /// The most the bucket holds: one second's worth.
    pub fn burst(self) -> u32 {
        self.per_second.get()
    }
}

/// What a [`take`] granted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grant {
    /// Emails that may go to the relay now.
    pub tokens: u32,
    /// When fewer were granted than asked for: how long until the bucket holds one more token.
    pub next_in: Duration,
}

/// Takes up to `want` tokens from the bucket, as many as it holds.
pub async fn take(db: &impl ConnectionTrait, rate: SmtpRate, want: u32) -> Result<Grant, DbErr> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            take_sql(backend),
            [
                i64::from(want).into(),
                f64::from(rate.burst()).into(),
                f64::from(rate.per_second.get()).into(),
            ],
        ))
        .await?
        .ok_or_else(missing)?;
    let granted: i64 = row
        .try_get_by_index(0)
        .map_err(|e| DbErr::Type(e.to_string()))?;
    let left: f64 = row
        .try_get_by_index(1)
        .map_err(|e| DbErr::Type(e.to_string()))?;
    let short = (1.0 - left).max(0.0);
    Ok(Grant {
        tokens: u32::try_from(granted).unwrap_or(0),
        next_in: Duration::from_secs_f64(short / f64::from(rate.per_second.get()))
            .max(Duration::from_millis(1)),
    })
}

/// Puts back `tokens` taken and not used (the claim found fewer due emails), up to the burst.
pub async fn give_back(
    db: &impl ConnectionTrait,
    rate: SmtpRate,
    tokens: u32,
) -> Result<(), DbErr> {
    if tokens == 0 {
        return Ok(());
    }
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "UPDATE smtp_rate SET tokens = LEAST($1, tokens + $2) WHERE id = 1",
        _ => "UPDATE smtp_rate SET tokens = min(?1, tokens + ?2) WHERE id = 1",
    };
    let updated = db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [f64::from(rate.burst()).into(), f64::from(tokens).into()],
        ))
        .await?;
    if updated.rows_affected() == 0 {
        return Err(missing());
    }
    Ok(())
}

fn missing() -> DbErr {
    DbErr::RecordNotFound("smtp_rate: the bucket's row (migration m20261128_001600)".into())
}

/// The database clock, in seconds since the Unix epoch.
fn now_sql(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "EXTRACT(EPOCH FROM statement_timestamp())::float8",
        _ => "((julianday('now') - 2440587.5) * 86400.0)",
    }
}

/// The take: the bucket's tokens now (what was left, plus the rate for each second since, up to
/// the burst), `granted` the whole ones asked for, the rest left as of now. Parameters: the tokens
/// wanted, the burst, the rate.
fn take_sql(backend: DbBackend) -> String {
    let now = now_sql(backend);
    let (least, greatest, want, burst, rate) = match backend {
        DbBackend::Postgres => ("LEAST", "GREATEST", "$1", "$2", "$3"),
        _ => ("min", "max", "?1", "?2", "?3"),
    };
    let available =
        format!("{least}({burst}, tokens + {rate} * {greatest}(0.0, {now} - refilled_at))");
    let granted = match backend {
        DbBackend::Postgres => format!("{least}({want}, FLOOR({available})::int8)"),
        // Truncation is the floor: the tokens are never negative.
        _ => format!("{least}({want}, CAST({available} AS INTEGER))"),
    };
    format!(
        "UPDATE smtp_rate SET granted = {granted}, tokens = {available} - {granted}, \
         refilled_at = {greatest}(refilled_at, {now}) WHERE id = 1 RETURNING granted, tokens"
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use sea_orm::DatabaseConnection;

    use super::*;
    use crate::db::testing::sqlite;

    async fn postgres() -> DatabaseConnection {
        crate::db::testing::postgres("notification_smtp_rate", 20).await
    }

    /// Sets the bucket to hold `tokens` as of `seconds` from now by the database's clock.
    async fn set(db: &DatabaseConnection, tokens: f64, seconds: f64) {
        let backend = db.get_database_backend();
        let sql = match backend {
            DbBackend::Postgres => format!(
                "UPDATE smtp_rate SET tokens = $1, refilled_at = {} + $2",
                now_sql(backend)
            ),
            _ => format!(
                "UPDATE smtp_rate SET tokens = ?1, refilled_at = {} + ?2",
                now_sql(backend)
            ),
        };
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [tokens.into(), seconds.into()],
        ))
        .await
        .unwrap();
    }

    fn rate(per_second: u32) -> SmtpRate {
        SmtpRate::per_second(per_second).unwrap()
    }

    /// The refill arithmetic, the same on both databases.
    async fn refills_up_to_the_burst_and_grants_whole_tokens(db: &DatabaseConnection) {
        // A new bucket (left empty at the epoch) is full: one second's worth, however long it sat.
        let grant = take(db, rate(20), 1_000).await.unwrap();
        assert_eq!(grant.tokens, 20);
        // A quarter of a token left (and no refill while the test runs, the bucket being set as of
        // an hour ahead): none granted, the next due in three quarters of a twentieth of a second.
        set(db, 0.25, 3_600.0).await;
        let grant = take(db, rate(20), 1).await.unwrap();
        assert_eq!(grant.tokens, 0);
        let micros = grant.next_in.as_micros();
        assert!((37_400..=37_600).contains(&micros), "{micros} µs");
        // An hour idle still refills to the burst only.
        set(db, 0.0, -3_600.0).await;
        assert_eq!(take(db, rate(20), 1_000).await.unwrap().tokens, 20);
        // Half a second refills half the burst; a fraction of a token is kept, not granted.
        set(db, 0.5, -0.5).await;
        assert_eq!(take(db, rate(20), 1_000).await.unwrap().tokens, 10);
        // No more than asked for, and the rest stays for the next taker.
        set(db, 12.0, 3_600.0).await;
        assert_eq!(take(db, rate(20), 5).await.unwrap().tokens, 5);
        assert_eq!(take(db, rate(20), 100).await.unwrap().tokens, 7);
        // Given back, up to the burst only.
        give_back(db, rate(20), 3).await.unwrap();
        assert_eq!(take(db, rate(20), 100).await.unwrap().tokens, 3);
        give_back(db, rate(20), 50).await.unwrap();
        assert_eq!(take(db, rate(20), 100).await.unwrap().tokens, 20);
        // A lower rate than the bucket holds grants no more than its own burst.
        give_back(db, rate(20), 20).await.unwrap();
        assert_eq!(take(db, rate(5), 100).await.unwrap().tokens, 5);
    }

    #[tokio::test]
    async fn on_sqlite_the_bucket_refills_up_to_its_burst_and_grants_whole_tokens() {
        refills_up_to_the_burst_and_grants_whole_tokens(&sqlite().await).await;
    }

    #[tokio::test]
    async fn on_postgres_the_bucket_refills_up_to_its_burst_and_grants_whole_tokens() {
        refills_up_to_the_burst_and_grants_whole_tokens(&postgres().await).await;
    }

    /// Twenty replicas asking at once share the tokens there were, never one twice.
    #[tokio::test]
    async fn concurrent_takers_on_postgres_are_granted_exactly_the_tokens_there_were() {
        let db = postgres().await;
        // 50 tokens, and no refill while the test runs (the bucket is filled as of an hour ahead).
        set(&db, 50.0, 3_600.0).await;
        let takers = (0..20).map(|_| {
            let db = db.clone();
            tokio::spawn(async move { take(&db, rate(100), 4).await.unwrap().tokens })
        });
        let grants: Vec<u32> = futures::future::join_all(takers)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(grants.iter().sum::<u32>(), 50, "{grants:?}");
        assert_eq!(grants.iter().filter(|&&g| g == 4).count(), 12, "{grants:?}");
        assert_eq!(take(&db, rate(100), 4).await.unwrap().tokens, 0);
    }
}
