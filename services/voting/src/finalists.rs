//! A campaign's public vote, built from what the nomination service announces: each
//! `finalist.announced.v1` puts its finalist on the ballot of their campaign's category, or of
//! their region and category when the campaign votes per region (the ballot made on the first
//! finalist, with the campaign's vote timetable, titled "Porter of the year — North West" when per
//! region), keeping its own copy of what the ballot shows of them (name, role, trust, region and
//! the story excerpt their consent allowed). Each announcement also says whose campaign it is,
//! kept on every ballot of the campaign (the newest wins): who runs its vote
//! ([`crate::organisers`]). A `nominee.consent_changed.v1` that withdraws consent to be listed
//! takes the finalist off every ballot (not shown, not votable); withdrawing consent to the story
//! takes the excerpt off.
//!
//! Runs in each event's inbox transaction: a redelivered announcement changes nothing twice.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
};
use uuid::Uuid;
use valued_platform::inbox::TransactionalHandler;
use valued_platform::{Envelope, HandlerError, Subscription};
use valued_proto::events::Event;
use valued_proto::events::v1::{ConsentChanged, FinalistAnnounced, VoteTimetable};

use crate::db::entities::{ballot, ballot_choice};
use crate::domain::CampaignScope;

pub const CONSUMER: &str = "voting-finalists";

/// The events the public vote is built from.
pub fn subscription() -> Subscription {
    Subscription::new(CONSUMER, &[FinalistAnnounced::TYPE, ConsentChanged::TYPE])
}

pub struct Finalists;

#[async_trait]
impl TransactionalHandler for Finalists {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        let poison = |e: valued_platform::envelope::EnvelopeError| HandlerError::Poison(e.into());
        let retry = |e: DbErr| HandlerError::Retry(e.into());
        match envelope.event_type.as_str() {
            FinalistAnnounced::TYPE => {
                let announced = envelope.decode::<FinalistAnnounced>().map_err(poison)?;
                put_on_ballot(txn, &announced).await.map_err(retry)
            }
            ConsentChanged::TYPE => {
                let changed = envelope.decode::<ConsentChanged>().map_err(poison)?;
                follow_consent(txn, &changed).await.map_err(retry)
            }
            _ => Ok(()),
        }
    }
}

