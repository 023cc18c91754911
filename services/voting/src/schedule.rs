//! Admins run a campaign's public vote: set its timetable (schedule it, open it early, extend it,
//! close it now) on every ballot of the campaign, each change audited in `vote_audit`; and watch the
//! turnout while it runs (votes per ballot and per hour, addresses verified, votes held by flags),
//! never how the votes fall.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use uuid::Uuid;
use valued_platform::domain::FieldError;

use crate::db::entities::{ballot, vote, vote_audit, voter_verification};
use crate::error::{Error, Result};

/// A campaign's vote timetable as an admin sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timetable {
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub results_at: DateTime<Utc>,
}

impl Timetable {
    /// Every time given, and in order: opening before closing, results no earlier than closing.
    pub fn parse(
        opens_at: Option<DateTime<Utc>>,
        closes_at: Option<DateTime<Utc>>,
        results_at: Option<DateTime<Utc>>,
    ) -> std::result::Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let missing =
            |field: &str, what: &str| FieldError::new(field, format!("Enter when {what}"));
        if opens_at.is_none() {
            errors.push(missing("opens_at", "voting opens"));
        }
        if closes_at.is_none() {
            errors.push(missing("closes_at", "voting closes"));
        }
        if results_at.is_none() {
            errors.push(missing("results_at", "the results come out"));
        }
        let (Some(opens_at), Some(closes_at), Some(results_at)) = (opens_at, closes_at, results_at)
        else {
            return Err(errors);
        };
        if closes_at <= opens_at {
            errors.push(FieldError::new(
                "closes_at",
                "Voting must close after it opens",
            ));
        }
        if results_at < closes_at {
            errors.push(FieldError::new(
                "results_at",
                "The results cannot come out before voting closes",
            ));
        }
        if errors.is_empty() {
            Ok(Self {
                opens_at,
                closes_at,
                results_at,
            })
        } else {
            Err(errors)
        }
    }
}

