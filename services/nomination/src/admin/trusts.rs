//! A trust's settings, kept with the trust and changed by its admins (and its region's, and
//! platform admins): the awards contact, who is told of each confirmed nomination to review; the
//! sender name and reply-to of the trust's emails and its staff's work-email domains, announced to
//! the services that use them (`trust.settings_changed.v1`); and its sites, which the nomination
//! form offers. Every change is audited.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use valued_platform::domain::EmailAddress;
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::TrustSettingsChanged;

use crate::admin::audit;
use crate::auth::Principal;
use crate::db::entities::{site, trust, trust_email_domain};
use crate::domain::{NewSite, TrustSettingsSpec};
use crate::error::{Error, Result};

/// A trust with what its settings page shows.
#[derive(Debug, Clone)]
pub struct TrustSettings {
    pub trust: trust::Model,
    pub work_email_domains: Vec<String>,
    pub sites: Vec<site::Model>,
}

/// The trust `code`, if `principal` administers it; NOT_FOUND for a trust that does not exist or
/// that they do not administer (a trust admin learns nothing of other trusts).
pub async fn administered(
    db: &impl ConnectionTrait,
    principal: &Principal,
    code: &str,
) -> Result<trust::Model> {
    let code = code.trim().to_ascii_uppercase();
    let found = trust::Entity::find_by_id(code.clone()).one(db).await?;
    match found {
        Some(found) if principal.administers_trust(&found) => Ok(found),
        _ => Err(Error::NotFound(format!("trust {code}"))),
    }
}

/// The settings of the trust `code`, for its admins.
pub async fn settings(
    db: &DatabaseConnection,
    principal: &Principal,
    code: &str,
) -> Result<TrustSettings> {
    let found = administered(db, principal, code).await?;
    with_lists(db, found).await
}

async fn with_lists(db: &impl ConnectionTrait, found: trust::Model) -> Result<TrustSettings> {
    let work_email_domains = domains_of(db, &found.code).await?;
    let sites = sites_of(db, &found.code).await?;
    Ok(TrustSettings {
        trust: found,
        work_email_domains,
        sites,
    })
}

async fn domains_of(db: &impl ConnectionTrait, code: &str) -> Result<Vec<String>> {
    Ok(trust_email_domain::Entity::find()
        .filter(trust_email_domain::Column::TrustCode.eq(code))
        .order_by_asc(trust_email_domain::Column::Domain)
        .all(db)
        .await?
        .into_iter()
        .map(|d| d.domain)
        .collect())
}

/// The sites of the trust `code`, by name.
pub async fn sites_of(db: &impl ConnectionTrait, code: &str) -> Result<Vec<site::Model>> {
    Ok(site::Entity::find()
        .filter(site::Column::TrustCode.eq(code))
        .order_by_asc(site::Column::Name)
        .all(db)
        .await?)
}

/// Stores `spec` as the settings of the trust `code`. When the sender name, reply-to or domains
/// change, announces the trust's new settings in the same transaction. Each changed setting is
/// audited.
pub async fn set(
    db: &DatabaseConnection,
    outbox: &Outbox,
    principal: &Principal,
    code: &str,
    spec: &TrustSettingsSpec,
) -> Result<TrustSettings> {
    let txn = db.begin().await?;
    let found = administered(&txn, principal, code).await?;
    let awards_email = spec
        .awards_email
        .as_ref()
        .map(EmailAddress::normalised)
        .unwrap_or_default();
    let reply_to = spec
        .reply_to
        .as_ref()
        .map(|address| address.as_str().to_owned())
        .unwrap_or_default();
    let domains: Vec<String> = spec
        .work_email_domains
        .iter()
        .map(|d| d.as_str().to_owned())
        .collect();
    let mut sorted = domains.clone();
    sorted.sort();
    let before = domains_of(&txn, &found.code).await?;
    let mut changes = Vec::new();
    if awards_email != found.admin_email {
        changes.push(cleared_or_set("awards contact", &awards_email));
    }
    if spec.sender_name != found.sender_name {
        changes.push(cleared_or_set("sender name", &spec.sender_name));
    }
    if reply_to != found.reply_to {
        changes.push(cleared_or_set("reply-to", &reply_to));
    }
    let domains_changed = sorted != before;
    if domains_changed {
        changes.push(cleared_or_set("work email domains", &sorted.join(", ")));
    }
    if changes.is_empty() {
        txn.rollback().await?;
        return with_lists(db, found).await;
    }
    trust::Entity::update_many()
        .col_expr(trust::Column::AdminEmail, Expr::value(awards_email.clone()))
        .col_expr(
            trust::Column::SenderName,
            Expr::value(spec.sender_name.clone()),
        )
        .col_expr(trust::Column::ReplyTo, Expr::value(reply_to.clone()))
        .filter(trust::Column::Code.eq(found.code.as_str()))
        .exec(&txn)
        .await?;
    if domains_changed {
        replace_domains(&txn, &found.code, &sorted).await?;
    }
    let announced =
        spec.sender_name != found.sender_name || reply_to != found.reply_to || domains_changed;
    if announced {
        let changed = TrustSettingsChanged {
            trust_code: found.code.clone(),
            sender_name: spec.sender_name.clone(),
            reply_to: reply_to.clone(),
            work_email_domains: sorted.clone(),
            changed_at: Some(exact_time(Utc::now())),
            region_code: found.region_code.clone().unwrap_or_default(),
        };
        outbox.enqueue(&txn, Some(&found.code), &changed).await?;
    }
    audit::record(
        &txn,
        principal,
        "trust settings changed",
        None,
        &found.code,
        &changes.join("; "),
    )
    .await?;
    let stored = trust::Model {
        admin_email: awards_email,
        sender_name: spec.sender_name.clone(),
        reply_to,
        ..found
    };
    let settings = with_lists(&txn, stored).await?;
    outbox.commit(txn).await?;
    Ok(settings)
}

