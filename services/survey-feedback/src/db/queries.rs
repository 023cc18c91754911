//! Reads and writes of surveys. Every write that others must hear about enqueues its event in the
//! same transaction.
//!
//! # Why a response cannot be joined to an invitation
//!
//! Judged against someone who can read every table (including PostgreSQL's hidden columns):
//! - a response row holds its survey, the respondent's groups and answers, and a random id given
//!   when it is mixed: no time, no invitation, nothing shared with any other row;
//! - using an invitation (a row in `survey_used_code`) and storing the response (a row in
//!   `survey_pending_response`) are two separate transactions, and neither writes anything else
//!   (no event, no counter on the survey row);
//! - both tables are only a waiting room: the [mixer](mix) moves every pending response into
//!   `survey_response` in random order and rewrites `survey_used_code` whole in random order, in
//!   one transaction, then truncates them (on PostgreSQL a new file, so the dead rows and their
//!   transaction ids are gone). After a mix every mixed row has the same `xmin`, and neither row
//!   order nor transaction ids say which response went with which code. The window until the next
//!   mix (a minute by default, and always at the close) is the only time they could;
//! - results exist only from the close, computed once (see `close`), so nobody can compare
//!   results from before and after one person's response.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rand::seq::SliceRandom;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, SqlErr, TransactionTrait,
};
use uuid::Uuid;
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::{SurveyClosed, SurveyInvitationRequested};
use valued_proto::survey::v1 as pb;

use super::entities::{
    survey, survey_free_text, survey_invitation, survey_pending_response, survey_response,
    survey_results, survey_used_code,
};
use crate::domain::answers::Sheet;
use crate::domain::definition::{Definition, Demographics};
use crate::domain::flags;
use crate::domain::results::{self, Comment};
use crate::error::{Error, Result};

pub const DRAFT: &str = "draft";
pub const PUBLISHED: &str = "published";
pub const CLOSED: &str = "closed";

pub const UNSCREENED: &str = "unscreened";
pub const APPROVED: &str = "approved";
pub const HIDDEN: &str = "hidden";

fn json_error(error: serde_json::Error) -> Error {
    Error::Database(sea_orm::DbErr::Custom(format!(
        "stored survey JSON: {error}"
    )))
}

pub fn definition(model: &survey::Model) -> Result<Definition> {
    serde_json::from_str(&model.definition).map_err(json_error)
}

pub fn demographics(model: &survey::Model) -> Result<Demographics> {
    serde_json::from_str(&model.demographics).map_err(json_error)
}

pub fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(json_error)
}

/// A new, unguessable public slug for a survey's open link.
fn new_slug() -> String {
    let id = Uuid::new_v4().simple().to_string();
    id[..12].to_owned()
}

pub struct NewSurvey {
    pub scope: String,
    pub scope_code: String,
    pub title: String,
    pub definition: Definition,
}

pub async fn create_survey(db: &impl ConnectionTrait, new: NewSurvey) -> Result<survey::Model> {
    let now = Utc::now();
    let model = survey::Model {
        id: Uuid::now_v7(),
        scope: new.scope,
        scope_code: new.scope_code,
        title: new.title,
        introduction: String::new(),
        status: DRAFT.to_owned(),
        distribution: "open_link".to_owned(),
        slug: new_slug(),
        closes_at: None,
        definition: to_json(&new.definition)?,
        demographics: to_json(&Demographics {
            ask_staff_group: true,
            ask_band: true,
            ..Demographics::default()
        })?,
        minimum_group_size: 0,
        invitations_issued: 0,
        responses: 0,
        created_at: now,
        published_at: None,
        closed_at: None,
    };
    survey::Entity::insert(survey::ActiveModel::from(model.clone()))
        .exec_without_returning(db)
        .await?;
    tracing::info!(survey_id = %model.id, "survey created");
    Ok(model)
}

