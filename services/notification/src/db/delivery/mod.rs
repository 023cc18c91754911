//! Deliveries: the row is the promise that exactly one email goes. The event handler writes it (at
//! most once per event × recipient × template, enforced by a unique index); the sender claims due
//! rows, sends, and records the outcome.

mod entity;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait,
    TryInsertResult,
};
use uuid::Uuid;

pub use entity::{Column, Entity, Model};

use crate::db::smtp_rate::{self, SmtpRate};
use crate::email::RenderedEmail;

/// Why a delivery was not sent, in its `last_error`.
pub const SUPPRESSED_NOTE: &str = "not sent: the address is on the suppression list";
pub const UNSUBSCRIBED_NOTE: &str = "not sent: the recipient unsubscribed from these emails";
pub const CAPPED_NOTE: &str =
    "not sent: this address had its day's limit of emails asked for through public forms";

pub mod status {
    pub const PENDING: &str = "pending";
    pub const SENDING: &str = "sending";
    pub const SENT: &str = "sent";
    pub const FAILED: &str = "failed";
    /// Not sent: the address is on the suppression list.
    pub const SUPPRESSED: &str = "suppressed";
    /// Not sent: the recipient unsubscribed from non-transactional email.
    pub const UNSUBSCRIBED: &str = "unsubscribed";
    /// Not sent on its own: it went inside another delivery's summary email (the throttle).
    pub const FOLDED: &str = "folded";
    /// Not sent: its recipient had the day's limit of emails asked for by what someone typed into a
    /// public form (`crate::policy::unsolicited`). Never retried.
    pub const CAPPED: &str = "capped";
    /// Not sent: its recipient was erased (`crate::erasure`) before it went.
    pub const ERASED: &str = "erased";
}

/// What the sending policy (`crate::policy`) decided about one email, once, before it is recorded
/// or sent: whether it goes, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Send,
    /// The address is on the suppression list.
    Suppressed,
    /// The recipient unsubscribed and the email is non-transactional.
    Unsubscribed,
    /// The address had its day's limit of unsolicited email (typed into public forms).
    Capped,
}

impl Verdict {
    /// The status of a delivery this verdict stops, and the note saying why; `None` for `Send`.
    pub fn skipped(self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::Send => None,
            Self::Suppressed => Some((status::SUPPRESSED, SUPPRESSED_NOTE)),
            Self::Unsubscribed => Some((status::UNSUBSCRIBED, UNSUBSCRIBED_NOTE)),
            Self::Capped => Some((status::CAPPED, CAPPED_NOTE)),
        }
    }
}

/// An email to send because of an event.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub cause_event_id: Uuid,
    pub recipient: String,
    /// Where replies go, when not to the From address.
    pub reply_to: Option<String>,
    /// The From display name, when not the service's own (a trust's sender name).
    pub sender_name: Option<String>,
    pub template: &'static str,
    pub email: RenderedEmail,
    /// The sending policy's verdict on this email.
    pub verdict: Verdict,
    /// The key of the recipient's daily slots of unsolicited email when it takes one (the policy's
    /// `Decision::unsolicited`).
    pub unsolicited: Option<String>,
}

/// Records a delivery unless this event already produced one for this recipient and template.
/// Returns whether a row was added. A delivery whose [`Verdict`] is not `Send` (a suppressed
/// address, an unsubscribed one for a non-transactional email, or one over the daily cap on
/// unsolicited email) is recorded as `suppressed`, `unsubscribed` or `capped` and never sent.
pub async fn insert_once(txn: &impl ConnectionTrait, delivery: NewDelivery) -> Result<bool, DbErr> {
    let traceparent = valued_platform::telemetry::current_traceparent();
    Ok(insert_all_once(txn, vec![(delivery, traceparent)]).await? > 0)
}

