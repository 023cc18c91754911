//! The ledger and the maintained tally in the database: appending in the vote's transaction,
//! reading the head and pages of entries, and checking a ballot's ledger from end to end.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};
use uuid::Uuid;

use super::{Audit, Entry, Report, Votes, voter_hash, voter_hash_of};
use crate::db::entities::{ballot_choice, ledger_entry, tally, vote};
use crate::domain::VoterKey;

/// How many rows a check reads at a time.
const BATCH: u64 = 10_000;

/// Makes the rest of the transaction the only one appending to `ballot_id`'s ledger until it
/// ends. On PostgreSQL a transaction-scoped advisory lock on the ballot (taken again by the same
/// transaction, it is already held); SQLite has one writer at a time anyway, so there it is the
/// transaction's first write that waits its turn: call this before anything else in the
/// transaction, and write before reading the head.
pub async fn serialise(txn: &impl ConnectionTrait, ballot_id: Uuid) -> Result<(), DbErr> {
    if valued_platform::db::is_postgres(txn) {
        let (high, low) = ballot_id.as_u64_pair();
        // Any 64 bits of the ballot will do: two ballots sharing a key only wait for each other.
        let key = i64::from_ne_bytes((high ^ low).to_ne_bytes());
        txn.execute_raw(Statement::from_sql_and_values(
            txn.get_database_backend(),
            "SELECT pg_advisory_xact_lock($1)",
            [key.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Appends the votes `(choice, voter, cast at)`, in order, to `ballot_id`'s ledger
/// and counts them in the maintained tally, in `txn` (the votes' own transaction, after
/// [`serialise`] and the votes' insert, so that a refused vote appends nothing): one head read, one
/// insert of the entries and one upsert of the counts, however many votes. The entries written.
pub async fn append(
    txn: &impl ConnectionTrait,
    ballot_id: Uuid,
    votes: &[(&str, &VoterKey, DateTime<Utc>)],
) -> Result<Vec<Entry>, DbErr> {
    if votes.is_empty() {
        return Ok(Vec::new());
    }
    let mut per_choice: Vec<(&str, i64)> = Vec::new();
    for (choice_id, _, _) in votes {
        match per_choice.iter_mut().find(|(c, _)| c == choice_id) {
            Some((_, n)) => *n += 1,
            None => per_choice.push((choice_id, 1)),
        }
    }
    // Every choice's count in one upsert: a new row starts at its votes, an existing one adds them.
    tally::Entity::insert_many(
        per_choice
            .into_iter()
            .map(|(choice_id, n)| tally::ActiveModel {
                ballot_id: ActiveValue::Set(ballot_id),
                choice_id: ActiveValue::Set(choice_id.to_owned()),
                votes: ActiveValue::Set(n),
            }),
    )
    .on_conflict(
        OnConflict::columns([tally::Column::BallotId, tally::Column::ChoiceId])
            .value(
                tally::Column::Votes,
                Expr::col((tally::Entity, tally::Column::Votes))
                    .add(Expr::col((Alias::new("excluded"), tally::Column::Votes))),
            )
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    let (mut seq, mut prev_hash) = match head(txn, ballot_id).await? {
        Some(head) => (head.seq, head.hash),
        None => (0, super::genesis(ballot_id)),
    };
    let mut entries = Vec::with_capacity(votes.len());
    for (choice_id, voter, cast_at) in votes {
        seq += 1;
        let entry = Entry::next(
            ballot_id,
            seq,
            choice_id,
            voter_hash(ballot_id, voter),
            *cast_at,
            prev_hash,
        );
        prev_hash = entry.hash.clone();
        entries.push(entry);
    }
    ledger_entry::Entity::insert_many(entries.iter().map(row).collect::<Result<Vec<_>, _>>()?)
        .exec_without_returning(txn)
        .await?;
    Ok(entries)
}

fn row(entry: &Entry) -> Result<ledger_entry::ActiveModel, DbErr> {
    Ok(ledger_entry::ActiveModel {
        ballot_id: ActiveValue::Set(entry.ballot_id),
        seq: ActiveValue::Set(
            i64::try_from(entry.seq).map_err(|e| DbErr::Custom(format!("ledger seq: {e}")))?,
        ),
        choice_id: ActiveValue::Set(entry.choice_id.clone()),
        voter_hash: ActiveValue::Set(entry.voter_hash.clone()),
        cast_hour: ActiveValue::Set(entry.cast_hour),
        prev_hash: ActiveValue::Set(entry.prev_hash.clone()),
        hash: ActiveValue::Set(entry.hash.clone()),
    })
}

fn entry(row: ledger_entry::Model) -> Entry {
    Entry {
        ballot_id: row.ballot_id,
        // A negative sequence can only be a row written by hand: it reads as 0, which no chain has.
        seq: u64::try_from(row.seq).unwrap_or(0),
        choice_id: row.choice_id,
        voter_hash: row.voter_hash,
        cast_hour: row.cast_hour,
        prev_hash: row.prev_hash,
        hash: row.hash,
    }
}

/// The last entry of `ballot_id`'s ledger.
pub async fn head(db: &impl ConnectionTrait, ballot_id: Uuid) -> Result<Option<Entry>, DbErr> {
    Ok(ledger_entry::Entity::find()
        .filter(ledger_entry::Column::BallotId.eq(ballot_id))
        .order_by_desc(ledger_entry::Column::Seq)
        .one(db)
        .await?
        .map(entry))
}

/// Up to `limit` entries of `ballot_id`'s ledger after `after_seq`, in sequence order.
pub async fn entries(
    db: &impl ConnectionTrait,
    ballot_id: Uuid,
    after_seq: u64,
    limit: u64,
) -> Result<Vec<Entry>, DbErr> {
    Ok(ledger_entry::Entity::find()
        .filter(ledger_entry::Column::BallotId.eq(ballot_id))
        .filter(ledger_entry::Column::Seq.gt(i64::try_from(after_seq).unwrap_or(i64::MAX)))
        .order_by_asc(ledger_entry::Column::Seq)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(entry)
        .collect())
}

/// The maintained tally of `ballot_id`: votes per choice id, as kept by [`append`].
pub async fn tally(
    db: &impl ConnectionTrait,
    ballot_id: Uuid,
) -> Result<HashMap<String, u64>, DbErr> {
    Ok(tally::Entity::find()
        .filter(tally::Column::BallotId.eq(ballot_id))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.choice_id, u64::try_from(row.votes).unwrap_or(0)))
        .collect())
}

/// The receipt of the entry recording the voter with `voter_key` in `ballot_id`'s ledger.
pub async fn receipt_of(
    db: &impl ConnectionTrait,
    ballot_id: Uuid,
    voter_key: &str,
) -> Result<Option<String>, DbErr> {
    Ok(ledger_entry::Entity::find()
        .filter(ledger_entry::Column::BallotId.eq(ballot_id))
        .filter(ledger_entry::Column::VoterHash.eq(voter_hash_of(ballot_id, voter_key)))
        .one(db)
        .await?
        .map(|row| super::receipt(&row.hash)))
}

/// The entry of `ballot_id`'s ledger that `receipt` names (a range read on the ballot's hash
/// index: a receipt fixes the first 50 bits of its entry's hash).
pub async fn find_receipt(
    db: &impl ConnectionTrait,
    ballot_id: Uuid,
    receipt: super::Receipt,
) -> Result<Option<Entry>, DbErr> {
    let (low, high) = receipt.hash_range();
    let mut query = ledger_entry::Entity::find()
        .filter(ledger_entry::Column::BallotId.eq(ballot_id))
        .filter(ledger_entry::Column::Hash.gte(low));
    if let Some(high) = high {
        query = query.filter(ledger_entry::Column::Hash.lt(high));
    }
    Ok(query
        .order_by_asc(ledger_entry::Column::Seq)
        .all(db)
        .await?
        .into_iter()
        .map(entry)
        .find(|entry| receipt.names(&entry.hash)))
}

/// Checks `ballot_id`'s ledger from its first entry to its head: every hash recomputed, the
/// sequence and links, each entry against the counted votes (through the voter hash their keys
/// give) and the counts per choice against the maintained tally and the votes. Reads the ledger a
/// batch at a time; the counted votes are held in memory, a few dozen bytes each.
pub async fn verify(db: &impl ConnectionTrait, ballot_id: Uuid) -> Result<Report, DbErr> {
    let choices: Vec<String> = ballot_choice::Entity::find()
        .filter(ballot_choice::Column::BallotId.eq(ballot_id))
        .order_by_asc(ballot_choice::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.choice_id)
        .collect();
    let mut audit = Audit::new(ballot_id, counted_votes(db, ballot_id).await?);
    let mut after = 0;
    loop {
        let page = ledger_entry::Entity::find()
            .filter(ledger_entry::Column::BallotId.eq(ballot_id))
            .filter(ledger_entry::Column::Seq.gt(after))
            .order_by_asc(ledger_entry::Column::Seq)
            .limit(BATCH)
            .all(db)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for row in page {
            audit.entry(&entry(row));
        }
    }
    Ok(audit.finish(&choices, &tally(db, ballot_id).await?))
}

/// Every counted vote of `ballot_id` (not those on hold or discarded), by the voter hash its key
/// gives.
async fn counted_votes(db: &impl ConnectionTrait, ballot_id: Uuid) -> Result<Votes, DbErr> {
    let mut votes = Votes::default();
    let mut after = String::new();
    loop {
        let page: Vec<(String, String)> = vote::Entity::find()
            .select_only()
            .column(vote::Column::VoterKey)
            .column(vote::Column::ChoiceId)
            .filter(vote::Column::BallotId.eq(ballot_id))
            .filter(vote::Column::Status.eq(crate::held::COUNTED))
            .filter(vote::Column::VoterKey.gt(after.as_str()))
            .order_by_asc(vote::Column::VoterKey)
            .limit(BATCH)
            .into_tuple()
            .all(db)
            .await?;
        let Some((last, _)) = page.last() else { break };
        after.clone_from(last);
        for (key, choice_id) in &page {
            votes.add(&voter_hash_of(ballot_id, key), choice_id);
        }
    }
    Ok(votes)
}

/// Writes the ledger and tally of votes counted before there was a ledger (in the order they were
/// cast), for every ballot whose ledger is empty. Run once by the migration that adds the ledger.
pub async fn backfill(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let ballots: Vec<Uuid> = vote::Entity::find()
        .select_only()
        .column(vote::Column::BallotId)
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    for ballot_id in ballots {
        if head(db, ballot_id).await?.is_some() {
            continue;
        }
        // Only the columns the vote table had when the ledger came, whatever is added later.
        let votes: Vec<(String, String, DateTime<Utc>)> = vote::Entity::find()
            .select_only()
            .column(vote::Column::ChoiceId)
            .column(vote::Column::VoterKey)
            .column(vote::Column::CastAt)
            .filter(vote::Column::BallotId.eq(ballot_id))
            .order_by_asc(vote::Column::CastAt)
            .order_by_asc(vote::Column::Id)
            .into_tuple()
            .all(db)
            .await?;
        let mut prev_hash = super::genesis(ballot_id);
        let mut counts: HashMap<String, i64> = HashMap::new();
        for ((choice_id, voter_key, cast_at), seq) in votes.into_iter().zip(1..) {
            let entry = Entry::next(
                ballot_id,
                seq,
                &choice_id,
                voter_hash_of(ballot_id, &voter_key),
                cast_at,
                prev_hash,
            );
            ledger_entry::Entity::insert(row(&entry)?)
                .exec_without_returning(db)
                .await?;
            prev_hash = entry.hash;
            *counts.entry(choice_id).or_default() += 1;
        }
        for (choice_id, votes) in counts {
            tally::Entity::insert(tally::ActiveModel {
                ballot_id: ActiveValue::Set(ballot_id),
                choice_id: ActiveValue::Set(choice_id),
                votes: ActiveValue::Set(votes),
            })
            .exec_without_returning(db)
            .await?;
        }
    }
    Ok(())
}
