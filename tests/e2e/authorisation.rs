//! The authorisation matrix: every RPC of every service, each a separate process, called
//!
//! - without a service credential, and with an expired one: UNAUTHENTICATED, whatever the RPC;
//! - with the gateway's credential and no ID token: public RPCs answer (whatever an empty form
//!   gets), every other RPC is UNAUTHENTICATED;
//! - with a forged ID token and with an expired one: UNAUTHENTICATED;
//! - with the valid ID token of someone holding no role: PERMISSION_DENIED, unless the RPC is on
//!   [`ANY_SIGNED_IN`] (what any signed-in person may ask about themselves);
//! - with a platform admin's: neither of those;
//! - with a trust admin's: PERMISSION_DENIED for the RPCs on [`PLATFORM_ADMINS_ONLY`], and for
//!   those on [`CAMPAIGN_ADMINS`] about no campaign of theirs.
//!
//! And a campaign's own admins run its public vote: a trust admin their trust's campaign's, a
//! region admin their region's, and neither another's.
//!
//! The methods come from the generated descriptors, so an RPC added to a service without being put
//! on its public list (or on [`ANY_SIGNED_IN`]) with a reason fails here.

use std::time::{Duration, Instant};

use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use valued_platform::auth::service::{Credential, ServiceClaims};
use valued_platform::bus::AmqpBus;
use valued_platform::{BusSettings, Envelope, EventBus};
use valued_proto::events::v1 as ev;
use valued_proto::nomination::v1 as nom;
use valued_proto::nomination::v1::nomination_service_client::NominationServiceClient;
use valued_proto::survey::v1::feedback_service_client::FeedbackServiceClient;
use valued_proto::voting::v1 as pb;
use valued_proto::voting::v1::voting_service_client::VotingServiceClient;
use valued_testkit::grpc::{call_empty, methods_of};

use crate::cluster::{Cluster, PLATFORM_ADMIN};

/// How long the cluster's ID tokens last: short, so that the matrix can wait one out.
const TOKEN_LIFETIME: u64 = 10;
/// The verifier's allowance for clock skew (`auth::id_token::CLOCK_SKEW`).
const CLOCK_SKEW: u64 = 10;

/// A service's name, its gRPC name and its reviewed public list of `(method, why)`.
type Service = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// Every service.
const SERVICES: [Service; 6] = [
    (
        "nomination",
        "valued.nomination.v1.NominationService",
        valued_nomination::PUBLIC_RPCS,
    ),
    (
        "voting",
        "valued.voting.v1.VotingService",
        valued_voting::PUBLIC_RPCS,
    ),
    (
        "survey-feedback",
        "valued.survey.v1.SurveyService",
        valued_survey_feedback::PUBLIC_RPCS,
    ),
    (
        "survey-feedback",
        "valued.survey.v1.FeedbackService",
        valued_survey_feedback::suggestions::PUBLIC_RPCS,
    ),
    (
        "notification",
        "valued.notification.v1.NotificationService",
        valued_notification::PUBLIC_RPCS,
    ),
    (
        "survey-feedback",
        "valued.survey.v1.StoryService",
        valued_survey_feedback::STORY_PUBLIC_RPCS,
    ),
];

/// RPCs any signed-in person may make, about themselves only, with why.
const ANY_SIGNED_IN: &[(&str, &str)] = &[(
    "/valued.nomination.v1.NominationService/WhoAmI",
    "tells the caller which roles they hold (none, here)",
)];

/// RPCs only a platform admin may make, whatever other role the caller holds, with why.
const PLATFORM_ADMINS_ONLY: &[(&str, &str)] = &[
    (
        "/valued.nomination.v1.NominationService/ExportPerson",
        "everything held about anyone, whichever trust they are in",
    ),
    (
        "/valued.nomination.v1.NominationService/RequestErasure",
        "erases a person from every service",
    ),
    (
        "/valued.nomination.v1.NominationService/GetErasureProgress",
        "says who asked for an erasure and what each service erased",
    ),
    (
        "/valued.nomination.v1.NominationService/ListErasureRequests",
        "every erasure request",
    ),
    (
        "/valued.nomination.v1.NominationService/StartOrganisationsImport",
        "changes the regions, trusts and sites every campaign is built on",
    ),
    (
        "/valued.nomination.v1.NominationService/GetOrganisationsImport",
        "who imported which organisations, and when",
    ),
    (
        "/valued.notification.v1.NotificationService/ImportMps",
        "replaces the directory of MPs every letter and digest is sent to",
    ),
    (
        "/valued.voting.v1.VotingService/ExportPerson",
        "anyone's votes",
    ),
    (
        "/valued.voting.v1.VotingService/CreateBallot",
        "makes a ballot by hand, outside any trust",
    ),
    (
        "/valued.notification.v1.NotificationService/ExportPerson",
        "anyone's emails and letters to MPs",
    ),
    (
        "/valued.survey.v1.FeedbackService/ExportPerson",
        "anyone's suggestions, with their name and address",
    ),
];

