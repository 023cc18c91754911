//! What the notification service keeps, and for how long (UK GDPR storage limitation). A job runs
//! every `retention.check_seconds` ([`RetentionJob`], stopped on shutdown) and works in batches of
//! at most [`BATCH`] rows per statement, until nothing is due; its log says how many rows of each
//! kind it changed, never whose.
//!
//! - **Deliveries** (`email_body_days`, 30): a finished delivery (sent, failed, suppressed,
//!   unsubscribed, capped, or folded into a summary) keeps its row, template, status, times,
//!   attempts and cause, so what was sent, when and why can still be told. Its subject, text and HTML
//!   become a marker (`[removed after 30 days]`), and with them every link token the email carried
//!   (this service keeps the confirm, consent and draft links' tokens nowhere else; an address's
//!   unsubscribe token stays with its preference, which every later email's link needs), its
//!   Reply-To goes, and its recipient becomes `[removed] <delivery id>` (still unique, as the
//!   database's once-per-event-recipient-and-template rule needs). The recipient is what the sending
//!   policy counts, so a delivery is left as it is while the throttle (`throttle.window_seconds`)
//!   or the unsolicited cap (24 hours) still counts it, however old it is. The address is also taken
//!   out of any SMTP reply stored with it. Emails to MPs keep their recipient (the MP's published
//!   parliamentary address: the record of what went to which MP), not their bodies. A folded delivery
//!   waits while anything to its address is still pending: the summary it goes into reads it. With the
//!   file transport (the embedded default) the `.eml` files in the outbox are deleted at the same
//!   age. Pending deliveries are never touched: they still have to go.
//! - **MP digest items**: a constituent listed in a digest keeps their row (kind, trust, category,
//!   campaign, constituency, digest) once the digest has been made for `email_body_days`; their name,
//!   job title, story and workplace postcode, the same details as the digest email's body, become the
//!   marker. The digest's own row keeps the count of constituents it listed.
//! - **Inbox** (`inbox_days`, 30): handled-event rows older than this are deleted (see
//!   [`RetentionSettings::inbox_days`] for why no event comes back that late).
//! - **Letters to MPs**: one never confirmed is deleted, with its confirm-token hash, after
//!   `unconfirmed_letter_days` (7); one discarded on review is deleted `held_letter_days` (30) after
//!   its confirmation. A sent letter keeps its row (MP, constituency, status, times), so the MPs'
//!   weekly counts and the volume check still count it, while its supporter's name, email, postcode
//!   and words become the marker, its confirm-token hash goes, and so do its copy-check fingerprints,
//!   `held_letter_days` after confirmation but never inside the 30 days the copy check compares
//!   letters word for word. A letter still held for review is left for a person to decide; the job
//!   logs how many wait past `held_letter_days`.
//! - Kept: the suppression list and unsubscribes (what they are for is to last), the MP directory,
//!   the digests' rows, and the append-only record of decisions on held letters (who decided what:
//!   accountability for sending or withholding a constituent's letter).

use std::path::PathBuf;
use std::time::{Duration as StdDuration, SystemTime};

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Alias, Expr, Query, SelectStatement};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
};
use serde::Deserialize;
use tokio::task::JoinHandle;
use uuid::Uuid;
use valued_platform::shutdown::Shutdown;

use crate::db::delivery::{self, status};
use crate::mps::digest::status as item_status;
use crate::mps::entity::digest_item;
use crate::mps::write_to_mp::{COPY_WINDOW_DAYS, entity as letter, status as letter_status};
use crate::templates::TO_MPS;

