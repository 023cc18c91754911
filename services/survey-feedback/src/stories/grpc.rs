//! StoryService over gRPC: requests parsed into domain types at the edge, every bad field named.

use std::sync::Arc;

use chrono::Duration;
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret;
use tonic::{Request, Response, Status};
use valued_platform::auth::roles::{Admin, Admins, Role};
use valued_platform::domain::FieldError;
use valued_platform::outbox::Outbox;
use valued_platform::sealed::Keyring;
use valued_proto::survey::v1 as pb;
use valued_proto::survey::v1::story_service_server::StoryService;

use super::domain::{
    Answers, AnswersRequest, Campaign, CampaignRequest, Decision, parse_reason, parse_story_id,
};
use super::entities::story;
use super::{StorySettings, timestamp};
use crate::error::Error;

pub struct StoryApi {
    pub db: DatabaseConnection,
    pub outbox: Outbox,
    pub keyring: Arc<Keyring>,
    pub settings: StorySettings,
    pub admins: Admins,
}

/// Every StoryService RPC an anonymous caller (a member of staff, through the gateway's pages)
/// may make, with why. Every other one needs an admin of the story's campaign.
pub const PUBLIC_RPCS: &[(&str, &str)] = &[
    (
        "/valued.survey.v1.StoryService/SaveStoryDraft",
        "anyone may start telling a story; a draft is reached only by its secret link",
    ),
    (
        "/valued.survey.v1.StoryService/GetStoryDraft",
        "the secret resume link is the capability; the phone number is never returned",
    ),
    (
        "/valued.survey.v1.StoryService/SubmitStory",
        "anyone may tell their story; it is shown only after moderation and with consent",
    ),
    (
        "/valued.survey.v1.StoryService/WithdrawStory",
        "the secret withdrawal link emailed to the teller is the capability",
    ),
    (
        "/valued.survey.v1.StoryService/ListPublishedStories",
        "the campaign page shows approved stories whose tellers consented to publication",
    ),
];

fn campaign(request: Option<pb::StoryCampaign>) -> Result<Campaign, Status> {
    let c = request.unwrap_or_default();
    Campaign::parse(&CampaignRequest {
        campaign_id: c.campaign_id,
        slug: c.slug,
        name: c.name,
        scope: c.scope,
        scope_code: c.scope_code,
    })
    .map_err(|errors| Error::Invalid(errors).into())
}

fn answers_request(a: Option<pb::StoryAnswers>) -> AnswersRequest {
    let a = a.unwrap_or_default();
    AnswersRequest {
        works_in_nhs: a.works_in_nhs,
        nhs_role: a.nhs_role,
        story: a.story,
        consent_publish: a.consent_publish,
        consent_press: a.consent_press,
        consent_mp: a.consent_mp,
        consent_contact: a.consent_contact,
        phone: a.phone,
        email: a.email,
    }
}

/// Both the campaign's and the answers' errors at once.
fn parsed(
    campaign_request: Option<pb::StoryCampaign>,
    answers: Result<Answers, Vec<FieldError>>,
) -> Result<(Campaign, Answers), Status> {
    let campaign = campaign(campaign_request);
    match (campaign, answers) {
        (Ok(c), Ok(a)) => Ok((c, a)),
        (Err(status), Ok(_)) => Err(status),
        (Ok(_), Err(errors)) => Err(Error::Invalid(errors).into()),
        (Err(_), Err(mut errors)) => {
            errors.insert(
                0,
                FieldError::new("campaign", "This campaign does not exist"),
            );
            Err(Error::Invalid(errors).into())
        }
    }
}

/// Whether `admin` moderates any campaign's stories at all: PERMISSION_DENIED naming `what` if not.
fn moderator(admin: &Admin, what: &str) -> Result<(), Status> {
    let moderates_some = admin.is_platform_admin()
        || admin
            .grants
            .iter()
            .any(|g| matches!(g.role, Role::TrustAdmin | Role::RegionAdmin));
    admin.require(moderates_some, what)
}

