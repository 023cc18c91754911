//! Importing regions, trusts and sites from a CSV in the NHS ODS layout — `code,name,address,postcode,parent`
//! with a header row. A row with no parent is a region; a 3-character code under a region is a
//! trust; a 5-character code under a trust is a site. Parents may be in the file or already stored.
//!
//! All or nothing: every row is checked first and every problem reported with its line; only a
//! clean file is written, in one transaction, so a bad file never leaves half an import behind.
//! Re-importing updates names, addresses and parents (trust admin contacts are kept).

mod rows;

use std::collections::HashMap;
use std::io::Read;

use indicatif::ProgressBar;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue, DatabaseConnection, DbErr, EntityTrait, TransactionTrait};

use crate::db::entities::{region, site, trust};
pub use rows::Organisation;
pub use valued_platform::import::{ImportError, RowError};

const BATCH: usize = 500;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    pub regions: usize,
    pub trusts: usize,
    pub sites: usize,
}

/// Reads, checks and stores every organisation in `csv`, advancing `progress` as rows are written.
pub async fn import(
    db: &DatabaseConnection,
    csv: impl Read,
    progress: &ProgressBar,
) -> Result<ImportSummary, ImportError> {
    let organisations = rows::read(csv)?;
    let known = Known::load(db).await?;
    let plan = rows::classify(organisations, &known.regions, &known.trusts)
        .map_err(ImportError::Invalid)?;
    progress.set_length((plan.regions.len() + plan.trusts.len() + plan.sites.len()) as u64);

    let txn = db.begin().await?;
    for chunk in plan.regions.chunks(BATCH) {
        let models = chunk.iter().map(|o| region::ActiveModel {
            code: ActiveValue::Set(o.code.to_string()),
            name: ActiveValue::Set(o.name.clone()),
        });
        region::Entity::insert_many(models)
            .on_conflict(
                OnConflict::column(region::Column::Code)
                    .update_column(region::Column::Name)
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        progress.inc(chunk.len() as u64);
    }
    let region_names: HashMap<String, String> = known
        .regions
        .into_iter()
        .chain(
            plan.regions
                .iter()
                .map(|o| (o.code.to_string(), o.name.clone())),
        )
        .collect();
    for chunk in plan.trusts.chunks(BATCH) {
        let models = chunk.iter().map(|o| {
            let region_code = o
                .parent
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            trust::ActiveModel {
                code: ActiveValue::Set(o.code.to_string()),
                name: ActiveValue::Set(o.name.clone()),
                region: ActiveValue::Set(
                    region_names.get(&region_code).cloned().unwrap_or_default(),
                ),
                admin_email: ActiveValue::Set(String::new()),
                region_code: ActiveValue::Set(Some(region_code)),
                address: ActiveValue::Set(o.address.clone()),
                postcode: ActiveValue::Set(o.postcode.as_ref().map(ToString::to_string)),
                // The trust's own settings, kept on a re-import (not among the updated columns).
                sender_name: ActiveValue::Set(String::new()),
                reply_to: ActiveValue::Set(String::new()),
            }
        });
        trust::Entity::insert_many(models)
            .on_conflict(
                OnConflict::column(trust::Column::Code)
                    .update_columns([
                        trust::Column::Name,
                        trust::Column::Region,
                        trust::Column::RegionCode,
                        trust::Column::Address,
                        trust::Column::Postcode,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        progress.inc(chunk.len() as u64);
    }
    for chunk in plan.sites.chunks(BATCH) {
        let models = chunk.iter().map(|o| site::ActiveModel {
            code: ActiveValue::Set(o.code.to_string()),
            trust_code: ActiveValue::Set(
                o.parent
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ),
            name: ActiveValue::Set(o.name.clone()),
            address: ActiveValue::Set(o.address.clone()),
            postcode: ActiveValue::Set(o.postcode.as_ref().map(ToString::to_string)),
        });
        site::Entity::insert_many(models)
            .on_conflict(
                OnConflict::column(site::Column::Code)
                    .update_columns([
                        site::Column::TrustCode,
                        site::Column::Name,
                        site::Column::Address,
                        site::Column::Postcode,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        progress.inc(chunk.len() as u64);
    }
    txn.commit().await?;
    progress.finish();
    Ok(ImportSummary {
        regions: plan.regions.len(),
        trusts: plan.trusts.len(),
        sites: plan.sites.len(),
    })
}

/// Regions (code → name) and trust codes already stored, which rows may name as parents.
struct Known {
    regions: HashMap<String, String>,
    trusts: std::collections::HashSet<String>,
}

impl Known {
    async fn load(db: &DatabaseConnection) -> Result<Self, DbErr> {
        let regions = region::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|r| (r.code, r.name))
            .collect();
        let trusts = trust::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|t| t.code)
            .collect();
        Ok(Self { regions, trusts })
    }
}

/// The same import for an admin in the browser: platform admins only, the whole file checked
/// first (every bad line named at a field `line N`, an unreadable file at `file`), audited.
pub async fn import_for(
    db: &DatabaseConnection,
    principal: &crate::auth::Principal,
    csv: &[u8],
) -> crate::error::Result<ImportSummary> {
    principal.require(principal.is_platform_admin(), "import organisations")?;
    let summary = match import(db, csv, &ProgressBar::hidden()).await {
        Ok(summary) => summary,
        Err(refused) => return Err(crate::error::Error::Invalid(refused.field_errors()?)),
    };
    crate::admin::audit::record(
        db,
        principal,
        "organisations imported",
        None,
        "",
        &format!(
            "{} regions, {} trusts and {} sites",
            summary.regions, summary.trusts, summary.sites
        ),
    )
    .await?;
    Ok(summary)
}
