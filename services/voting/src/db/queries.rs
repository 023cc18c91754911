//! Reads and writes of the voting service. Every write that others must hear about enqueues its
//! event in the same transaction.

use valued_platform::outbox::Outbox;

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait, TryInsertResult,
};
use uuid::Uuid;
use valued_platform::domain::FieldError;
use valued_proto::events::v1::{BallotOpened, VoterVoteCounted};

use super::entities::{ballot, ballot_choice, vote};
use crate::domain::{NewBallot, Tally, VoterKey};
use crate::error::{Error, Result};
use crate::{held, ledger};

/// Stores a ballot and its choices with its `ballot.opened.v1` event, atomically.
pub async fn create_ballot(
    db: &DatabaseConnection,
    outbox: &Outbox,
    new: &NewBallot,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    let event = BallotOpened {
        ballot_id: id.to_string(),
        title: new.title.clone(),
        choice_ids: new.choices.iter().map(|c| c.id.clone()).collect(),
    };
    let choices =
        new.choices
            .iter()
            .zip(0..)
            .map(|(choice, position)| ballot_choice::ActiveModel {
                ballot_id: ActiveValue::Set(id),
                choice_id: ActiveValue::Set(choice.id.clone()),
                label: ActiveValue::Set(choice.label.clone()),
                position: ActiveValue::Set(position),
                ..Default::default()
            });

    let txn = db.begin().await?;
    ballot::Entity::insert(ballot::ActiveModel {
        id: ActiveValue::Set(id),
        title: ActiveValue::Set(new.title.clone()),
        created_at: ActiveValue::Set(Utc::now()),
        ..Default::default()
    })
    .exec_without_returning(&txn)
    .await?;
    ballot_choice::Entity::insert_many(choices)
        .exec_without_returning(&txn)
        .await?;
    outbox.enqueue(&txn, None, &event).await?;
    outbox.commit(txn).await?;
    tracing::info!(ballot_id = %id, choices = new.choices.len(), "ballot opened");
    Ok(id)
}

/// A vote as stored: its id, and the voter's receipt for its ledger entry (none while it is held).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CastVote {
    pub vote_id: Uuid,
    pub receipt: String,
    /// On hold for a check ([`held`]): recorded, not yet counted.
    pub held: bool,
    pub ballot_title: String,
    pub campaign_name: String,
    /// The label of the choice voted for.
    pub choice_label: String,
    /// How many of the campaign's open ballots the voter has still to vote in (none for a ballot
    /// made by hand).
    pub open_ballots_left: u32,
}

/// A vote to store in a ballot, with what was found of its voter before: who they are, the
/// campaign their pass is for (none for an address typed on a ballot made by hand), where the vote
/// came from (for the burst flags; none when not a public vote) and, when their pass keeps it, the
/// address their receipt is emailed to.
#[derive(Debug, Clone)]
pub struct Ballotted {
    pub choice_id: String,
    pub voter: VoterKey,
    pub verified_for: Option<String>,
    pub signals: Option<held::Signals>,
    pub receipt_to: Option<String>,
}

/// Stores a vote: [`cast_votes`] of one.
pub async fn cast_vote(
    db: &DatabaseConnection,
    outbox: &Outbox,
    guard: Option<&held::Guard>,
    ballot_id: Uuid,
    vote: Ballotted,
) -> Result<CastVote> {
    cast_votes(db, outbox, guard, ballot_id, vec![vote])
        .await?
        .pop()
        .unwrap_or(Err(Error::AlreadyVoted))
}

