//! The MP digest. A finalist or winner who agreed to their MP being told becomes a waiting item,
//! written by the digest's own subscription ([`DigestItems`], consumer [`CONSUMER`]: its own queue
//! and its own inbox rows, so it neither waits for nor holds up the notices' emails) in that
//! event's inbox transaction (one per event). Once a period has ended, the job sends each MP one
//! email listing their constituents from it (and any earlier ones still waiting).
//!
//! Exactly once: the digest's id is derived from the MP's member id and the period; its row (primary
//! key) claims the period, and it is the `cause_event_id` of an ordinary delivery, whose unique
//! (cause, recipient, template) admits one email. The claim, the delivery and the items marked
//! included commit together, the items under a row lock, so two replicas running the job cannot
//! send twice or list an item twice. An item that arrives after its
//! MP's digest for the period waits for the next period.
//!
//! The postcode is looked up by the job, not in the event handler: an HTTP call does not belong in
//! the inbox transaction, and a lookup that fails is simply tried again on the next round.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
    TryInsertResult,
};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use uuid::Uuid;
use valued_platform::inbox::TransactionalHandler;
use valued_platform::shutdown::Shutdown;
use valued_platform::{Envelope, HandlerError};
use valued_proto::events::Event;
use valued_proto::events::v1::{
    ConsentChanged, FinalistAnnounced, RecognisedNominee, WinnerAnnounced,
};

use super::MpDigestSettings;
use super::directory::usable_address;
use super::entity::{digest, digest_item, mp};
use super::postcodes::{self, Postcode, PostcodeLookup};
use super::template::{DigestTemplate, MP_DIGEST};
use crate::db::delivery::{self, NewDelivery};
use crate::policy;

pub mod status {
    /// Waiting for its MP's next digest.
    pub const PENDING: &str = "pending";
    /// Listed in a digest (`digest_id`).
    pub const INCLUDED: &str = "included";
    /// Its postcode does not exist or has no constituency: a person must look (`problem`).
    pub const UNRESOLVABLE: &str = "unresolvable";
}

/// Postcodes looked up per round at most.
const LOOKUPS_PER_ROUND: u64 = 200;

/// The digest's consumer name: the queue `<prefix>.notification-mp-digest`, and its inbox rows.
pub const CONSUMER: &str = "notification-mp-digest";

/// The event types whose constituents the digest lists.
pub const EVENT_TYPES: &[&str] = &[
    FinalistAnnounced::TYPE,
    WinnerAnnounced::TYPE,
    ConsentChanged::TYPE,
];

/// The digest's event handler: records each announced constituent who agreed to their MP being
/// told as a waiting item, once per event (wrap it in the platform's `Idempotent` inbox).
pub struct DigestItems;

#[async_trait]
impl TransactionalHandler for DigestItems {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        record(txn, envelope).await
    }
}

/// Records a waiting digest item if `envelope` announces a finalist or winner who agreed to their
/// MP being told; anything else is ignored. Runs in the event's inbox transaction.
async fn record(txn: &DatabaseTransaction, envelope: &Envelope) -> Result<(), HandlerError> {
    let poison = |e: valued_platform::envelope::EnvelopeError| HandlerError::Poison(e.into());
    let (kind, nominee) = match envelope.event_type.as_str() {
        FinalistAnnounced::TYPE => (
            "finalist",
            envelope
                .decode::<FinalistAnnounced>()
                .map_err(poison)?
                .finalist,
        ),
        WinnerAnnounced::TYPE => (
            "winner",
            envelope.decode::<WinnerAnnounced>().map_err(poison)?.winner,
        ),
        ConsentChanged::TYPE => {
            let changed = envelope.decode::<ConsentChanged>().map_err(poison)?;
            return withdraw(txn, &changed)
                .await
                .map_err(|e| HandlerError::Retry(e.into()));
        }
        _ => return Ok(()),
    };
    let Some(nominee) = nominee.filter(|n| n.share_with_mp) else {
        return Ok(());
    };
    insert_item(txn, envelope.id, kind, nominee)
        .await
        .map_err(|e| HandlerError::Retry(e.into()))
}

