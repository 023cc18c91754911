//! "Tell us your story": staff tell their story for a campaign (saving a draft to finish later
//! from an emailed link), with consent recorded per purpose (publish on the campaign page, share
//! with the press, share with their MP, contact them) and, only with consent to contact, a phone
//! number. The number is sealed at rest under a data key of its own wrapped under a master key from
//! the settings ([`valued_platform::sealed`]); it is opened only for an admin of the story's
//! campaign who asks to call ([`reveal_phone`]), and each reveal is audited in the same
//! transaction. Moderators approve or reject (audited); approved stories whose teller consented to
//! publication show on the campaign page until the teller withdraws them through their link.
//! [`upkeep`] re-wraps data keys under the current master key and applies retention;
//! [`erasure`] erases a person's stories.

pub mod domain;
pub mod entities;
pub mod erasure;
pub(crate) mod grpc;
pub mod upkeep;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use uuid::Uuid;
use valued_platform::auth::roles::{Admin, Role};
use valued_platform::link_token::{hash_token, new_link_token};
use valued_platform::outbox::Outbox;
use valued_platform::sealed::{Keyring, Sealed, SealingSettings};
use valued_proto::events::v1::{StoryDraftSaved, StoryPublished, StorySubmitted, StoryWithdrawn};

use self::domain::{Answers, Campaign, Decision, Scope};
use self::entities::{story, story_audit};
use crate::error::{Error, Result};

/// The master key used when none is configured: fine on a laptop, refused by `valued serve`.
/// Anyone holding this source could open phone numbers sealed under it.
pub const DEV_ONLY_KEY_ID: &str = "dev-only";
pub const DEV_ONLY_KEY: &str = "ZGV2LW9ubHktc3Rvcnkta2V5LWNoYW5nZS1tZS0wMDA=";

/// The stories' settings: `survey_feedback.stories`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct StorySettings {
    /// The master keys phone numbers are sealed under, by id, and the current one. Production
    /// must set its own (`VALUED__SURVEY_FEEDBACK__STORIES__SEALING__CURRENT`,
    /// `VALUED__SURVEY_FEEDBACK__STORIES__SEALING__KEYS__<ID>`).
    pub sealing: SealingSettings,
    /// How long a draft's resume link lasts after its last save.
    pub draft_days: u32,
    /// How long a phone number is kept after its story was sent, whatever else happens.
    pub phone_days: u32,
    /// How long a rejected story is kept before its text, phone number and email are erased.
    pub rejected_days: u32,
    /// How often data keys are re-wrapped under the current master key and retention applied.
    pub upkeep_seconds: u64,
}

impl Default for StorySettings {
    fn default() -> Self {
        let keys = [(DEV_ONLY_KEY_ID.to_owned(), SecretString::from(DEV_ONLY_KEY))];
        Self {
            sealing: SealingSettings {
                current: DEV_ONLY_KEY_ID.to_owned(),
                keys: keys.into_iter().collect(),
            },
            draft_days: 30,
            phone_days: 180,
            rejected_days: 30,
            upkeep_seconds: 3600,
        }
    }
}

impl StorySettings {
    /// Whether the compiled-in development key is among the keys.
    pub fn uses_development_key(&self) -> bool {
        self.sealing
            .keys
            .values()
            .any(|key| key.expose_secret() == DEV_ONLY_KEY)
    }
}

/// Statuses a story passes through.
pub mod status {
    pub const DRAFT: &str = "draft";
    pub const SUBMITTED: &str = "submitted";
    pub const APPROVED: &str = "approved";
    pub const REJECTED: &str = "rejected";
    pub const WITHDRAWN: &str = "withdrawn";
}

/// The context a story's phone number is sealed under: a sealed number copied to another story
/// does not open.
pub fn phone_context(story_id: Uuid) -> String {
    format!("story:{story_id}:phone")
}