/// Rows one statement changes at most, so that no purge holds a long lock.
pub const BATCH: u64 = 500;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RetentionSettings {
    /// Days a finished delivery keeps its subject, bodies and recipient (0: kept).
    pub email_body_days: u32,
    /// Days a handled event's inbox row is kept (0: kept).
    ///
    /// Deleting it is safe because nothing redelivers an event that long after it was handled. The
    /// broker redelivers a handled event only when its ack was lost with the channel, and then as
    /// soon as the consumer is back; the outbox relay publishes an event again only when the
    /// broker's confirm was lost, on its next round (backing off to `relay.max_backoff_ms`); an
    /// event published while no consumer was bound waits in `valued.unrouted`, never handled here;
    /// and a dead-lettered event was never committed here (its handler kept failing), while the
    /// dead-letter queues drop messages after 30 days (the `valued-dead-letters` policy). Only an
    /// operator replaying a message by hand, longer than this after it was handled, could bring an
    /// old event back; replay within `inbox_days`. Even then notification's own effects stay single:
    /// a digest item is unique per event and kept, a role copy takes only a newer version, and a
    /// delivery is unique per event, recipient and template while it keeps its recipient.
    pub inbox_days: u32,
    /// Days after confirmation that a letter discarded on review is deleted and a sent letter's
    /// supporter details and words are replaced with a marker (never fewer than the 30 days the
    /// copy check reads back; 0: kept). Letters still held for review are left for a person.
    pub held_letter_days: u32,
    /// Days a letter whose supporter never followed the confirmation link is kept, with its
    /// confirm-token hash (0: kept).
    pub unconfirmed_letter_days: u32,
    /// How often the job looks for rows past their time.
    pub check_seconds: u64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            email_body_days: 30,
            inbox_days: 30,
            held_letter_days: 30,
            unconfirmed_letter_days: 7,
            check_seconds: 3_600,
        }
    }
}

/// How long the sending policy still counts a finished delivery against its recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// `throttle.window_seconds`.
    pub throttle: Duration,
    /// The unsolicited cap's rolling window.
    pub unsolicited: Duration,
}

impl Windows {
    pub fn of(settings: &crate::Settings) -> Self {
        Self {
            throttle: Duration::seconds(settings.throttle.window_seconds.max(0)),
            unsolicited: crate::policy::unsolicited::window(),
        }
    }
}

/// As of one moment, what is past its time: the instant before which each kind of row is due, or
/// `None` where its setting keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// Finished deliveries created before this, included digest items listed before it, and the
    /// file outbox's emails written before it.
    pub deliveries: Option<DateTime<Utc>>,
    /// A delivery the throttle counted (took a slot) at or after this still counts.
    pub throttle_counts_since: DateTime<Utc>,
    /// A delivery that took an unsolicited slot at or after this still counts.
    pub unsolicited_counts_since: DateTime<Utc>,
    /// The marker bodies are replaced with.
    pub deliveries_marker: String,
    pub inbox: Option<DateTime<Utc>>,
    pub unconfirmed_letters: Option<DateTime<Utc>>,
    /// Discarded letters confirmed before this.
    pub discarded_letters: Option<DateTime<Utc>>,
    /// Sent letters confirmed before this.
    pub sent_letters: Option<DateTime<Utc>>,
    pub letters_marker: String,
}

/// What is due as of `now` under `settings`, the sending policy counting over `windows`.
pub fn due(settings: &RetentionSettings, windows: Windows, now: DateTime<Utc>) -> Due {
    let before = |days: u32| (days > 0).then(|| now - Duration::days(i64::from(days)));
    let sent_letter_days = settings
        .held_letter_days
        .max(u32::try_from(COPY_WINDOW_DAYS).unwrap_or(u32::MAX));
    Due {
        deliveries: before(settings.email_body_days),
        throttle_counts_since: now - windows.throttle,
        unsolicited_counts_since: now - windows.unsolicited,
        deliveries_marker: removed_after(settings.email_body_days),
        inbox: before(settings.inbox_days),
        unconfirmed_letters: before(settings.unconfirmed_letter_days),
        discarded_letters: before(settings.held_letter_days),
        sent_letters: if settings.held_letter_days > 0 {
            before(sent_letter_days)
        } else {
            None
        },
        letters_marker: removed_after(sent_letter_days),
    }
}

/// What stands where personal details were.
pub fn removed_after(days: u32) -> String {
    format!("[removed after {days} days]")
}

/// A recipient after retention: no address, still unique per delivery.
pub fn removed_recipient(delivery_id: Uuid) -> String {
    format!("[removed] {delivery_id}")
}

/// `text` with every occurrence of `address` (ASCII case ignored, as SMTP servers echo addresses
/// in any case) replaced by `[address removed]`.
pub fn without_address(text: &str, address: &str) -> String {
    if address.is_empty() {
        return text.to_owned();
    }
    // ASCII lower-casing keeps every byte where it was, so positions found in the lowered text
    // are positions in `text`.
    let lowered = text.to_ascii_lowercase();
    let needle = address.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    while let Some(found) = lowered[from..].find(&needle) {
        let at = from + found;
        out.push_str(&text[from..at]);
        out.push_str("[address removed]");
        from = at + needle.len();
    }
    out.push_str(&text[from..]);
    out
}

