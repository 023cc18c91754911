//! People's data through the pages: a platform admin downloads everything Valued holds about an
//! address (the real nomination service's part, and stand-ins' for voting and notification), and
//! erases a person after a confirmation page, then follows the request. Nobody else gets anywhere.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tonic::{Request, Response, Status};
use valued_nomination::auth::Role;
use valued_nomination::db::entities::audit_log;
use valued_proto::notification::v1::notification_service_server::{
    NotificationService, NotificationServiceServer,
};
use valued_proto::notification::v1::*;
use valued_proto::survey::v1::feedback_service_server::{FeedbackService, FeedbackServiceServer};
use valued_proto::survey::v1::{
    FeedbackExportPersonRequest, FeedbackExportPersonResponse, ListBoardRequest, ListBoardResponse,
    ListTrustSuggestionsRequest, ListTrustSuggestionsResponse, ModerateSuggestionRequest,
    ModerateSuggestionResponse, PostSuggestionRequest, PostSuggestionResponse,
    SetSuggestionStatusRequest, SetSuggestionStatusResponse, SupportSuggestionRequest,
    SupportSuggestionResponse,
};
use valued_proto::voting::v1::voting_service_server::{VotingService, VotingServiceServer};
use valued_proto::voting::v1::{
    CastVoteRequest, CastVoteResponse, CreateBallotRequest, CreateBallotResponse,
    DecideHeldVotesRequest, DecideHeldVotesResponse, ExportLedgerRequest, ExportLedgerResponse,
    FindReceiptRequest, FindReceiptResponse, GetCampaignResultsRequest, GetCampaignResultsResponse,
    GetTallyRequest, GetTallyResponse, GetTurnoutRequest, GetTurnoutResponse,
    GetVoteEligibilityRequest, GetVoteEligibilityResponse, GetVoterStatusRequest,
    GetVoterStatusResponse, ListCampaignBallotsRequest, ListCampaignBallotsResponse,
    ListHeldVotesRequest, ListHeldVotesResponse, RequestVoterVerificationRequest,
    RequestVoterVerificationResponse, ScheduleVoteRequest, ScheduleVoteResponse,
    SetVoteEligibilityRequest, SetVoteEligibilityResponse, VerifyLedgerRequest,
    VerifyLedgerResponse, VerifyVoterRequest, VerifyVoterResponse,
};

use super::{Admin, PLATFORM_ADMIN, csrf, location, spawn_peers};
use crate::fake::service;

const PRIVACY: &str = "/admin/privacy";
const ALEX: &str = "alex.jones@example.org";

type Answer<T> = Result<Response<T>, Status>;

/// Serves `service` on a free port; its URL.
async fn serve<S>(service: S) -> String
where
    S: tonic::codegen::Service<
            axum::http::Request<tonic::body::Body>,
            Response = axum::http::Response<tonic::body::Body>,
            Error = std::convert::Infallible,
        > + tonic::server::NamedService
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    format!("http://{address}")
}

/// Answers ExportPerson with one email to whoever is asked about; records who was asked about.
#[derive(Clone, Default)]
struct FakeNotification {
    asked: Arc<Mutex<Vec<String>>>,
}