/// As [`insert_once`] for many deliveries, each with the trace its send continues, in as few
/// statements as their size allows; returns how many rows were added.
pub async fn insert_all_once(
    txn: &impl ConnectionTrait,
    deliveries: Vec<(NewDelivery, Option<String>)>,
) -> Result<u64, DbErr> {
    /// Rows to a statement: 23 parameters each, well inside PostgreSQL's 65,535.
    const ROWS_AT_MOST: usize = 500;
    let now = Utc::now();
    let mut rows = deliveries.into_iter().map(|(delivery, traceparent)| {
        let id = Uuid::now_v7();
        let (status, note) = match delivery.verdict.skipped() {
            None => (status::PENDING, None),
            Some((status, note)) => (status, Some(note.to_owned())),
        };
        let slot = delivery
            .unsolicited
            .filter(|_| delivery.verdict == Verdict::Send);
        entity::ActiveModel {
            id: ActiveValue::Set(id),
            cause_event_id: ActiveValue::Set(delivery.cause_event_id),
            recipient: ActiveValue::Set(delivery.recipient),
            reply_to: ActiveValue::Set(delivery.reply_to),
            sender_name: ActiveValue::Set(delivery.sender_name),
            template: ActiveValue::Set(delivery.template.to_owned()),
            subject: ActiveValue::Set(delivery.email.subject),
            text_body: ActiveValue::Set(delivery.email.text),
            html_body: ActiveValue::Set(delivery.email.html),
            message_id: ActiveValue::Set(format!("<{}@valued.delivery>", id.simple())),
            status: ActiveValue::Set(status.to_owned()),
            attempts: ActiveValue::Set(0),
            next_attempt_at: ActiveValue::Set(now),
            claimed_until: ActiveValue::Set(None),
            last_error: ActiveValue::Set(note),
            smtp_response: ActiveValue::Set(None),
            created_at: ActiveValue::Set(now),
            sent_at: ActiveValue::Set(None),
            counted_at: ActiveValue::Set(None),
            unsolicited_at: ActiveValue::Set(slot.is_some().then_some(now)),
            unsolicited_key: ActiveValue::Set(slot),
            pseudonymised_at: ActiveValue::Set(None),
            traceparent: ActiveValue::Set(traceparent),
        }
    });
    let mut added = 0;
    loop {
        let chunk: Vec<entity::ActiveModel> = rows.by_ref().take(ROWS_AT_MOST).collect();
        if chunk.is_empty() {
            return Ok(added);
        }
        let inserted = Entity::insert_many(chunk)
            .on_conflict_do_nothing_on([Column::CauseEventId, Column::Recipient, Column::Template])
            .exec_without_returning(txn)
            .await?;
        // A row skipped by ON CONFLICT DO NOTHING comes back as `Inserted(0)` in sea-orm 2.
        if let TryInsertResult::Inserted(rows) = inserted {
            added += rows;
        }
    }
}

/// Claims up to `limit` deliveries that are due, or whose previous claim lapsed (its sender died),
/// for `lease`. On PostgreSQL concurrent senders skip each other's rows.
pub async fn claim_due(
    db: &DatabaseConnection,
    limit: u64,
    lease: Duration,
) -> Result<Vec<Model>, DbErr> {
    let txn = db.begin().await?;
    let rows = claim_in(&txn, limit, lease).await?;
    txn.commit().await?;
    Ok(rows)
}

/// What a claim under the deployment-wide SMTP rate came to.
#[derive(Debug)]
pub enum RatedClaim {
    /// The deliveries claimed, each with a token of the rate.
    Claimed(Vec<Model>),
    /// The bucket held no token; the next is due after this long.
    OutOfTokens(std::time::Duration),
}

/// [`claim_due`] under `rate`: tokens for up to `limit` are taken, that many deliveries at most are
/// claimed, and the tokens of those not found are given back, all in one transaction. The bucket's
/// row stays locked until it commits, so no other sender takes in between and the tokens taken are
/// exactly the emails claimed. When nothing is due the bucket is not touched: its row is shared by
/// every replica, and an idle sender would otherwise lock and write it at each poll.
pub async fn claim_due_at_rate(
    db: &DatabaseConnection,
    limit: u32,
    lease: Duration,
    rate: SmtpRate,
) -> Result<RatedClaim, DbErr> {
    if oldest_due(db).await?.is_none() {
        return Ok(RatedClaim::Claimed(Vec::new()));
    }
    let txn = db.begin().await?;
    let grant = smtp_rate::take(&txn, rate, limit).await?;
    if grant.tokens == 0 {
        txn.commit().await?;
        return Ok(RatedClaim::OutOfTokens(grant.next_in));
    }
    let rows = claim_in(&txn, u64::from(grant.tokens), lease).await?;
    let unused = grant
        .tokens
        .saturating_sub(u32::try_from(rows.len()).unwrap_or(grant.tokens));
    smtp_rate::give_back(&txn, rate, unused).await?;
    txn.commit().await?;
    Ok(RatedClaim::Claimed(rows))
}

