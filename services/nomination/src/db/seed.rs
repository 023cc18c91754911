//! The demo campaign the embedded default starts with, so the web UI shows something real at once.
//! Admin addresses use the reserved `example.org` domain: the demo never mails a real person.

use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, TransactionTrait};

use super::entities::{campaign, trust};
use crate::admin::campaigns::{self, NewCampaign, NewCategory};
use crate::domain::{Scope, StaffGroup, Windows};
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

/// The categories, with the staff groups each is for (empty: everyone).
const CATEGORIES: &[(&str, &str, &[StaffGroup])] = &[
    (
        "Porter of the year",
        "For the porter who keeps patients, samples and supplies moving, and always has time for people.",
        &[StaffGroup::EstatesAndAncillary],
    ),
    (
        "Domestic / housekeeper of the year",
        "For the domestic or housekeeper whose care keeps wards clean, safe and welcoming.",
        &[StaffGroup::EstatesAndAncillary],
    ),
    (
        "Admin and clerical hero",
        "For the receptionist, secretary, telephonist or clerk who makes things work for patients and colleagues.",
        &[StaffGroup::AdministrativeAndClerical],
    ),
    (
        "Healthcare support worker of the year",
        "For the healthcare support worker who makes a difference to patients every shift.",
        &[StaffGroup::AdditionalClinicalServices],
    ),
];

/// Creates the demo campaign unless it already exists. Its timetable starts from the day it is
/// seeded, so the demo always takes nominations.
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
    for (code, admin_email) in ADMIN_CONTACTS {
        trust::Entity::update_many()
            .col_expr(trust::Column::AdminEmail, Expr::value(*admin_email))
            .filter(trust::Column::Code.eq(*code))
            .exec(&txn)
            .await?;
    }
    let today = Utc::now();
    let day = |n: i64| Some(today + Duration::days(n));
    let trusts: Vec<&str> = ADMIN_CONTACTS.iter().map(|(code, _)| *code).collect();
    let categories: Vec<NewCategory<'_>> = CATEGORIES
        .iter()
        .map(|(name, description, eligible)| NewCategory {
            name,
            description,
            word_limit: 300,
            eligible,
            bands: &[],
        })
        .collect();
    campaigns::create(
        &txn,
        NewCampaign {
            slug: DEMO_CAMPAIGN_SLUG,
            name: "Health Heroes 2026",
            description: "Do you know a health hero? Nominate a porter, cleaner, caterer, receptionist or healthcare support worker who makes the NHS work.",
            scope: Scope::National,
            windows: Windows {
                nominations_open_at: day(-1),
                nominations_close_at: day(90),
                judging_close_at: day(120),
                vote_open_at: day(130),
                vote_close_at: day(150),
                results_at: day(160),
            },
            trusts: &trusts,
            vote_per_region: false,
            nominations_per_nominator: None,
        },
        &categories,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(slug = DEMO_CAMPAIGN_SLUG, "seeded the demo campaign");
    Ok(())
}