/// Sets the timetable of every ballot of the campaign and records who did it; returns how many
/// ballots it applies to (NOT_FOUND when the campaign has no public vote).
pub async fn set(
    db: &DatabaseConnection,
    actor: &str,
    campaign_id: &str,
    timetable: Timetable,
) -> Result<u64> {
    let campaign_id = campaign_id.trim();
    let txn = db.begin().await?;
    let changed = ballot::Entity::update_many()
        .col_expr(ballot::Column::OpensAt, Expr::value(timetable.opens_at))
        .col_expr(ballot::Column::ClosesAt, Expr::value(timetable.closes_at))
        .col_expr(ballot::Column::ResultsAt, Expr::value(timetable.results_at))
        .filter(ballot::Column::CampaignId.eq(campaign_id))
        .exec(&txn)
        .await?
        .rows_affected;
    if changed == 0 {
        return Err(Error::NotFound("public vote".into()));
    }
    let format = |at: DateTime<Utc>| at.to_rfc3339();
    vote_audit::Entity::insert(vote_audit::ActiveModel {
        id: ActiveValue::Set(Uuid::now_v7()),
        campaign_id: ActiveValue::Set(campaign_id.to_owned()),
        actor: ActiveValue::Set(actor.to_owned()),
        action: ActiveValue::Set("schedule_vote".into()),
        detail: ActiveValue::Set(format!(
            "opens {} closes {} results {}",
            format(timetable.opens_at),
            format(timetable.closes_at),
            format(timetable.results_at)
        )),
        at: ActiveValue::Set(Utc::now()),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    tracing::info!(ballots = changed, "public vote timetable set");
    Ok(changed)
}

/// One ballot's turnout.
#[derive(Debug, Clone, PartialEq)]
pub struct BallotTurnout {
    pub ballot: ballot::Model,
    /// Votes cast, held and discarded ones included.
    pub votes: u64,
    /// Votes on hold, their flagged groups, and votes discarded ([`crate::held`]).
    pub held: crate::held::Counts,
    /// Votes per hour of the vote window, oldest first; see [`hourly`].
    pub hours: Vec<HourTurnout>,
}

/// The votes of one ballot cast in one UTC hour, by what became of them; never by finalist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HourTurnout {
    /// The start of the hour.
    pub hour: DateTime<Utc>,
    pub counted: u64,
    pub held: u64,
    pub discarded: u64,
}

/// One hour and status of a ballot's votes, as the database counts them.
#[derive(Debug, FromQueryResult)]
struct HourRow {
    /// Whole hours since the Unix epoch.
    hour: i64,
    status: String,
    votes: i64,
}

/// The votes of `ballot` per UTC hour of its vote window as it is now (votes cast outside it, before
/// a reopening for one, are left out), counted, held and discarded apart; hours without a vote
/// are left out. One grouped count over the ballot's votes, in the database.
pub async fn hourly(db: &impl ConnectionTrait, ballot: &ballot::Model) -> Result<Vec<HourTurnout>> {
    let Some(opens_at) = ballot.opens_at else {
        return Ok(Vec::new());
    };
    // The hour a vote was cast in, as whole hours since the epoch: UTC whatever the session's zone.
    let hour = if valued_platform::db::is_postgres(db) {
        "CAST(FLOOR(EXTRACT(EPOCH FROM cast_at) / 3600) AS BIGINT)"
    } else {
        "CAST(strftime('%s', cast_at) AS INTEGER) / 3600"
    };
    let mut query = vote::Entity::find()
        .select_only()
        .column_as(Expr::cust(hour), "hour")
        .column(vote::Column::Status)
        .column_as(Expr::col(vote::Column::Id).count(), "votes")
        .filter(vote::Column::BallotId.eq(ballot.id))
        .filter(vote::Column::CastAt.gte(opens_at));
    if let Some(closes_at) = ballot.closes_at {
        query = query.filter(vote::Column::CastAt.lt(closes_at));
    }
    let rows = query
        .group_by(Expr::cust(hour))
        .group_by(vote::Column::Status)
        .order_by_asc(Expr::cust(hour))
        .into_model::<HourRow>()
        .all(db)
        .await?;
    Ok(by_hour(rows))
}

/// Rows of one hour and status, ordered by hour, as one [`HourTurnout`] per hour.
fn by_hour(rows: Vec<HourRow>) -> Vec<HourTurnout> {
    let mut hours: Vec<HourTurnout> = Vec::new();
    for row in rows {
        let Some(hour) = row
            .hour
            .checked_mul(3600)
            .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
        else {
            continue;
        };
        if hours.last().is_none_or(|last| last.hour != hour) {
            hours.push(HourTurnout {
                hour,
                counted: 0,
                held: 0,
                discarded: 0,
            });
        }
        let Some(last) = hours.last_mut() else {
            continue;
        };
        let votes = u64::try_from(row.votes).unwrap_or(0);
        match row.status.as_str() {
            crate::held::COUNTED => last.counted += votes,
            crate::held::HELD => last.held += votes,
            crate::held::DISCARDED => last.discarded += votes,
            _ => {}
        }
    }
    hours
}

/// Votes cast in each ballot of the campaign, and the addresses verified for it.
pub async fn turnout(
    db: &impl ConnectionTrait,
    campaign_id: &str,
) -> Result<(Vec<BallotTurnout>, u64)> {
    let campaign_id = campaign_id.trim();
    let ballots = ballot::Entity::find()
        .filter(ballot::Column::CampaignId.eq(campaign_id))
        .all(db)
        .await?;
    if ballots.is_empty() {
        return Err(Error::NotFound("public vote".into()));
    }
    let mut turnout = Vec::with_capacity(ballots.len());
    for ballot in ballots {
        let votes = vote::Entity::find()
            .filter(vote::Column::BallotId.eq(ballot.id))
            .count(db)
            .await?;
        let held = crate::held::counts(db, ballot.id).await?;
        let hours = hourly(db, &ballot).await?;
        turnout.push(BallotTurnout {
            ballot,
            votes,
            held,
            hours,
        });
    }
    let verified: Vec<String> = voter_verification::Entity::find()
        .select_only()
        .column(voter_verification::Column::VoterKey)
        .distinct()
        .filter(voter_verification::Column::CampaignId.eq(campaign_id))
        .filter(voter_verification::Column::UsedAt.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    Ok((turnout, u64::try_from(verified.len()).unwrap_or(u64::MAX)))
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn a_timetable_needs_every_time_in_order() {
        let now = Utc::now();
        let day = Duration::days(1);
        assert!(Timetable::parse(Some(now), Some(now + day), Some(now + day)).is_ok());
        let fields = |result: std::result::Result<Timetable, Vec<FieldError>>| {
            result
                .unwrap_err()
                .into_iter()
                .map(|e| e.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            fields(Timetable::parse(None, None, None)),
            ["opens_at", "closes_at", "results_at"]
        );
        assert_eq!(
            fields(Timetable::parse(Some(now), Some(now), Some(now - day))),
            ["closes_at", "results_at"]
        );
    }

    #[test]
    fn rows_of_an_hour_make_one_hour_with_each_status_apart() {
        let row = |hour: i64, status: &str, votes: i64| HourRow {
            hour,
            status: status.into(),
            votes,
        };
        // 2026-12-01 09:00 and 11:00 UTC.
        let nine = 1_796_115_600 / 3600;
        let hours = by_hour(vec![
            row(nine, "counted", 5),
            row(nine, "held", 2),
            row(nine + 2, "counted", 1),
            row(nine + 2, "discarded", 3),
        ]);
        let at = |hour: i64| DateTime::from_timestamp(hour * 3600, 0).unwrap();
        assert_eq!(
            hours,
            [
                HourTurnout {
                    hour: at(nine),
                    counted: 5,
                    held: 2,
                    discarded: 0
                },
                HourTurnout {
                    hour: at(nine + 2),
                    counted: 1,
                    held: 0,
                    discarded: 3
                },
            ]
        );
        assert_eq!(hours[0].hour.to_rfc3339(), "2026-12-01T09:00:00+00:00");
    }
}
