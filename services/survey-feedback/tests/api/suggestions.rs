//! The suggestion box through FeedbackService: posting, moderation, the public board, support
//! once per person, statuses with a public reason, who may do what, and erasure.

use tonic::Code;
use valued_platform::Envelope;
use valued_platform::limits::{CLIENT_HEADER, RateLimits};
use valued_proto::events::Event;
use valued_proto::events::v1::{ErasureRequested, SuggestionStatusChanged};
use valued_proto::survey::v1 as pb;
use valued_proto::survey::v1::feedback_service_client::FeedbackServiceClient;
use valued_survey_feedback::Settings;
use valued_survey_feedback::suggestions::SuggestionSettings;

use crate::helpers::{TestApp, fields, spawn_app, spawn_app_with};

const TRUST: &str = "RXX";
const OTHER_TRUST: &str = "RYY";
const TRUST_ADMIN: &str = "comms@rxx.example.org";
const OTHER_TRUST_ADMIN: &str = "comms@ryy.example.org";

fn feedback(app: &TestApp) -> FeedbackServiceClient<valued_platform::grpc::Credentialed> {
    FeedbackServiceClient::new(app.channel.clone())
}

fn signed<T>(token: &str, message: T) -> tonic::Request<T> {
    valued_testkit::roles::signed(token, message)
}

async fn post(app: &TestApp, text: &str, name: &str, email: &str) -> String {
    feedback(app)
        .post_suggestion(pb::PostSuggestionRequest {
            trust_code: TRUST.into(),
            text: text.into(),
            name: name.into(),
            email: email.into(),
        })
        .await
        .expect("the suggestion is posted")
        .into_inner()
        .suggestion_id
}

async fn board(app: &TestApp, trust: &str) -> Vec<pb::BoardSuggestion> {
    feedback(app)
        .list_board(pb::ListBoardRequest {
            trust_code: trust.into(),
        })
        .await
        .expect("the board")
        .into_inner()
        .suggestions
}

async fn moderate(
    app: &TestApp,
    token: &str,
    id: &str,
    approve: bool,
) -> Result<(), tonic::Status> {
    feedback(app)
        .moderate_suggestion(signed(
            token,
            pb::ModerateSuggestionRequest {
                suggestion_id: id.into(),
                approve,
            },
        ))
        .await
        .map(|_| ())
}

async fn set_status(
    app: &TestApp,
    token: &str,
    id: &str,
    status: &str,
    reason: &str,
) -> Result<(), tonic::Status> {
    feedback(app)
        .set_suggestion_status(signed(
            token,
            pb::SetSuggestionStatusRequest {
                suggestion_id: id.into(),
                status: status.into(),
                public_reason: reason.into(),
            },
        ))
        .await
        .map(|_| ())
}