impl StoryApi {
    /// The story `story_id` names, if `admin` moderates it. A platform admin is told of a bad id
    /// (INVALID_ARGUMENT) or a missing story (NOT_FOUND, later); anyone else is refused
    /// (PERMISSION_DENIED naming `what`) any story not theirs, whether it exists or not, so that a
    /// refusal tells nobody what exists.
    async fn story_for(
        &self,
        admin: &Admin,
        story_id: &str,
        what: &str,
    ) -> Result<Option<uuid::Uuid>, Status> {
        moderator(admin, what)?;
        if admin.is_platform_admin() {
            return Ok(parse_story_id(story_id).ok());
        }
        let id = parse_story_id(story_id).ok();
        let theirs = match id {
            Some(id) => super::moderated_by(&self.db, admin, id).await.is_ok(),
            None => false,
        };
        admin.require(theirs, what)?;
        Ok(id)
    }
}

fn described(s: &story::Model) -> pb::StoryCampaign {
    pb::StoryCampaign {
        campaign_id: s.campaign_id.to_string(),
        slug: s.campaign_slug.clone(),
        name: s.campaign_name.clone(),
        scope: s.campaign_scope.clone(),
        scope_code: s.campaign_scope_code.clone(),
    }
}

#[tonic::async_trait]
impl StoryService for StoryApi {
    async fn save_story_draft(
        &self,
        request: Request<pb::SaveStoryDraftRequest>,
    ) -> Result<Response<pb::SaveStoryDraftResponse>, Status> {
        let r = request.into_inner();
        let answers = Answers::parse_draft(&answers_request(r.answers), r.email_link);
        let (campaign, answers) = parsed(r.campaign, answers)?;
        let lifetime = Duration::days(i64::from(self.settings.draft_days.max(1)));
        let saved = super::save_draft(
            &self.db,
            &self.outbox,
            &self.keyring,
            super::SaveDraft {
                token: Some(&r.draft_token),
                campaign: &campaign,
                answers: &answers,
                email_link: r.email_link,
                lifetime,
            },
        )
        .await?;
        Ok(Response::new(pb::SaveStoryDraftResponse {
            draft_token: saved.token,
            expires_at: Some(timestamp(saved.expires_at)),
        }))
    }

    async fn get_story_draft(
        &self,
        request: Request<pb::GetStoryDraftRequest>,
    ) -> Result<Response<pb::GetStoryDraftResponse>, Status> {
        let draft = super::load_draft(&self.db, &request.into_inner().draft_token).await?;
        Ok(Response::new(pb::GetStoryDraftResponse {
            campaign: Some(described(&draft)),
            answers: Some(pb::StoryAnswers {
                works_in_nhs: draft.works_in_nhs.clone(),
                nhs_role: draft.nhs_role.clone(),
                story: draft.story.clone(),
                consent_publish: draft.consent_publish,
                consent_press: draft.consent_press,
                consent_mp: draft.consent_mp,
                consent_contact: draft.consent_contact,
                phone: String::new(),
                email: draft.email.clone(),
            }),
            has_phone: draft.phone_sealed.is_some(),
            expires_at: draft.expires_at.map(timestamp),
        }))
    }

    async fn submit_story(
        &self,
        request: Request<pb::SubmitStoryRequest>,
    ) -> Result<Response<pb::SubmitStoryResponse>, Status> {
        let r = request.into_inner();
        let answers = Answers::parse_submission(&answers_request(r.answers));
        let (campaign, answers) = parsed(r.campaign, answers)?;
        let id = super::submit(
            &self.db,
            &self.outbox,
            &self.keyring,
            Some(&r.draft_token),
            &campaign,
            &answers,
        )
        .await?;
        Ok(Response::new(pb::SubmitStoryResponse {
            story_id: id.to_string(),
        }))
    }

    async fn withdraw_story(
        &self,
        request: Request<pb::WithdrawStoryRequest>,
    ) -> Result<Response<pb::WithdrawStoryResponse>, Status> {
        let token = request.into_inner().withdraw_token;
        if token.trim().is_empty() {
            return Err(Error::NotFound("story".into()).into());
        }
        super::withdraw(&self.db, &self.outbox, token.trim()).await?;
        Ok(Response::new(pb::WithdrawStoryResponse {}))
    }

    async fn list_published_stories(
        &self,
        request: Request<pb::ListPublishedStoriesRequest>,
    ) -> Result<Response<pb::ListPublishedStoriesResponse>, Status> {
        let campaign = campaign(request.into_inner().campaign)?;
        let stories = super::published(&self.db, &campaign)
            .await?
            .into_iter()
            .map(|s| pb::PublishedStory {
                story_id: s.id.to_string(),
                nhs_role: s.nhs_role,
                story: s.story,
                published_at: s.moderated_at.map(timestamp),
            })
            .collect();
        Ok(Response::new(pb::ListPublishedStoriesResponse { stories }))
    }

