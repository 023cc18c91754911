//! The authorisation matrix: every RPC of every service, each a separate process, called
//!
//! - without a service credential, and with an expired one: UNAUTHENTICATED, whatever the RPC;
//! - with the gateway's credential and no ID token: public RPCs answer (whatever an empty form
//!   gets), every other RPC is UNAUTHENTICATED;
//! - with a forged ID token and with an expired one: UNAUTHENTICATED;
//! - with the valid ID token of someone holding no role: PERMISSION_DENIED, unless the RPC is on
//!   [`ANY_SIGNED_IN`] (what any signed-in person may ask about themselves);
//! - with a platform admin's: neither of those;
//! - with a trust admin's: PERMISSION_DENIED for the RPCs on [`PLATFORM_ADMINS_ONLY`].
//!
//! The methods come from the generated descriptors, so an RPC added to a service without being put
//! on its public list (or on [`ANY_SIGNED_IN`]) with a reason fails here.

use std::time::{Duration, Instant};

use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use valued_platform::auth::service::{Credential, ServiceClaims};
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
const SERVICES: [Service; 4] = [
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
        "notification",
        "valued.notification.v1.NotificationService",
        valued_notification::PUBLIC_RPCS,
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
        "/valued.voting.v1.VotingService/ExportPerson",
        "anyone's votes",
    ),
    (
        "/valued.voting.v1.VotingService/VerifyLedger",
        "whether any ballot's ledger is whole (its counts once the results are out)",
    ),
    (
        "/valued.voting.v1.VotingService/ExportLedger",
        "every entry of any ballot's ledger, once its results are out",
    ),
    (
        "/valued.voting.v1.VotingService/ScheduleVote",
        "opens, extends or closes any campaign's public vote",
    ),
    (
        "/valued.voting.v1.VotingService/GetTurnout",
        "how many have voted in any campaign's public vote while it runs, and how many are held",
    ),
    (
        "/valued.voting.v1.VotingService/SetVoteEligibility",
        "decides who may vote in any campaign's public vote",
    ),
    (
        "/valued.voting.v1.VotingService/GetVoteEligibility",
        "who may vote in any campaign's public vote",
    ),
    (
        "/valued.voting.v1.VotingService/ListHeldVotes",
        "the bursts held for a check in any public vote, with the finalist each went to",
    ),
    (
        "/valued.voting.v1.VotingService/DecideHeldVotes",
        "counts or discards held votes in any public vote",
    ),
    (
        "/valued.voting.v1.VotingService/CreateBallot",
        "makes a ballot by hand, outside any trust",
    ),
    (
        "/valued.voting.v1.VotingService/GetTally",
        "any ballot's count, once its results are out",
    ),
    (
        "/valued.notification.v1.NotificationService/ExportPerson",
        "anyone's emails and letters to MPs",
    ),
];

/// A trust's awards lead, given their role with `valued grant`.
const TRUST_ADMIN: &str = "awards@trust.example.org";

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
    // only a platform admin may do, there as in voting and notification.
    let trust = cluster.demo_campaign().await.trusts[0].code.clone();
    crate::erasure::valued(&cluster, &["grant", TRUST_ADMIN, "trust_admin", &trust]);
    let trust_admin = cluster.oidc.verified_id_token(TRUST_ADMIN).await.unwrap();
    for (method, _) in PLATFORM_ADMINS_ONLY {
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
    for (method, reason) in ANY_SIGNED_IN.iter().chain(PLATFORM_ADMINS_ONLY) {
        assert!(every.iter().any(|m| m == method), "{method} is no method");
        assert!(!reason.is_empty());
    }
    for (_, _, public) in SERVICES {
        for (method, _) in PLATFORM_ADMINS_ONLY {
            assert!(!is_on(public, method), "{method} is public");
        }
    }
    // Voting has no trust-scoped RPCs: whatever is not public is for platform admins, and listed
    // here so that the matrix refuses it to a trust admin.
    for method in methods_of("valued.voting.v1.VotingService").unwrap() {
        assert!(
            is_on(valued_voting::PUBLIC_RPCS, &method) || is_on(PLATFORM_ADMINS_ONLY, &method),
            "{method} is neither public nor on PLATFORM_ADMINS_ONLY"
        );
    }
}
