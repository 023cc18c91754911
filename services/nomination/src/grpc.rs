//! NominationService over gRPC: converts requests into domain commands and results into messages.

use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};
use valued_platform::outbox::RelayHandle;
use valued_proto::nomination::v1 as pb;
use valued_proto::nomination::v1::nomination_service_server::NominationService;

use crate::db::entities::nomination;
use crate::db::queries::{self, CampaignView};
use crate::domain::{Band, NominationRequest, Relationship, StaffGroup};

pub struct NominationApi {
    pub db: DatabaseConnection,
    pub relay: RelayHandle,
    pub limits: queries::Limits,
}

#[tonic::async_trait]
impl NominationService for NominationApi {
    async fn list_campaigns(
        &self,
        _: Request<pb::ListCampaignsRequest>,
    ) -> Result<Response<pb::ListCampaignsResponse>, Status> {
        let campaigns = queries::list_campaigns(&self.db).await?;
        Ok(Response::new(pb::ListCampaignsResponse {
            campaigns: campaigns.into_iter().map(campaign).collect(),
        }))
    }

    async fn get_campaign(
        &self,
        request: Request<pb::GetCampaignRequest>,
    ) -> Result<Response<pb::GetCampaignResponse>, Status> {
        let view = queries::campaign_by_slug(&self.db, &request.into_inner().slug).await?;
        Ok(Response::new(pb::GetCampaignResponse {
            campaign: Some(campaign(view)),
        }))
    }

    async fn submit_nomination(
        &self,
        request: Request<pb::SubmitNominationRequest>,
    ) -> Result<Response<pb::SubmitNominationResponse>, Status> {
        let id = queries::submit(&self.db, &request.into_inner().into(), self.limits).await?;
        self.relay.wake();
        Ok(Response::new(pb::SubmitNominationResponse {
            nomination_id: id.to_string(),
        }))
    }

    async fn get_nominee(
        &self,
        request: Request<pb::GetNomineeRequest>,
    ) -> Result<Response<pb::GetNomineeResponse>, Status> {
        let (nominee, nomination_count) =
            queries::nominee(&self.db, &request.into_inner().nominee_id).await?;
        Ok(Response::new(pb::GetNomineeResponse {
            nominee: Some(pb::Nominee {
                id: nominee.id.to_string(),
                campaign_id: nominee.campaign_id.to_string(),
                trust_code: nominee.trust_code,
                name: nominee.name,
                nomination_count,
            }),
        }))
    }

    async fn get_nomination(
        &self,
        request: Request<pb::GetNominationRequest>,
    ) -> Result<Response<pb::GetNominationResponse>, Status> {
        let model = queries::nomination(&self.db, &request.into_inner().nomination_id).await?;
        Ok(Response::new(pb::GetNominationResponse {
            nomination: Some(to_message(model)),
        }))
    }

    async fn save_draft(
        &self,
        _request: Request<pb::SaveDraftRequest>,
    ) -> Result<Response<pb::SaveDraftResponse>, Status> {
        Err(Status::unimplemented("SaveDraft"))
    }

    async fn get_draft(
        &self,
        _request: Request<pb::GetDraftRequest>,
    ) -> Result<Response<pb::GetDraftResponse>, Status> {
        Err(Status::unimplemented("GetDraft"))
    }

    async fn confirm_nomination(
        &self,
        _request: Request<pb::ConfirmNominationRequest>,
    ) -> Result<Response<pb::ConfirmNominationResponse>, Status> {
        Err(Status::unimplemented("ConfirmNomination"))
    }

    async fn get_consent(
        &self,
        _request: Request<pb::GetConsentRequest>,
    ) -> Result<Response<pb::GetConsentResponse>, Status> {
        Err(Status::unimplemented("GetConsent"))
    }

    async fn record_consent(
        &self,
        _request: Request<pb::RecordConsentRequest>,
    ) -> Result<Response<pb::RecordConsentResponse>, Status> {
        Err(Status::unimplemented("RecordConsent"))
    }

    async fn list_recognised(
        &self,
        _request: Request<pb::ListRecognisedRequest>,
    ) -> Result<Response<pb::ListRecognisedResponse>, Status> {
        Err(Status::unimplemented("ListRecognised"))
    }

    async fn who_am_i(
        &self,
        _request: Request<pb::WhoAmIRequest>,
    ) -> Result<Response<pb::WhoAmIResponse>, Status> {
        Err(Status::unimplemented("WhoAmI"))
    }

    async fn list_moderation_queue(
        &self,
        _request: Request<pb::ListModerationQueueRequest>,
    ) -> Result<Response<pb::ListModerationQueueResponse>, Status> {
        Err(Status::unimplemented("ListModerationQueue"))
    }

    async fn moderate_nomination(
        &self,
        _request: Request<pb::ModerateNominationRequest>,
    ) -> Result<Response<pb::ModerateNominationResponse>, Status> {
        Err(Status::unimplemented("ModerateNomination"))
    }

    async fn list_audit_log(
        &self,
        _request: Request<pb::ListAuditLogRequest>,
    ) -> Result<Response<pb::ListAuditLogResponse>, Status> {
        Err(Status::unimplemented("ListAuditLog"))
    }

    async fn list_nominations(
        &self,
        _request: Request<pb::ListNominationsRequest>,
    ) -> Result<Response<pb::ListNominationsResponse>, Status> {
        Err(Status::unimplemented("ListNominations"))
    }