/// Puts the finalist on their category's ballot, making the ballot on the first. A finalist
/// announced again gets the copy the newest announcement carries.
async fn put_on_ballot(
    txn: &DatabaseTransaction,
    announced: &FinalistAnnounced,
) -> Result<(), DbErr> {
    let Some(finalist) = &announced.finalist else {
        tracing::warn!("finalist announcement without a finalist: ignored");
        return Ok(());
    };
    if finalist.nominee_id.is_empty() || finalist.campaign_id.is_empty() {
        tracing::warn!("finalist announcement without a nominee or campaign: ignored");
        return Ok(());
    }
    let timetable = announced.vote.unwrap_or_default();
    let region = if announced.vote_per_region {
        finalist.region_code.trim()
    } else {
        ""
    };
    let ballot_id = ballot_of(txn, finalist, region, &timetable).await?;
    let scope = CampaignScope::parse(&announced.campaign_scope, &announced.campaign_scope_code);
    let (scope, scope_code) = scope.columns();
    ballot::Entity::update_many()
        .col_expr(ballot::Column::CampaignScope, Expr::value(scope))
        .col_expr(ballot::Column::CampaignScopeCode, Expr::value(scope_code))
        .filter(ballot::Column::CampaignId.eq(finalist.campaign_id.clone()))
        .exec(txn)
        .await?;
    let position = ballot_choice::Entity::find()
        .filter(ballot_choice::Column::BallotId.eq(ballot_id))
        .count(txn)
        .await?;
    ballot_choice::Entity::insert(ballot_choice::ActiveModel {
        ballot_id: ActiveValue::Set(ballot_id),
        choice_id: ActiveValue::Set(finalist.nominee_id.clone()),
        label: ActiveValue::Set(finalist.nominee_name.clone()),
        position: ActiveValue::Set(i32::try_from(position).unwrap_or(i32::MAX)),
        job_title: ActiveValue::Set(finalist.nominee_job_title.clone()),
        trust_name: ActiveValue::Set(finalist.trust_name.clone()),
        region_name: ActiveValue::Set(finalist.region_name.clone()),
        story_excerpt: ActiveValue::Set(finalist.story_excerpt.clone()),
        withdrawn: ActiveValue::Set(false),
    })
    .on_conflict(
        OnConflict::columns([
            ballot_choice::Column::BallotId,
            ballot_choice::Column::ChoiceId,
        ])
        .update_columns([
            ballot_choice::Column::Label,
            ballot_choice::Column::JobTitle,
            ballot_choice::Column::TrustName,
            ballot_choice::Column::RegionName,
            ballot_choice::Column::StoryExcerpt,
        ])
        .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    tracing::info!(%ballot_id, "finalist on the public vote's ballot");
    Ok(())
}

/// The ballot of the finalist's campaign and category, and `region` (empty unless the campaign
/// votes per region), made (with the campaign's timetable) if this is its first finalist. A
/// timetable a later announcement carries fills in times not yet set.
async fn ballot_of(
    txn: &DatabaseTransaction,
    finalist: &valued_proto::events::v1::RecognisedNominee,
    region: &str,
    timetable: &VoteTimetable,
) -> Result<Uuid, DbErr> {
    let at = |time: &Option<prost_types::Timestamp>| -> Option<DateTime<Utc>> {
        time.as_ref()
            .and_then(|t| DateTime::from_timestamp(t.seconds, 0))
    };
    let title = if region.is_empty() {
        finalist.category_name.clone()
    } else {
        let region_name = match finalist.region_name.trim() {
            "" => region,
            name => name,
        };
        format!("{} — {region_name}", finalist.category_name)
    };
    ballot::Entity::insert(ballot::ActiveModel {
        id: ActiveValue::Set(Uuid::now_v7()),
        title: ActiveValue::Set(title),
        created_at: ActiveValue::Set(Utc::now()),
        campaign_id: ActiveValue::Set(Some(finalist.campaign_id.clone())),
        category_id: ActiveValue::Set(Some(finalist.category_id.clone())),
        campaign_name: ActiveValue::Set(finalist.campaign_name.clone()),
        opens_at: ActiveValue::Set(at(&timetable.opens_at)),
        closes_at: ActiveValue::Set(at(&timetable.closes_at)),
        results_at: ActiveValue::Set(at(&timetable.results_at)),
        region_code: ActiveValue::Set(region.to_owned()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            ballot::Column::CampaignId,
            ballot::Column::CategoryId,
            ballot::Column::RegionCode,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    let found = ballot::Entity::find()
        .filter(ballot::Column::CampaignId.eq(finalist.campaign_id.clone()))
        .filter(ballot::Column::CategoryId.eq(finalist.category_id.clone()))
        .filter(ballot::Column::RegionCode.eq(region))
        .one(txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the ballot just made".into()))?;
    let mut fill = ballot::Entity::update_many().filter(ballot::Column::Id.eq(found.id));
    let mut filled = false;
    for (column, current, announced) in [
        (
            ballot::Column::OpensAt,
            found.opens_at,
            at(&timetable.opens_at),
        ),
        (
            ballot::Column::ClosesAt,
            found.closes_at,
            at(&timetable.closes_at),
        ),
        (
            ballot::Column::ResultsAt,
            found.results_at,
            at(&timetable.results_at),
        ),
    ] {
        if let (None, Some(time)) = (current, announced) {
            fill = fill.col_expr(column, Expr::value(time));
            filled = true;
        }
    }
    if filled {
        fill.exec(txn).await?;
    }
    Ok(found.id)
}

/// Takes a nominee who no longer agrees to be listed off every ballot of their campaign, and their
/// story excerpt off when they no longer agree to its publication. A later consent puts nothing
/// back: the next announcement does.
async fn follow_consent(txn: &DatabaseTransaction, changed: &ConsentChanged) -> Result<(), DbErr> {
    let ballots = ballot::Entity::find()
        .filter(ballot::Column::CampaignId.eq(changed.campaign_id.clone()))
        .all(txn)
        .await?
        .into_iter()
        .map(|b| b.id)
        .collect::<Vec<_>>();
    if ballots.is_empty() {
        return Ok(());
    }
    let theirs = || {
        ballot_choice::Entity::update_many()
            .filter(ballot_choice::Column::BallotId.is_in(ballots.clone()))
            .filter(ballot_choice::Column::ChoiceId.eq(changed.nominee_id.clone()))
    };
    if !changed.listed_publicly {
        theirs()
            .col_expr(ballot_choice::Column::Withdrawn, Expr::value(true))
            .col_expr(ballot_choice::Column::StoryExcerpt, Expr::value(""))
            .exec(txn)
            .await?;
        tracing::info!("finalist withdrew consent to be listed: off the public vote");
    } else if !changed.story_published {
        theirs()
            .col_expr(ballot_choice::Column::StoryExcerpt, Expr::value(""))
            .exec(txn)
            .await?;
    }
    Ok(())
}
