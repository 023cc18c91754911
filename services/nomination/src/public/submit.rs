//! Submitting a nomination: checked against its campaign, category and trust, stored unconfirmed with
//! the event that asks its nominator to confirm their email, atomically.

use chrono::Utc;
use sea_orm::{
    ActiveValue, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, SqlErr,
    TransactionTrait,
};
use uuid::Uuid;
use valued_platform::domain::{FieldError, match_key};
use valued_platform::idempotency::{self, Keyed, Seen};
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::{NominationConfirmationRequested, NominationDeclined};

use crate::db::entities::{campaign, category, nomination};
use crate::db::load::trust_in_campaign;
use crate::domain::{
    Band, NewNomination, NominationRequest, NomineeIdentity, Status, eligible, new_link_token,
};
use crate::error::{Error, Result};
use crate::nominees::nominee_for;
use crate::public::drafts;

const DEFAULT_WORD_LIMIT: u32 = 300;

/// How much one nominator may submit to one campaign.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The service-wide default, for campaigns that set no limit of their own.
    pub per_nominator: u64,
}

/// A nomination as the nominator sent it, the draft it completes, if any, and the form's
/// idempotency key, if it had one.
pub struct SubmitNomination {
    pub answers: NominationRequest,
    pub draft_token: Option<String>,
    pub key: Option<Keyed>,
}

/// The answer already given to a submission with this key and these answers, if any; refused when
/// the key came before with other answers.
pub async fn answered(db: &impl sea_orm::ConnectionTrait, keyed: &Keyed) -> Result<Option<Uuid>> {
    match idempotency::seen(db, keyed).await? {
        Seen::New => Ok(None),
        Seen::Answered(id) => Ok(Some(id.parse().map_err(|_| {
            Error::Database(sea_orm::DbErr::Custom(format!(
                "an idempotency key answered {id:?}, not a nomination id"
            )))
        })?)),
        Seen::Conflicting => Err(Error::Duplicate(
            "This form was already sent with other answers. Start a new nomination to send another"
                .into(),
        )),
    }
}

/// Records `key` (when there is one) with `id` in `txn`; `Some(answer)` when another sending of
/// the same key was recorded first, after rolling `txn` back: answer that instead.
async fn claim_key(
    db: &DatabaseConnection,
    txn: sea_orm::DatabaseTransaction,
    key: Option<&Keyed>,
    id: Uuid,
) -> Result<std::result::Result<sea_orm::DatabaseTransaction, Uuid>> {
    let Some(keyed) = key else { return Ok(Ok(txn)) };
    if idempotency::record(&txn, keyed, &id.to_string(), Utc::now()).await? {
        return Ok(Ok(txn));
    }
    txn.rollback().await?;
    let first = answered(db, keyed).await?.ok_or_else(|| {
        Error::Database(sea_orm::DbErr::Custom(
            "an idempotency key was taken but is not recorded".into(),
        ))
    })?;
    tracing::info!(nomination_id = %first, "a repeated submission answered as the first");
    Ok(Err(first))
}

const ALREADY_NOMINATED: &str = "already_nominated";
const LIMIT_REACHED: &str = "limit_reached";

/// Answers a nomination that is not taken (already made, or one too many) as if it had been, so that
/// the form tells nobody who nominated whom, and announces `nomination.declined.v1` so that the
/// nominator's own mailbox hears why. The id returned belongs to nothing stored.
async fn decline(
    db: &DatabaseConnection,
    outbox: &Outbox,
    trust_code: &str,
    event: &NominationDeclined,
    key: Option<&Keyed>,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    let txn = match claim_key(db, db.begin().await?, key, id).await? {
        Ok(txn) => txn,
        Err(first) => return Ok(first),
    };
    outbox.enqueue(&txn, Some(trust_code), event).await?;
    outbox.commit(txn).await?;
    tracing::info!(reason = %event.reason, "nomination declined");
    Ok(id)
}

