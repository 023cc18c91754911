//! Importing regions, trusts and sites from a CSV in the NHS ODS layout — `code,name,address,postcode,parent`
//! with a header row. A row with no parent is a region; a 3-character code under a region is a
//! trust; a 5-character code under a trust is a site. Parents may be in the file or already stored.
//!
//! Every row is checked first and every problem reported with its line; a bad file never writes
//! anything. The command line then writes a clean file in one transaction. From the browser, a
//! clean file becomes an import that is written in the background in batches, each in its own
//! transaction with the count of rows written, so its page shows exact progress and a replica
//! that stops mid-file is taken over where it stopped; rows are written by code, so writing one
//! again changes nothing. Re-importing updates names, addresses and parents (trusts' own
//! settings are kept).

mod job;
mod rows;
mod write;

use std::collections::HashMap;
use std::io::Read;

use chrono::{DateTime, Utc};
use indicatif::ProgressBar;
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, TransactionTrait};
use uuid::Uuid;

use crate::admin::audit;
use crate::auth::Principal;
use crate::db::entities::{organisation_import, region, trust};
use crate::error::{Error, Result};
pub use job::{ATTEMPTS, LEASE};
pub use rows::Organisation;
use rows::Plan;
pub use valued_platform::import::{ImportError, RowError};

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    pub regions: usize,
    pub trusts: usize,
    pub sites: usize,
}

impl ImportSummary {
    fn of(plan: &Plan) -> Self {
        Self {
            regions: plan.regions.len(),
            trusts: plan.trusts.len(),
            sites: plan.sites.len(),
        }
    }
}

/// Reads and checks every row of `csv` against what is stored: the plan of what to write, and
/// the region names trusts will be under.
async fn check(
    db: &DatabaseConnection,
    csv: impl Read,
) -> std::result::Result<(Plan, HashMap<String, String>), ImportError> {
    let organisations = rows::read(csv)?;
    let known = Known::load(db).await?;
    let plan = rows::classify(organisations, &known.regions, &known.trusts)
        .map_err(ImportError::Invalid)?;
    let region_names = known
        .regions
        .into_iter()
        .chain(
            plan.regions
                .iter()
                .map(|o| (o.code.to_string(), o.name.clone())),
        )
        .collect();
    Ok((plan, region_names))
}

/// Reads, checks and stores every organisation in `csv` in one transaction (the command line),
/// advancing `progress` as rows are written.
pub async fn import(
    db: &DatabaseConnection,
    csv: impl Read,
    progress: &ProgressBar,
) -> std::result::Result<ImportSummary, ImportError> {
    let (plan, region_names) = check(db, csv).await?;
    progress.set_length(write::total(&plan) as u64);
    let txn = db.begin().await?;
    let mut written = 0;
    loop {
        let rows = write::batch(&txn, &plan, written, &region_names).await?;
        if rows == 0 {
            break;
        }
        written += rows;
        progress.inc(rows as u64);
    }
    txn.commit().await?;
    progress.finish();
    Ok(ImportSummary::of(&plan))
}