/// Whether `admin` moderates the stories of a campaign of `scope`: its trust's or region's admins,
/// and platform admins (the only ones for a national campaign).
pub fn moderates(admin: &Admin, scope: &Scope) -> bool {
    admin.is_platform_admin()
        || match scope {
            Scope::Trust(code) => admin.holds(Role::TrustAdmin, code),
            Scope::Region(code) => admin.holds(Role::RegionAdmin, code),
            Scope::National => false,
        }
}

/// A stored story's scope (as stored, it parses).
pub fn scope_of(story: &story::Model) -> Scope {
    Scope::parse(&story.campaign_scope, &story.campaign_scope_code).unwrap_or(Scope::National)
}

pub struct SavedDraft {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// A draft to save: the answers so far, for a new draft or the one `token` reaches.
pub struct SaveDraft<'a> {
    pub token: Option<&'a str>,
    pub campaign: &'a Campaign,
    pub answers: &'a Answers,
    /// Email the teller a link to the draft.
    pub email_link: bool,
    /// How long the draft and its link last.
    pub lifetime: Duration,
}

/// Saves a draft: a new one, or the one `token` reaches (a token that reaches nothing starts a new
/// one). With `email_link`, the teller is emailed a link to it.
pub async fn save_draft(
    db: &DatabaseConnection,
    outbox: &Outbox,
    keyring: &Keyring,
    draft: SaveDraft<'_>,
) -> Result<SavedDraft> {
    let SaveDraft {
        token,
        campaign,
        answers,
        email_link,
        lifetime,
    } = draft;
    let now = Utc::now();
    let expires_at = now + lifetime;
    let txn = db.begin().await?;
    let existing = match token.map(str::trim).filter(|t| !t.is_empty()) {
        Some(token) => find_draft(&txn, token)
            .await?
            .map(|d| (token.to_owned(), d)),
        None => None,
    };
    let is_new = existing.is_none();
    let (token, id, mut model) = match existing {
        Some((token, found)) => {
            let id = found.id;
            (token, id, story::ActiveModel::from(found))
        }
        None => {
            let (token, hash) = new_link_token();
            let id = Uuid::now_v7();
            let model = story::ActiveModel {
                id: ActiveValue::Set(id),
                status: ActiveValue::Set(status::DRAFT.to_owned()),
                draft_token_hash: ActiveValue::Set(Some(hash)),
                withdraw_token_hash: ActiveValue::Set(None),
                phone_sealed: ActiveValue::Set(None),
                submitted_at: ActiveValue::Set(None),
                moderated_at: ActiveValue::Set(None),
                ..Default::default()
            };
            (token, id, model)
        }
    };
    set_answers(&mut model, keyring, id, campaign, answers)?;
    model.updated_at = ActiveValue::Set(now);
    model.expires_at = ActiveValue::Set(Some(expires_at));
    store(&txn, model, is_new).await?;
    if email_link && let Some(email) = &answers.email {
        let event = StoryDraftSaved {
            campaign_name: campaign.name.clone(),
            campaign_slug: campaign.slug.clone(),
            email: email.to_string(),
            resume_token: token.clone(),
            expires_at: Some(timestamp(expires_at)),
        };
        outbox.enqueue(&txn, None, &event).await?;
    }
    outbox.commit(txn).await?;
    Ok(SavedDraft { token, expires_at })
}

