//! Writing a checked plan of organisations, one batch at a time: regions first, then trusts (which
//! name their region), then sites, each kind in the file's order. A position counts rows over that
//! whole order, so a batch can be written from wherever the last one ended.

use std::collections::HashMap;

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue, ConnectionTrait, DbErr, EntityTrait};

use super::rows::{Organisation, Plan};
use crate::db::entities::{region, site, trust};

/// Rows written in one statement (and, for an import from the browser, one transaction).
pub const BATCH: usize = 500;

/// How many rows the plan writes in all.
pub fn total(plan: &Plan) -> usize {
    plan.regions.len() + plan.trusts.len() + plan.sites.len()
}

/// Writes up to [`BATCH`] rows of `plan` from position `from`, all of one kind; returns how many
/// (none once the plan is written). `region_names` names the regions trusts are under.
pub async fn batch(
    txn: &impl ConnectionTrait,
    plan: &Plan,
    from: usize,
    region_names: &HashMap<String, String>,
) -> Result<usize, DbErr> {
    let (regions, trusts) = (plan.regions.len(), plan.trusts.len());
    if from < regions {
        let chunk = window(&plan.regions, from);
        write_regions(txn, chunk).await?;
        Ok(chunk.len())
    } else if from < regions + trusts {
        let chunk = window(&plan.trusts, from - regions);
        write_trusts(txn, chunk, region_names).await?;
        Ok(chunk.len())
    } else if from < total(plan) {
        let chunk = window(&plan.sites, from - regions - trusts);
        write_sites(txn, chunk).await?;
        Ok(chunk.len())
    } else {
        Ok(0)
    }
}

fn window(rows: &[Organisation], from: usize) -> &[Organisation] {
    &rows[from..rows.len().min(from + BATCH)]
}

async fn write_regions(txn: &impl ConnectionTrait, chunk: &[Organisation]) -> Result<(), DbErr> {
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
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

async fn write_trusts(
    txn: &impl ConnectionTrait,
    chunk: &[Organisation],
    region_names: &HashMap<String, String>,
) -> Result<(), DbErr> {
    let models = chunk.iter().map(|o| {
        let region_code = o
            .parent
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        trust::ActiveModel {
            code: ActiveValue::Set(o.code.to_string()),
            name: ActiveValue::Set(o.name.clone()),
            region: ActiveValue::Set(region_names.get(&region_code).cloned().unwrap_or_default()),
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
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

async fn write_sites(txn: &impl ConnectionTrait, chunk: &[Organisation]) -> Result<(), DbErr> {
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
        .exec_without_returning(txn)
        .await?;
    Ok(())
}