service! { FakeNotification: NotificationService {
    async fn export_person(&self, request: Request<ExportPersonRequest>) -> Answer<ExportPersonResponse> {
        let email = request.into_inner().email;
        self.asked.lock().unwrap().push(email.clone());
        let held = serde_json::json!({
            "emails_to_them": [{
                "template": "nomination_received",
                "subject": "Confirm your nomination",
                "text_body": "Confirm at https://valued.example.org/confirm/[token removed]",
                "status": "sent",
            }],
            "letters_to_mps": [],
            "email_preferences": [],
            "suppression": [],
        });
        Ok(Response::new(ExportPersonResponse { json: held.to_string() }))
    }
} refused {
    list_deliveries: ListDeliveriesRequest => ListDeliveriesResponse;
    get_unsubscribe: GetUnsubscribeRequest => GetUnsubscribeResponse;
    unsubscribe: UnsubscribeRequest => UnsubscribeResponse;
    find_mp: FindMpRequest => FindMpResponse;
    write_to_mp: WriteToMpRequest => WriteToMpResponse;
    confirm_mp_letter: ConfirmMpLetterRequest => ConfirmMpLetterResponse;
    get_mp_letter_wording: GetMpLetterWordingRequest => GetMpLetterWordingResponse;
    set_mp_letter_wording: SetMpLetterWordingRequest => SetMpLetterWordingResponse;
    count_mp_letters: CountMpLettersRequest => CountMpLettersResponse;
    import_mps: ImportMpsRequest => ImportMpsResponse;
    list_held_letters: ListHeldLettersRequest => ListHeldLettersResponse;
    review_held_letter: ReviewHeldLetterRequest => ReviewHeldLetterResponse;
    list_mp_emails: ListDeliveriesRequest => ListDeliveriesResponse;
    preview_templates: PreviewTemplatesRequest => PreviewTemplatesResponse;
    list_held_letter_decisions: ListHeldLetterDecisionsRequest => ListHeldLetterDecisionsResponse;
}}

/// Answers ExportPerson with one vote.
#[derive(Clone, Default)]
struct FakeVoting;

service! { FakeVoting: VotingService {
    async fn export_person(
        &self,
        _: Request<valued_proto::voting::v1::ExportPersonRequest>,
    ) -> Answer<valued_proto::voting::v1::ExportPersonResponse> {
        let held = serde_json::json!({ "votes": [{ "ballot": "Team of the year", "choice_id": "porters" }] });
        Ok(Response::new(valued_proto::voting::v1::ExportPersonResponse { json: held.to_string() }))
    }
} refused {
    create_ballot: CreateBallotRequest => CreateBallotResponse;
    cast_vote: CastVoteRequest => CastVoteResponse;
    get_tally: GetTallyRequest => GetTallyResponse;
    verify_ledger: VerifyLedgerRequest => VerifyLedgerResponse;
    export_ledger: ExportLedgerRequest => ExportLedgerResponse;
    list_campaign_ballots: ListCampaignBallotsRequest => ListCampaignBallotsResponse;
    request_voter_verification: RequestVoterVerificationRequest => RequestVoterVerificationResponse;
    verify_voter: VerifyVoterRequest => VerifyVoterResponse;
    get_voter_status: GetVoterStatusRequest => GetVoterStatusResponse;
    schedule_vote: ScheduleVoteRequest => ScheduleVoteResponse;
    get_turnout: GetTurnoutRequest => GetTurnoutResponse;
    get_campaign_results: GetCampaignResultsRequest => GetCampaignResultsResponse;
    find_receipt: FindReceiptRequest => FindReceiptResponse;
    set_vote_eligibility: SetVoteEligibilityRequest => SetVoteEligibilityResponse;
    get_vote_eligibility: GetVoteEligibilityRequest => GetVoteEligibilityResponse;
    list_held_votes: ListHeldVotesRequest => ListHeldVotesResponse;
    decide_held_votes: DecideHeldVotesRequest => DecideHeldVotesResponse;
}}

/// Answers ExportPerson with one suggestion.
#[derive(Clone, Default)]
struct FakeFeedback;

service! { FakeFeedback: FeedbackService {
    async fn export_person(
        &self,
        _: Request<FeedbackExportPersonRequest>,
    ) -> Answer<FeedbackExportPersonResponse> {
        let held = serde_json::json!({ "suggestions_posted": [{ "text": "More lockers" }], "suggestions_supported": [] });
        Ok(Response::new(FeedbackExportPersonResponse { json: held.to_string() }))
    }
} refused {
    post_suggestion: PostSuggestionRequest => PostSuggestionResponse;
    list_board: ListBoardRequest => ListBoardResponse;
    support_suggestion: SupportSuggestionRequest => SupportSuggestionResponse;
    list_trust_suggestions: ListTrustSuggestionsRequest => ListTrustSuggestionsResponse;
    moderate_suggestion: ModerateSuggestionRequest => ModerateSuggestionResponse;
    set_suggestion_status: SetSuggestionStatusRequest => SetSuggestionStatusResponse;
}}