/// RPCs about one campaign's public vote, or a ballot of it, that its own admins may make: the
/// trust admins of a trust's campaign, the region admins of a region's, platform admins any (and
/// alone a national campaign's, a ballot made by hand, or anything voting does not hold, as an
/// empty request names). Whose campaign it is comes with its finalists (`finalist.announced.v1`).
/// Likewise a story told for a campaign, which its campaign's admins moderate (whose campaign it
/// is, the story keeps as the nomination service described it), and the letter a campaign suggests
/// its supporters send their MP (whose campaign it is, the wording keeps as first described).
/// With why.
const CAMPAIGN_ADMINS: &[(&str, &str)] = &[
    (
        "/valued.voting.v1.VotingService/ScheduleVote",
        "opens, extends or closes the campaign's public vote",
    ),
    (
        "/valued.voting.v1.VotingService/GetTurnout",
        "how many have voted in the campaign's public vote while it runs, and how many are held",
    ),
    (
        "/valued.voting.v1.VotingService/SetVoteEligibility",
        "decides who may vote in the campaign's public vote",
    ),
    (
        "/valued.voting.v1.VotingService/GetVoteEligibility",
        "who may vote in the campaign's public vote",
    ),
    (
        "/valued.voting.v1.VotingService/ListHeldVotes",
        "the bursts held for a check in the campaign's vote, with the finalist each went to",
    ),
    (
        "/valued.voting.v1.VotingService/DecideHeldVotes",
        "counts or discards held votes of a ballot of the campaign",
    ),
    (
        "/valued.voting.v1.VotingService/GetTally",
        "a ballot's count, once its results are out",
    ),
    (
        "/valued.voting.v1.VotingService/VerifyLedger",
        "whether a ballot's ledger is whole (its counts once the results are out)",
    ),
    (
        "/valued.voting.v1.VotingService/ExportLedger",
        "every entry of a ballot's ledger, once its results are out",
    ),
    (
        "/valued.survey.v1.StoryService/ModerateStory",
        "approves or rejects a story told for one of the admin's campaigns",
    ),
    (
        "/valued.survey.v1.StoryService/RevealStoryPhone",
        "a teller's phone number, to call them, audited",
    ),
    (
        "/valued.survey.v1.StoryService/ListStoryAudit",
        "who did what to a story, and why",
    ),
    (
        "/valued.notification.v1.NotificationService/SetMpLetterWording",
        "sets or clears the letter the campaign suggests its supporters start from",
    ),
];

/// RPCs about one survey (or creating one) that the survey's own admins may make: the trust
/// admins of a trust's survey, the region admins of a region's, platform admins any (and alone a
/// national one). A trust admin is refused when the request names none of theirs (an empty one
/// names none). With why.
const SURVEY_ADMINS: &[(&str, &str)] = &[
    (
        "/valued.survey.v1.SurveyService/CreateSurvey",
        "creates a survey for a trust, region or the nation",
    ),
    (
        "/valued.survey.v1.SurveyService/UpdateSurvey",
        "changes a draft survey's settings",
    ),
    (
        "/valued.survey.v1.SurveyService/AddFeelingValuedSet",
        "adds the standard questions to a draft",
    ),
    (
        "/valued.survey.v1.SurveyService/AddSection",
        "edits a draft",
    ),
    (
        "/valued.survey.v1.SurveyService/UpdateSection",
        "edits a draft",
    ),
    (
        "/valued.survey.v1.SurveyService/RemoveSection",
        "edits a draft",
    ),
    (
        "/valued.survey.v1.SurveyService/MoveSection",
        "edits a draft",
    ),
    (
        "/valued.survey.v1.SurveyService/AddQuestion",
        "edits a draft",
    ),
    (
        "/valued.survey.v1.SurveyService/UpdateQuestion",
        "edits a draft",
    ),
    (
        "/valued.survey.v1.SurveyService/RemoveQuestion",
        "edits a draft",
    ),
    (
        "/valued.survey.v1.SurveyService/MoveQuestion",
        "edits a draft",
    ),
    (
        "/valued.survey.v1.SurveyService/GetSurvey",
        "a survey's settings and questions (the preview)",
    ),
    (
        "/valued.survey.v1.SurveyService/PublishSurvey",
        "opens a survey to answers",
    ),
    (
        "/valued.survey.v1.SurveyService/CloseSurvey",
        "closes a survey and computes its results",
    ),
    (
        "/valued.survey.v1.SurveyService/InviteByEmail",
        "emails single-use invitations",
    ),
    (
        "/valued.survey.v1.SurveyService/GenerateInvitationCodes",
        "makes single-use codes for printing",
    ),
    (
        "/valued.survey.v1.SurveyService/GetResults",
        "a closed survey's results",
    ),
    (
        "/valued.survey.v1.SurveyService/ExportResultsCsv",
        "a closed survey's results as CSV",
    ),
    (
        "/valued.survey.v1.SurveyService/ListFreeTextAnswers",
        "free-text answers to screen",
    ),
    (
        "/valued.survey.v1.SurveyService/ScreenFreeTextAnswer",
        "approves or hides a free-text answer",
    ),
];

