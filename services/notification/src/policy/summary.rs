//! One summary instead of many: a person over the throttle's limit gets the emails that wait for
//! their next slot together. The first to wait becomes the *carrier*; each later one is marked
//! `folded` into it (never sent on its own). On PostgreSQL emails held back at the same moment take
//! turns under a transaction-scoped advisory lock on the address, so there is one carrier. When the
//! carrier's slot comes, its content becomes a summary of itself and everything folded into it, so a
//! resend after a crash sends the same summary.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement, TransactionTrait,
};
use serde_json::json;

use super::{Kind, kind};
use crate::db::delivery::{Column, Entity, Model, mark_deferred, status};
use crate::email::RenderedEmail;
use crate::templates::{SUMMARY, Templates};

/// The note on a delivery that goes inside another's summary.
pub fn folded_note(carrier: uuid::Uuid) -> String {
    format!("sent inside the summary email {carrier}")
}

/// Puts `row` (over the limit) to wait: folded into the email already waiting for this person's
/// next slot, or, when none waits, waiting itself until `until`.
pub async fn defer(
    db: &DatabaseConnection,
    row: &Model,
    until: DateTime<Utc>,
    note: &str,
) -> anyhow::Result<()> {
    let txn = db.begin().await?;
    if valued_platform::db::is_postgres(&txn) {
        // Emails held back at the same moment take turns here, so that the first becomes the
        // carrier and the others fold into it, rather than each finding none and waiting alone.
        txn.query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            [format!("notification.summary:{}", row.recipient).into()],
        ))
        .await?;
    }
    let mut carrier = Entity::find()
        .filter(Column::Recipient.eq(row.recipient.clone()))
        .filter(Column::Id.ne(row.id))
        .filter(Column::Status.eq(status::PENDING))
        .filter(Column::CountedAt.is_null())
        .filter(Column::NextAttemptAt.gt(Utc::now()))
        .order_by_asc(Column::NextAttemptAt)
        .order_by_asc(Column::Id);
    if valued_platform::db::is_postgres(&txn) {
        // Held until commit: no sender can claim the carrier before this email is folded into it.
        carrier = carrier.lock_exclusive();
    }
    let carrier = carrier
        .all(&txn)
        .await?
        .into_iter()
        .find(|d| kind(&d.template) == Kind::NonTransactional);
    match carrier {
        Some(carrier) => {
            Entity::update_many()
                .col_expr(Column::Status, Expr::value(status::FOLDED))
                .col_expr(Column::LastError, Expr::value(folded_note(carrier.id)))
                .col_expr(
                    Column::ClaimedUntil,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .filter(Column::Id.eq(row.id))
                .exec(&txn)
                .await?;
            tracing::info!(delivery_id = %row.id, carrier = %carrier.id, "throttled: folded into the next summary");
        }
        None => mark_deferred(&txn, row.id, until, note).await?,
    }
    txn.commit().await?;
    Ok(())
}

/// `row` as it is to be sent: when emails were folded into it, a summary of them all (stored, so a
/// resend sends the same).
pub async fn with_folded(
    db: &DatabaseConnection,
    templates: &Templates,
    row: Model,
) -> anyhow::Result<Model> {
    let folded = Entity::find()
        .filter(Column::Recipient.eq(row.recipient.clone()))
        .filter(Column::Status.eq(status::FOLDED))
        .filter(Column::LastError.eq(folded_note(row.id)))
        .order_by_asc(Column::CreatedAt)
        .all(db)
        .await?;
    if folded.is_empty() {
        return Ok(row);
    }
    let items: Vec<serde_json::Value> = std::iter::once(&row)
        .chain(folded.iter())
        .map(|d| json!({ "subject": d.subject, "text": d.text_body }))
        .collect();
    let summary = templates.render(SUMMARY, json!({ "count": items.len(), "items": items }))?;
    Entity::update_many()
        .col_expr(Column::Subject, Expr::value(summary.subject.clone()))
        .col_expr(Column::TextBody, Expr::value(summary.text.clone()))
        .col_expr(Column::HtmlBody, Expr::value(summary.html.clone()))
        .filter(Column::Id.eq(row.id))
        .exec(db)
        .await?;
    tracing::info!(delivery_id = %row.id, folded = folded.len(), "sending a summary");
    Ok(Model {
        subject: summary.subject,
        text_body: summary.text,
        html_body: summary.html,
        ..row
    })
}

/// The summary rendered from sample emails (the admin preview).
pub fn preview(templates: &Templates) -> Vec<(&'static str, RenderedEmail)> {
    let items = [
        json!({ "subject": "Sam Patel is a finalist in Health Heroes 2026", "text": "Sam Patel is a finalist in the Porter of the year category." }),
        json!({ "subject": "Sam Patel has won Porter of the year", "text": "Sam Patel won the Porter of the year category." }),
    ];
    templates
        .render(SUMMARY, json!({ "count": items.len(), "items": items }))
        .map(|email| vec![(SUMMARY, email)])
        .unwrap_or_default()
}
