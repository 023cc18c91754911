//! The moments of a campaign's public vote, announced as they pass: `vote.opened.v1` once the
//! campaign's vote opens, and `vote.results_released.v1` for each ballot once its results time
//! passes (with its final count, ledger head and winners); then, once every ballot of a campaign
//! is out, one `voter.results_released.v1` to each voter who asked to hear (their address deleted
//! as it is enqueued).
//!
//! A background job ([`round`], every [`MomentSettings::check_seconds`]) notices the moments. Each
//! is claimed by a `vote_moment` row with a unique key (`opened:<campaign id>`,
//! `released:<ballot id>`) in the transaction that enqueues its event, so that however many
//! replicas run the job, and however often, each moment is announced once.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QuerySelect, TransactionTrait, TryInsertResult,
};
use serde::Deserialize;
use uuid::Uuid;
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::{
    BallotResult, OpenedBallot, ReleasedCount, VoteOpened, VoteResultsReleased,
    VoterResultsReleased,
};

use crate::db::entities::{ballot, ballot_choice, results_subscriber, vote_moment};
use crate::db::queries;
use crate::error::Result;
use crate::ledger;

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct MomentSettings {
    /// How often the job looks for votes that opened and results that are due (and forgets the
    /// addresses of expired voter passes).
    pub check_seconds: u64,
}

impl Default for MomentSettings {
    fn default() -> Self {
        Self { check_seconds: 15 }
    }
}

/// What one round announced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Announced {
    pub opened: usize,
    pub released: usize,
    pub results_emails: usize,
}

/// Announces every moment that has passed by `now` and was not announced yet.
pub async fn round(
    db: &DatabaseConnection,
    outbox: &Outbox,
    now: DateTime<Utc>,
) -> Result<Announced> {
    let mut announced = Announced::default();
    for campaign_id in campaigns_open_at(db, now).await? {
        if open(db, outbox, &campaign_id, now).await? {
            announced.opened += 1;
        }
    }
    // Ballots whose results are due and not yet released (a release names its ballot), so that a
    // round costs nothing for the votes of years past.
    let released = Query::select()
        .column(vote_moment::Column::BallotId)
        .from(vote_moment::Entity)
        .and_where(vote_moment::Column::BallotId.is_not_null())
        .to_owned();
    let due = ballot::Entity::find()
        .filter(ballot::Column::CampaignId.is_not_null())
        .filter(ballot::Column::ResultsAt.lte(now))
        .filter(ballot::Column::Id.not_in_subquery(released))
        .all(db)
        .await?;
    for found in due {
        if release(db, outbox, &found, now).await? {
            announced.released += 1;
        }
    }
    announced.results_emails = tell_voters(db, outbox).await?;
    Ok(announced)
}

/// On SQLite (the embedded default), makes the transaction the database's one writer before it
/// reads, by writing first: a transaction that reads and then writes fails at once ("database is
/// locked", a stale snapshot) if another writer (the relay, a vote) committed in between, where one
/// that writes first waits its turn. PostgreSQL needs nothing here.
async fn become_writer(txn: &impl ConnectionTrait) -> Result<()> {
    if !valued_platform::db::is_postgres(txn) {
        txn.execute_unprepared("DELETE FROM vote_moment WHERE key = ''")
            .await?;
    }
    Ok(())
}

/// Whether `ballot_id`'s results may be released now.
///
/// **The one place the hold queue meets the release.** Held votes are decided before the results
/// time: from then on a decision is refused ([`crate::held`]), since the release fixes the count,
/// the ledger head and the winners for good and tells everyone. So the results time is the
/// deadline, not a wait: a ballot is released on time, and a vote still held then is never
/// counted. That is logged, with how many, for the record; the admin page warns before it comes.
/// Called in the release's own transaction, after the ballot's ledger is serialised, so a
/// decision made meanwhile is seen.
pub async fn may_release(txn: &impl ConnectionTrait, ballot_id: Uuid) -> Result<bool> {
    let held = crate::held::pending(txn, ballot_id).await?;
    if held > 0 {
        tracing::warn!(
            %ballot_id,
            held,
            "results released with votes still held: they were not decided by the results time \
             and are not counted"
        );
    }
    Ok(true)
}