/// Acts on a nominee's changed consent in the digests not yet sent: without MP consent they leave
/// them; without publication consent their story does.
async fn withdraw(txn: &DatabaseTransaction, changed: &ConsentChanged) -> Result<(), DbErr> {
    let waiting = || {
        digest_item::Entity::find()
            .filter(digest_item::Column::NomineeId.eq(changed.nominee_id.as_str()))
            .filter(digest_item::Column::DigestId.is_null())
    };
    if !changed.shared_with_mp {
        let ids: Vec<Uuid> = waiting()
            .select_only()
            .column(digest_item::Column::Id)
            .into_tuple()
            .all(txn)
            .await?;
        if !ids.is_empty() {
            digest_item::Entity::delete_many()
                .filter(digest_item::Column::Id.is_in(ids.clone()))
                .exec(txn)
                .await?;
            tracing::info!(
                items = ids.len(),
                "MP consent withdrawn: left out of digests"
            );
        }
    } else if !changed.story_published {
        digest_item::Entity::update_many()
            .col_expr(digest_item::Column::StoryExcerpt, Expr::value(""))
            .filter(digest_item::Column::NomineeId.eq(changed.nominee_id.as_str()))
            .filter(digest_item::Column::DigestId.is_null())
            .exec(txn)
            .await?;
    }
    Ok(())
}

async fn insert_item(
    txn: &DatabaseTransaction,
    event_id: Uuid,
    kind: &str,
    nominee: RecognisedNominee,
) -> Result<(), DbErr> {
    let (constituency, status, problem) = match Postcode::parse(&nominee.workplace_postcode) {
        Ok(postcode) => (
            postcodes::stored(txn, &postcode).await?,
            status::PENDING,
            None,
        ),
        Err(error) => {
            tracing::warn!(%event_id, %error, "a constituent's MP cannot be found");
            (None, status::UNRESOLVABLE, Some(error.to_string()))
        }
    };
    digest_item::Entity::insert(digest_item::ActiveModel {
        id: ActiveValue::Set(Uuid::now_v7()),
        event_id: ActiveValue::Set(event_id),
        kind: ActiveValue::Set(kind.to_owned()),
        nominee_name: ActiveValue::Set(nominee.nominee_name),
        nominee_job_title: ActiveValue::Set(nominee.nominee_job_title),
        trust_name: ActiveValue::Set(nominee.trust_name),
        category_name: ActiveValue::Set(nominee.category_name),
        campaign_name: ActiveValue::Set(nominee.campaign_name),
        story_excerpt: ActiveValue::Set(nominee.story_excerpt),
        workplace_postcode: ActiveValue::Set(nominee.workplace_postcode),
        constituency_code: ActiveValue::Set(constituency.map(|c| c.as_str().to_owned())),
        status: ActiveValue::Set(status.to_owned()),
        problem: ActiveValue::Set(problem),
        digest_id: ActiveValue::Set(None),
        created_at: ActiveValue::Set(Utc::now()),
        included_at: ActiveValue::Set(None),
        pseudonymised_at: ActiveValue::Set(None),
        nominee_id: ActiveValue::Set(Some(nominee.nominee_id)),
    })
    .on_conflict_do_nothing_on([digest_item::Column::EventId])
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// What one round of the job did and left waiting.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DigestReport {
    /// Digests made (each one email to one MP).
    pub digests: usize,
    /// Constituents listed in them.
    pub included: usize,
    /// Constituents waiting because their MP is flagged `needs_check`.
    pub held_for_check: usize,
    /// Constituents waiting because their constituency has no MP in the directory.
    pub held_no_mp: usize,
    /// Constituents waiting for the postcode service to answer.
    pub awaiting_lookup: usize,
    /// Constituents whose postcode turned out not to exist, set aside this round.
    pub unresolvable: usize,
}

/// The periodic job that sends MP digests.
#[derive(Clone)]
pub struct DigestJob {
    db: DatabaseConnection,
    lookup: PostcodeLookup,
    template: Arc<DigestTemplate>,
    period: chrono::Duration,
    check_every: Duration,
    sender_wake: Arc<Notify>,
    /// What was last logged about each constituency whose constituents wait, so that a round
    /// every minute repeats a warning only when the number waiting changes.
    warned: Arc<Mutex<HashMap<String, usize>>>,
}