pub async fn survey(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<survey::Model>> {
    Ok(survey::Entity::find_by_id(id).one(db).await?)
}

pub async fn survey_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> Result<Option<survey::Model>> {
    Ok(survey::Entity::find()
        .filter(survey::Column::Slug.eq(slug))
        .one(db)
        .await?)
}

/// The survey an invitation code (its hash) belongs to, if the code was issued and not used.
pub async fn survey_by_code(
    db: &impl ConnectionTrait,
    code_hash: &str,
) -> Result<Option<survey::Model>> {
    let Some(invitation) = survey_invitation::Entity::find_by_id(code_hash.to_owned())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let used = survey_used_code::Entity::find_by_id(code_hash.to_owned())
        .one(db)
        .await?
        .is_some();
    if used {
        return Ok(None);
    }
    survey(db, invitation.survey_id).await
}

pub async fn all_surveys(db: &impl ConnectionTrait) -> Result<Vec<survey::Model>> {
    Ok(survey::Entity::find()
        .order_by_desc(survey::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Writes a draft's changed settings and content; FAILED_PRECONDITION when it is no longer a
/// draft (published meanwhile).
pub async fn save_draft(db: &impl ConnectionTrait, model: &survey::Model) -> Result<()> {
    let result = survey::Entity::update_many()
        .col_expr(survey::Column::Title, Expr::value(model.title.clone()))
        .col_expr(
            survey::Column::Introduction,
            Expr::value(model.introduction.clone()),
        )
        .col_expr(
            survey::Column::Distribution,
            Expr::value(model.distribution.clone()),
        )
        .col_expr(survey::Column::ClosesAt, Expr::value(model.closes_at))
        .col_expr(
            survey::Column::Definition,
            Expr::value(model.definition.clone()),
        )
        .col_expr(
            survey::Column::Demographics,
            Expr::value(model.demographics.clone()),
        )
        .col_expr(
            survey::Column::MinimumGroupSize,
            Expr::value(model.minimum_group_size),
        )
        .filter(survey::Column::Id.eq(model.id))
        .filter(survey::Column::Status.eq(DRAFT))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(Error::Conflict(
            "the survey is published: its questions and settings can no longer change".into(),
        ));
    }
    Ok(())
}

pub async fn publish(db: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<()> {
    let result = survey::Entity::update_many()
        .col_expr(survey::Column::Status, Expr::value(PUBLISHED))
        .col_expr(survey::Column::PublishedAt, Expr::value(Some(now)))
        .filter(survey::Column::Id.eq(id))
        .filter(survey::Column::Status.eq(DRAFT))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(Error::Conflict("the survey is already published".into()));
    }
    tracing::info!(survey_id = %id, "survey published");
    Ok(())
}

/// Whether a survey takes responses now.
pub fn is_open(model: &survey::Model, now: DateTime<Utc>) -> bool {
    takes_responses(&model.status, model.closes_at, now)
}

fn takes_responses(status: &str, closes_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    status == PUBLISHED && closes_at.is_none_or(|at| at > now)
}

/// Checks, inside a response's own transaction and after its row is written, that the survey
/// still takes responses. Written first, so that a close which already locked the pending table
/// makes the write wait and this read then see the survey closed; and a close that comes later
/// waits for this transaction and mixes its row in.
async fn still_open(txn: &impl ConnectionTrait, survey_id: Uuid) -> Result<()> {
    // Only the two columns: the row's definition and demographics (a national survey's list of
    // trusts and sites) run to tens of kilobytes, and every response would read them again.
    let state: Option<(String, Option<DateTime<Utc>>)> = survey::Entity::find_by_id(survey_id)
        .select_only()
        .column(survey::Column::Status)
        .column(survey::Column::ClosesAt)
        .into_tuple()
        .one(txn)
        .await?;
    let open =
        state.is_some_and(|(status, closes_at)| takes_responses(&status, closes_at, Utc::now()));
    if open { Ok(()) } else { Err(Error::Closed) }
}

/// Marks an invitation code used, in a transaction of its own that touches nothing else:
/// ALREADY_EXISTS when it was used already (the primary key decides between concurrent tries).
pub async fn use_code(db: &DatabaseConnection, survey_id: Uuid, code_hash: &str) -> Result<()> {
    let txn = db.begin().await?;
    let inserted = survey_used_code::Entity::insert(survey_used_code::ActiveModel {
        code_hash: ActiveValue::Set(code_hash.to_owned()),
        survey_id: ActiveValue::Set(survey_id),
    })
    .exec_without_returning(&txn)
    .await;
    if let Err(error) = inserted {
        return Err(match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Error::AlreadyUsed,
            _ => Error::Database(error),
        });
    }
    still_open(&txn, survey_id).await?;
    txn.commit().await?;
    Ok(())
}

/// Gives a code back when its response could not be stored (so the respondent can try again).
pub async fn unuse_code(db: &DatabaseConnection, code_hash: &str) -> Result<()> {
    survey_used_code::Entity::delete_by_id(code_hash.to_owned())
        .exec(db)
        .await?;
    Ok(())
}

/// Stores a response in the pending table, in a transaction of its own that touches nothing
/// else. Its id is random and never leaves this function (the mixer gives the kept row another).
pub async fn add_pending_response(
    db: &DatabaseConnection,
    survey_id: Uuid,
    sheet: &Sheet,
) -> Result<()> {
    let txn = db.begin().await?;
    survey_pending_response::Entity::insert(survey_pending_response::ActiveModel {
        id: ActiveValue::Set(Uuid::new_v4()),
        survey_id: ActiveValue::Set(survey_id),
        sheet: ActiveValue::Set(to_json(sheet)?),
    })
    .exec_without_returning(&txn)
    .await?;
    still_open(&txn, survey_id).await?;
    txn.commit().await?;
    Ok(())
}

/// Moves every pending response into `survey_response` and rewrites `survey_used_code`, both in
/// random order, in the caller's transaction (see the module's notes). Pending responses of a
/// survey that is no longer published are dropped: its results are computed already. Returns how
/// many responses were mixed in.
pub async fn mix(txn: &impl ConnectionTrait) -> Result<u64> {
    let backend = txn.get_database_backend();
    let statements: &[&str] = match backend {
        DbBackend::Postgres => &[
            // Waits for responses and code uses in flight, and holds new ones until the commit.
            "LOCK TABLE survey_pending_response, survey_used_code IN ACCESS EXCLUSIVE MODE",
            "CREATE TEMPORARY TABLE mix_used_code ON COMMIT DROP AS \
             SELECT code_hash, survey_id FROM survey_used_code",
            "TRUNCATE survey_used_code",
            "INSERT INTO survey_used_code (code_hash, survey_id) \
             SELECT code_hash, survey_id FROM mix_used_code ORDER BY random()",
            "INSERT INTO survey_response (id, survey_id, sheet) \
             SELECT gen_random_uuid(), p.survey_id, p.sheet FROM survey_pending_response p \
             JOIN survey s ON s.id = p.survey_id AND s.status = 'published' ORDER BY random()",
            "TRUNCATE survey_pending_response",
        ],
        _ => &[
            // Deleted rows' bytes are overwritten, not left in free pages.
            "PRAGMA secure_delete = ON",
            "CREATE TEMPORARY TABLE IF NOT EXISTS mix_used_code (code_hash TEXT, survey_id BLOB)",
            "DELETE FROM mix_used_code",
            "INSERT INTO mix_used_code SELECT code_hash, survey_id FROM survey_used_code",
            "DELETE FROM survey_used_code",
            "INSERT INTO survey_used_code (code_hash, survey_id) \
             SELECT code_hash, survey_id FROM mix_used_code ORDER BY random()",
            "DELETE FROM mix_used_code",
            "INSERT INTO survey_response (id, survey_id, sheet) \
             SELECT randomblob(16), p.survey_id, p.sheet FROM survey_pending_response p \
             JOIN survey s ON s.id = p.survey_id AND s.status = 'published' ORDER BY random()",
            "DELETE FROM survey_pending_response",
        ],
    };
    let mut mixed = 0;
    for (i, sql) in statements.iter().enumerate() {
        let result = txn.execute_unprepared(sql).await?;
        if sql.starts_with("INSERT INTO survey_response") {
            mixed = result.rows_affected();
        }
        // Nothing waiting: leave the tables as they are (no rewrite, no new transaction id).
        if i == 0 && backend == DbBackend::Postgres {
            let waiting = survey_pending_response::Entity::find()
                .select_only()
                .column(survey_pending_response::Column::Id)
                .limit(1)
                .into_tuple::<Uuid>()
                .one(txn)
                .await?;
            if waiting.is_none() {
                return Ok(0);
            }
        }
    }
    Ok(mixed)
}

/// One round of the mixer: its own transaction.
pub async fn mix_now(db: &DatabaseConnection) -> Result<u64> {
    if db.get_database_backend() != DbBackend::Postgres {
        let waiting = survey_pending_response::Entity::find()
            .select_only()
            .column(survey_pending_response::Column::Id)
            .limit(1)
            .into_tuple::<Uuid>()
            .one(db)
            .await?;
        if waiting.is_none() {
            return Ok(0);
        }
    }
    let txn = db.begin().await?;
    let mixed = mix(&txn).await?;
    txn.commit().await?;
    Ok(mixed)
}

/// Closes a published survey: mixes pending responses in, computes and stores its results
/// (taking out the free-text answers for screening, in random order with random ids), deletes
/// the responses, invitations and used codes it no longer needs, and publishes
/// `survey.closed.v1`, all in one transaction. Returns false when it was not published (a draft,
/// or closed already).
pub async fn close(
    db: &DatabaseConnection,
    outbox: &Outbox,
    id: Uuid,
    service_minimum: u32,
) -> Result<bool> {
    let txn = db.begin().await?;
    mix(&txn).await?;
    let Some(model) = survey(&txn, id).await? else {
        return Ok(false);
    };
    if model.status != PUBLISHED {
        return Ok(false);
    }
    let now = Utc::now();
    let definition = definition(&model)?;
    let demographics = demographics(&model)?;
    let sheets: Vec<String> = survey_response::Entity::find()
        .select_only()
        .column(survey_response::Column::Sheet)
        .filter(survey_response::Column::SurveyId.eq(id))
        .into_tuple()
        .all(&txn)
        .await?;
    let fixed_trust = (model.scope == "trust").then(|| crate::domain::definition::Group {
        code: model.scope_code.clone(),
        label: model.scope_code.clone(),
    });
    let minimum = effective_minimum(&model, service_minimum);
    let facts = results::Facts {
        definition: &definition,
        demographics: &demographics,
        fixed_trust: fixed_trust.as_ref(),
        minimum,
    };
    let parsed = sheets
        .iter()
        .filter_map(|s| serde_json::from_str::<Sheet>(s).ok());
    let (snapshot, mut comments) = results::compute(&facts, parsed);
    let responses = sheets.len() as i64;
    drop(sheets);

    survey_results::Entity::insert(survey_results::ActiveModel {
        survey_id: ActiveValue::Set(id),
        snapshot: ActiveValue::Set(prost::Message::encode_to_vec(&snapshot)),
        computed_at: ActiveValue::Set(now),
    })
    .exec_without_returning(&txn)
    .await?;
    comments.shuffle(&mut rand::rng());
    for chunk in comments.chunks(500) {
        let rows = chunk.iter().map(|c: &Comment| {
            let (found, spans) = flags::flag(&c.text);
            survey_free_text::ActiveModel {
                id: ActiveValue::Set(Uuid::new_v4()),
                survey_id: ActiveValue::Set(id),
                question_id: ActiveValue::Set(c.question_id.clone()),
                trust: ActiveValue::Set(c.trust.clone()),
                text: ActiveValue::Set(c.text.clone()),
                flags: ActiveValue::Set(
                    found.iter().map(|f| f.slug()).collect::<Vec<_>>().join(","),
                ),
                flagged: ActiveValue::Set(serde_json::to_string(&spans).unwrap_or_default()),
                status: ActiveValue::Set(UNSCREENED.to_owned()),
            }
        });
        survey_free_text::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    // The answers now live only in the results and the free text: the responses go, and with
    // the survey closed its invitations are of no use.
    survey_response::Entity::delete_many()
        .filter(survey_response::Column::SurveyId.eq(id))
        .exec(&txn)
        .await?;
    survey_invitation::Entity::delete_many()
        .filter(survey_invitation::Column::SurveyId.eq(id))
        .exec(&txn)
        .await?;
    survey_used_code::Entity::delete_many()
        .filter(survey_used_code::Column::SurveyId.eq(id))
        .exec(&txn)
        .await?;
    survey::Entity::update_many()
        .col_expr(survey::Column::Status, Expr::value(CLOSED))
        .col_expr(survey::Column::ClosedAt, Expr::value(Some(now)))
        .col_expr(survey::Column::Responses, Expr::value(responses))
        .filter(survey::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    outbox
        .enqueue(
            &txn,
            None,
            &SurveyClosed {
                survey_id: id.to_string(),
                title: model.title.clone(),
                closed_at: Some(prost_types::Timestamp {
                    seconds: now.timestamp(),
                    nanos: 0,
                }),
            },
        )
        .await?;
    outbox.commit(txn).await?;
    tracing::info!(survey_id = %id, "survey closed and results computed");
    Ok(true)
}

/// Closes every published survey whose closing time has passed.
pub async fn close_due(db: &DatabaseConnection, outbox: &Outbox, minimum: u32) -> Result<u64> {
    let due: Vec<Uuid> = survey::Entity::find()
        .select_only()
        .column(survey::Column::Id)
        .filter(survey::Column::Status.eq(PUBLISHED))
        .filter(survey::Column::ClosesAt.lte(Utc::now()))
        .into_tuple()
        .all(db)
        .await?;
    let mut closed = 0;
    for id in due {
        if close(db, outbox, id, minimum).await? {
            closed += 1;
        }
    }
    Ok(closed)
}

/// A survey's own minimum, or the service's when that is higher.
pub fn effective_minimum(model: &survey::Model, service_minimum: u32) -> u32 {
    let own = u32::try_from(model.minimum_group_size).unwrap_or(0);
    Ord::max(Ord::max(own, service_minimum), 1)
}

pub async fn results(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<pb::GetResultsResponse>> {
    let Some(row) = survey_results::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let snapshot = <pb::GetResultsResponse as prost::Message>::decode(row.snapshot.as_slice())
        .map_err(|e| Error::Database(sea_orm::DbErr::Custom(format!("stored results: {e}"))))?;
    Ok(Some(snapshot))
}

/// Approved free-text answers of a survey, by question and trust.
pub async fn approved_comments(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<HashMap<String, Vec<(String, String)>>> {
    let rows: Vec<(String, String, String)> = survey_free_text::Entity::find()
        .select_only()
        .column(survey_free_text::Column::QuestionId)
        .column(survey_free_text::Column::Trust)
        .column(survey_free_text::Column::Text)
        .filter(survey_free_text::Column::SurveyId.eq(id))
        .filter(survey_free_text::Column::Status.eq(APPROVED))
        .order_by_asc(survey_free_text::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut by_question: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for (question, trust, text) in rows {
        by_question.entry(question).or_default().push((trust, text));
    }
    Ok(by_question)
}

pub async fn free_text(
    db: &impl ConnectionTrait,
    survey_id: Uuid,
    question_id: &str,
) -> Result<Vec<survey_free_text::Model>> {
    Ok(survey_free_text::Entity::find()
        .filter(survey_free_text::Column::SurveyId.eq(survey_id))
        .filter(survey_free_text::Column::QuestionId.eq(question_id))
        .order_by_asc(survey_free_text::Column::Id)
        .all(db)
        .await?)
}

/// Sets a free-text answer's screening; hiding it also erases its text, which is then never
/// shown and need not be kept.
pub async fn screen(
    db: &impl ConnectionTrait,
    survey_id: Uuid,
    answer_id: Uuid,
    status: &str,
) -> Result<Option<survey_free_text::Model>> {
    let Some(row) = survey_free_text::Entity::find_by_id(answer_id)
        .filter(survey_free_text::Column::SurveyId.eq(survey_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    if row.status == HIDDEN && status == APPROVED {
        return Err(Error::Conflict(
            "a hidden answer's text was erased: it cannot be approved".into(),
        ));
    }
    let mut update = survey_free_text::Entity::update_many()
        .col_expr(survey_free_text::Column::Status, Expr::value(status))
        .filter(survey_free_text::Column::Id.eq(answer_id));
    if status == HIDDEN {
        update = update
            .col_expr(survey_free_text::Column::Text, Expr::value(""))
            .col_expr(survey_free_text::Column::Flagged, Expr::value("[]"));
    }
    update.exec(db).await?;
    Ok(survey_free_text::Entity::find_by_id(answer_id)
        .one(db)
        .await?)
}

/// Stores issued invitation codes (their hashes), with the invitation emails to send, and counts
/// them on the survey, in one transaction.
pub async fn issue_invitations(
    db: &DatabaseConnection,
    outbox: &Outbox,
    survey_id: Uuid,
    hashes: Vec<String>,
    emails: Vec<SurveyInvitationRequested>,
) -> Result<()> {
    let txn = db.begin().await?;
    let count = hashes.len() as i64;
    for chunk in hashes.chunks(500) {
        survey_invitation::Entity::insert_many(chunk.iter().map(|h| {
            survey_invitation::ActiveModel {
                code_hash: ActiveValue::Set(h.clone()),
                survey_id: ActiveValue::Set(survey_id),
            }
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    if !emails.is_empty() {
        outbox.enqueue_all(&txn, None, &emails).await?;
    }
    survey::Entity::update_many()
        .col_expr(
            survey::Column::InvitationsIssued,
            Expr::col(survey::Column::InvitationsIssued).add(count),
        )
        .filter(survey::Column::Id.eq(survey_id))
        .exec(&txn)
        .await?;
    outbox.commit(txn).await?;
    Ok(())
}