/// The answers into `model`: the phone number sealed, or cleared without consent to contact, or
/// (none typed) the one saved kept.
fn set_answers(
    model: &mut story::ActiveModel,
    keyring: &Keyring,
    id: Uuid,
    campaign: &Campaign,
    answers: &Answers,
) -> Result<()> {
    let (scope, code) = campaign.scope.parts();
    model.campaign_id = ActiveValue::Set(campaign.id);
    model.campaign_slug = ActiveValue::Set(campaign.slug.clone());
    model.campaign_name = ActiveValue::Set(campaign.name.clone());
    model.campaign_scope = ActiveValue::Set(scope.to_owned());
    model.campaign_scope_code = ActiveValue::Set(code.to_owned());
    model.works_in_nhs = ActiveValue::Set(answers.works_in_nhs.clone());
    model.nhs_role = ActiveValue::Set(answers.nhs_role.clone());
    model.story = ActiveValue::Set(answers.story.clone());
    model.consent_publish = ActiveValue::Set(answers.consent_publish);
    model.consent_press = ActiveValue::Set(answers.consent_press);
    model.consent_mp = ActiveValue::Set(answers.consent_mp);
    model.consent_contact = ActiveValue::Set(answers.consent_contact);
    model.email = ActiveValue::Set(
        answers
            .email
            .as_ref()
            .map(|e| e.normalised())
            .unwrap_or_default(),
    );
    if !answers.consent_contact {
        model.phone_sealed = ActiveValue::Set(None);
    } else if let Some(phone) = &answers.phone {
        let sealed = keyring.seal(phone.as_str(), &phone_context(id))?;
        model.phone_sealed = ActiveValue::Set(Some(sealed.as_str().to_owned()));
    }
    Ok(())
}

/// A draft, while its link lasts.
pub async fn load_draft(db: &impl ConnectionTrait, token: &str) -> Result<story::Model> {
    find_draft(db, token.trim())
        .await?
        .ok_or_else(|| Error::NotFound("draft (the link may have expired)".into()))
}

async fn find_draft(db: &impl ConnectionTrait, token: &str) -> Result<Option<story::Model>> {
    Ok(story::Entity::find()
        .filter(story::Column::DraftTokenHash.eq(hash_token(token)))
        .filter(story::Column::Status.eq(status::DRAFT))
        .filter(story::Column::ExpiresAt.gt(Utc::now()))
        .one(db)
        .await?)
}

/// Sends a story for moderation, completing the draft `token` reaches if any (its saved phone
/// number kept when none is typed). The teller is emailed a link to withdraw it.
pub async fn submit(
    db: &DatabaseConnection,
    outbox: &Outbox,
    keyring: &Keyring,
    token: Option<&str>,
    campaign: &Campaign,
    answers: &Answers,
) -> Result<Uuid> {
    let now = Utc::now();
    let txn = db.begin().await?;
    let draft = match token.map(str::trim).filter(|t| !t.is_empty()) {
        Some(token) => find_draft(&txn, token).await?,
        None => None,
    };
    let is_new = draft.is_none();
    let (id, mut model) = match draft {
        Some(found) => (found.id, story::ActiveModel::from(found)),
        None => {
            let id = Uuid::now_v7();
            let model = story::ActiveModel {
                id: ActiveValue::Set(id),
                phone_sealed: ActiveValue::Set(None),
                ..Default::default()
            };
            (id, model)
        }
    };
    set_answers(&mut model, keyring, id, campaign, answers)?;
    let (withdraw_token, withdraw_hash) = new_link_token();
    model.status = ActiveValue::Set(status::SUBMITTED.to_owned());
    model.draft_token_hash = ActiveValue::Set(None);
    model.withdraw_token_hash = ActiveValue::Set(Some(withdraw_hash));
    model.updated_at = ActiveValue::Set(now);
    model.expires_at = ActiveValue::Set(None);
    model.submitted_at = ActiveValue::Set(Some(now));
    model.moderated_at = ActiveValue::Set(None);
    store(&txn, model, is_new).await?;
    audit(&txn, id, "submitted", "", "").await?;
    if let Some(email) = &answers.email {
        let event = StorySubmitted {
            story_id: id.to_string(),
            campaign_name: campaign.name.clone(),
            email: email.to_string(),
            withdraw_token,
        };
        outbox.enqueue(&txn, None, &event).await?;
    }
    outbox.commit(txn).await?;
    Ok(id)
}