/// The statuses after which a delivery is never sent or changed again.
const FINISHED: &[&str] = &[
    status::SENT,
    status::FAILED,
    status::SUPPRESSED,
    status::UNSUBSCRIBED,
    status::CAPPED,
    status::FOLDED,
];

/// Deliveries past their time (see the module's documentation): finished, created before
/// `before`, no longer counted by the throttle or the cap, not yet pseudonymised, and, if folded,
/// with nothing to their address still waiting to be sent.
pub fn deliveries_due(due: &Due, before: DateTime<Utc>) -> Condition {
    // In scope here only: its `max` would shadow the integers' elsewhere.
    use sea_orm::sea_query::ExprTrait;
    let waiting = Alias::new("waiting");
    let still_waiting = Query::select()
        .expr(Expr::val(1))
        .from_as(delivery::Entity, waiting.clone())
        .and_where(
            Expr::col((waiting.clone(), delivery::Column::Recipient))
                .equals((delivery::Entity, delivery::Column::Recipient)),
        )
        .and_where(
            Expr::col((waiting, delivery::Column::Status))
                .is_in([status::PENDING, status::SENDING]),
        )
        .to_owned();
    Condition::all()
        .add(delivery::Column::Status.is_in(FINISHED.iter().copied()))
        .add(delivery::Column::CreatedAt.lt(before))
        .add(delivery::Column::PseudonymisedAt.is_null())
        .add(
            Condition::any()
                .add(delivery::Column::CountedAt.is_null())
                .add(delivery::Column::CountedAt.lt(due.throttle_counts_since)),
        )
        .add(
            Condition::any()
                .add(delivery::Column::UnsolicitedAt.is_null())
                .add(delivery::Column::UnsolicitedAt.lt(due.unsolicited_counts_since)),
        )
        .add(
            Condition::any()
                .add(delivery::Column::Status.ne(status::FOLDED))
                .add(Expr::exists(still_waiting).not()),
        )
}

/// Constituents listed in a digest made before `before`, not yet pseudonymised.
pub fn digest_items_due(before: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(digest_item::Column::Status.eq(item_status::INCLUDED))
        .add(digest_item::Column::IncludedAt.lt(before))
        .add(digest_item::Column::PseudonymisedAt.is_null())
}

/// Letters whose supporter never confirmed them, written before `before`.
pub fn unconfirmed_letters_due(before: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(letter::Column::Status.eq(letter_status::UNCONFIRMED))
        .add(letter::Column::CreatedAt.lt(before))
}

/// Letters discarded on review, confirmed before `before`.
pub fn discarded_letters_due(before: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(letter::Column::Status.eq(letter_status::DISCARDED))
        .add(letter::Column::ConfirmedAt.lt(before))
}

/// Letters sent to their MP, confirmed before `before`, not yet pseudonymised.
pub fn sent_letters_due(before: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(letter::Column::Status.eq(letter_status::SENT))
        .add(letter::Column::PseudonymisedAt.is_null())
        .add(letter::Column::ConfirmedAt.lt(before))
}

/// Letters still held for review, confirmed before `before` (left for a person; counted).
fn held_letters_waiting(before: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(letter::Column::Status.eq(letter_status::HELD))
        .add(letter::Column::ConfirmedAt.lt(before))
}

/// What one round changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Deliveries whose bodies and recipient were removed.
    pub deliveries: u64,
    /// Digest items whose constituent's details were removed.
    pub digest_items: u64,
    /// Inbox rows deleted.
    pub inbox: u64,
    /// Unconfirmed letters deleted.
    pub unconfirmed_letters: u64,
    /// Discarded letters deleted.
    pub discarded_letters: u64,
    /// Sent letters whose supporter details and words were removed.
    pub sent_letters: u64,
    /// `.eml` files deleted from the file outbox.
    pub outbox_files: u64,
    /// Letters still held for review past `held_letter_days` (left alone).
    pub held_letters_waiting: u64,
    /// Rate-limit counters of windows that have ended.
    pub rate_limit_windows: u64,
}

/// The periodic retention job.
#[derive(Clone)]
pub struct RetentionJob {
    db: DatabaseConnection,
    settings: RetentionSettings,
    windows: Windows,
    /// The file transport's outbox directory, when email is written there.
    outbox: Option<PathBuf>,
}