impl DigestJob {
    pub fn new(
        db: DatabaseConnection,
        lookup: PostcodeLookup,
        settings: &MpDigestSettings,
        public_url: &str,
        sender_wake: Arc<Notify>,
    ) -> anyhow::Result<Self> {
        let hours =
            i64::try_from(settings.period_hours.max(1)).context("mp_digest.period_hours")?;
        Ok(Self {
            db,
            lookup,
            template: Arc::new(DigestTemplate::new()?.with_privacy_notice(public_url)),
            period: chrono::Duration::hours(hours),
            check_every: Duration::from_secs(settings.check_seconds.max(1)),
            sender_wake,
            warned: Arc::default(),
        })
    }

    /// Runs the job every `check_seconds` until shutdown.
    pub fn spawn(self, shutdown: Shutdown) -> JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = shutdown.wait() => break,
                    () = tokio::time::sleep(self.check_every) => {}
                }
                match self.run(Utc::now()).await {
                    Ok(report) if report != DigestReport::default() => {
                        tracing::info!(?report, "MP digest round");
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(error = %format!("{error:#}"), "MP digest round failed");
                    }
                }
            }
        })
    }

    /// The start of the period `now` falls in (periods are counted from the Unix epoch).
    pub fn period_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        period_start(self.period, now)
    }

    /// One round as of `now`: sends the digests due for the periods that have ended.
    pub async fn run(&self, now: DateTime<Utc>) -> anyhow::Result<DigestReport> {
        let period_start = self.period_start(now);
        let mut report = DigestReport::default();
        let waiting = digest_item::Entity::find()
            .filter(due(period_start))
            .count(&self.db)
            .await?;
        if waiting == 0 {
            return Ok(report);
        }
        self.resolve_postcodes(period_start, &mut report).await?;

        let mut waiting: BTreeMap<String, u64> = BTreeMap::new();
        for item in digest_item::Entity::find()
            .filter(due(period_start))
            .filter(digest_item::Column::ConstituencyCode.is_not_null())
            .all(&self.db)
            .await?
        {
            if let Some(code) = item.constituency_code {
                *waiting.entry(code).or_default() += 1;
            }
        }
        let mps: HashMap<String, mp::Model> = mp::Entity::find()
            .filter(mp::Column::ConstituencyCode.is_in(waiting.keys().cloned()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| (m.constituency_code.clone(), m))
            .collect();
        for (code, count) in waiting {
            let count = usize::try_from(count).unwrap_or(usize::MAX);
            let news = self.changed(&code, count);
            let Some(mp) = mps.get(&code) else {
                if news {
                    tracing::warn!(constituency = %code, waiting = count, "no MP in the directory for this constituency; constituents wait");
                }
                report.held_no_mp += count;
                continue;
            };
            if mp.needs_check || usable_address(&mp.email).is_err() {
                if news {
                    tracing::warn!(
                    member_id = mp.member_id,
                    constituency = %mp.constituency_name,
                    reason = mp.check_reason.as_deref().unwrap_or_default(),
                    waiting = count,
                    "MP needs a manual check before they can be emailed; constituents wait"
                    );
                }
                report.held_for_check += count;
                continue;
            }
            if let Some(included) = self.send_digest(mp, period_start, now).await? {
                report.digests += 1;
                report.included += included;
            }
        }
        if report.digests > 0 {
            self.sender_wake.notify_one();
        }
        Ok(report)
    }

    /// Whether `waiting` is news for `constituency` since the last round that logged it.
    fn changed(&self, constituency: &str, waiting: usize) -> bool {
        self.warned.lock().map_or(true, |mut warned| {
            warned.insert(constituency.to_owned(), waiting) != Some(waiting)
        })
    }

    /// Looks up the constituencies of due items whose postcode was not known when they arrived.
    async fn resolve_postcodes(
        &self,
        period_start: DateTime<Utc>,
        report: &mut DigestReport,
    ) -> anyhow::Result<()> {
        let unresolved: Vec<String> = digest_item::Entity::find()
            .select_only()
            .column(digest_item::Column::WorkplacePostcode)
            .distinct()
            .filter(due(period_start))
            .filter(digest_item::Column::ConstituencyCode.is_null())
            .limit(LOOKUPS_PER_ROUND)
            .into_tuple()
            .all(&self.db)
            .await?;
        for postcode in unresolved {
            let items = digest_item::Entity::update_many()
                .filter(due(period_start))
                .filter(digest_item::Column::ConstituencyCode.is_null())
                .filter(digest_item::Column::WorkplacePostcode.eq(&postcode));
            match self.lookup.lookup(&postcode).await {
                Ok(code) => {
                    items
                        .col_expr(
                            digest_item::Column::ConstituencyCode,
                            Expr::value(code.as_str()),
                        )
                        .exec(&self.db)
                        .await?;
                }
                Err(error) if error.is_temporary() => {
                    tracing::warn!(%error, "postcode lookup failed; will try again next round");
                    report.awaiting_lookup += digest_item::Entity::find()
                        .filter(due(period_start))
                        .filter(digest_item::Column::ConstituencyCode.is_null())
                        .count(&self.db)
                        .await
                        .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
                    return Ok(());
                }
                Err(error) => {
                    tracing::warn!(%postcode, %error, "a constituent's MP cannot be found");
                    let set_aside = items
                        .col_expr(
                            digest_item::Column::Status,
                            Expr::value(status::UNRESOLVABLE),
                        )
                        .col_expr(digest_item::Column::Problem, Expr::value(error.to_string()))
                        .exec(&self.db)
                        .await?;
                    report.unresolvable +=
                        usize::try_from(set_aside.rows_affected).unwrap_or(usize::MAX);
                }
            }
        }
        Ok(())
    }

    /// Makes `mp`'s digest for the period starting `period_start`, unless they already have one;
    /// returns how many constituents it lists.
    async fn send_digest(
        &self,
        mp: &mp::Model,
        period_start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<usize>> {
        let recipient = usable_address(&mp.email).map_err(|reason| anyhow::anyhow!(reason))?;
        let txn = self.db.begin().await?;
        let mut query = digest_item::Entity::find()
            .filter(due(period_start))
            .filter(digest_item::Column::ConstituencyCode.eq(&mp.constituency_code))
            .order_by_asc(digest_item::Column::CreatedAt)
            .order_by_asc(digest_item::Column::Id);
        if valued_platform::db::is_postgres(&txn) {
            // A second replica waits here, then finds these rows included.
            query = query.lock_exclusive();
        }
        let items = query.all(&txn).await?;
        if items.is_empty() {
            return Ok(None);
        }
        let digest_id = digest_id(mp.member_id, period_start);
        let count = items.len();
        // The digest's row claims the MP's period: a second claim (another replica, another
        // round) inserts nothing. (`exec_without_returning` reports a conflict as 0 rows.)
        let claimed = digest::Entity::insert(digest::ActiveModel {
            id: ActiveValue::Set(digest_id),
            member_id: ActiveValue::Set(mp.member_id),
            mp_name: ActiveValue::Set(mp.display_as.clone()),
            constituency_code: ActiveValue::Set(mp.constituency_code.clone()),
            constituency_name: ActiveValue::Set(mp.constituency_name.clone()),
            recipient: ActiveValue::Set(recipient.normalised()),
            period_start: ActiveValue::Set(period_start),
            item_count: ActiveValue::Set(i32::try_from(count).unwrap_or(i32::MAX)),
            created_at: ActiveValue::Set(now),
        })
        .on_conflict_do_nothing_on([digest::Column::Id])
        .exec_without_returning(&txn)
        .await?;
        if !matches!(claimed, TryInsertResult::Inserted(rows) if rows > 0) {
            tracing::info!(
                member_id = mp.member_id,
                waiting = count,
                "this MP has had their digest for the period; the rest wait for the next"
            );
            return Ok(None);
        }
        let email = self
            .template
            .render(self.context(mp, &items, period_start))
            .context("rendering the MP digest")?;
        delivery::insert_once(
            &txn,
            NewDelivery {
                cause_event_id: digest_id,
                recipient: recipient.normalised(),
                reply_to: None,
                sender_name: None,
                template: MP_DIGEST,
                email,
                verdict: policy::verdict(&txn, &recipient.normalised(), MP_DIGEST).await?,
                unsolicited: None,
            },
        )
        .await?;
        digest_item::Entity::update_many()
            .col_expr(digest_item::Column::Status, Expr::value(status::INCLUDED))
            .col_expr(digest_item::Column::DigestId, Expr::value(digest_id))
            .col_expr(digest_item::Column::IncludedAt, Expr::value(now))
            .filter(digest_item::Column::Id.is_in(items.iter().map(|i| i.id)))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        tracing::info!(member_id = mp.member_id, constituents = count, %digest_id, "MP digest made");
        Ok(Some(count))
    }

    fn context(
        &self,
        mp: &mp::Model,
        items: &[digest_item::Model],
        period_start: DateTime<Utc>,
    ) -> serde_json::Value {
        let earliest = items
            .iter()
            .map(|i| i.created_at)
            .min()
            .unwrap_or(period_start - self.period)
            .min(period_start - self.period);
        let period_name = match self.period.num_hours() {
            168 => "week",
            24 => "day",
            _ => "period",
        };
        json!({
            "mp_name": mp.display_as,
            "constituency_name": mp.constituency_name,
            "count": items.len(),
            "period_start": earliest.format("%-d %B %Y").to_string(),
            "period_end": period_start.format("%-d %B %Y").to_string(),
            "period_name": period_name,
            "items": items.iter().map(|i| json!({
                "kind": i.kind,
                "nominee_name": i.nominee_name,
                "nominee_job_title": i.nominee_job_title,
                "trust_name": i.trust_name,
                "category_name": i.category_name,
                "campaign_name": i.campaign_name,
                "story_excerpt": i.story_excerpt,
            })).collect::<Vec<_>>(),
        })
    }
}

/// The start of the `period` that `now` falls in, counting periods from the Unix epoch.
pub fn period_start(period: chrono::Duration, now: DateTime<Utc>) -> DateTime<Utc> {
    let length = period.num_seconds().max(1);
    let start = now.timestamp().div_euclid(length) * length;
    Utc.timestamp_opt(start, 0).single().unwrap_or(now)
}

/// Items waiting whose period has ended.
fn due(period_start: DateTime<Utc>) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(digest_item::Column::Status.eq(status::PENDING))
        .add(digest_item::Column::CreatedAt.lt(period_start))
}