/// The gateway with the real nomination service and the stand-ins (voting's also answering for
/// survey-feedback's suggestion box); the stand-in for notification.
async fn spawn() -> (Admin, FakeNotification) {
    let notification = FakeNotification::default();
    let notification_url = serve(NotificationServiceServer::new(notification.clone())).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let voting = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(VotingServiceServer::new(FakeVoting))
            .add_service(FeedbackServiceServer::new(FakeFeedback))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    (
        spawn_peers(true, &notification_url, &voting).await,
        notification,
    )
}

impl Admin {
    /// The audit entries `actor` has made, other than binding their roles at sign-in.
    async fn audited(&self, actor: &str) -> Vec<audit_log::Model> {
        audit_log::Entity::find()
            .filter(audit_log::Column::Actor.eq(actor))
            .filter(audit_log::Column::Action.ne("bind_role"))
            .all(&self.db)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn only_a_platform_admin_reaches_peoples_data() {
    let (admin, notification) = spawn().await;
    let moderator = "moderator.rj1@valued.example.org";
    admin.grant(moderator, Role::TrustAdmin, "RJ1").await;
    let theirs = admin.sign_in(moderator).await;
    let home = admin.page(&theirs, "/admin", StatusCode::OK).await;
    assert!(!home.contains(PRIVACY), "{home}");
    let refused = admin.page(&theirs, PRIVACY, StatusCode::FORBIDDEN).await;
    assert!(refused.contains("You do not have permission to see this page"));

    // Their forms, with a CSRF token of their own, get nowhere either.
    let token = csrf(&home);
    for (path, field) in [
        ("/admin/privacy/export", "export_email"),
        ("/admin/privacy/erase", "erase_email"),
        ("/admin/privacy/erasures", "email"),
    ] {
        let response = admin.post(&theirs, path, &token, &[(field, ALEX)]).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "POST {path}");
    }
    admin
        .page(
            &theirs,
            "/admin/privacy/erasures/0193a1b2-0000-7000-8000-000000000001",
            StatusCode::FORBIDDEN,
        )
        .await;
    assert!(notification.asked.lock().unwrap().is_empty());
    assert!(admin.audited(moderator).await.is_empty());
}

#[tokio::test]
async fn a_platform_admin_downloads_what_valued_holds_about_a_person() {
    let (mut admin, notification) = spawn().await;
    let trust = admin.campaign.trusts[0].code.clone();
    admin
        .confirmed_by(&trust, "Sam Patel", "Sam always finds a wheelchair.", ALEX)
        .await;
    let browser = admin.sign_in(PLATFORM_ADMIN).await;
    let home = admin.page(&browser, "/admin", StatusCode::OK).await;
    assert!(home.contains("href=\"/admin/privacy\""), "{home}");
    let page = admin.page(&browser, PRIVACY, StatusCode::OK).await;
    assert!(page.contains("Nobody has been erased yet"), "{page}");
    let token = csrf(&page);

    // A bad address: the page again, the error by its input, nothing asked of any service.
    let bad = admin
        .post(
            &browser,
            "/admin/privacy/export",
            &token,
            &[("export_email", "not an email")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body = bad.text().await.unwrap();
    for shown in [
        "There is a problem",
        "href=\"#export_email\"",
        "id=\"export_email-error\"",
        "value=\"not an email\"",
    ] {
        assert!(body.contains(shown), "{shown}: {body}");
    }
    assert!(notification.asked.lock().unwrap().is_empty());

    let file = admin
        .post(
            &browser,
            "/admin/privacy/export",
            &token,
            &[("export_email", " Alex.Jones@Example.org ")],
        )
        .await;
    assert_eq!(file.status(), StatusCode::OK);
    let disposition = file.headers()["content-disposition"].to_str().unwrap();
    let today = chrono::Utc::now().format("%Y-%m-%d");
    assert_eq!(
        disposition,
        format!("attachment; filename=\"valued-subject-access-{today}.json\"")
    );
    assert!(
        file.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let held: serde_json::Value = file.json().await.unwrap();
    assert_eq!(held["email"], ALEX);
    let made = &held["nomination"]["nominations_made"];
    assert_eq!(made.as_array().unwrap().len(), 1, "{held:#}");
    assert_eq!(made[0]["nominee_name"], "Sam Patel");
    assert_eq!(
        held["notification"]["emails_to_them"][0]["template"],
        "nomination_received"
    );
    assert_eq!(held["voting"]["votes"][0]["ballot"], "Team of the year");
    assert!(
        held["survey_feedback"]["note"]
            .as_str()
            .unwrap()
            .contains("without anything that identifies")
    );
    assert_eq!(
        held["survey_feedback"]["suggestions_posted"][0]["text"],
        "More lockers"
    );
    assert_eq!(*notification.asked.lock().unwrap(), [ALEX]);

    let audited = admin.audited(PLATFORM_ADMIN).await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].action, "export_person");
    assert!(!audited[0].detail.contains(ALEX), "{}", audited[0].detail);
}

#[tokio::test]
async fn a_platform_admin_confirms_an_erasure_and_follows_it() {
    let (mut admin, _) = spawn().await;
    let trust = admin.campaign.trusts[0].code.clone();
    admin
        .confirmed_by(&trust, "Sam Patel", "Sam always finds a wheelchair.", ALEX)
        .await;
    let browser = admin.sign_in(PLATFORM_ADMIN).await;
    let page = admin.page(&browser, PRIVACY, StatusCode::OK).await;
    let token = csrf(&page);

    let empty = admin
        .post(
            &browser,
            "/admin/privacy/erase",
            &token,
            &[("erase_email", "")],
        )
        .await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    let body = empty.text().await.unwrap();
    assert!(body.contains("href=\"#erase_email\""), "{body}");

    // The confirmation page says what will happen and erases nothing yet.
    let confirm = admin
        .post(
            &browser,
            "/admin/privacy/erase",
            &token,
            &[("erase_email", ALEX)],
        )
        .await;
    assert_eq!(confirm.status(), StatusCode::OK);
    let body = confirm.text().await.unwrap();
    for shown in [
        "This cannot be undone",
        "action=\"/admin/privacy/erasures\"",
        "name=\"email\" value=\"alex.jones@example.org\"",
    ] {
        assert!(body.contains(shown), "{shown}: {body}");
    }
    assert!(admin.audited(PLATFORM_ADMIN).await.is_empty());

    // Without the page's CSRF token nothing happens; with it, the request is made and followed.
    let forged = admin
        .post(
            &browser,
            "/admin/privacy/erasures",
            &"0".repeat(64),
            &[("email", ALEX)],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let requested = admin
        .post(
            &browser,
            "/admin/privacy/erasures",
            &token,
            &[("email", ALEX)],
        )
        .await;
    assert_eq!(requested.status(), StatusCode::SEE_OTHER);
    let progress_path = location(&requested);
    assert!(
        progress_path.starts_with("/admin/privacy/erasures/"),
        "{progress_path}"
    );
    let audited = admin.audited(PLATFORM_ADMIN).await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].action, "request_erasure");

    // The nomination service erases its own data and answers; the others are not running here.
    let mut progress = String::new();
    for _ in 0..100 {
        progress = admin.page(&browser, &progress_path, StatusCode::OK).await;
        if progress.contains("Erased 1 record") || progress.contains("Erased 2 records") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for shown in [
        "Erasure request",
        &format!("by {PLATFORM_ADMIN}"),
        "Waiting for 3 of 4 services",
        "Refresh this page",
        "Nominations",
        "Erased",
        "Voting",
        "Waiting",
    ] {
        assert!(progress.contains(shown), "{shown}: {progress}");
    }

    let page = admin.page(&browser, PRIVACY, StatusCode::OK).await;
    assert!(
        page.contains(&format!("href=\"{progress_path}\"")),
        "{page}"
    );
    assert!(page.contains("Waiting for 3 of 4 services"), "{page}");

    for unknown in [
        "/admin/privacy/erasures/0193a1b2-0000-7000-8000-000000000001",
        "/admin/privacy/erasures/not-a-request",
        "/admin/privacy/erasures/a%20b",
    ] {
        admin.page(&browser, unknown, StatusCode::NOT_FOUND).await;
    }
}