/// Stores votes of one ballot together, each with its ledger entry and its count in the maintained
/// tally, and, for a verified voter whose pass keeps their address, the `voter.vote_counted.v1`
/// that emails them the receipt: in one transaction, under the
/// ballot's lock, with one statement per kind of row however many votes (see
/// [`crate::intake`], which gathers the votes waiting for a ballot).
///
/// Each vote gets its own answer, in order. A second vote by the same voter is refused by the
/// database's unique constraint (`ON CONFLICT DO NOTHING`, which also settles concurrent
/// attempts and two in one batch): it appends nothing and does not disturb the others. A vote
/// whose signals raise a burst flag ([`held`]) is stored on hold instead: no ledger entry, no
/// count, no receipt. The outer error (the ballot unknown or not open, the database failing) is every
/// vote's: then none is stored.
pub async fn cast_votes(
    db: &DatabaseConnection,
    outbox: &Outbox,
    guard: Option<&held::Guard>,
    ballot_id: Uuid,
    votes: Vec<Ballotted>,
) -> Result<Vec<Result<CastVote>>> {
    let found = ballot::Entity::find_by_id(ballot_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("ballot {ballot_id}")))?;
    let cast_at = Utc::now();
    found
        .timetable()
        .accepts_votes_at(cast_at)
        .map_err(Error::Closed)?;
    let choices: HashMap<String, String> = ballot_choice::Entity::find()
        .select_only()
        .column(ballot_choice::Column::ChoiceId)
        .column(ballot_choice::Column::Label)
        .filter(ballot_choice::Column::BallotId.eq(ballot_id))
        .filter(ballot_choice::Column::Withdrawn.eq(false))
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();

    // Each vote's answer; the ones still to store are Ok with a nil id until they are.
    let mut answers: Vec<Result<CastVote>> = votes
        .iter()
        .map(|vote| {
            // A campaign's public vote counts only voters who verified their address for it.
            if found.campaign_id.as_deref() != vote.verified_for.as_deref() {
                return Err(Error::Closed(match &found.campaign_id {
                    Some(_) => "Verify your email address to vote in this campaign".into(),
                    None => "A voter pass is for its campaign's public vote only".into(),
                }));
            }
            let Some(label) = choices.get(&vote.choice_id) else {
                return Err(Error::Invalid(vec![FieldError::new(
                    "choice_id",
                    "Select a choice from this ballot",
                )]));
            };
            Ok(CastVote {
                vote_id: Uuid::now_v7(),
                receipt: String::new(),
                held: false,
                ballot_title: found.title.clone(),
                campaign_name: found.campaign_name.clone(),
                choice_label: label.clone(),
                open_ballots_left: 0,
            })
        })
        .collect();
    let mut storing: Vec<(usize, Uuid)> = answers
        .iter()
        .enumerate()
        .filter_map(|(i, answer)| answer.as_ref().ok().map(|cast| (i, cast.vote_id)))
        .collect();
    if storing.is_empty() {
        return Ok(answers);
    }

    // The campaign's ballots open now, for what each voter has left.
    let open: Vec<Uuid> = match &found.campaign_id {
        Some(campaign_id) => ballot::Entity::find()
            .filter(ballot::Column::CampaignId.eq(campaign_id))
            .all(db)
            .await?
            .into_iter()
            .filter(|b| b.timetable().accepts_votes_at(cast_at).is_ok())
            .map(|b| b.id)
            .collect(),
        None => Vec::new(),
    };

    let txn = db.begin().await?;
    // Votes in one ballot take turns from here to the commit, so that each batch appends after
    // the last (and one voter's concurrent attempts meet the unique constraint one after the
    // other). On SQLite this insert is the transaction's first write, which waits its turn.
    ledger::store::serialise(&txn, ballot_id).await?;
    // The ids of the votes stored: a conflicting one (the voter's second) is left out.
    let stored: HashSet<Uuid> = match vote::Entity::insert_many(storing.iter().map(|&(i, id)| {
        let vote = &votes[i];
        let signals = vote.signals.as_ref();
        vote::ActiveModel {
            id: ActiveValue::Set(id),
            ballot_id: ActiveValue::Set(ballot_id),
            choice_id: ActiveValue::Set(vote.choice_id.clone()),
            voter_key: ActiveValue::Set(vote.voter.as_str().to_owned()),
            cast_at: ActiveValue::Set(cast_at),
            status: ActiveValue::Set(held::COUNTED.into()),
            network: ActiveValue::Set(signals.and_then(|s| s.network.clone())),
            domain: ActiveValue::Set(signals.and_then(|s| s.domain.clone())),
            held_by: ActiveValue::Set(None),
        }
    }))
    .on_conflict_do_nothing_on([vote::Column::BallotId, vote::Column::VoterKey])
    .exec_with_returning_keys(&txn)
    .await?
    {
        TryInsertResult::Inserted(ids) => ids.into_iter().collect(),
        TryInsertResult::Empty | TryInsertResult::Conflicted => HashSet::new(),
    };
    storing.retain(|&(i, id)| {
        let kept = stored.contains(&id);
        if !kept {
            answers[i] = Err(Error::AlreadyVoted);
        }
        kept
    });

    // The burst flags, over the votes that carry signals, in order.
    if let Some(guard) = guard {
        let signalled: Vec<(usize, Uuid, &str, &held::Signals)> = storing
            .iter()
            .filter_map(|&(i, id)| {
                let vote = &votes[i];
                vote.signals
                    .as_ref()
                    .map(|signals| (i, id, vote.choice_id.as_str(), signals))
            })
            .collect();
        if !signalled.is_empty() {
            let checked: Vec<(Uuid, &str, &held::Signals)> = signalled
                .iter()
                .map(|&(_, id, choice, signals)| (id, choice, signals))
                .collect();
            let flags = guard.flags(&txn, ballot_id, &checked, cast_at).await?;
            for (&(i, id, _, _), flag) in signalled.iter().zip(flags) {
                let Some(flag) = flag else { continue };
                let receipt_to = votes[i]
                    .receipt_to
                    .as_deref()
                    .map(|email| (&votes[i].voter, email));
                held::hold(&txn, id, &flag, receipt_to).await?;
                tracing::warn!(
                    vote_id = %id,
                    ballot_id = %ballot_id,
                    flag = flag.kind.slug(),
                    "vote held for a check"
                );
                if let Ok(cast) = &mut answers[i] {
                    cast.held = true;
                }
            }
        }
    }

    let counted: Vec<(usize, Uuid)> = storing
        .iter()
        .copied()
        .filter(|&(i, _)| answers[i].as_ref().is_ok_and(|cast| !cast.held))
        .collect();
    let appended: Vec<(&str, &VoterKey, chrono::DateTime<Utc>)> = counted
        .iter()
        .map(|&(i, _)| (votes[i].choice_id.as_str(), &votes[i].voter, cast_at))
        .collect();
    let entries = ledger::store::append(&txn, ballot_id, &appended).await?;
    let stamp = Some(prost_types::Timestamp {
        seconds: cast_at.timestamp(),
        nanos: 0,
    });
    // To each voter alone: their receipt, never what they chose. Nothing else is published about
    // a vote: an event naming its choice, read beside this one at the same second, would tell
    // whoever reads the broker how each address voted.
    let receipts: Vec<VoterVoteCounted> = counted
        .iter()
        .zip(&entries)
        .filter_map(|(&(i, _), entry)| {
            votes[i].receipt_to.as_ref().map(|email| VoterVoteCounted {
                email: email.clone(),
                campaign_name: found.campaign_name.clone(),
                ballot_title: found.title.clone(),
                receipt: entry.receipt(),
                cast_at: stamp,
            })
        })
        .collect();
    outbox.enqueue_all(&txn, None, &receipts).await?;
    // What each voter stored now has left: one count of their votes in the open ballots.
    if !open.is_empty() && !storing.is_empty() {
        let voted: HashMap<String, i64> = vote::Entity::find()
            .select_only()
            .column(vote::Column::VoterKey)
            .column_as(Expr::col(vote::Column::Id).count(), "voted")
            .filter(vote::Column::BallotId.is_in(open.iter().copied()))
            .filter(
                vote::Column::VoterKey.is_in(storing.iter().map(|&(i, _)| votes[i].voter.as_str())),
            )
            .group_by(vote::Column::VoterKey)
            .into_tuple()
            .all(&txn)
            .await?
            .into_iter()
            .collect();
        let open = i64::try_from(open.len()).unwrap_or(i64::MAX);
        for &(i, _) in &storing {
            if let Ok(cast) = &mut answers[i] {
                let voted = voted.get(votes[i].voter.as_str()).copied().unwrap_or(0);
                cast.open_ballots_left = u32::try_from(open.saturating_sub(voted)).unwrap_or(0);
            }
        }
    }
    outbox.commit(txn).await?;
    for (&(i, id), entry) in counted.iter().zip(&entries) {
        if let Ok(cast) = &mut answers[i] {
            cast.receipt = entry.receipt();
        }
        tracing::info!(vote_id = %id, ballot_id = %ballot_id, seq = entry.seq, "vote cast");
    }
    Ok(answers)
}

