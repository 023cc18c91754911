//! The demo campaign the embedded default starts with, so the web UI shows something real at once.
//! Admin addresses use the reserved `example.org` domain: the demo never mails a real person.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, TransactionTrait,
};
use uuid::Uuid;

use super::entities::{campaign, campaign_trust, category, trust};
use crate::error::{Error, Result};

pub const DEMO_CAMPAIGN_SLUG: &str = "health-heroes-2026";

/// Two regions, three trusts and their main sites, in the ODS layout the importer reads.
const ORGANISATIONS: &str = include_str!("demo_organisations.csv");

/// Who hears about new nominations at each demo trust.
const ADMIN_CONTACTS: &[(&str, &str)] = &[
    ("RJ1", "awards@gstt.example.org"),
    ("RRK", "awards@uhb.example.org"),
    ("RX1", "awards@nuh.example.org"),
];

const CATEGORIES: &[(&str, &str)] = &[
    (
        "Porter of the year",
        "For the porter who keeps patients, samples and supplies moving, and always has time for people.",
    ),
    (
        "Domestic / housekeeper of the year",
        "For the domestic or housekeeper whose care keeps wards clean, safe and welcoming.",
    ),
    (
        "Admin and clerical hero",
        "For the receptionist, secretary, telephonist or clerk who makes things work for patients and colleagues.",
    ),
    (
        "Healthcare support worker of the year",
        "For the healthcare support worker who makes a difference to patients every shift.",
    ),
];

/// Creates the demo campaign unless it already exists.
pub async fn demo(db: &DatabaseConnection) -> Result<()> {
    let exists = campaign::Entity::find()
        .filter(campaign::Column::Slug.eq(DEMO_CAMPAIGN_SLUG))
        .one(db)
        .await?;
    if exists.is_some() {
        return Ok(());
    }
    crate::organisations::import(
        db,
        ORGANISATIONS.as_bytes(),
        &indicatif::ProgressBar::hidden(),
    )
    .await
    .map_err(|e| Error::Database(DbErr::Custom(format!("demo organisations: {e}"))))?;
    let txn = db.begin().await?;
    let campaign_id = Uuid::now_v7();
    campaign::Entity::insert(campaign::ActiveModel {
        id: ActiveValue::Set(campaign_id),
        slug: ActiveValue::Set(DEMO_CAMPAIGN_SLUG.into()),
        name: ActiveValue::Set("Health Heroes 2026".into()),
        description: ActiveValue::Set(
            "Do you know a health hero? Nominate a porter, cleaner, caterer, receptionist or healthcare support worker who makes the NHS work.".into(),
        ),
    })
    .exec_without_returning(&txn)
    .await?;
    for (code, admin_email) in ADMIN_CONTACTS {
        trust::Entity::update_many()
            .col_expr(trust::Column::AdminEmail, Expr::value(*admin_email))
            .filter(trust::Column::Code.eq(*code))
            .exec(&txn)
            .await?;
        campaign_trust::Entity::insert(campaign_trust::ActiveModel {
            campaign_id: ActiveValue::Set(campaign_id),
            trust_code: ActiveValue::Set((*code).into()),
        })
        .exec_without_returning(&txn)
        .await?;
    }
    for (position, (name, description)) in (0..).zip(CATEGORIES) {
        category::Entity::insert(category::ActiveModel {
            id: ActiveValue::Set(Uuid::now_v7()),
            campaign_id: ActiveValue::Set(campaign_id),
            name: ActiveValue::Set((*name).into()),
            description: ActiveValue::Set((*description).into()),
            word_limit: ActiveValue::Set(300),
            position: ActiveValue::Set(position),
        })
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    tracing::info!(slug = DEMO_CAMPAIGN_SLUG, "seeded the demo campaign");
    Ok(())
}