/// The teller withdraws their story: it leaves the campaign page at once, and its text, phone
/// number and email are erased; the audit trail keeps that it happened.
pub async fn withdraw(db: &DatabaseConnection, outbox: &Outbox, token: &str) -> Result<()> {
    let txn = db.begin().await?;
    let found = story::Entity::find()
        .filter(story::Column::WithdrawTokenHash.eq(hash_token(token)))
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound("story (it may have been withdrawn already)".into()))?;
    let (id, campaign_id) = (found.id, found.campaign_id);
    forget(&txn, found, status::WITHDRAWN).await?;
    audit(&txn, id, "withdrawn", "", "").await?;
    let event = StoryWithdrawn {
        story_id: id.to_string(),
        campaign_id: campaign_id.to_string(),
    };
    outbox.enqueue(&txn, None, &event).await?;
    outbox.commit(txn).await?;
    Ok(())
}

/// Erases a story's personal content, leaving a row with `status` for its audit trail.
pub(crate) async fn forget(
    db: &impl ConnectionTrait,
    found: story::Model,
    status: &str,
) -> std::result::Result<(), sea_orm::DbErr> {
    let mut model = story::ActiveModel::from(found);
    model.status = ActiveValue::Set(status.to_owned());
    model.story = ActiveValue::Set(String::new());
    model.nhs_role = ActiveValue::Set(String::new());
    model.email = ActiveValue::Set(String::new());
    model.phone_sealed = ActiveValue::Set(None);
    model.consent_publish = ActiveValue::Set(false);
    model.consent_press = ActiveValue::Set(false);
    model.consent_mp = ActiveValue::Set(false);
    model.consent_contact = ActiveValue::Set(false);
    model.draft_token_hash = ActiveValue::Set(None);
    model.withdraw_token_hash = ActiveValue::Set(None);
    model.updated_at = ActiveValue::Set(Utc::now());
    model.update(db).await?;
    Ok(())
}

/// Approved stories of `campaign` whose tellers consented to publication, newest first; only
/// those told under the campaign's own description (id and scope).
pub async fn published(db: &DatabaseConnection, campaign: &Campaign) -> Result<Vec<story::Model>> {
    let (scope, code) = campaign.scope.parts();
    Ok(story::Entity::find()
        .filter(story::Column::CampaignId.eq(campaign.id))
        .filter(story::Column::CampaignScope.eq(scope))
        .filter(story::Column::CampaignScopeCode.eq(code))
        .filter(story::Column::Status.eq(status::APPROVED))
        .filter(story::Column::ConsentPublish.eq(true))
        .order_by_desc(story::Column::ModeratedAt)
        .limit(100)
        .all(db)
        .await?)
}

/// Stories `admin` moderates: waiting ones, or with `include_moderated` all but drafts.
pub async fn for_moderator(
    db: &DatabaseConnection,
    admin: &Admin,
    campaign_id: Option<Uuid>,
    include_moderated: bool,
) -> Result<Vec<story::Model>> {
    let mut query = story::Entity::find().filter(story::Column::Status.ne(status::DRAFT));
    if !include_moderated {
        query = query.filter(story::Column::Status.eq(status::SUBMITTED));
    }
    if let Some(id) = campaign_id {
        query = query.filter(story::Column::CampaignId.eq(id));
    }
    let stories = query
        .order_by_asc(story::Column::SubmittedAt)
        .limit(500)
        .all(db)
        .await?;
    Ok(stories
        .into_iter()
        .filter(|s| moderates(admin, &scope_of(s)))
        .collect())
}

/// A story (not a draft) `admin` moderates; NOT_FOUND for any other, so that a refusal tells
/// nobody what exists.
pub async fn moderated_by(
    db: &impl ConnectionTrait,
    admin: &Admin,
    id: Uuid,
) -> Result<story::Model> {
    story::Entity::find_by_id(id)
        .filter(story::Column::Status.ne(status::DRAFT))
        .one(db)
        .await?
        .filter(|s| moderates(admin, &scope_of(s)))
        .ok_or_else(|| Error::NotFound("story".into()))
}