impl RetentionJob {
    pub fn new(
        db: DatabaseConnection,
        settings: &crate::Settings,
        outbox: Option<PathBuf>,
    ) -> Self {
        Self {
            db,
            settings: settings.retention.clone(),
            windows: Windows::of(settings),
            outbox,
        }
    }

    /// Runs a round every `check_seconds` until shutdown; a round stops between two batches once
    /// shutdown begins.
    pub fn spawn(self, shutdown: Shutdown) -> JoinHandle<()> {
        let period = StdDuration::from_secs(self.settings.check_seconds.max(1));
        let stopping = shutdown.clone();
        valued_platform::periodic::every("notification retention", period, shutdown, move || {
            let (job, stopping) = (self.clone(), stopping.clone());
            async move {
                let report = job
                    .run_while(Utc::now(), &|| !stopping.is_triggered())
                    .await?;
                if report != Report::default() {
                    tracing::info!(?report, "retention round");
                }
                if report.held_letters_waiting > 0 {
                    tracing::warn!(
                        waiting = report.held_letters_waiting,
                        "letters held for review longer than retention.held_letter_days: a person should send or discard them"
                    );
                }
                Ok(())
            }
        })
    }

    /// One whole round as of `now`.
    pub async fn run(&self, now: DateTime<Utc>) -> anyhow::Result<Report> {
        self.run_while(now, &|| true).await
    }

    async fn run_while(
        &self,
        now: DateTime<Utc>,
        go: &(dyn Fn() -> bool + Sync),
    ) -> anyhow::Result<Report> {
        let due = due(&self.settings, self.windows, now);
        let db = &self.db;
        let mut report = Report::default();
        if let Some(before) = due.deliveries {
            report.deliveries = in_batches(go, || pseudonymise_deliveries(db, &due, before, now))
                .await
                .context("deliveries")?;
            report.digest_items = in_batches(go, || {
                let marker = due.deliveries_marker.clone();
                let update = digest_item::Entity::update_many()
                    .col_expr(
                        digest_item::Column::NomineeName,
                        Expr::value(marker.clone()),
                    )
                    .col_expr(digest_item::Column::NomineeJobTitle, Expr::value(""))
                    .col_expr(digest_item::Column::StoryExcerpt, Expr::value(""))
                    .col_expr(digest_item::Column::WorkplacePostcode, Expr::value(marker))
                    .col_expr(digest_item::Column::PseudonymisedAt, Expr::value(now))
                    .filter(
                        digest_item::Column::Id
                            .in_subquery(ids_of(digest_item::Column::Id, digest_items_due(before))),
                    )
                    .filter(digest_items_due(before));
                async move { Ok(update.exec(db).await?.rows_affected) }
            })
            .await
            .context("digest items")?;
            if let Some(dir) = self.outbox.clone() {
                let before = SystemTime::from(before);
                report.outbox_files =
                    tokio::task::spawn_blocking(move || remove_files_before(&dir, before))
                        .await?
                        .context("file outbox")?;
            }
        }
        if let Some(before) = due.inbox {
            report.inbox = in_batches(go, || {
                valued_platform::inbox::delete_handled_before(db, before, BATCH)
            })
            .await
            .context("inbox")?;
        }
        if let Some(before) = due.unconfirmed_letters {
            report.unconfirmed_letters =
                in_batches(go, || delete_letters(db, unconfirmed_letters_due(before)))
                    .await
                    .context("unconfirmed letters")?;
        }
        if let Some(before) = due.discarded_letters {
            report.discarded_letters =
                in_batches(go, || delete_letters(db, discarded_letters_due(before)))
                    .await
                    .context("discarded letters")?;
        }
        if let Some(before) = due.sent_letters {
            report.sent_letters = in_batches(go, || {
                pseudonymise_letters(db, &due.letters_marker, before, now)
            })
            .await
            .context("sent letters")?;
            report.held_letters_waiting = letter::Entity::find()
                .filter(held_letters_waiting(before))
                .count(db)
                .await?;
        }
        report.rate_limit_windows = valued_platform::limits::purge(db)
            .await
            .context("rate limits")?;
        Ok(report)
    }
}