/// A campaign's public vote: its ballots in category order of creation, each with the finalists
/// still on it (withdrawn ones left out) in the order they were announced.
pub async fn campaign_ballots(
    db: &impl ConnectionTrait,
    campaign_id: &str,
) -> Result<Vec<(ballot::Model, Vec<ballot_choice::Model>)>> {
    let ballots = ballot::Entity::find()
        .filter(ballot::Column::CampaignId.eq(campaign_id))
        .order_by_asc(ballot::Column::CreatedAt)
        .all(db)
        .await?;
    let mut found = Vec::with_capacity(ballots.len());
    for ballot in ballots {
        let choices = ballot_choice::Entity::find()
            .filter(ballot_choice::Column::BallotId.eq(ballot.id))
            .filter(ballot_choice::Column::Withdrawn.eq(false))
            .order_by_asc(ballot_choice::Column::Position)
            .all(db)
            .await?;
        found.push((ballot, choices));
    }
    Ok(found)
}

/// The ballots of the campaign this voter has voted in.
pub async fn voted_in(
    db: &impl ConnectionTrait,
    campaign_id: &str,
    voter: &VoterKey,
) -> Result<Vec<Uuid>> {
    let ballots: Vec<Uuid> = ballot::Entity::find()
        .select_only()
        .column(ballot::Column::Id)
        .filter(ballot::Column::CampaignId.eq(campaign_id))
        .into_tuple()
        .all(db)
        .await?;
    Ok(vote::Entity::find()
        .select_only()
        .column(vote::Column::BallotId)
        .filter(vote::Column::BallotId.is_in(ballots))
        .filter(vote::Column::VoterKey.eq(voter.as_str()))
        .into_tuple()
        .all(db)
        .await?)
}

