//! A stand-in for the nomination service: answers the public calls the pages make from what a test
//! put in its state, records what it was sent, and refuses everything else.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tonic::{Request, Response, Status};
use valued_platform::domain::FieldError;
use valued_platform::grpc::invalid_argument;
use valued_proto::nomination::v1::nomination_service_server::{
    NominationService, NominationServiceServer,
};
use valued_proto::nomination::v1::*;

#[derive(Default)]
pub struct State {
    pub campaign: Campaign,
    /// What SubmitNomination refuses, field by field; empty: it accepts.
    pub refuse: Vec<FieldError>,
    /// How SubmitNomination fails before it answers, one status a call, first to last (a service
    /// restarting, or too busy).
    pub fail_submissions: std::collections::VecDeque<Status>,
    /// Every SubmitNomination call, answered or not.
    pub submit_calls: Vec<SubmitNominationRequest>,
    pub submitted: Vec<SubmitNominationRequest>,
    pub saved: Vec<SaveDraftRequest>,
    /// Saved drafts by token.
    pub drafts: HashMap<String, SubmitNominationRequest>,
    /// Confirmation tokens and the nominee each names; a used one is in `confirmed`.
    pub confirm_tokens: HashMap<String, String>,
    pub confirmed: Vec<String>,
    pub consents: HashMap<String, GetConsentResponse>,
    pub recorded: Vec<RecordConsentRequest>,
    /// Consent links whose holder said "this is not me".
    pub disowned: Vec<String>,
    /// Claim links by token, and what ClaimNominee refuses (field by field; empty: it accepts).
    pub claims: HashMap<String, GetNomineeClaimResponse>,
    pub refuse_claim: Vec<FieldError>,
    pub claimed: Vec<ClaimNomineeRequest>,
}

#[derive(Clone, Default)]
pub struct FakeNomination(Arc<Mutex<State>>);

impl FakeNomination {
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap()
    }

    /// Serves on a free port; returns its URL.
    pub async fn serve(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let service = NominationServiceServer::new(self.clone());
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
        );
        format!("http://{address}")
    }
}

type Answer<T> = Result<Response<T>, Status>;

/// A stand-in's impl of a service's trait: the methods given, and every other one refused as
/// UNIMPLEMENTED.
macro_rules! service {
    ($fake:ident: $service:ident { $($answered:tt)* } refused { $($name:ident: $request:ty => $response:ty;)* }) => {
        #[tonic::async_trait]
        impl $service for $fake {
            $($answered)*
            $(async fn $name(&self, _: tonic::Request<$request>) -> Result<tonic::Response<$response>, tonic::Status> {
                Err(tonic::Status::unimplemented(stringify!($name)))
            })*
        }
    };
}
pub(crate) use service;