/// Campaigns whose vote is open at `now` and whose opening was not announced yet.
async fn campaigns_open_at(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Vec<String>> {
    let campaigns: Vec<Option<String>> = ballot::Entity::find()
        .select_only()
        .column(ballot::Column::CampaignId)
        .distinct()
        .filter(ballot::Column::CampaignId.is_not_null())
        .filter(ballot::Column::OpensAt.lte(now))
        .filter(ballot::Column::ClosesAt.gt(now))
        .into_tuple()
        .all(db)
        .await?;
    let mut due = Vec::new();
    for campaign_id in campaigns.into_iter().flatten() {
        if !is_announced(db, &opened_key(&campaign_id)).await? {
            due.push(campaign_id);
        }
    }
    Ok(due)
}

fn opened_key(campaign_id: &str) -> String {
    format!("opened:{campaign_id}")
}

fn released_key(ballot_id: Uuid) -> String {
    format!("released:{ballot_id}")
}

async fn is_announced(db: &impl ConnectionTrait, key: &str) -> Result<bool> {
    Ok(vote_moment::Entity::find_by_id(key.to_owned())
        .one(db)
        .await?
        .is_some())
}

/// Claims the moment `key` in `txn`: false when another round (here or in another replica) has.
async fn claim(txn: &DatabaseTransaction, moment: vote_moment::Model) -> Result<bool> {
    let inserted = vote_moment::Entity::insert(vote_moment::ActiveModel {
        key: ActiveValue::Set(moment.key),
        campaign_id: ActiveValue::Set(moment.campaign_id),
        ballot_id: ActiveValue::Set(moment.ballot_id),
        detail: ActiveValue::Set(moment.detail),
        at: ActiveValue::Set(moment.at),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(txn)
    .await?;
    Ok(matches!(inserted, TryInsertResult::Inserted(rows) if rows > 0))
}

fn timestamp(at: Option<DateTime<Utc>>) -> Option<prost_types::Timestamp> {
    at.map(|t| prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    })
}

/// Announces that the campaign's vote opened, with its ballots and their finalists.
async fn open(
    db: &DatabaseConnection,
    outbox: &Outbox,
    campaign_id: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let txn = db.begin().await?;
    let moment = vote_moment::Model {
        key: opened_key(campaign_id),
        campaign_id: campaign_id.to_owned(),
        ballot_id: None,
        detail: None,
        at: now,
    };
    if !claim(&txn, moment).await? {
        return Ok(false);
    }
    let ballots = queries::campaign_ballots(&txn, campaign_id).await?;
    let Some((first, _)) = ballots.first() else {
        return Ok(false);
    };
    let event = VoteOpened {
        campaign_id: campaign_id.to_owned(),
        campaign_name: first.campaign_name.clone(),
        opens_at: timestamp(first.opens_at),
        closes_at: timestamp(first.closes_at),
        results_at: timestamp(first.results_at),
        ballots: ballots
            .iter()
            .map(|(ballot, choices)| OpenedBallot {
                ballot_id: ballot.id.to_string(),
                category_id: ballot.category_id.clone().unwrap_or_default(),
                title: ballot.title.clone(),
                choice_ids: choices.iter().map(|c| c.choice_id.clone()).collect(),
            })
            .collect(),
    };
    outbox.enqueue(&txn, None, &event).await?;
    outbox.commit(txn).await?;
    tracing::info!(campaign_id, "public vote opened");
    Ok(true)
}

/// Releases the ballot's results: its count, ledger head and winners, fixed at this moment.
async fn release(
    db: &DatabaseConnection,
    outbox: &Outbox,
    found: &ballot::Model,
    now: DateTime<Utc>,
) -> Result<bool> {
    let txn = db.begin().await?;
    become_writer(&txn).await?;
    // No vote appends while the count is read (none should: the vote closed before the results).
    ledger::store::serialise(&txn, found.id).await?;
    if !may_release(&txn, found.id).await? {
        tracing::info!(ballot_id = %found.id, "results held back: held votes wait for a decision");
        return Ok(false);
    }
    let head = ledger::store::head(&txn, found.id).await?;
    let tally = queries::tally(&txn, found.id).await?;
    let withdrawn = withdrawn_choices(&txn, found.id).await?;
    let (ledger_head, ledger_entries) = head.map_or((String::new(), 0), |h| (h.hash, h.seq));
    let moment = vote_moment::Model {
        key: released_key(found.id),
        campaign_id: found.campaign_id.clone().unwrap_or_default(),
        ballot_id: Some(found.id),
        detail: Some(format!("head {ledger_head} entries {ledger_entries}")),
        at: now,
    };
    if !claim(&txn, moment).await? {
        return Ok(false);
    }
    let event = VoteResultsReleased {
        campaign_id: found.campaign_id.clone().unwrap_or_default(),
        campaign_name: found.campaign_name.clone(),
        category_id: found.category_id.clone().unwrap_or_default(),
        ballot_id: found.id.to_string(),
        title: found.title.clone(),
        winner_choice_ids: tally
            .winners()
            .iter()
            .map(|c| c.choice_id.clone())
            .collect(),
        counts: tally
            .choices
            .iter()
            .map(|c| {
                let gone = withdrawn.contains(&c.choice_id);
                ReleasedCount {
                    choice_id: c.choice_id.clone(),
                    label: if gone { String::new() } else { c.label.clone() },
                    votes: c.votes,
                    withdrawn: gone,
                }
            })
            .collect(),
        total_votes: tally.total,
        ledger_head,
        ledger_entries,
        released_at: timestamp(Some(now)),
    };
    outbox.enqueue(&txn, None, &event).await?;
    outbox.commit(txn).await?;
    tracing::info!(ballot_id = %found.id, total = tally.total, "public vote results released");
    Ok(true)
}

async fn withdrawn_choices(db: &impl ConnectionTrait, ballot_id: Uuid) -> Result<HashSet<String>> {
    let withdrawn: Vec<String> = ballot_choice::Entity::find()
        .select_only()
        .column(ballot_choice::Column::ChoiceId)
        .filter(ballot_choice::Column::BallotId.eq(ballot_id))
        .filter(ballot_choice::Column::Withdrawn.eq(true))
        .into_tuple()
        .all(db)
        .await?;
    Ok(withdrawn.into_iter().collect())
}

/// Emails each voter who asked to hear about a campaign whose every ballot is out, and forgets
/// their address in the same transaction: a row deleted here by another replica is not emailed
/// twice. The number of emails enqueued.
async fn tell_voters(db: &DatabaseConnection, outbox: &Outbox) -> Result<usize> {
    let campaigns: Vec<String> = results_subscriber::Entity::find()
        .select_only()
        .column(results_subscriber::Column::CampaignId)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    let mut told = 0;
    for campaign_id in campaigns {
        let ballots = queries::campaign_ballots(db, &campaign_id).await?;
        let mut results = Vec::with_capacity(ballots.len());
        let mut all_out = !ballots.is_empty();
        for (found, choices) in &ballots {
            if !is_announced(db, &released_key(found.id)).await? {
                all_out = false;
                break;
            }
            let tally = queries::tally(db, found.id).await?;
            // Only finalists still on the ballot (consent to be listed) are named.
            let listed: HashSet<&str> = choices.iter().map(|c| c.choice_id.as_str()).collect();
            results.push(BallotResult {
                title: found.title.clone(),
                winner_names: tally
                    .winners()
                    .iter()
                    .filter(|c| listed.contains(c.choice_id.as_str()))
                    .map(|c| c.label.clone())
                    .collect(),
                total_votes: tally.total,
            });
        }
        if !all_out {
            continue;
        }
        let campaign_name = ballots
            .first()
            .map(|(b, _)| b.campaign_name.clone())
            .unwrap_or_default();
        let txn = db.begin().await?;
        become_writer(&txn).await?;
        let subscribers = results_subscriber::Entity::find()
            .filter(results_subscriber::Column::CampaignId.eq(campaign_id.clone()))
            .all(&txn)
            .await?;
        for subscriber in subscribers {
            let deleted = results_subscriber::Entity::delete_many()
                .filter(results_subscriber::Column::CampaignId.eq(campaign_id.clone()))
                .filter(results_subscriber::Column::VoterKey.eq(subscriber.voter_key.clone()))
                .exec(&txn)
                .await?
                .rows_affected;
            if deleted == 0 {
                continue;
            }
            let event = VoterResultsReleased {
                email: subscriber.email,
                campaign_id: campaign_id.clone(),
                campaign_name: campaign_name.clone(),
                ballots: results.clone(),
            };
            outbox.enqueue(&txn, None, &event).await?;
            told += 1;
        }
        outbox.commit(txn).await?;
    }
    Ok(told)
}