/// Refuses to show a ballot's count, to anyone, before its results time (see
/// [`crate::domain::Timetable`]).
pub async fn results_released(db: &impl ConnectionTrait, ballot_id: Uuid) -> Result<()> {
    let found = ballot::Entity::find_by_id(ballot_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("ballot {ballot_id}")))?;
    found
        .timetable()
        .shows_results_at(Utc::now())
        .map_err(Error::Closed)
}

/// The votes of a ballot per choice, every choice listed in position order, as the maintained
/// tally has them (kept with the ledger as each vote is cast: nothing is counted here).
pub async fn tally(db: &impl ConnectionTrait, ballot_id: Uuid) -> Result<Tally> {
    ballot::Entity::find_by_id(ballot_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("ballot {ballot_id}")))?;
    let choices = ballot_choice::Entity::find()
        .filter(ballot_choice::Column::BallotId.eq(ballot_id))
        .order_by_asc(ballot_choice::Column::Position)
        .all(db)
        .await?;
    let counts = ledger::store::tally(db, ballot_id).await?;
    Ok(Tally::new(
        choices.into_iter().map(|c| (c.choice_id, c.label)),
        &counts,
    ))
}

/// A ballot of a campaign's public vote as its results page shows it.
pub struct BallotResults {
    pub ballot: ballot::Model,
    /// The listed finalists' votes and the ledger's head: only once the results are out.
    pub released: Option<(Tally, Option<ledger::Entry>)>,
}

/// The results of every ballot of `campaign_id` whose results time has passed, and the others
/// without them. Only listed finalists are counted in: one whose consent was withdrawn is not
/// named, and their votes are no one's.
pub async fn campaign_results(
    db: &impl ConnectionTrait,
    campaign_id: &str,
) -> Result<Vec<BallotResults>> {
    let now = Utc::now();
    let mut results = Vec::new();
    for (ballot, choices) in campaign_ballots(db, campaign_id).await? {
        let released = if ballot.timetable().shows_results_at(now).is_ok() {
            // The head first: the tally, read after it, counts at least its entries.
            let head = ledger::store::head(db, ballot.id).await?;
            let counts = ledger::store::tally(db, ballot.id).await?;
            let tally = Tally::new(choices.into_iter().map(|c| (c.choice_id, c.label)), &counts);
            Some((tally, head))
        } else {
            None
        };
        results.push(BallotResults { ballot, released });
    }
    Ok(results)
}

/// The entry of `ballot_id`'s ledger a voter's receipt names, with the label of its choice; not
/// before the results time.
pub async fn find_receipt(
    db: &impl ConnectionTrait,
    ballot_id: Uuid,
    receipt: ledger::Receipt,
) -> Result<(ledger::Entry, String)> {
    results_released(db, ballot_id).await?;
    let entry = ledger::store::find_receipt(db, ballot_id, receipt)
        .await?
        .ok_or_else(|| Error::NotFound(format!("receipt {receipt}")))?;
    let label = ballot_choice::Entity::find_by_id((ballot_id, entry.choice_id.clone()))
        .one(db)
        .await?
        .map(|c| c.label)
        .unwrap_or_default();
    Ok((entry, label))
}

/// Checks `ballot_id`'s ledger end to end (see [`ledger::store::verify`]).
pub async fn verify_ledger(db: &impl ConnectionTrait, ballot_id: Uuid) -> Result<ledger::Report> {
    existing_ballot(db, ballot_id).await?;
    Ok(ledger::store::verify(db, ballot_id).await?)
}

/// The head of `ballot_id`'s ledger, then up to `limit` of its entries after `after_seq`.
pub async fn ledger_page(
    db: &impl ConnectionTrait,
    ballot_id: Uuid,
    after_seq: u64,
    limit: u64,
) -> Result<(Option<ledger::Entry>, Vec<ledger::Entry>)> {
    existing_ballot(db, ballot_id).await?;
    let head = ledger::store::head(db, ballot_id).await?;
    let page = ledger::store::entries(db, ballot_id, after_seq, limit).await?;
    Ok((head, page))
}

/// The ballot `ballot_id`, or NOT_FOUND.
async fn existing_ballot(db: &impl ConnectionTrait, ballot_id: Uuid) -> Result<ballot::Model> {
    ballot::Entity::find_by_id(ballot_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("ballot {ballot_id}")))
}