service! { FakeNomination: NominationService {
    async fn get_campaign(&self, request: Request<GetCampaignRequest>) -> Answer<GetCampaignResponse> {
        let campaign = self.state().campaign.clone();
        if request.into_inner().slug == campaign.slug {
            Ok(Response::new(GetCampaignResponse {
                campaign: Some(campaign),
            }))
        } else {
            Err(Status::not_found("no such campaign"))
        }
    }

    async fn list_campaigns(&self, _: Request<ListCampaignsRequest>) -> Answer<ListCampaignsResponse> {
        Ok(Response::new(ListCampaignsResponse {
            campaigns: vec![self.state().campaign.clone()],
        }))
    }

    async fn submit_nomination(
        &self,
        request: Request<SubmitNominationRequest>,
    ) -> Answer<SubmitNominationResponse> {
        let mut state = self.state();
        let request = request.into_inner();
        state.submit_calls.push(request.clone());
        if let Some(failure) = state.fail_submissions.pop_front() {
            return Err(failure);
        }
        if !state.refuse.is_empty() {
            return Err(invalid_argument(&state.refuse));
        }
        state.drafts.remove(&request.draft_token);
        state.submitted.push(request);
        Ok(Response::new(SubmitNominationResponse {
            nomination_id: "0193a1b2-0000-7000-8000-00000000abcd".into(),
        }))
    }

    async fn save_draft(&self, request: Request<SaveDraftRequest>) -> Answer<SaveDraftResponse> {
        let request = request.into_inner();
        let answers = request.answers.clone().unwrap_or_default();
        if request.email_resume_link && !answers.nominator_email.contains('@') {
            return Err(invalid_argument(&[FieldError::new(
                "nominator_email",
                "Enter an email address in the correct format, like name@example.com",
            )]));
        }
        let mut state = self.state();
        let token = if request.draft_token.is_empty() {
            format!("draft-{}", state.saved.len() + 1)
        } else if state.drafts.contains_key(&request.draft_token) {
            request.draft_token.clone()
        } else {
            return Err(Status::not_found("no such draft"));
        };
        state.drafts.insert(token.clone(), answers);
        state.saved.push(request);
        Ok(Response::new(SaveDraftResponse {
            draft_token: token,
            expires_at: Some(prost_types::Timestamp {
                seconds: 1_900_000_000,
                nanos: 0,
            }),
        }))
    }

    async fn get_draft(&self, request: Request<GetDraftRequest>) -> Answer<GetDraftResponse> {
        let state = self.state();
        let answers = state
            .drafts
            .get(&request.into_inner().draft_token)
            .cloned()
            .ok_or_else(|| Status::not_found("no such draft"))?;
        Ok(Response::new(GetDraftResponse {
            answers: Some(answers),
            campaign_slug: state.campaign.slug.clone(),
            expires_at: None,
        }))
    }

    async fn confirm_nomination(
        &self,
        request: Request<ConfirmNominationRequest>,
    ) -> Answer<ConfirmNominationResponse> {
        let token = request.into_inner().confirm_token;
        let mut state = self.state();
        let nominee_name = state
            .confirm_tokens
            .get(&token)
            .cloned()
            .ok_or_else(|| Status::not_found("no such nomination"))?;
        let newly_confirmed = !state.confirmed.contains(&token);
        state.confirmed.push(token);
        Ok(Response::new(ConfirmNominationResponse {
            nomination_id: "n1".into(),
            campaign_slug: state.campaign.slug.clone(),
            nominee_name,
            newly_confirmed,
        }))
    }

    async fn get_consent(&self, request: Request<GetConsentRequest>) -> Answer<GetConsentResponse> {
        self.state()
            .consents
            .get(&request.into_inner().consent_token)
            .cloned()
            .map(Response::new)
            .ok_or_else(|| Status::not_found("no such nominee"))
    }

    async fn record_consent(
        &self,
        request: Request<RecordConsentRequest>,
    ) -> Answer<RecordConsentResponse> {
        let request = request.into_inner();
        let mut state = self.state();
        if !state.consents.contains_key(&request.consent_token) {
            return Err(Status::not_found("no such nominee"));
        }
        state.recorded.push(request);
        Ok(Response::new(RecordConsentResponse {}))
    }

    async fn disown_consent_link(
        &self,
        request: Request<DisownConsentLinkRequest>,
    ) -> Answer<DisownConsentLinkResponse> {
        let token = request.into_inner().consent_token;
        let mut state = self.state();
        match state.consents.get(&token) {
            None => Err(Status::not_found("no such consent link")),
            Some(nominee) if nominee.answered => Err(Status::failed_precondition(
                "This link has been used to answer already",
            )),
            Some(_) => {
                state.consents.remove(&token);
                state.disowned.push(token);
                Ok(Response::new(DisownConsentLinkResponse {}))
            }
        }
    }

    async fn get_nominee_claim(
        &self,
        request: Request<GetNomineeClaimRequest>,
    ) -> Answer<GetNomineeClaimResponse> {
        self.state()
            .claims
            .get(&request.into_inner().claim_token)
            .cloned()
            .map(Response::new)
            .ok_or_else(|| Status::not_found("no such claim link"))
    }

    async fn claim_nominee(
        &self,
        request: Request<ClaimNomineeRequest>,
    ) -> Answer<ClaimNomineeResponse> {
        let request = request.into_inner();
        let mut state = self.state();
        if !state.claims.contains_key(&request.claim_token) {
            return Err(Status::not_found("no such claim link"));
        }
        if !state.refuse_claim.is_empty() {
            return Err(invalid_argument(&state.refuse_claim));
        }
        state.claimed.push(request);
        Ok(Response::new(ClaimNomineeResponse {}))
    }

} refused {
        get_nomination: GetNominationRequest => GetNominationResponse;
        get_nominee: GetNomineeRequest => GetNomineeResponse;
        list_recognised: ListRecognisedRequest => ListRecognisedResponse;
        request_sign_in_link: RequestSignInLinkRequest => RequestSignInLinkResponse;
        create_campaign: CreateCampaignRequest => CreateCampaignResponse;
        update_campaign: UpdateCampaignRequest => UpdateCampaignResponse;
        get_trust_settings: GetTrustSettingsRequest => GetTrustSettingsResponse;
        add_campaign_item: AddCampaignItemRequest => AddCampaignItemResponse;
        remove_campaign_item: RemoveCampaignItemRequest => RemoveCampaignItemResponse;
        get_campaign_file: GetCampaignFileRequest => GetCampaignFileResponse;
        add_learning_route: AddLearningRouteRequest => AddLearningRouteResponse;
        remove_learning_route: RemoveLearningRouteRequest => RemoveLearningRouteResponse;
        list_learning_routes: ListLearningRoutesRequest => ListLearningRoutesResponse;
        open_learning_route: OpenLearningRouteRequest => OpenLearningRouteResponse;
        add_trust_learning_route: AddTrustLearningRouteRequest => AddTrustLearningRouteResponse;
        remove_trust_learning_route: RemoveTrustLearningRouteRequest => RemoveTrustLearningRouteResponse;
        list_trust_learning_routes: ListTrustLearningRoutesRequest => ListTrustLearningRoutesResponse;
        set_trust_settings: SetTrustSettingsRequest => SetTrustSettingsResponse;
        add_trust_site: AddTrustSiteRequest => AddTrustSiteResponse;
        remove_trust_site: RemoveTrustSiteRequest => RemoveTrustSiteResponse;
        start_organisations_import: StartOrganisationsImportRequest => StartOrganisationsImportResponse;
        get_organisations_import: GetOrganisationsImportRequest => GetOrganisationsImportResponse;
        redeem_sign_in_link: RedeemSignInLinkRequest => RedeemSignInLinkResponse;
        who_am_i: WhoAmIRequest => WhoAmIResponse;
        list_moderation_queue: ListModerationQueueRequest => ListModerationQueueResponse;
        moderate_nomination: ModerateNominationRequest => ModerateNominationResponse;
        list_audit_log: ListAuditLogRequest => ListAuditLogResponse;
        list_nominations: ListNominationsRequest => ListNominationsResponse;
        review_nominee_match: ReviewNomineeMatchRequest => ReviewNomineeMatchResponse;
        set_rubric: SetRubricRequest => SetRubricResponse;
        get_rubric: GetRubricRequest => GetRubricResponse;
        assign_judge: AssignJudgeRequest => AssignJudgeResponse;
        list_judging_work: ListJudgingWorkRequest => ListJudgingWorkResponse;
        score_nomination: ScoreNominationRequest => ScoreNominationResponse;
        declare_conflict: DeclareConflictRequest => DeclareConflictResponse;
        get_shortlist: GetShortlistRequest => GetShortlistResponse;
        announce_finalists: AnnounceFinalistsRequest => AnnounceFinalistsResponse;
        announce_winner: AnnounceWinnerRequest => AnnounceWinnerResponse;
        forward_winner: ForwardWinnerRequest => ForwardWinnerResponse;
        list_role_grants: ListRoleGrantsRequest => ListRoleGrantsResponse;
        grant_role: GrantRoleRequest => GrantRoleResponse;
        revoke_role: RevokeRoleRequest => RevokeRoleResponse;
        export_person: ExportPersonRequest => ExportPersonResponse;
        request_erasure: RequestErasureRequest => RequestErasureResponse;
        get_erasure_progress: GetErasureProgressRequest => GetErasureProgressResponse;
        list_erasure_requests: ListErasureRequestsRequest => ListErasureRequestsResponse;
        get_insight: GetInsightRequest => GetInsightResponse;
}}

