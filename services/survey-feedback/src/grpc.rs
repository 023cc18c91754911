//! SurveyService over gRPC: converts requests into domain commands and results into messages.

use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};
use valued_platform::auth::roles::Admins;
use valued_platform::outbox::Outbox;
use valued_proto::survey::v1 as pb;
use valued_proto::survey::v1::survey_service_server::SurveyService;

use crate::db::queries;
use crate::domain::{
    NewResponse, NewSurvey, ResponseRequest, SurveyRequest, parse_survey_id, summarise,
};
use crate::error::Error;

/// Anyone may answer through the web; creating surveys and reading summaries is for platform
/// admins, checked here against this service's copy of the grants.
pub struct SurveyApi {
    pub db: DatabaseConnection,
    pub outbox: Outbox,
    pub minimum_group_size: u32,
    pub admins: Admins,
}

/// Every RPC an anonymous caller (a member of staff, through the gateway's pages) may make, with why.
/// Reviewed list: every other RPC needs a signed-in admin.
pub const PUBLIC_RPCS: &[(&str, &str)] = &[(
    "/valued.survey.v1.SurveyService/SubmitResponse",
    "staff answer anonymously; nothing identifying is stored",
)];

#[tonic::async_trait]
impl SurveyService for SurveyApi {
    async fn create_survey(
        &self,
        request: Request<pb::CreateSurveyRequest>,
    ) -> Result<Response<pb::CreateSurveyResponse>, Status> {
        self.admins
            .platform_admin(&request, "create surveys")
            .await?;
        let survey = NewSurvey::parse(&request.into_inner().into()).map_err(Error::Invalid)?;
        let id = queries::create_survey(&self.db, &survey).await?;
        Ok(Response::new(pb::CreateSurveyResponse {
            survey_id: id.to_string(),
        }))
    }

    async fn submit_response(
        &self,
        request: Request<pb::SubmitResponseRequest>,
    ) -> Result<Response<pb::SubmitResponseResponse>, Status> {
        let response = NewResponse::parse(&request.into_inner().into()).map_err(Error::Invalid)?;
        let id = queries::submit_response(&self.db, &self.outbox, &response).await?;
        Ok(Response::new(pb::SubmitResponseResponse {
            response_id: id.to_string(),
        }))
    }

    async fn get_summary(
        &self,
        request: Request<pb::GetSummaryRequest>,
    ) -> Result<Response<pb::GetSummaryResponse>, Status> {
        self.admins
            .platform_admin(&request, "read survey results")
            .await?;
        let survey_id = parse_survey_id(&request.into_inner().survey_id)
            .map_err(|error| Error::Invalid(vec![error]))?;
        let survey = queries::survey(&self.db, survey_id).await?;
        let counts = queries::group_counts(&self.db, survey_id).await?;
        let groups = summarise(&counts, self.minimum_group_size)
            .into_iter()
            .map(|g| pb::GroupSummary {
                staff_group: g.group.slug().to_owned(),
                suppressed: g.suppressed,
                responses: g.responses,
                mean_score: g.mean_score,
                label: g.group.label().to_owned(),
            })
            .collect();
        Ok(Response::new(pb::GetSummaryResponse {
            survey_id: survey.id.to_string(),
            question: survey.question,
            groups,
            minimum_group_size: self.minimum_group_size,
        }))
    }
}

impl From<pb::CreateSurveyRequest> for SurveyRequest {
    fn from(r: pb::CreateSurveyRequest) -> Self {
        Self {
            title: r.title,
            question: r.question,
        }
    }
}

impl From<pb::SubmitResponseRequest> for ResponseRequest {
    fn from(r: pb::SubmitResponseRequest) -> Self {
        Self {
            survey_id: r.survey_id,
            staff_group: r.staff_group,
            score: r.score,
        }
    }
}