    async fn review_nominee_match(
        &self,
        _request: Request<pb::ReviewNomineeMatchRequest>,
    ) -> Result<Response<pb::ReviewNomineeMatchResponse>, Status> {
        Err(Status::unimplemented("ReviewNomineeMatch"))
    }

    async fn set_rubric(
        &self,
        _request: Request<pb::SetRubricRequest>,
    ) -> Result<Response<pb::SetRubricResponse>, Status> {
        Err(Status::unimplemented("SetRubric"))
    }

    async fn assign_judge(
        &self,
        _request: Request<pb::AssignJudgeRequest>,
    ) -> Result<Response<pb::AssignJudgeResponse>, Status> {
        Err(Status::unimplemented("AssignJudge"))
    }

    async fn list_judging_work(
        &self,
        _request: Request<pb::ListJudgingWorkRequest>,
    ) -> Result<Response<pb::ListJudgingWorkResponse>, Status> {
        Err(Status::unimplemented("ListJudgingWork"))
    }

    async fn score_nomination(
        &self,
        _request: Request<pb::ScoreNominationRequest>,
    ) -> Result<Response<pb::ScoreNominationResponse>, Status> {
        Err(Status::unimplemented("ScoreNomination"))
    }

    async fn declare_conflict(
        &self,
        _request: Request<pb::DeclareConflictRequest>,
    ) -> Result<Response<pb::DeclareConflictResponse>, Status> {
        Err(Status::unimplemented("DeclareConflict"))
    }

    async fn get_shortlist(
        &self,
        _request: Request<pb::GetShortlistRequest>,
    ) -> Result<Response<pb::GetShortlistResponse>, Status> {
        Err(Status::unimplemented("GetShortlist"))
    }

    async fn announce_finalists(
        &self,
        _request: Request<pb::AnnounceFinalistsRequest>,
    ) -> Result<Response<pb::AnnounceFinalistsResponse>, Status> {
        Err(Status::unimplemented("AnnounceFinalists"))
    }

    async fn announce_winner(
        &self,
        _request: Request<pb::AnnounceWinnerRequest>,
    ) -> Result<Response<pb::AnnounceWinnerResponse>, Status> {
        Err(Status::unimplemented("AnnounceWinner"))
    }

    async fn forward_winner(
        &self,
        _request: Request<pb::ForwardWinnerRequest>,
    ) -> Result<Response<pb::ForwardWinnerResponse>, Status> {
        Err(Status::unimplemented("ForwardWinner"))
    }
}

impl From<pb::SubmitNominationRequest> for NominationRequest {
    fn from(r: pb::SubmitNominationRequest) -> Self {
        Self {
            campaign_id: r.campaign_id,
            category_id: r.category_id,
            trust_code: r.trust_code,
            nominee_name: r.nominee_name,
            nominee_job_title: r.nominee_job_title,
            staff_group: r.staff_group,
            story: r.story,
            nominator_name: r.nominator_name,
            nominator_email: r.nominator_email,
            relationship: r.relationship,
            band: r.band,
        }
    }
}

fn choice(value: &str, label: &str) -> pb::Choice {
    pb::Choice {
        value: value.to_owned(),
        label: label.to_owned(),
    }
}

fn timestamp(at: Option<chrono::DateTime<chrono::Utc>>) -> Option<prost_types::Timestamp> {
    at.map(|at| prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    })
}

fn campaign(view: CampaignView) -> pb::Campaign {
    pb::Campaign {
        staff_groups: StaffGroup::ALL
            .iter()
            .map(|g| choice(g.slug(), g.label()))
            .collect(),
        relationships: Relationship::ALL
            .iter()
            .map(|r| choice(r.slug(), r.label()))
            .collect(),
        bands: Band::ALL
            .iter()
            .map(|b| choice(b.slug(), b.label()))
            .collect(),
        scope: view.campaign.scope.clone(),
        scope_code: view.campaign.scope_code.clone().unwrap_or_default(),
        nominations_open_at: timestamp(view.campaign.nominations_open_at),
        nominations_close_at: timestamp(view.campaign.nominations_close_at),
        id: view.campaign.id.to_string(),
        slug: view.campaign.slug,
        name: view.campaign.name,
        description: view.campaign.description,
        trusts: view
            .trusts
            .into_iter()
            .map(|t| pb::Trust {
                code: t.code,
                name: t.name,
                region: t.region,
            })
            .collect(),
        categories: view
            .categories
            .into_iter()
            .map(|c| pb::Category {
                id: c.id.to_string(),
                name: c.name,
                description: c.description,
                word_limit: u32::try_from(c.word_limit).unwrap_or_default(),
                eligible_bands: c
                    .eligible_bands
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                eligible_staff_groups: c
                    .eligible_staff_groups
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            })
            .collect(),
    }
}

fn to_message(n: nomination::Model) -> pb::Nomination {
    pb::Nomination {
        id: n.id.to_string(),
        campaign_id: n.campaign_id.to_string(),
        category_id: n.category_id.to_string(),
        trust_code: n.trust_code,
        nominee_name: n.nominee_name,
        nominee_job_title: n.nominee_job_title,
        staff_group: n.staff_group,
        story: n.story,
        nominator_name: n.nominator_name,
        nominator_email: n.nominator_email,
        relationship: n.relationship,
        status: n.status,
        nominee_id: n.nominee_id.map(|id| id.to_string()).unwrap_or_default(),
        band: n.band,
        ..Default::default()
    }
}