/// RPCs about one trust (its suggestion box, its Insight figures), for its own trust admins and
/// platform admins: a trust admin of another trust is refused (by survey-feedback as
/// PERMISSION_DENIED, by nomination as NOT_FOUND, which never says which trusts exist). With why.
const TRUST_ADMINS: &[(&str, &str)] = &[
    (
        "/valued.nomination.v1.NominationService/GetInsight",
        "a trust's (region's, the country's) nominations, finalists and winners, counted",
    ),
    (
        "/valued.survey.v1.FeedbackService/ListTrustSuggestions",
        "every suggestion of the trust, with the names of those who gave them",
    ),
    (
        "/valued.survey.v1.FeedbackService/ModerateSuggestion",
        "puts a suggestion on the trust's public board, or keeps it off",
    ),
    (
        "/valued.survey.v1.FeedbackService/SetSuggestionStatus",
        "says on the board what became of a suggestion, and emails its suggester",
    ),
];

/// A trust's awards lead, given their role with `valued grant`.
const TRUST_ADMIN: &str = "awards@trust.example.org";
/// Another trust's awards lead.
const OTHER_TRUST_ADMIN: &str = "awards@other-trust.example.org";
/// A region's awards lead.
const REGION_ADMIN: &str = "awards@region.example.org";

fn is_on(list: &[(&str, &str)], method: &str) -> bool {
    list.iter().any(|(listed, _)| *listed == method)
}

