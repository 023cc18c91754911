//! Reads and writes of the survey-feedback service. Every write that others must hear about
//! enqueues its event in the same transaction.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, TransactionTrait,
};
use uuid::Uuid;
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::SurveyResponseRecorded;

use super::entities::{survey, survey_response};
use crate::domain::{GroupCount, NewResponse, NewSurvey, StaffGroup};
use crate::error::{Error, Result};

pub async fn create_survey(db: &impl ConnectionTrait, new: &NewSurvey) -> Result<Uuid> {
    let id = Uuid::now_v7();
    survey::Entity::insert(survey::ActiveModel {
        id: ActiveValue::Set(id),
        title: ActiveValue::Set(new.title.clone()),
        question: ActiveValue::Set(new.question.clone()),
        created_at: ActiveValue::Set(Utc::now()),
    })
    .exec_without_returning(db)
    .await?;
    tracing::info!(survey_id = %id, "survey created");
    Ok(id)
}

pub async fn survey(db: &impl ConnectionTrait, id: Uuid) -> Result<survey::Model> {
    survey::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("survey {id}")))
}

/// Stores an anonymous response with its `survey.response_recorded.v1` event, atomically.
pub async fn submit_response(
    db: &DatabaseConnection,
    outbox: &Outbox,
    new: &NewResponse,
) -> Result<Uuid> {
    let survey = survey(db, new.survey_id).await?;
    // Random, not time-ordered: see the entity.
    let id = Uuid::new_v4();
    let event = SurveyResponseRecorded {
        survey_id: survey.id.to_string(),
    };

    let txn = db.begin().await?;
    survey_response::Entity::insert(survey_response::ActiveModel {
        id: ActiveValue::Set(id),
        survey_id: ActiveValue::Set(survey.id),
        staff_group: ActiveValue::Set(new.staff_group.slug().to_owned()),
        score: ActiveValue::Set(i32::from(new.score.value())),
        submitted_on: ActiveValue::Set(Utc::now().date_naive()),
    })
    .exec_without_returning(&txn)
    .await?;
    outbox.enqueue(&txn, None, &event).await?;
    outbox.commit(txn).await?;
    // Nothing about the response itself is logged: the log has the precise time.
    tracing::info!(survey_id = %survey.id, "survey response recorded");
    Ok(id)
}

/// Responses and the sum of their scores per staff group, counted by the database.
pub async fn group_counts(db: &impl ConnectionTrait, survey_id: Uuid) -> Result<Vec<GroupCount>> {
    let rows: Vec<(String, i64, i64)> = survey_response::Entity::find()
        .select_only()
        .column(survey_response::Column::StaffGroup)
        .column_as(Expr::col(survey_response::Column::Id).count(), "responses")
        .column_as(Expr::col(survey_response::Column::Score).sum(), "score_sum")
        .filter(survey_response::Column::SurveyId.eq(survey_id))
        .group_by(survey_response::Column::StaffGroup)
        .into_tuple()
        .all(db)
        .await?;
    let mut counts = Vec::with_capacity(rows.len());
    for (slug, responses, score_sum) in rows {
        // Only parsed groups are ever stored; anything else is a corrupt row, not a report line.
        let Ok(group) = StaffGroup::parse(&slug) else {
            tracing::warn!(%survey_id, "survey responses with an unknown staff group ignored");
            continue;
        };
        counts.push(GroupCount {
            group,
            responses: u64::try_from(responses).unwrap_or(0),
            score_sum: u64::try_from(score_sum).unwrap_or(0),
        });
    }
    Ok(counts)
}