/// Where an import from the browser has got to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportState {
    Importing,
    Imported,
    /// Given up, with why; what was written stays (importing the file again completes it).
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProgress {
    pub id: Uuid,
    pub state: ImportState,
    /// Rows written so far, of `total`.
    pub written: u64,
    pub total: u64,
    /// What the file holds.
    pub summary: ImportSummary,
    pub started_by: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<organisation_import::Model> for ImportProgress {
    fn from(row: organisation_import::Model) -> Self {
        let size = |n: i32| usize::try_from(n).unwrap_or_default();
        let summary = ImportSummary {
            regions: size(row.regions),
            trusts: size(row.trusts),
            sites: size(row.sites),
        };
        let state = match row.state.as_str() {
            job::IMPORTED => ImportState::Imported,
            job::FAILED => ImportState::Failed(row.failure),
            _ => ImportState::Importing,
        };
        Self {
            id: row.id,
            state,
            written: u64::try_from(row.written).unwrap_or_default(),
            total: (summary.regions + summary.trusts + summary.sites) as u64,
            summary,
            started_by: row.started_by,
            started_at: row.created_at,
            finished_at: row.finished_at,
        }
    }
}

fn describe(summary: ImportSummary) -> String {
    format!(
        "{} regions, {} trusts and {} sites",
        summary.regions, summary.trusts, summary.sites
    )
}

/// An import from the browser: platform admins only; the whole file checked first (every bad
/// line named at a field `line N`, an unreadable file at `file`, and nothing stored); a clean file
/// stored, audited, and left for [`run_pending`] to write.
pub async fn start(
    db: &DatabaseConnection,
    principal: &Principal,
    csv: &[u8],
) -> Result<ImportProgress> {
    principal.require(principal.is_platform_admin(), "import organisations")?;
    let plan = match check(db, csv).await {
        Ok((plan, _)) => plan,
        Err(refused) => return Err(Error::Invalid(refused.field_errors()?)),
    };
    let summary = ImportSummary::of(&plan);
    let txn = db.begin().await?;
    let row = job::insert(
        &txn,
        &principal.email,
        csv,
        job::Counts {
            regions: summary.regions,
            trusts: summary.trusts,
            sites: summary.sites,
        },
        Utc::now(),
    )
    .await?;
    audit::record(
        &txn,
        principal,
        "organisations import started",
        None,
        "",
        &describe(summary),
    )
    .await?;
    txn.commit().await?;
    Ok(row.into())
}

/// Where import `id` has got to; platform admins only.
pub async fn progress(
    db: &DatabaseConnection,
    principal: &Principal,
    id: &str,
) -> Result<ImportProgress> {
    principal.require(principal.is_platform_admin(), "see an organisations import")?;
    let not_found = || Error::NotFound(format!("organisations import {id}"));
    let id = Uuid::parse_str(id.trim()).map_err(|_| not_found())?;
    Ok(job::find(db, id).await?.ok_or_else(not_found)?.into())
}

/// Writes every import no replica holds, each to its end; returns how many ended. An import that
/// cannot go on is released for the next round, and given up after [`ATTEMPTS`] takings.
pub async fn run_pending(db: &DatabaseConnection) -> Result<usize> {
    let mut ended = 0;
    while let Some(taken) = job::claim(db, Utc::now()).await? {
        if taken.attempts > ATTEMPTS {
            let why = format!(
                "It stopped {ATTEMPTS} times, the last because of: {}. Importing the same file again completes it.",
                taken.failure
            );
            job::finish(db, taken.id, job::FAILED, &why, Utc::now()).await?;
            ended += 1;
            continue;
        }
        match write_import(db, &taken).await {
            Ok(true) => ended += 1,
            Ok(false) => {}
            Err(error) => {
                job::release(db, &taken, &error.to_string()).await?;
                return Err(error);
            }
        }
    }
    Ok(ended)
}

/// Writes `taken` from where it stopped; false if another replica took it over meanwhile.
async fn write_import(db: &DatabaseConnection, taken: &organisation_import::Model) -> Result<bool> {
    let (plan, region_names) = match check(db, taken.csv.as_slice()).await {
        Ok(checked) => checked,
        Err(ImportError::Database(error)) => return Err(error.into()),
        // Checked when it was sent, so only a change since (another import) can fail it now.
        Err(refused) => {
            let why = format!("The file no longer passes its check: {refused}");
            job::finish(db, taken.id, job::FAILED, &why, Utc::now()).await?;
            return Ok(true);
        }
    };
    let mut written = taken.written;
    loop {
        let from = usize::try_from(written).unwrap_or(usize::MAX);
        let txn = db.begin().await?;
        let rows = write::batch(&txn, &plan, from, &region_names).await?;
        if rows == 0 {
            job::finish(&txn, taken.id, job::IMPORTED, "", Utc::now()).await?;
            audit::record_as(
                &txn,
                &taken.started_by,
                "organisations imported",
                None,
                "",
                &describe(ImportSummary::of(&plan)),
            )
            .await?;
            txn.commit().await?;
            return Ok(true);
        }
        if !job::advance(&txn, taken, written, rows, Utc::now()).await? {
            txn.rollback().await?;
            return Ok(false);
        }
        txn.commit().await?;
        written += i64::try_from(rows).unwrap_or(i64::MAX);
    }
}

/// Regions (code → name) and trust codes already stored, which rows may name as parents.
struct Known {
    regions: HashMap<String, String>,
    trusts: std::collections::HashSet<String>,
}

impl Known {
    async fn load(db: &DatabaseConnection) -> std::result::Result<Self, DbErr> {
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