/// A plain channel to `service`: calls through it carry no service credential.
async fn bare(cluster: &Cluster, service: &str) -> Channel {
    Channel::from_shared(cluster.grpc_url(service))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// `channel` with `token` as every call's service credential.
fn with_service_token(
    channel: &Channel,
    token: &str,
) -> InterceptedService<Channel, impl tonic::service::Interceptor + use<>> {
    let value: tonic::metadata::MetadataValue<_> = token.parse().unwrap();
    InterceptedService::new(channel.clone(), move |mut request: tonic::Request<()>| {
        request
            .metadata_mut()
            .insert(valued_platform::auth::service::HEADER, value.clone());
        Ok(request)
    })
}

/// Waits until `service`'s copy of the grants lets the platform admin in (nomination binds the
/// grant on the admin's first call and announces it).
async fn admitted(cluster: &Cluster, service: &str, method: &str, token: &str) {
    let channel = cluster.channel(service).await;
    for _ in 0..100 {
        match call_empty(channel.clone(), method, Some(token)).await {
            Err(status) if status.code() == Code::PermissionDenied => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            _ => return,
        }
    }
    panic!("{service} never learnt that {PLATFORM_ADMIN} is a platform admin");
}

#[tokio::test]
async fn every_rpc_of_every_service_checks_its_caller() {
    let cluster = Cluster::start_with_token_lifetime(TOKEN_LIFETIME).await;
    let issued = Instant::now();
    let soon_expired = cluster
        .oidc
        .verified_id_token("someone@example.org")
        .await
        .unwrap();
    let tampered = format!("{}x", &soon_expired[..soon_expired.len() - 1]);
    let forged = ["not-a-token", "a.b.c", tampered.as_str()];

    let mut checked = 0;
    for (service, name, public) in SERVICES {
        let methods = methods_of(name).unwrap();
        for (listed, reason) in public {
            assert!(methods.iter().any(|m| m == listed), "{listed} is no method");
            assert!(!reason.trim().is_empty(), "{listed} says why it is public");
        }
        let unsigned = bare(&cluster, service).await;
        let expired_credential = {
            let credential = cluster.grpc[service]
                .credential("gateway", service)
                .unwrap();
            let now = chrono::Utc::now().timestamp().unsigned_abs();
            credential.sign(&ServiceClaims {
                iss: "gateway".into(),
                aud: service.into(),
                iat: now - 600,
                exp: now - 300,
            })
        };
        let other_key = {
            let other = SERVICES
                .iter()
                .map(|s| s.0)
                .find(|s| *s != service)
                .unwrap();
            Credential::new(
                "gateway",
                service,
                cluster.grpc[other].service_key.as_ref().unwrap(),
            )
            .token()
        };
        let channel = cluster.channel(service).await;
        for method in &methods {
            let anonymous = call_empty(unsigned.clone(), method, None).await;
            assert_eq!(
                anonymous.map_err(|s| s.code()),
                Err(Code::Unauthenticated),
                "{method} without a service credential"
            );
            for (token, what) in [
                (&expired_credential, "an expired service credential"),
                (&other_key, "a credential signed with another service's key"),
            ] {
                let with = with_service_token(&unsigned, token);
                assert_eq!(
                    call_empty(with, method, None).await.map_err(|s| s.code()),
                    Err(Code::Unauthenticated),
                    "{method} with {what}"
                );
            }

            let no_token = call_empty(channel.clone(), method, None).await;
            if is_on(public, method) {
                if let Err(status) = no_token {
                    assert!(
                        !matches!(status.code(), Code::Unauthenticated | Code::Unimplemented),
                        "public {method}: {status:?}"
                    );
                }
                continue;
            }
            assert_eq!(
                no_token.map_err(|s| s.code()),
                Err(Code::Unauthenticated),
                "{method} answered without an ID token: put it on its service's PUBLIC_RPCS with \
                 a reason, or check its caller"
            );
            for token in forged {
                assert_eq!(
                    call_empty(channel.clone(), method, Some(token))
                        .await
                        .map_err(|s| s.code()),
                    Err(Code::Unauthenticated),
                    "{method} with the forged token {token}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} RPCs need a caller");

    // A signed-in person with no role, and a platform admin, each with a fresh token.
    let nobody = cluster
        .oidc
        .verified_id_token("nobody@example.org")
        .await
        .unwrap();
    let admin = cluster
        .oidc
        .verified_id_token(PLATFORM_ADMIN)
        .await
        .unwrap();
    let admin_issued = Instant::now();
    admitted(
        &cluster,
        "nomination",
        "/valued.nomination.v1.NominationService/WhoAmI",
        &admin,
    )
    .await;
    for (service, name, public) in SERVICES {
        let methods = methods_of(name).unwrap();
        let first_admin_rpc = methods.iter().find(|m| !is_on(public, m)).unwrap();
        admitted(&cluster, service, first_admin_rpc, &admin).await;
        let channel = cluster.channel(service).await;
        for method in methods.iter().filter(|m| !is_on(public, m)) {
            let status = call_empty(channel.clone(), method, Some(&nobody)).await;
            if is_on(ANY_SIGNED_IN, method) {
                if let Err(status) = status {
                    assert!(
                        !matches!(
                            status.code(),
                            Code::Unauthenticated | Code::PermissionDenied
                        ),
                        "{method} refused a signed-in person: {status:?}"
                    );
                }
            } else {
                assert_eq!(
                    status.map_err(|s| s.code()),
                    Err(Code::PermissionDenied),
                    "{method} with a signed-in person holding no role"
                );
            }
            if let Err(status) = call_empty(channel.clone(), method, Some(&admin)).await {
                assert!(
                    !matches!(
                        status.code(),
                        Code::Unauthenticated | Code::PermissionDenied
                    ),
                    "{method} refused a platform admin: {status:?}"
                );
            }
        }
    }
    assert!(
        admin_issued.elapsed() < Duration::from_secs(TOKEN_LIFETIME),
        "the admin's token lapsed during the checks: the matrix proves nothing about it"
    );

    // A trust admin, whom nomination lets past its first check (they hold a role), is refused what
    // only a platform admin may do, there as in voting and notification; and a campaign's vote
    // when the request names none of theirs (an empty one names none).
    let trust = cluster.demo_campaign().await.trusts[0].code.clone();
    crate::erasure::valued(&cluster, &["grant", TRUST_ADMIN, "trust_admin", &trust]);
    let trust_admin = cluster.oidc.verified_id_token(TRUST_ADMIN).await.unwrap();
    for (method, _) in PLATFORM_ADMINS_ONLY
        .iter()
        .chain(CAMPAIGN_ADMINS)
        .chain(SURVEY_ADMINS)
    {
        let service = SERVICES
            .iter()
            .find(|(_, name, _)| method.starts_with(&format!("/{name}/")))
            .map(|s| s.0)
            .unwrap();
        assert_eq!(
            call_empty(cluster.channel(service).await, method, Some(&trust_admin))
                .await
                .map_err(|s| s.code()),
            Err(Code::PermissionDenied),
            "{method} with a trust admin's token"
        );
    }

    // The trust admin looks after their own trust's suggestion box, and not another trust's.
    let theirs = cluster.demo_campaign().await.trusts[1].code.clone();
    let feedback = FeedbackServiceClient::new(cluster.channel("survey-feedback").await);
    let list = |code: &str| {
        let mut feedback = feedback.clone();
        let request = valued_testkit::roles::signed(
            &trust_admin,
            valued_proto::survey::v1::ListTrustSuggestionsRequest {
                trust_code: code.to_owned(),
            },
        );
        async move { feedback.list_trust_suggestions(request).await.map(|_| ()) }
    };
    let mut own = list(&trust).await;
    for _ in 0..100 {
        if !matches!(&own, Err(status) if status.code() == Code::PermissionDenied) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        own = list(&trust).await;
    }
    assert!(
        own.is_ok(),
        "a trust admin reads their own trust's suggestions: {own:?}"
    );
    assert_eq!(
        list(&theirs).await.map_err(|s| s.code()),
        Err(Code::PermissionDenied),
        "a trust admin reads another trust's suggestions"
    );

    // And organises what is theirs in nomination only: their trust's settings and sites, not
    // another trust's (which it does not admit exists), nor a campaign that is not theirs (the
    // demo's is national).
    let nomination = NominationServiceClient::new(cluster.channel("nomination").await);
    let demo = cluster.demo_campaign().await;
    let settings_of = |code: &str| nom::GetTrustSettingsRequest {
        trust_code: code.to_owned(),
    };
    assert!(
        nomination
            .clone()
            .get_trust_settings(valued_testkit::roles::signed(
                &trust_admin,
                settings_of(&trust)
            ))
            .await
            .is_ok(),
        "a trust admin reads their own trust's settings"
    );
    let trust_routes_of = |code: &str| nom::ListTrustLearningRoutesRequest {
        trust_code: code.to_owned(),
    };
    assert!(
        nomination
            .clone()
            .list_trust_learning_routes(valued_testkit::roles::signed(
                &trust_admin,
                trust_routes_of(&trust)
            ))
            .await
            .is_ok(),
        "a trust admin lists their own trust's learning routes"
    );
    let refusals: Vec<(&str, Code)> = vec![
        (
            "GetTrustSettings",
            nomination
                .clone()
                .get_trust_settings(valued_testkit::roles::signed(
                    &trust_admin,
                    settings_of(&theirs),
                ))
                .await
                .map(|_| ())
                .unwrap_err()
                .code(),
        ),
        (
            "SetTrustSettings",
            nomination
                .clone()
                .set_trust_settings(valued_testkit::roles::signed(
                    &trust_admin,
                    nom::SetTrustSettingsRequest {
                        settings: Some(nom::TrustSettings {
                            trust_code: theirs.clone(),
                            sender_name: "Taken over".into(),
                            ..Default::default()
                        }),
                    },
                ))
                .await
                .map(|_| ())
                .unwrap_err()
                .code(),
        ),
        (
            "AddTrustSite",
            nomination
                .clone()
                .add_trust_site(valued_testkit::roles::signed(
                    &trust_admin,
                    nom::AddTrustSiteRequest {
                        trust_code: theirs.clone(),
                        site: Some(nom::TrustSite {
                            code: "ZZ999".into(),
                            name: "Taken over".into(),
                        }),
                    },
                ))
                .await
                .map(|_| ())
                .unwrap_err()
                .code(),
        ),
        (
            "UpdateCampaign",
            nomination
                .clone()
                .update_campaign(valued_testkit::roles::signed(
                    &trust_admin,
                    nom::UpdateCampaignRequest {
                        campaign_id: demo.id.clone(),
                        name: "Taken over".into(),
                        ..Default::default()
                    },
                ))
                .await
                .map(|_| ())
                .unwrap_err()
                .code(),
        ),
        (
            "AddCampaignItem",
            nomination
                .clone()
                .add_campaign_item(valued_testkit::roles::signed(
                    &trust_admin,
                    nom::AddCampaignItemRequest {
                        campaign_id: demo.id.clone(),
                        item: Some(nom::CampaignItem {
                            kind: "news".into(),
                            title: "Taken over".into(),
                            body: "Taken over".into(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    },
                ))
                .await
                .map(|_| ())
                .unwrap_err()
                .code(),
        ),
        (
            "AddLearningRoute",
            nomination
                .clone()
                .add_learning_route(valued_testkit::roles::signed(
                    &trust_admin,
                    nom::AddLearningRouteRequest {
                        campaign_id: demo.id.clone(),
                        route: Some(nom::LearningRoute {
                            title: "Taken over".into(),
                            url: "https://example.org/".into(),
                            ..Default::default()
                        }),
                    },
                ))
                .await
                .map(|_| ())
                .unwrap_err()
                .code(),
        ),
        (
            "ListLearningRoutes",
            nomination
                .clone()
                .list_learning_routes(valued_testkit::roles::signed(
                    &trust_admin,
                    nom::ListLearningRoutesRequest {
                        campaign_id: demo.id.clone(),
                    },
                ))
                .await
                .map(|_| ())
                .unwrap_err()
                .code(),
        ),
        (
            "AddTrustLearningRoute",
            nomination
                .clone()
                .add_trust_learning_route(valued_testkit::roles::signed(
                    &trust_admin,
                    nom::AddTrustLearningRouteRequest {
                        trust_code: theirs.clone(),
                        route: Some(nom::LearningRoute {
                            title: "Taken over".into(),
                            url: "https://example.org/".into(),
                            ..Default::default()
                        }),
                    },
                ))
                .await
                .map(|_| ())
                .unwrap_err()
                .code(),
        ),
        (
            "ListTrustLearningRoutes",
            nomination
                .clone()
                .list_trust_learning_routes(valued_testkit::roles::signed(
                    &trust_admin,
                    trust_routes_of(&theirs),
                ))
                .await
                .map(|_| ())
                .unwrap_err()
                .code(),
        ),
        (
            "RemoveTrustLearningRoute",
            nomination
                .clone()
                .remove_trust_learning_route(valued_testkit::roles::signed(
                    &trust_admin,
                    nom::RemoveTrustLearningRouteRequest {
                        trust_code: theirs.clone(),
                        route_id: uuid::Uuid::now_v7().to_string(),
                    },
                ))
                .await
                .map(|_| ())
                .unwrap_err()
                .code(),
        ),
    ];
    for (method, code) in refusals {
        assert!(
            matches!(code, Code::NotFound | Code::PermissionDenied),
            "{method} about another's trust or campaign: {code:?}"
        );
    }
    assert_eq!(
        cluster.demo_campaign().await.name,
        demo.name,
        "the campaign is unchanged"
    );

    // And reads their own trust's Insight figures, not another trust's nor the country's.
    let insight = |scope: &str, code: &str| {
        let mut nomination = nomination.clone();
        let request = valued_testkit::roles::signed(
            &trust_admin,
            valued_proto::nomination::v1::GetInsightRequest {
                scope: scope.to_owned(),
                scope_code: code.to_owned(),
            },
        );
        async move { nomination.get_insight(request).await.map(|_| ()) }
    };
    assert!(
        insight("trust", &trust).await.is_ok(),
        "a trust admin reads their own trust's figures"
    );
    assert_eq!(
        insight("trust", &theirs).await.map_err(|s| s.code()),
        Err(Code::NotFound),
        "a trust admin reads another trust's figures"
    );
    assert_eq!(
        insight("national", "").await.map_err(|s| s.code()),
        Err(Code::PermissionDenied),
        "a trust admin reads the country's figures"
    );

    // The first token, now past its expiry and the allowance for clock skew.
    let expired_at = issued + Duration::from_secs(TOKEN_LIFETIME + CLOCK_SKEW + 2);
    tokio::time::sleep_until(expired_at.into()).await;
    for (service, name, public) in SERVICES {
        let channel = cluster.channel(service).await;
        for method in methods_of(name)
            .unwrap()
            .iter()
            .filter(|m| !is_on(public, m))
        {
            assert_eq!(
                call_empty(channel.clone(), method, Some(&soon_expired))
                    .await
                    .map_err(|s| s.code()),
                Err(Code::Unauthenticated),
                "{method} with an expired ID token"
            );
        }
    }
}

#[tokio::test]
async fn the_lists_of_exceptions_name_real_methods() {
    let every: Vec<String> = SERVICES
        .iter()
        .flat_map(|(_, name, _)| methods_of(name).unwrap())
        .collect();
    let exceptions = ANY_SIGNED_IN
        .iter()
        .chain(PLATFORM_ADMINS_ONLY)
        .chain(CAMPAIGN_ADMINS)
        .chain(SURVEY_ADMINS)
        .chain(TRUST_ADMINS);
    for (method, reason) in exceptions {
        assert!(every.iter().any(|m| m == method), "{method} is no method");
        assert!(!reason.is_empty());
    }
    for (_, _, public) in SERVICES {
        for (method, _) in PLATFORM_ADMINS_ONLY
            .iter()
            .chain(CAMPAIGN_ADMINS)
            .chain(SURVEY_ADMINS)
        {
            assert!(!is_on(public, method), "{method} is public");
        }
    }
    for (method, _) in CAMPAIGN_ADMINS {
        assert!(
            !is_on(PLATFORM_ADMINS_ONLY, method),
            "{method} is on both lists"
        );
    }
    // Whatever the suggestion box does not let anyone do is for a trust's own admins.
    for method in methods_of("valued.survey.v1.FeedbackService").unwrap() {
        assert!(
            is_on(valued_survey_feedback::suggestions::PUBLIC_RPCS, &method)
                || is_on(TRUST_ADMINS, &method)
                || is_on(PLATFORM_ADMINS_ONLY, &method),
            "{method} is neither public nor on TRUST_ADMINS or PLATFORM_ADMINS_ONLY"
        );
    }
    // Whatever voting does not let anyone do is for platform admins, or a campaign's own admins:
    // listed here so that the matrix checks it.
    for method in methods_of("valued.voting.v1.VotingService").unwrap() {
        assert!(
            is_on(valued_voting::PUBLIC_RPCS, &method)
                || is_on(PLATFORM_ADMINS_ONLY, &method)
                || is_on(CAMPAIGN_ADMINS, &method),
            "{method} is neither public nor on PLATFORM_ADMINS_ONLY or CAMPAIGN_ADMINS"
        );
    }
    // Every survey RPC is public, about one survey its admins run, or the list of those surveys.
    for method in methods_of("valued.survey.v1.SurveyService").unwrap() {
        assert!(
            is_on(valued_survey_feedback::PUBLIC_RPCS, &method)
                || is_on(SURVEY_ADMINS, &method)
                || method == "/valued.survey.v1.SurveyService/ListSurveys",
            "{method} is neither public nor on SURVEY_ADMINS"
        );
    }
}

/// What `calls` (one admin's, about their own campaign) answer once voting's copy of the grants
/// has caught up with the admin's and refuses none of them (or after 10 s).
async fn organised<F, Fut>(calls: F) -> Vec<(&'static str, Code)>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Vec<(&'static str, Code)>>,
{
    let mut answers = Vec::new();
    for _ in 0..100 {
        answers = calls().await;
        if answers
            .iter()
            .all(|(_, code)| *code != Code::PermissionDenied)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    answers
}

#[tokio::test]
async fn a_campaigns_own_admins_run_its_public_vote_and_no_other_admin_does() {
    let cluster = Cluster::start().await;
    let trusts = cluster.demo_campaign().await.trusts;
    let (ours, theirs) = (trusts[0].code.as_str(), trusts[1].code.as_str());
    let region = "Y56";

    // Three campaigns' public votes, each with a finalist as the nomination service announces
    // them: a campaign of each trust and one of the region.
    let campaigns = [
        ("0193a1b2-0000-7000-8000-0000000000c1", "trust", ours),
        ("0193a1b2-0000-7000-8000-0000000000c2", "trust", theirs),
        ("0193a1b2-0000-7000-8000-0000000000c3", "region", region),
    ];
    let at = |days: i64| {
        Some(prost_types::Timestamp {
            seconds: (chrono::Utc::now() + chrono::Duration::days(days)).timestamp(),
            nanos: 0,
        })
    };
    let announced: Vec<Envelope> = campaigns
        .iter()
        .map(|(id, scope, code)| {
            Envelope::new(
                "nomination",
                None,
                &ev::FinalistAnnounced {
                    finalist: Some(ev::RecognisedNominee {
                        nominee_id: format!("{id}-sam"),
                        campaign_id: (*id).into(),
                        category_id: "porters".into(),
                        category_name: "Porter of the year".into(),
                        nominee_name: "Sam Patel".into(),
                        ..Default::default()
                    }),
                    vote: Some(ev::VoteTimetable {
                        opens_at: at(-1),
                        closes_at: at(6),
                        results_at: at(8),
                    }),
                    campaign_scope: (*scope).into(),
                    campaign_scope_code: (*code).into(),
                    ..Default::default()
                },
            )
        })
        .collect();
    let bus = AmqpBus::connect(&BusSettings::amqp(&cluster.vhost.amqp_url(), "valued"))
        .await
        .unwrap();
    assert!(bus.publish(&announced).await.into_iter().all(|r| r.is_ok()));
    let voting = VotingServiceClient::new(cluster.channel("voting").await);
    let mut ballots = Vec::new();
    for (id, _, _) in &campaigns {
        let mut ballot = None;
        for _ in 0..300 {
            ballot = voting
                .clone()
                .list_campaign_ballots(pb::ListCampaignBallotsRequest {
                    campaign_id: (*id).into(),
                })
                .await
                .unwrap()
                .into_inner()
                .ballots
                .pop();
            if ballot.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ballots.push(ballot.expect("the finalist reaches the vote").ballot_id);
    }

    // Each admin's grant, bound at their first sign-in (a call to nomination).
    let mut tokens = Vec::new();
    for (email, role, scope) in [
        (TRUST_ADMIN, "trust_admin", ours),
        (OTHER_TRUST_ADMIN, "trust_admin", theirs),
        (REGION_ADMIN, "region_admin", region),
    ] {
        crate::erasure::valued(&cluster, &["grant", email, role, scope]);
        let token = cluster.oidc.verified_id_token(email).await.unwrap();
        admitted(
            &cluster,
            "nomination",
            "/valued.nomination.v1.NominationService/WhoAmI",
            &token,
        )
        .await;
        tokens.push(token);
    }
    let every: Vec<&str> = CAMPAIGN_ADMINS
        .iter()
        .map(|(method, _)| *method)
        .filter(|method| method.starts_with("/valued.voting.v1.VotingService/"))
        .collect();
    let named = |answers: &[(&'static str, Code)], code: Code| -> Vec<String> {
        answers
            .iter()
            .filter(|(_, answered)| *answered == code)
            .map(|(rpc, _)| format!("/valued.voting.v1.VotingService/{rpc}"))
            .collect()
    };
    let organise = |token: Option<&str>, i: usize| {
        let (voting, campaign, ballot) = (&voting, campaigns[i].0, ballots[i].clone());
        let token = token.map(str::to_owned);
        async move {
            valued_testkit::voting::organise(voting, token.as_deref(), campaign, &ballot).await
        }
    };

    // Each runs their own campaign's vote, every RPC of it, once voting has their grant...
    for (i, token) in tokens.iter().enumerate() {
        let answers = organised(|| organise(Some(token), i)).await;
        let mut asked = named(&answers, Code::Ok);
        for code in [
            Code::InvalidArgument,
            Code::FailedPrecondition,
            Code::NotFound,
        ] {
            asked.extend(named(&answers, code));
        }
        asked.sort();
        let mut listed = every.clone();
        listed.sort_unstable();
        assert_eq!(
            asked, listed,
            "{} on its own campaign: {answers:?}",
            campaigns[i].0
        );
    }
    // ...and is refused the others'.
    for (i, token) in tokens.iter().enumerate() {
        for j in (0..campaigns.len()).filter(|j| *j != i) {
            let answers = organise(Some(token), j).await;
            assert_eq!(
                named(&answers, Code::PermissionDenied),
                every,
                "{} on {}",
                campaigns[i].0,
                campaigns[j].0
            );
        }
    }
    // Without signing in, nobody.
    let answers = organise(None, 0).await;
    assert_eq!(named(&answers, Code::Unauthenticated), every);
}