/// The digest's id, and its delivery's cause: the same for one MP and period, wherever computed.
pub fn digest_id(member_id: i32, period_start: DateTime<Utc>) -> Uuid {
    period_id("mp_digest", member_id, period_start)
}

/// A deterministic id for one kind of once-a-period email to one MP: the delivery's cause, so the
/// database's UNIQUE (cause, recipient, template) lets it be made only once.
pub fn period_id(kind: &str, member_id: i32, period_start: DateTime<Utc>) -> Uuid {
    let hash = Sha256::digest(format!(
        "valued/{kind}/{member_id}/{}",
        period_start.timestamp()
    ));
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// An email sent (or to be sent) to an MP: the digest and its delivery's progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MpEmail {
    pub digest_id: Uuid,
    pub member_id: i32,
    pub mp_name: String,
    pub constituency_code: String,
    pub constituency_name: String,
    pub recipient: String,
    pub period_start: DateTime<Utc>,
    pub constituents: i32,
    pub subject: String,
    /// The delivery's status: pending, sending, sent or failed.
    pub status: String,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Every email made for MPs, newest first, optionally for one member: what national admins list.
/// (Not yet behind a gRPC method: that needs a change to `proto/`.)
pub async fn sent_to_mps(
    db: &impl ConnectionTrait,
    member_id: Option<i32>,
    limit: u64,
) -> Result<Vec<MpEmail>, DbErr> {
    let mut query = digest::Entity::find()
        .order_by_desc(digest::Column::CreatedAt)
        .order_by_desc(digest::Column::Id)
        .limit(limit);
    if let Some(member_id) = member_id {
        query = query.filter(digest::Column::MemberId.eq(member_id));
    }
    let digests = query.all(db).await?;
    let deliveries: HashMap<Uuid, delivery::Model> = delivery::Entity::find()
        .filter(delivery::Column::Template.eq(MP_DIGEST))
        .filter(delivery::Column::CauseEventId.is_in(digests.iter().map(|d| d.id)))
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.cause_event_id, d))
        .collect();
    Ok(digests
        .into_iter()
        .map(|d| {
            let sent = deliveries.get(&d.id);
            MpEmail {
                digest_id: d.id,
                member_id: d.member_id,
                mp_name: d.mp_name,
                constituency_code: d.constituency_code,
                constituency_name: d.constituency_name,
                recipient: d.recipient,
                period_start: d.period_start,
                constituents: d.item_count,
                subject: sent.map(|s| s.subject.clone()).unwrap_or_default(),
                status: sent.map(|s| s.status.clone()).unwrap_or_default(),
                sent_at: sent.and_then(|s| s.sent_at),
                created_at: d.created_at,
            }
        })
        .collect())
}