/// Claims up to `limit` deliveries in the order they fell due, lapsed claims first. On PostgreSQL
/// one statement: each half reads its partial index (`delivery_pending_due`, `delivery_claimed`) in
/// order and stops at what it takes, skipping rows another sender holds.
async fn claim_in(
    txn: &DatabaseTransaction,
    limit: u64,
    lease: Duration,
) -> Result<Vec<Model>, DbErr> {
    let now = Utc::now();
    if valued_platform::db::is_postgres(txn) {
        let sql = format!(
            "WITH lapsed AS (SELECT id FROM delivery WHERE status = '{sending}' AND claimed_until < $1 \
               ORDER BY claimed_until LIMIT $3 FOR UPDATE SKIP LOCKED), \
             due AS (SELECT id FROM delivery WHERE status = '{pending}' AND next_attempt_at <= $1 \
               ORDER BY next_attempt_at LIMIT $3 - (SELECT count(*) FROM lapsed) \
               FOR UPDATE SKIP LOCKED) \
             UPDATE delivery SET status = '{sending}', claimed_until = $2 \
             FROM (SELECT id FROM lapsed UNION ALL SELECT id FROM due) AS claimed \
             WHERE delivery.id = claimed.id \
             RETURNING delivery.*",
            sending = status::SENDING,
            pending = status::PENDING,
        );
        let values = [
            now.into(),
            (now + lease).into(),
            i64::try_from(limit).unwrap_or(i64::MAX).into(),
        ];
        let mut rows = Entity::find()
            .from_raw_sql(Statement::from_sql_and_values(
                DbBackend::Postgres,
                sql,
                values,
            ))
            .all(txn)
            .await?;
        rows.sort_by_key(|row| (row.next_attempt_at, row.id));
        return Ok(rows);
    }
    let due = Column::Status
        .eq(status::PENDING)
        .and(Column::NextAttemptAt.lte(now))
        .or(Column::Status
            .eq(status::SENDING)
            .and(Column::ClaimedUntil.lt(now)));
    let rows = Entity::find()
        .filter(due)
        .order_by_asc(Column::NextAttemptAt)
        .limit(limit)
        .all(txn)
        .await?;
    if !rows.is_empty() {
        Entity::update_many()
            .col_expr(Column::Status, Expr::value(status::SENDING))
            .col_expr(Column::ClaimedUntil, Expr::value(now + lease))
            .filter(Column::Id.is_in(rows.iter().map(|r| r.id)))
            .exec(txn)
            .await?;
    }
    Ok(rows)
}

/// When the longest-waiting due email (pending, or claimed and being sent) fell due; `None` when
/// none is due. One read of each partial index: the first pending row in due order, and the few
/// claimed ones.
pub async fn oldest_due(db: &impl ConnectionTrait) -> Result<Option<DateTime<Utc>>, DbErr> {
    let now = Utc::now();
    let first = |status: &'static str| {
        Entity::find()
            .select_only()
            .column(Column::NextAttemptAt)
            .filter(Column::Status.eq(status))
            .filter(Column::NextAttemptAt.lte(now))
            .order_by_asc(Column::NextAttemptAt)
            .into_tuple::<DateTime<Utc>>()
            .one(db)
    };
    let pending = first(status::PENDING).await?;
    let sending = first(status::SENDING).await?;
    Ok(pending.into_iter().chain(sending).min())
}

pub async fn mark_sent(
    txn: &impl ConnectionTrait,
    id: Uuid,
    attempts: i32,
    response: &str,
) -> Result<(), DbErr> {
    update(
        txn,
        id,
        entity::ActiveModel {
            status: ActiveValue::Set(status::SENT.to_owned()),
            attempts: ActiveValue::Set(attempts),
            smtp_response: ActiveValue::Set(Some(response.to_owned())),
            sent_at: ActiveValue::Set(Some(Utc::now())),
            claimed_until: ActiveValue::Set(None),
            last_error: ActiveValue::Set(None),
            ..Default::default()
        },
    )
    .await
}

/// A delivery the SMTP server accepted, for [`mark_sent_all`].
#[derive(Debug, Clone)]
pub struct Accepted {
    pub id: Uuid,
    pub attempts: i32,
    /// The server's reply (e.g. its queue id).
    pub response: String,
}

/// [`mark_sent`] for many deliveries; on PostgreSQL in one statement.
pub async fn mark_sent_all(txn: &impl ConnectionTrait, sent: &[Accepted]) -> Result<(), DbErr> {
    if sent.is_empty() {
        return Ok(());
    }
    if !valued_platform::db::is_postgres(txn) {
        for accepted in sent {
            mark_sent(txn, accepted.id, accepted.attempts, &accepted.response).await?;
        }
        return Ok(());
    }
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(1 + sent.len() * 3);
    values.push(Utc::now().into());
    let mut rows = Vec::with_capacity(sent.len());
    for (i, accepted) in sent.iter().enumerate() {
        let n = 2 + i * 3;
        rows.push(format!("(${n}::uuid, ${}::int4, ${}::text)", n + 1, n + 2));
        values.push(accepted.id.into());
        values.push(accepted.attempts.into());
        values.push(accepted.response.clone().into());
    }
    let sql = format!(
        "UPDATE delivery SET status = '{sent}', attempts = v.attempts, smtp_response = v.response, \
         sent_at = $1, claimed_until = NULL, last_error = NULL \
         FROM (VALUES {rows}) AS v(id, attempts, response) \
         WHERE delivery.id = v.id AND delivery.status = '{sending}'",
        sent = status::SENT,
        sending = status::SENDING,
        rows = rows.join(", "),
    );
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        values,
    ))
    .await?;
    Ok(())
}