fn choices(pairs: &[(&str, &str)]) -> Vec<Choice> {
    pairs
        .iter()
        .map(|(value, label)| Choice {
            value: (*value).into(),
            label: (*label).into(),
        })
        .collect()
}

/// An open campaign, `health-heroes`, with two trusts and two categories.
pub fn campaign() -> Campaign {
    let category = |id: &str, name: &str, word_limit| Category {
        id: id.into(),
        name: name.into(),
        description: format!("{name}, described"),
        word_limit,
        ..Category::default()
    };
    let trust = |code: &str, name: &str, region: &str| Trust {
        code: code.into(),
        name: name.into(),
        region: region.into(),
        sites: Vec::new(),
    };
    Campaign {
        id: "0193a1b2-0000-7000-8000-000000000001".into(),
        slug: "health-heroes".into(),
        name: "Health Heroes 2026".into(),
        trusts: vec![
            trust("RRK", "University Hospitals Birmingham", "Midlands"),
            trust("RJ1", "Guy's and St Thomas'", "London"),
        ],
        categories: vec![
            category("cat-unsung", "Unsung hero", 300),
            category("cat-team", "Team player", 5),
        ],
        staff_groups: choices(&[
            ("estates-and-ancillary", "Estates and ancillary"),
            ("other", "Another support role"),
        ]),
        relationships: choices(&[
            ("colleague", "I work with them"),
            ("public", "Member of the public"),
        ]),
        bands: choices(&[("band-1", "Band 1"), ("not-sure", "I'm not sure")]),
        ..Campaign::default()
    }
}

/// The gateway in front of a fake nomination service that serves `campaign()`.
pub async fn spawn() -> (crate::helpers::TestApp, FakeNomination) {
    let fake = FakeNomination::default();
    fake.state().campaign = campaign();
    let url = fake.serve().await;
    let app = crate::helpers::spawn_app_with_peers(valued_gateway::Settings::default(), url).await;
    (app, fake)
}