/// Approves or rejects a submitted story, audited with the admin and reason. An approved story
/// shows on the campaign page when its teller consented to publication.
pub async fn moderate(
    db: &DatabaseConnection,
    outbox: &Outbox,
    admin: &Admin,
    id: Uuid,
    decision: Decision,
    reason: &str,
) -> Result<story::Model> {
    let txn = db.begin().await?;
    let found = moderated_by(&txn, admin, id).await?;
    if found.status != status::SUBMITTED {
        return Err(Error::FailedPrecondition(format!(
            "this story is {}, not waiting for moderation",
            found.status
        )));
    }
    let (action, new_status) = match decision {
        Decision::Approve => ("approved", status::APPROVED),
        Decision::Reject => ("rejected", status::REJECTED),
    };
    let mut model = story::ActiveModel::from(found);
    model.status = ActiveValue::Set(new_status.to_owned());
    model.moderated_at = ActiveValue::Set(Some(Utc::now()));
    let updated = model.update(&txn).await?;
    audit(&txn, id, action, &admin.identity.email, reason).await?;
    if decision == Decision::Approve && updated.consent_publish {
        let event = StoryPublished {
            story_id: id.to_string(),
            campaign_id: updated.campaign_id.to_string(),
        };
        outbox.enqueue(&txn, None, &event).await?;
    }
    outbox.commit(txn).await?;
    Ok(updated)
}

/// The teller's phone number for `admin` to call them: only with the teller's consent to be
/// contacted, and recorded (admin, reason) in the same transaction before it is returned.
pub async fn reveal_phone(
    db: &DatabaseConnection,
    keyring: &Keyring,
    admin: &Admin,
    id: Uuid,
    reason: &str,
) -> Result<SecretString> {
    let txn = db.begin().await?;
    let found = moderated_by(&txn, admin, id).await?;
    let sealed = match (&found.phone_sealed, found.consent_contact) {
        (Some(sealed), true) => Sealed::parse(sealed)?,
        _ => {
            return Err(Error::FailedPrecondition(
                "the teller did not agree to be contacted, or gave no phone number".into(),
            ));
        }
    };
    let phone = keyring.open(&sealed, &phone_context(id))?;
    audit(&txn, id, "phone_revealed", &admin.identity.email, reason).await?;
    txn.commit().await?;
    tracing::info!(story = %id, "a story's phone number was revealed to an admin");
    Ok(phone)
}

pub async fn audit_trail(db: &impl ConnectionTrait, id: Uuid) -> Result<Vec<story_audit::Model>> {
    Ok(story_audit::Entity::find()
        .filter(story_audit::Column::StoryId.eq(id))
        .order_by_asc(story_audit::Column::At)
        .order_by_asc(story_audit::Column::Id)
        .all(db)
        .await?)
}

async fn audit(
    db: &impl ConnectionTrait,
    story_id: Uuid,
    action: &str,
    actor: &str,
    reason: &str,
) -> std::result::Result<(), sea_orm::DbErr> {
    story_audit::Entity::insert(story_audit::ActiveModel {
        id: ActiveValue::Set(Uuid::now_v7()),
        story_id: ActiveValue::Set(story_id),
        action: ActiveValue::Set(action.to_owned()),
        actor: ActiveValue::Set(actor.to_owned()),
        reason: ActiveValue::Set(reason.to_owned()),
        at: ActiveValue::Set(Utc::now()),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub(crate) fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

/// Inserts a new story or updates a found one.
async fn store(
    db: &impl ConnectionTrait,
    model: story::ActiveModel,
    is_new: bool,
) -> std::result::Result<(), sea_orm::DbErr> {
    if is_new {
        story::Entity::insert(model)
            .exec_without_returning(db)
            .await?;
    } else {
        model.update(db).await?;
    }
    Ok(())
}