async fn support(
    app: &TestApp,
    id: &str,
    email: &str,
) -> Result<pb::SupportSuggestionResponse, tonic::Status> {
    feedback(app)
        .support_suggestion(pb::SupportSuggestionRequest {
            suggestion_id: id.into(),
            email: email.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

fn status_changes(events: &[Envelope]) -> Vec<SuggestionStatusChanged> {
    events
        .iter()
        .filter(|e| e.event_type == SuggestionStatusChanged::TYPE)
        .map(|e| e.decode().unwrap())
        .collect()
}

#[tokio::test]
async fn a_suggestion_reaches_the_board_only_once_a_trust_admin_approves_it() {
    let app = spawn_app().await;
    let admin = app.token_for(TRUST_ADMIN, "trust_admin", TRUST).await;
    let fountain = post(&app, "A water fountain by the porters' lodge", "", "").await;
    let rota = post(
        &app,
        "Publish the rota a month ahead",
        "Sam Patel",
        "sam@example.org",
    )
    .await;
    let rude = post(&app, "Something rude", "", "").await;

    assert!(
        board(&app, TRUST).await.is_empty(),
        "nothing before moderation"
    );

    let queue = feedback(&app)
        .list_trust_suggestions(signed(
            &admin,
            pb::ListTrustSuggestionsRequest {
                trust_code: "rxx".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .suggestions;
    assert_eq!(queue.len(), 3);
    assert!(queue.iter().all(|s| s.moderation == "waiting"));
    let named: Vec<&str> = queue
        .iter()
        .filter(|s| s.named)
        .map(|s| s.suggester_name.as_str())
        .collect();
    assert_eq!(named, ["Sam Patel"], "the admins see who gave their name");

    moderate(&app, &admin, &fountain, true).await.unwrap();
    moderate(&app, &admin, &rota, true).await.unwrap();
    moderate(&app, &admin, &rude, false).await.unwrap();

    let shown = board(&app, TRUST).await;
    let mut texts: Vec<&str> = shown.iter().map(|s| s.text.as_str()).collect();
    texts.sort_unstable();
    assert_eq!(
        texts,
        [
            "A water fountain by the porters' lodge",
            "Publish the rota a month ahead"
        ]
    );
    assert!(
        shown
            .iter()
            .all(|s| s.status == "received" && s.supporters == 0)
    );
    let posted = shown[0].posted_on.unwrap();
    assert_eq!(posted.seconds % 86_400, 0, "the day only, never the time");
    assert!(board(&app, OTHER_TRUST).await.is_empty());

    let audited = app
        .strings("SELECT action FROM suggestion_audit ORDER BY at, action")
        .await;
    assert_eq!(audited, ["approved", "approved", "rejected"]);
    let actors = app
        .strings("SELECT DISTINCT actor FROM suggestion_audit")
        .await;
    assert_eq!(actors, [TRUST_ADMIN]);
}

#[tokio::test]
async fn every_bad_field_is_named_and_nothing_is_stored() {
    let app = spawn_app().await;
    let status = feedback(&app)
        .post_suggestion(pb::PostSuggestionRequest {
            trust_code: "not a trust".into(),
            text: "x".repeat(1001),
            name: "Sam".into(),
            email: "sam at example".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(fields(&status), ["trust_code", "text", "email"]);

    let status = feedback(&app)
        .post_suggestion(pb::PostSuggestionRequest {
            trust_code: TRUST.into(),
            text: " \n ".into(),
            name: String::new(),
            email: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(fields(&status), ["text"]);
    assert!(
        app.strings("SELECT id::text FROM suggestion")
            .await
            .is_empty()
    );

    // 1,000 characters is the limit, not over it.
    post(&app, &"y".repeat(1000), "", "").await;
}

#[tokio::test]
async fn posting_is_rate_limited_per_client_address() {
    let app = spawn_app_with(Settings {
        suggestions: SuggestionSettings {
            rate_limits: RateLimits {
                per_client_per_hour: 2,
                per_address_per_day: 0,
            },
            ..SuggestionSettings::default()
        },
        ..Settings::default()
    })
    .await;
    let from = |client: &str| {
        let mut request = tonic::Request::new(pb::PostSuggestionRequest {
            trust_code: TRUST.into(),
            text: "More lockers".into(),
            ..Default::default()
        });
        request
            .metadata_mut()
            .insert(CLIENT_HEADER, client.parse().unwrap());
        request
    };
    for _ in 0..2 {
        feedback(&app)
            .post_suggestion(from("203.0.113.9"))
            .await
            .unwrap();
    }
    let refused = feedback(&app)
        .post_suggestion(from("203.0.113.9"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted);
    feedback(&app)
        .post_suggestion(from("198.51.100.7"))
        .await
        .unwrap();
    assert_eq!(
        app.strings("SELECT id::text FROM suggestion").await.len(),
        3
    );
}

#[tokio::test]
async fn a_status_and_its_reason_show_on_the_board_and_only_a_named_suggester_is_told() {
    let app = spawn_app().await;
    let admin = app.token_for(TRUST_ADMIN, "trust_admin", TRUST).await;
    let named = post(
        &app,
        "Publish the rota a month ahead",
        "Sam Patel",
        "Sam@Example.org",
    )
    .await;
    let anonymous = post(&app, "A water fountain", "", "").await;

    let waiting = set_status(&app, &admin, &named, "done", "Done")
        .await
        .unwrap_err();
    assert_eq!(
        waiting.code(),
        Code::FailedPrecondition,
        "not before approval"
    );

    for id in [&named, &anonymous] {
        moderate(&app, &admin, id, true).await.unwrap();
    }
    let refused = set_status(&app, &admin, &named, "maybe", "")
        .await
        .unwrap_err();
    assert_eq!(fields(&refused), ["status", "public_reason"]);

    set_status(
        &app,
        &admin,
        &named,
        "done",
        "Rotas now go out six weeks ahead.",
    )
    .await
    .unwrap();
    set_status(
        &app,
        &admin,
        &anonymous,
        "not_this_time",
        "The water supply there is not drinkable.",
    )
    .await
    .unwrap();

    let shown = board(&app, TRUST).await;
    let of = |id: &str| shown.iter().find(|s| s.suggestion_id == id).unwrap();
    assert_eq!(of(&named).status, "done");
    assert_eq!(
        of(&named).public_reason,
        "Rotas now go out six weeks ahead."
    );
    assert_eq!(of(&anonymous).status, "not_this_time");

    let published = app.published().await;
    let told = status_changes(&published);
    assert_eq!(
        told.len(),
        1,
        "one email's event, for the named suggester alone"
    );
    assert_eq!(told[0].suggester_email, "Sam@example.org");
    assert_eq!(told[0].suggester_name, "Sam Patel");
    assert_eq!(told[0].status_label, "We did it");
    assert_eq!(told[0].public_reason, "Rotas now go out six weeks ahead.");
    let envelope = published
        .iter()
        .find(|e| e.event_type == SuggestionStatusChanged::TYPE)
        .unwrap();
    assert_eq!(envelope.tenant.as_deref(), Some(TRUST));

    let audited = app
        .strings("SELECT detail FROM suggestion_audit WHERE action LIKE 'status:%' ORDER BY action")
        .await;
    assert_eq!(
        audited,
        [
            "Rotas now go out six weeks ahead.",
            "The water supply there is not drinkable."
        ]
    );
}

#[tokio::test]
async fn one_person_supports_a_suggestion_once_however_many_times_they_ask() {
    let app = spawn_app().await;
    let admin = app.token_for(TRUST_ADMIN, "trust_admin", TRUST).await;
    let id = post(&app, "More lockers", "", "").await;

    let early = support(&app, &id, "ana@example.org").await.unwrap_err();
    assert_eq!(
        early.code(),
        Code::NotFound,
        "not before it is on the board"
    );
    moderate(&app, &admin, &id, true).await.unwrap();

    // Ten requests at once from one mailbox, typed differently.
    let typed = [
        "ana@example.org",
        "Ana@Example.org",
        " ana+lockers@example.org ",
    ];
    let attempts = (0..10).map(|i| support(&app, &id, typed[i % typed.len()]));
    let answers = futures::future::join_all(attempts).await;
    let counted = answers
        .iter()
        .filter(|a| a.as_ref().unwrap().supported)
        .count();
    assert_eq!(counted, 1);

    let other = support(&app, &id, "ben@example.org").await.unwrap();
    assert!(other.supported);
    assert_eq!(other.supporters, 2);
    assert_eq!(board(&app, TRUST).await[0].supporters, 2);
    let keys = app
        .strings("SELECT supporter_key FROM suggestion_support")
        .await;
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().all(|k| !k.contains('@')), "no address is kept");

    let bad = support(&app, &id, "not an address").await.unwrap_err();
    assert_eq!(fields(&bad), ["email"]);
}

#[tokio::test]
async fn only_the_trusts_own_admins_and_platform_admins_moderate_it() {
    let app = spawn_app().await;
    let other = app
        .token_for(OTHER_TRUST_ADMIN, "trust_admin", OTHER_TRUST)
        .await;
    let id = post(&app, "More lockers", "Sam Patel", "sam@example.org").await;

    let refused = moderate(&app, &other, &id, true).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let refused = set_status(&app, &other, &id, "done", "Done")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let refused = feedback(&app)
        .list_trust_suggestions(signed(
            &other,
            pb::ListTrustSuggestionsRequest {
                trust_code: TRUST.into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    // An id that exists nowhere is refused alike: the refusal says nothing about what exists.
    let unknown = uuid::Uuid::new_v4().to_string();
    let refused = moderate(&app, &other, &unknown, true).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);

    // Nobody signed in.
    let anonymous = feedback(&app)
        .moderate_suggestion(pb::ModerateSuggestionRequest {
            suggestion_id: id.clone(),
            approve: true,
        })
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    let anonymous = feedback(&app)
        .list_trust_suggestions(pb::ListTrustSuggestionsRequest {
            trust_code: TRUST.into(),
        })
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);

    assert!(board(&app, TRUST).await.is_empty(), "nothing changed");
    moderate(&app, &app.admin_token, &id, true).await.unwrap();
    assert_eq!(board(&app, TRUST).await.len(), 1, "a platform admin may");
}

#[tokio::test]
async fn erasure_forgets_a_suggester_and_their_support() {
    let app = spawn_app().await;
    let admin = app.token_for(TRUST_ADMIN, "trust_admin", TRUST).await;
    let id = post(&app, "More lockers", "Sam Patel", "sam@example.org").await;
    moderate(&app, &admin, &id, true).await.unwrap();
    support(&app, &id, "sam@example.org").await.unwrap();
    support(&app, &id, "ben@example.org").await.unwrap();

    let request = Envelope::new(
        "nomination",
        None,
        &ErasureRequested {
            request_id: "erasure-1".into(),
            email: "sam@example.org".into(),
            requested_at: None,
            names: vec!["Sam Patel".into()],
        },
    );
    app.publish_as_peer(&[request]).await;

    let mut names = Vec::new();
    for _ in 0..50 {
        names = app
            .strings("SELECT COALESCE(suggester_name, '') FROM suggestion")
            .await;
        if names == [""] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(names, [""], "the name is forgotten");
    let shown = board(&app, TRUST).await;
    assert_eq!(shown[0].text, "More lockers", "the suggestion stays");
    assert_eq!(shown[0].supporters, 1, "only Ben's support is left");
}

#[tokio::test]
async fn retention_forgets_settled_suggesters_and_deletes_rejected_suggestions() {
    use valued_survey_feedback::suggestions::retention::{self, SuggestionRetention};
    let app = spawn_app().await;
    let admin = app.token_for(TRUST_ADMIN, "trust_admin", TRUST).await;
    let done = post(&app, "More lockers", "Sam Patel", "sam@example.org").await;
    let open = post(&app, "Later shifts", "Jo Bloggs", "jo@example.org").await;
    let rejected = post(&app, "Something rude", "", "").await;
    moderate(&app, &admin, &done, true).await.unwrap();
    moderate(&app, &admin, &open, true).await.unwrap();
    moderate(&app, &admin, &rejected, false).await.unwrap();
    set_status(&app, &admin, &done, "done", "Fitted in May.")
        .await
        .unwrap();
    set_status(
        &app,
        &admin,
        &open,
        "under_consideration",
        "Asking the rota team.",
    )
    .await
    .unwrap();
    let settings = SuggestionRetention::default();

    // Nothing is due the next day.
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    let purged = retention::purge(&app.db, settings, tomorrow).await.unwrap();
    assert_eq!(purged, retention::Purged::default());

    let later = chrono::Utc::now() + chrono::Duration::days(31);
    let purged = retention::purge(&app.db, settings, later).await.unwrap();
    assert_eq!(purged.contacts_forgotten, 1);
    assert_eq!(purged.rejected_deleted, 1);
    let named = app
        .strings("SELECT suggester_name FROM suggestion WHERE suggester_name IS NOT NULL")
        .await;
    assert_eq!(
        named,
        ["Jo Bloggs"],
        "a suggestion still open keeps its suggester"
    );
    assert_eq!(board(&app, TRUST).await.len(), 2, "the board keeps both");

    // A year on, every suggester is forgotten whatever the status.
    let year = chrono::Utc::now() + chrono::Duration::days(366);
    let purged = retention::purge(&app.db, settings, year).await.unwrap();
    assert_eq!(purged.contacts_forgotten, 1);
}