/// Validates and stores a nomination with its `nomination.submitted.v1` event, atomically.
pub async fn submit(
    db: &DatabaseConnection,
    outbox: &Outbox,
    submission: &SubmitNomination,
    limits: Limits,
) -> Result<Uuid> {
    let request = &submission.answers;
    // The category and its campaign in one statement; the campaign alone only when the category
    // is not one of the campaign named (the form's answer is then refused, by field).
    let (category, its_campaign) = match request.category_id.trim().parse::<Uuid>() {
        Ok(id) => category::Entity::find_by_id(id)
            .find_also_related(campaign::Entity)
            .one(db)
            .await?
            .map_or((None, None), |(category, campaign)| {
                (Some(category), campaign)
            }),
        Err(_) => (None, None),
    };
    let word_limit = category.as_ref().map_or(DEFAULT_WORD_LIMIT, |c| {
        u32::try_from(c.word_limit).unwrap_or(DEFAULT_WORD_LIMIT)
    });
    let nomination = NewNomination::parse(request, word_limit).map_err(Error::Invalid)?;

    let campaign = match its_campaign.filter(|c| c.id == nomination.campaign_id) {
        Some(campaign) => Some(campaign),
        None => {
            campaign::Entity::find_by_id(nomination.campaign_id)
                .one(db)
                .await?
        }
    }
    .ok_or_else(|| {
        Error::Invalid(vec![FieldError::new(
            "campaign_id",
            "This campaign does not exist",
        )])
    })?;
    campaign
        .windows()
        .accepts_nominations_at(Utc::now())
        .map_err(|reason| {
            Error::Closed(format!(
                "{} is not taking nominations: {reason}",
                campaign.name
            ))
        })?;
    let mut errors = Vec::new();
    let category = category.filter(|c| c.campaign_id == campaign.id);
    match &category {
        None => errors.push(FieldError::new(
            "category_id",
            "Select a category from the list",
        )),
        Some(category)
            if !eligible(
                &category.eligible_staff_groups,
                nomination.staff_group.slug(),
            ) =>
        {
            errors.push(FieldError::new(
                "staff_group",
                format!(
                    "{} is not open to {}",
                    category.name,
                    nomination.staff_group.label()
                ),
            ));
        }
        Some(category) => {
            // "I'm not sure" never keeps anyone out: the judges can ask.
            if let Some(band) = nomination.band.filter(|b| *b != Band::NotSure)
                && !eligible(&category.eligible_bands, band.slug())
            {
                errors.push(FieldError::new(
                    "band",
                    format!("{} is not open to {}", category.name, band.label()),
                ));
            }
        }
    }
    let trust = trust_in_campaign(db, campaign.id, nomination.trust_code.as_str()).await?;
    match &trust {
        None => errors.push(FieldError::new(
            "trust_code",
            "Select a trust from the list",
        )),
        // A trust that lists its sites takes only those; one that lists none, any code.
        Some(trust) => {
            if let Some(site) = &nomination.site_code {
                let sites = crate::admin::trusts::sites_of(db, &trust.code).await?;
                if !sites.is_empty() && !sites.iter().any(|s| s.code == site.as_str()) {
                    errors.push(FieldError::new(
                        "site_code",
                        format!("Select one of {}'s sites, or leave it blank", trust.name),
                    ));
                }
            }
        }
    }
    let (Some(category), Some(trust), true) = (category, trust, errors.is_empty()) else {
        return Err(Error::Invalid(errors));
    };
    let already = nomination::Entity::find()
        .filter(nomination::Column::CampaignId.eq(campaign.id))
        .filter(nomination::Column::NominatorEmail.eq(nomination.nominator_email.to_string()))
        .count(db)
        .await?;
    let limit = campaign.nominations_per_nominator(limits.per_nominator);
    let declined = |reason: &str| NominationDeclined {
        campaign_name: campaign.name.clone(),
        campaign_slug: campaign.slug.clone(),
        nominator_email: nomination.nominator_email.to_string(),
        nominee_name: nomination.nominee.display(),
        category_name: category.name.clone(),
        reason: reason.into(),
        limit,
    };
    if already >= limit {
        return decline(
            db,
            outbox,
            &trust.code,
            &declined(LIMIT_REACHED),
            submission.key.as_ref(),
        )
        .await;
    }

    let id = Uuid::now_v7();
    let submitted_at = Utc::now();
    let (confirm_token, confirm_token_hash) = new_link_token();
    let nominee_display = nomination.nominee.display();
    let (nominee_name, nominee_description, nominee_key) = match &nomination.nominee {
        NomineeIdentity::Named(name) => (name.to_string(), String::new(), name.match_key()),
        NomineeIdentity::Described(description) => (
            String::new(),
            description.clone(),
            format!("described {}", match_key(description)),
        ),
    };
    let event = declined(ALREADY_NOMINATED);
    // The key first: a second sending of it waits here for the first to commit, then is answered
    // as the first was.
    let txn = match claim_key(db, db.begin().await?, submission.key.as_ref(), id).await? {
        Ok(txn) => txn,
        Err(first) => return Ok(first),
    };
    let nominee_id = match &nomination.nominee {
        NomineeIdentity::Named(name) => Some(
            nominee_for(
                &txn,
                campaign.id,
                &trust.code,
                name,
                &nomination.nominee_job_title,
            )
            .await?,
        ),
        NomineeIdentity::Described(_) => None,
    };
    let inserted = nomination::Entity::insert(nomination::ActiveModel {
        id: ActiveValue::Set(id),
        campaign_id: ActiveValue::Set(campaign.id),
        category_id: ActiveValue::Set(category.id),
        trust_code: ActiveValue::Set(trust.code.clone()),
        nominee_name: ActiveValue::Set(nominee_name),
        nominee_job_title: ActiveValue::Set(nomination.nominee_job_title),
        staff_group: ActiveValue::Set(nomination.staff_group.slug().to_owned()),
        story: ActiveValue::Set(nomination.story.as_str().to_owned()),
        nominator_name: ActiveValue::Set(nomination.nominator_name.to_string()),
        nominator_email: ActiveValue::Set(nomination.nominator_email.to_string()),
        relationship: ActiveValue::Set(nomination.relationship.slug().to_owned()),
        status: ActiveValue::Set(Status::Unconfirmed.slug().into()),
        submitted_at: ActiveValue::Set(submitted_at),
        nominee_key: ActiveValue::Set(nominee_key),
        nominee_id: ActiveValue::Set(nominee_id),
        band: ActiveValue::Set(
            nomination
                .band
                .map(|b| b.slug().to_owned())
                .unwrap_or_default(),
        ),
        nominee_email: ActiveValue::Set(
            nomination
                .nominee_email
                .map(|e| e.to_string())
                .unwrap_or_default(),
        ),
        site_code: ActiveValue::Set(
            nomination
                .site_code
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default(),
        ),
        nominee_description: ActiveValue::Set(nominee_description),
        team: ActiveValue::Set(nomination.team),
        confirm_token_hash: ActiveValue::Set(Some(confirm_token_hash)),
        confirmed_at: ActiveValue::Set(None),
        match_reviewed_by: ActiveValue::Set(String::new()),
        moderation_reason: ActiveValue::Set(String::new()),
        forwarded_from: ActiveValue::Set(None),
    })
    .exec_without_returning(&txn)
    .await;
    if let Err(error) = inserted {
        return match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                txn.rollback().await?;
                decline(db, outbox, &trust.code, &event, submission.key.as_ref()).await
            }
            _ => Err(Error::Database(error)),
        };
    }
    let event = NominationConfirmationRequested {
        nomination_id: id.to_string(),
        campaign_name: campaign.name.clone(),
        nominator_name: nomination.nominator_name.to_string(),
        nominator_email: nomination.nominator_email.to_string(),
        nominee_name: nominee_display,
        confirm_token,
    };
    outbox.enqueue(&txn, Some(&trust.code), &event).await?;
    if let Some(draft_token) = &submission.draft_token {
        drafts::delete(&txn, draft_token).await?;
    }
    outbox.commit(txn).await?;
    tracing::info!(nomination_id = %id, trust = %trust.code, "nomination received, awaiting confirmation");
    Ok(id)
}