/// Runs `batch` until it changes fewer than [`BATCH`] rows (what a concurrent round took is left to
/// the next round) or `go` says stop; returns the rows changed in all.
async fn in_batches<F, Fut>(go: &(dyn Fn() -> bool + Sync), mut batch: F) -> Result<u64, DbErr>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<u64, DbErr>>,
{
    let mut total = 0;
    while go() {
        let changed = batch().await?;
        total += changed;
        if changed < BATCH {
            break;
        }
    }
    Ok(total)
}

/// The ids (column `id`) of at most [`BATCH`] rows of its table matching `condition`, as a
/// subquery.
fn ids_of(id: impl ColumnTrait, condition: Condition) -> SelectStatement {
    Query::select()
        .column(id)
        .from(id.entity_name())
        .cond_where(condition)
        .limit(BATCH)
        .to_owned()
}

async fn delete_letters(db: &DatabaseConnection, condition: Condition) -> Result<u64, DbErr> {
    Ok(letter::Entity::delete_many()
        .filter(letter::Column::Id.in_subquery(ids_of(letter::Column::Id, condition.clone())))
        .filter(condition)
        .exec(db)
        .await?
        .rows_affected)
}

/// One batch of sent letters: the supporter's details and words become `marker`, the confirm-token
/// hash and the copy-check fingerprints go.
async fn pseudonymise_letters(
    db: &DatabaseConnection,
    marker: &str,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let txn = db.begin().await?;
    let ids: Vec<Uuid> = letter::Entity::find()
        .select_only()
        .column(letter::Column::Id)
        .filter(sent_letters_due(before))
        .limit(BATCH)
        .into_tuple()
        .all(&txn)
        .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    letter::fingerprint::Entity::delete_many()
        .filter(letter::fingerprint::Column::LetterId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    let changed = letter::Entity::update_many()
        .col_expr(letter::Column::SupporterName, Expr::value(marker))
        .col_expr(letter::Column::SupporterEmail, Expr::value(marker))
        .col_expr(letter::Column::SupporterPostcode, Expr::value(marker))
        .col_expr(letter::Column::Body, Expr::value(marker))
        .col_expr(
            letter::Column::ConfirmTokenHash,
            Expr::value(Option::<String>::None),
        )
        .col_expr(letter::Column::PseudonymisedAt, Expr::value(now))
        .filter(letter::Column::Id.is_in(ids.clone()))
        .filter(sent_letters_due(before))
        .exec(&txn)
        .await?
        .rows_affected;
    txn.commit().await?;
    Ok(changed)
}

/// One batch of deliveries: subject and bodies become the marker, Reply-To goes, the recipient is
/// removed (except an MP's) and taken out of the stored SMTP replies.
async fn pseudonymise_deliveries(
    db: &DatabaseConnection,
    due: &Due,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let condition = deliveries_due(due, before);
    let txn = db.begin().await?;
    let mut query = delivery::Entity::find()
        .select_only()
        .columns([
            delivery::Column::Id,
            delivery::Column::Recipient,
            delivery::Column::Template,
        ])
        .column(delivery::Column::LastError)
        .column(delivery::Column::SmtpResponse)
        .filter(condition.clone())
        .order_by_asc(delivery::Column::CreatedAt)
        .limit(BATCH);
    if valued_platform::db::is_postgres(&txn) {
        // Another replica's round takes other rows.
        query = query.lock_with_behavior(
            sea_orm::sea_query::LockType::Update,
            sea_orm::sea_query::LockBehavior::SkipLocked,
        );
    }
    type Row = (Uuid, String, String, Option<String>, Option<String>);
    let rows: Vec<Row> = query.into_tuple().all(&txn).await?;
    let mut changed = 0;
    for (id, recipient, template, last_error, smtp_response) in rows {
        let scrub = |text: Option<String>| text.map(|t| without_address(&t, &recipient));
        let mut update = delivery::Entity::update_many()
            .col_expr(
                delivery::Column::Subject,
                Expr::value(due.deliveries_marker.clone()),
            )
            .col_expr(
                delivery::Column::TextBody,
                Expr::value(due.deliveries_marker.clone()),
            )
            .col_expr(
                delivery::Column::HtmlBody,
                Expr::value(due.deliveries_marker.clone()),
            )
            .col_expr(
                delivery::Column::ReplyTo,
                Expr::value(Option::<String>::None),
            )
            .col_expr(delivery::Column::LastError, Expr::value(scrub(last_error)))
            .col_expr(
                delivery::Column::SmtpResponse,
                Expr::value(scrub(smtp_response)),
            )
            .col_expr(delivery::Column::PseudonymisedAt, Expr::value(now))
            .col_expr(
                delivery::Column::UnsolicitedKey,
                Expr::value(None::<String>),
            );
        if !TO_MPS.contains(&template.as_str()) {
            update = update.col_expr(
                delivery::Column::Recipient,
                Expr::value(removed_recipient(id)),
            );
        }
        changed += update
            .filter(delivery::Column::Id.eq(id))
            .filter(condition.clone())
            .exec(&txn)
            .await?
            .rows_affected;
    }
    txn.commit().await?;
    Ok(changed)
}

/// Deletes the `.eml` files in `dir` last written before `before`; returns how many.
fn remove_files_before(dir: &std::path::Path, before: SystemTime) -> std::io::Result<u64> {
    let mut removed = 0;
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(error) => return Err(error),
    };
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "eml") {
            continue;
        }
        let written = std::fs::metadata(&path)?.modified()?;
        if written < before {
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                // Another replica (or a person) was first.
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(error),
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
    }

    fn windows() -> Windows {
        Windows {
            throttle: Duration::hours(24),
            unsolicited: Duration::hours(24),
        }
    }

    #[test]
    fn each_kind_is_due_after_its_own_days_and_zero_keeps_it() {
        let settings = RetentionSettings::default();
        let due = due(&settings, windows(), now());
        assert_eq!(due.deliveries, Some(now() - Duration::days(30)));
        assert_eq!(due.inbox, Some(now() - Duration::days(30)));
        assert_eq!(due.unconfirmed_letters, Some(now() - Duration::days(7)));
        assert_eq!(due.discarded_letters, Some(now() - Duration::days(30)));
        assert_eq!(due.sent_letters, Some(now() - Duration::days(30)));
        assert_eq!(due.throttle_counts_since, now() - Duration::hours(24));
        assert_eq!(due.deliveries_marker, "[removed after 30 days]");
        let off = RetentionSettings {
            email_body_days: 0,
            inbox_days: 0,
            held_letter_days: 0,
            unconfirmed_letter_days: 0,
            check_seconds: 1,
        };
        let kept = super::due(&off, windows(), now());
        assert_eq!(
            (
                kept.deliveries,
                kept.inbox,
                kept.unconfirmed_letters,
                kept.discarded_letters,
                kept.sent_letters
            ),
            (None, None, None, None, None)
        );
    }

    #[test]
    fn a_sent_letter_keeps_its_words_while_the_copy_check_reads_them() {
        let settings = RetentionSettings {
            held_letter_days: 7,
            ..RetentionSettings::default()
        };
        let due = due(&settings, windows(), now());
        assert_eq!(due.discarded_letters, Some(now() - Duration::days(7)));
        assert_eq!(
            due.sent_letters,
            Some(now() - Duration::days(COPY_WINDOW_DAYS))
        );
        assert_eq!(due.letters_marker, "[removed after 30 days]");
    }

    #[test]
    fn addresses_leave_stored_replies_whatever_their_case() {
        assert_eq!(
            without_address(
                "550 5.1.1 <Sam.Patel@Example.org>: no such user (sam.patel@example.org)",
                "sam.patel@example.org"
            ),
            "550 5.1.1 <[address removed]>: no such user ([address removed])"
        );
        assert_eq!(
            without_address("250 OK queued", "sam@example.org"),
            "250 OK queued"
        );
        assert_eq!(
            without_address("Zoë ünïcode", "zoë"),
            "[address removed] ünïcode"
        );
        assert_eq!(without_address("text", ""), "text");
    }

    #[test]
    fn a_removed_recipient_names_no_one_and_stays_unique() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_ne!(removed_recipient(a), removed_recipient(b));
        assert!(!removed_recipient(a).contains('@'));
    }

    #[test]
    fn a_missing_section_or_key_takes_its_default() {
        let partial: RetentionSettings = serde_json::from_str(r#"{"inbox_days": 60}"#).unwrap();
        assert_eq!(partial.inbox_days, 60);
        assert_eq!(partial.email_body_days, 30);
        assert_eq!(partial.unconfirmed_letter_days, 7);
        assert_eq!(partial.check_seconds, 3_600);
    }
}