/// `at` to the microsecond (what PostgreSQL keeps), so that changes a moment apart are ordered.
fn exact_time(at: chrono::DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_micros() * 1000).unwrap_or_default(),
    }
}

fn cleared_or_set(what: &str, value: &str) -> String {
    if value.is_empty() {
        format!("{what} cleared")
    } else {
        format!("{what} set to {value}")
    }
}

async fn replace_domains(txn: &DatabaseTransaction, code: &str, domains: &[String]) -> Result<()> {
    trust_email_domain::Entity::delete_many()
        .filter(trust_email_domain::Column::TrustCode.eq(code))
        .exec(txn)
        .await?;
    if !domains.is_empty() {
        trust_email_domain::Entity::insert_many(domains.iter().map(|domain| {
            trust_email_domain::ActiveModel {
                trust_code: ActiveValue::Set(code.to_owned()),
                domain: ActiveValue::Set(domain.clone()),
            }
        }))
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

/// Adds `new` to the trust `code`'s sites, or renames the site it already has with that code; a
/// site of another trust is ALREADY_EXISTS. Audited.
pub async fn add_site(
    db: &DatabaseConnection,
    principal: &Principal,
    code: &str,
    new: &NewSite,
) -> Result<TrustSettings> {
    let txn = db.begin().await?;
    let found = administered(&txn, principal, code).await?;
    let existing = site::Entity::find_by_id(new.code.as_str().to_owned())
        .one(&txn)
        .await?;
    match existing {
        Some(other) if other.trust_code != found.code => {
            return Err(Error::Duplicate(format!(
                "The site {} belongs to another trust",
                new.code
            )));
        }
        Some(_) => {
            site::Entity::update_many()
                .col_expr(site::Column::Name, Expr::value(new.name.clone()))
                .filter(site::Column::Code.eq(new.code.as_str()))
                .exec(&txn)
                .await?;
        }
        None => {
            site::Entity::insert(site::ActiveModel {
                code: ActiveValue::Set(new.code.as_str().to_owned()),
                trust_code: ActiveValue::Set(found.code.clone()),
                name: ActiveValue::Set(new.name.clone()),
                address: ActiveValue::Set(None),
                postcode: ActiveValue::Set(None),
            })
            .exec_without_returning(&txn)
            .await?;
        }
    }
    audit::record(
        &txn,
        principal,
        "trust site added",
        None,
        &found.code,
        &format!("{} {}", new.code, new.name),
    )
    .await?;
    let settings = with_lists(&txn, found).await?;
    txn.commit().await?;
    Ok(settings)
}

/// Removes the site `site_code` of the trust `code`; nominations that named it keep the code.
/// NOT_FOUND when the trust has no such site. Audited.
pub async fn remove_site(
    db: &DatabaseConnection,
    principal: &Principal,
    code: &str,
    site_code: &str,
) -> Result<TrustSettings> {
    let txn = db.begin().await?;
    let found = administered(&txn, principal, code).await?;
    let site_code = site_code.trim().to_ascii_uppercase();
    let removed = site::Entity::delete_many()
        .filter(site::Column::Code.eq(site_code.as_str()))
        .filter(site::Column::TrustCode.eq(found.code.as_str()))
        .exec(&txn)
        .await?;
    if removed.rows_affected == 0 {
        return Err(Error::NotFound(format!(
            "site {site_code} of {}",
            found.name
        )));
    }
    audit::record(
        &txn,
        principal,
        "trust site removed",
        None,
        &found.code,
        &site_code,
    )
    .await?;
    let settings = with_lists(&txn, found).await?;
    txn.commit().await?;
    Ok(settings)
}