/// Gives claimed deliveries back unsent (the sender is stopping): due again at once, for whichever
/// sender claims next, with no attempt counted. Returns how many were still claimed.
pub async fn release(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<u64, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    let released = Entity::update_many()
        .col_expr(Column::Status, Expr::value(status::PENDING))
        .col_expr(
            Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(Column::Id.is_in(ids.iter().copied()))
        .filter(Column::Status.eq(status::SENDING))
        .exec(db)
        .await?;
    Ok(released.rows_affected)
}

pub async fn mark_retry(
    txn: &impl ConnectionTrait,
    id: Uuid,
    attempts: i32,
    error: &str,
    next_attempt_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    update(
        txn,
        id,
        entity::ActiveModel {
            status: ActiveValue::Set(status::PENDING.to_owned()),
            attempts: ActiveValue::Set(attempts),
            last_error: ActiveValue::Set(Some(error.to_owned())),
            next_attempt_at: ActiveValue::Set(next_attempt_at),
            claimed_until: ActiveValue::Set(None),
            ..Default::default()
        },
    )
    .await
}

pub async fn mark_failed(
    txn: &impl ConnectionTrait,
    id: Uuid,
    attempts: i32,
    error: &str,
) -> Result<(), DbErr> {
    update(
        txn,
        id,
        entity::ActiveModel {
            status: ActiveValue::Set(status::FAILED.to_owned()),
            attempts: ActiveValue::Set(attempts),
            last_error: ActiveValue::Set(Some(error.to_owned())),
            claimed_until: ActiveValue::Set(None),
            ..Default::default()
        },
    )
    .await
}

/// Closes a claimed delivery without sending it (`status` is `suppressed` or `unsubscribed`).
pub async fn mark_skipped(
    txn: &impl ConnectionTrait,
    id: Uuid,
    status: &str,
    note: &str,
) -> Result<(), DbErr> {
    update(
        txn,
        id,
        entity::ActiveModel {
            status: ActiveValue::Set(status.to_owned()),
            last_error: ActiveValue::Set(Some(note.to_owned())),
            claimed_until: ActiveValue::Set(None),
            ..Default::default()
        },
    )
    .await
}

/// Puts a claimed delivery back to wait until `until` without counting an attempt (the throttle).
pub async fn mark_deferred(
    txn: &impl ConnectionTrait,
    id: Uuid,
    until: DateTime<Utc>,
    note: &str,
) -> Result<(), DbErr> {
    update(
        txn,
        id,
        entity::ActiveModel {
            status: ActiveValue::Set(status::PENDING.to_owned()),
            next_attempt_at: ActiveValue::Set(until),
            last_error: ActiveValue::Set(Some(note.to_owned())),
            claimed_until: ActiveValue::Set(None),
            ..Default::default()
        },
    )
    .await
}

/// Records what became of a claimed delivery, only while it is still claimed (`sending`): one
/// erased (or otherwise closed) while it was being sent stays as it was made, never revived to
/// wait again.
async fn update(
    txn: &impl ConnectionTrait,
    id: Uuid,
    changes: entity::ActiveModel,
) -> Result<(), DbErr> {
    Entity::update_many()
        .set(changes)
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(status::SENDING))
        .exec(txn)
        .await
        .map(|_| ())
}

/// The most recent deliveries, newest first, optionally to one recipient.
pub async fn recent(
    db: &impl ConnectionTrait,
    recipient: Option<&str>,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    recent_of(db, recipient, None, limit).await
}

/// As [`recent`], only of the given templates when `templates` is set.
pub async fn recent_of(
    db: &impl ConnectionTrait,
    recipient: Option<&str>,
    templates: Option<&[&str]>,
    limit: u64,
) -> Result<Vec<Model>, DbErr> {
    let mut query = Entity::find()
        .order_by_desc(Column::CreatedAt)
        .order_by_desc(Column::Id)
        .limit(limit);
    if let Some(recipient) = recipient {
        query = query.filter(Column::Recipient.eq(recipient.trim().to_lowercase()));
    }
    if let Some(templates) = templates {
        query = query.filter(Column::Template.is_in(templates.iter().copied()));
    }
    query.all(db).await
}