/// Constituents not yet in a digest (waiting, or set aside with a `problem`), oldest first.
pub async fn not_included(db: &impl ConnectionTrait) -> Result<Vec<digest_item::Model>, DbErr> {
    digest_item::Entity::find()
        .filter(digest_item::Column::Status.ne(status::INCLUDED))
        .order_by_asc(digest_item::Column::CreatedAt)
        .all(db)
        .await
}

/// How many constituents wait for an MP a person must check first.
pub async fn waiting_for_check(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let flagged: Vec<String> = mp::Entity::find()
        .select_only()
        .column(mp::Column::ConstituencyCode)
        .filter(mp::Column::NeedsCheck.eq(true))
        .into_tuple()
        .all(db)
        .await?;
    digest_item::Entity::find()
        .filter(digest_item::Column::Status.eq(status::PENDING))
        .filter(digest_item::Column::ConstituencyCode.is_in(flagged))
        .count(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_digest_id_per_mp_and_period() {
        let week = Utc.timestamp_opt(1_795_000_000, 0).unwrap();
        assert_eq!(digest_id(5173, week), digest_id(5173, week));
        assert_ne!(digest_id(5173, week), digest_id(4358, week));
        assert_ne!(
            digest_id(5173, week),
            digest_id(5173, week + chrono::Duration::weeks(1))
        );
    }

    #[test]
    fn the_digest_renders_and_escapes_what_people_typed() {
        let template = DigestTemplate::new().unwrap();
        let context = json!({
            "mp_name": "Alex Baker",
            "constituency_name": "Aldershot",
            "count": 2,
            "period_start": "12 November 2026",
            "period_end": "19 November 2026",
            "period_name": "week",
            "items": [
                {"kind": "finalist", "nominee_name": "Sam <b>Patel</b>", "nominee_job_title": "Porter",
                 "trust_name": "Frimley Health", "category_name": "Porter of the year",
                 "campaign_name": "Health Heroes 2026", "story_excerpt": "Always there."},
                {"kind": "winner", "nominee_name": "Jo Smith", "nominee_job_title": "",
                 "trust_name": "Frimley Health", "category_name": "Cleaner of the year",
                 "campaign_name": "Health Heroes 2026", "story_excerpt": ""},
            ],
        });
        let email = template.render(&context).unwrap();
        assert!(
            email.subject.starts_with("2 constituents"),
            "{}",
            email.subject
        );
        assert!(!email.html.contains("<b>"));
        assert!(email.text.contains("Sam <b>Patel</b>, Porter"));
        assert!(email.text.contains("Winner: Cleaner of the year"));
        assert!(email.text.contains("\"Always there.\""));
        assert!(!email.text.contains("/privacy"));

        let linked = DigestTemplate::new()
            .unwrap()
            .with_privacy_notice("https://valued.example.org/")
            .render(&context)
            .unwrap();
        assert!(
            linked
                .text
                .trim_end()
                .ends_with("How we use your information: https://valued.example.org/privacy")
        );
        assert!(linked.html.contains("How we use your information</a>"));
    }
}