    async fn list_stories(
        &self,
        request: Request<pb::ListStoriesRequest>,
    ) -> Result<Response<pb::ListStoriesResponse>, Status> {
        let admin = self.admins.admin(&request).await?;
        moderator(&admin, "moderate stories")?;
        let r = request.into_inner();
        let campaign_id = if r.campaign_id.trim().is_empty() {
            None
        } else {
            Some(r.campaign_id.trim().parse().map_err(|_| {
                Error::Invalid(vec![FieldError::new(
                    "campaign_id",
                    "This campaign does not exist",
                )])
            })?)
        };
        let stories = super::for_moderator(&self.db, &admin, campaign_id, r.include_moderated)
            .await?
            .into_iter()
            .map(|s| pb::StorySummary {
                story_id: s.id.to_string(),
                campaign: Some(described(&s)),
                status: s.status.clone(),
                works_in_nhs: s.works_in_nhs.clone(),
                nhs_role: s.nhs_role.clone(),
                story: s.story.clone(),
                consent_publish: s.consent_publish,
                consent_press: s.consent_press,
                consent_mp: s.consent_mp,
                consent_contact: s.consent_contact,
                has_phone: s.phone_sealed.is_some(),
                submitted_at: s.submitted_at.map(timestamp),
            })
            .collect();
        Ok(Response::new(pb::ListStoriesResponse { stories }))
    }

    async fn moderate_story(
        &self,
        request: Request<pb::ModerateStoryRequest>,
    ) -> Result<Response<pb::ModerateStoryResponse>, Status> {
        let admin = self.admins.admin(&request).await?;
        let r = request.into_inner();
        self.story_for(&admin, &r.story_id, "moderate this story")
            .await?;
        let mut errors = valued_platform::domain::FieldErrors::new();
        let id = errors.check(parse_story_id(&r.story_id));
        let decision = errors.check(Decision::parse(&r.decision));
        let reason = errors.check(parse_reason(&r.reason, decision == Some(Decision::Reject)));
        errors.into_result().map_err(Error::Invalid)?;
        let (Some(id), Some(decision), Some(reason)) = (id, decision, reason) else {
            return Err(Status::invalid_argument("incomplete request"));
        };
        let updated =
            super::moderate(&self.db, &self.outbox, &admin, id, decision, &reason).await?;
        let published = updated.status == super::status::APPROVED && updated.consent_publish;
        Ok(Response::new(pb::ModerateStoryResponse {
            status: updated.status,
            published,
        }))
    }

    async fn reveal_story_phone(
        &self,
        request: Request<pb::RevealStoryPhoneRequest>,
    ) -> Result<Response<pb::RevealStoryPhoneResponse>, Status> {
        let admin = self.admins.admin(&request).await?;
        let r = request.into_inner();
        self.story_for(&admin, &r.story_id, "see this story's phone number")
            .await?;
        let mut errors = valued_platform::domain::FieldErrors::new();
        let id = errors.check(parse_story_id(&r.story_id));
        let reason = errors.check(parse_reason(&r.reason, true));
        errors.into_result().map_err(Error::Invalid)?;
        let (Some(id), Some(reason)) = (id, reason) else {
            return Err(Status::invalid_argument("incomplete request"));
        };
        let phone = super::reveal_phone(&self.db, &self.keyring, &admin, id, &reason).await?;
        Ok(Response::new(pb::RevealStoryPhoneResponse {
            phone: phone.expose_secret().to_owned(),
        }))
    }

    async fn list_story_audit(
        &self,
        request: Request<pb::ListStoryAuditRequest>,
    ) -> Result<Response<pb::ListStoryAuditResponse>, Status> {
        let admin = self.admins.admin(&request).await?;
        let what = "see this story's audit trail";
        let Some(id) = self
            .story_for(&admin, &request.get_ref().story_id, what)
            .await?
        else {
            let error = FieldError::new("story_id", "This story does not exist");
            return Err(Error::Invalid(vec![error]).into());
        };
        super::moderated_by(&self.db, &admin, id).await?;
        let entries = super::audit_trail(&self.db, id)
            .await?
            .into_iter()
            .map(|e| pb::StoryAuditEntry {
                action: e.action,
                actor: e.actor,
                reason: e.reason,
                at: Some(timestamp(e.at)),
            })
            .collect();
        Ok(Response::new(pb::ListStoryAuditResponse { entries }))
    }
}
