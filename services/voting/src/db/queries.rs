//! Reads and writes of the voting service. Every write that others must hear about enqueues its
//! event in the same transaction.

use valued_platform::outbox::Outbox;

use chrono::Utc;
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, SqlErr, TransactionTrait,
};
use uuid::Uuid;
use valued_platform::domain::FieldError;
use valued_proto::events::v1::{BallotOpened, VoteCast, VoterVoteCounted};

use super::entities::{ballot, ballot_choice, vote};
use crate::domain::{NewBallot, NewVote, Tally, VoterKey};
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
}

/// Stores a vote with its ledger entry, its count in the maintained tally and its `vote.cast.v1`
/// event, atomically; and, for a verified voter whose pass keeps their address (`receipt_to`), the
/// `voter.vote_counted.v1` that emails them the receipt. A second vote by the same voter is
/// refused by the database's unique constraint, which also settles concurrent attempts; the
/// refusal rolls back the whole
/// transaction, so it appends nothing. A vote with `flags` (the guard and what the vote says of
/// where it came from) that raises one ([`held`]) is stored on hold instead: no ledger entry, no
/// count, no event.
pub async fn cast_vote(
    db: &DatabaseConnection,
    outbox: &Outbox,
    new: &NewVote,
    voter: &VoterKey,
    verified_for: Option<&str>,
    flags: Option<(&held::Guard, &held::Signals)>,
    receipt_to: Option<&str>,
) -> Result<CastVote> {
    let found = ballot::Entity::find_by_id(new.ballot_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("ballot {}", new.ballot_id)))?;
    found
        .timetable()
        .accepts_votes_at(Utc::now())
        .map_err(Error::Closed)?;
    // A campaign's public vote counts only voters who verified their address for it.
    if found.campaign_id.as_deref() != verified_for {
        return Err(Error::Closed(match &found.campaign_id {
            Some(_) => "Verify your email address to vote in this campaign".into(),
            None => "A voter pass is for its campaign's public vote only".into(),
        }));
    }
    ballot_choice::Entity::find_by_id((new.ballot_id, new.choice_id.clone()))
        .one(db)
        .await?
        .filter(|choice| !choice.withdrawn)
        .ok_or_else(|| {
            Error::Invalid(vec![FieldError::new(
                "choice_id",
                "Select a choice from this ballot",
            )])
        })?;

    let id = Uuid::now_v7();
    let cast_at = Utc::now();
    // The event says what was chosen, never by whom.
    let event = VoteCast {
        ballot_id: new.ballot_id.to_string(),
        choice_id: new.choice_id.clone(),
        cast_at: Some(prost_types::Timestamp {
            seconds: cast_at.timestamp(),
            nanos: 0,
        }),
        vote_id: id.to_string(),
    };

    let txn = db.begin().await?;
    // Votes in one ballot take turns from here to the commit, so that each appends after the last
    // (and one voter's concurrent attempts meet the unique constraint one after the other).
    ledger::store::serialise(&txn, new.ballot_id).await?;
    vote::Entity::insert(vote::ActiveModel {
        id: ActiveValue::Set(id),
        ballot_id: ActiveValue::Set(new.ballot_id),
        choice_id: ActiveValue::Set(new.choice_id.clone()),
        voter_key: ActiveValue::Set(voter.as_str().to_owned()),
        cast_at: ActiveValue::Set(cast_at),
        status: ActiveValue::Set(held::COUNTED.into()),
        network: ActiveValue::Set(flags.and_then(|(_, signals)| signals.network.clone())),
        domain: ActiveValue::Set(flags.and_then(|(_, signals)| signals.domain.clone())),
        held_by: ActiveValue::Set(None),
    })
    .exec_without_returning(&txn)
    .await
    .map_err(already_voted)?;
    let flag = match flags {
        Some((guard, signals)) => {
            guard
                .flag(&txn, new.ballot_id, &new.choice_id, signals, cast_at)
                .await?
        }
        None => None,
    };
    if let Some(flag) = flag {
        held::hold(&txn, id, &flag).await?;
        txn.commit().await?;
        tracing::warn!(
            vote_id = %id,
            ballot_id = %new.ballot_id,
            flag = flag.kind.slug(),
            "vote held for a check"
        );
        return Ok(CastVote {
            vote_id: id,
            receipt: String::new(),
            held: true,
        });
    }
    let entry = ledger::store::append(&txn, new.ballot_id, &new.choice_id, voter, cast_at).await?;
    outbox.enqueue(&txn, None, &event).await?;
    if let Some(email) = receipt_to {
        // To the voter alone: their receipt, never what they chose.
        let counted = VoterVoteCounted {
            email: email.to_owned(),
            campaign_name: found.campaign_name.clone(),
            ballot_title: found.title.clone(),
            receipt: entry.receipt(),
            cast_at: event.cast_at,
        };
        outbox.enqueue(&txn, None, &counted).await?;
    }
    outbox.commit(txn).await?;
    tracing::info!(vote_id = %id, ballot_id = %new.ballot_id, seq = entry.seq, "vote cast");
    Ok(CastVote {
        vote_id: id,
        receipt: entry.receipt(),
        held: false,
    })
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

fn already_voted(error: DbErr) -> Error {
    match error.sql_err() {
        // The vote table's only unique key besides its UUIDv7 id is (ballot, voter key).
        Some(SqlErr::UniqueConstraintViolation(_)) => Error::AlreadyVoted,
        _ => Error::Database(error),
    }
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
