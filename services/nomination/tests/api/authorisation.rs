//! The authorisation matrix: every admin RPC, called by each role against its own trust and against
//! another trust. Every cross-trust call is denied, and no response carries another trust's data.

use std::collections::HashMap;
use valued_platform::outbox::Outbox;

use valued_nomination::auth::{Actor, Role, grant};
use valued_platform::grpc::Credentialed;
use valued_proto::nomination::v1::{
    self as pb, nomination_service_client::NominationServiceClient,
};
use valued_testkit::oidc::OidcProvider;

use crate::helpers::{
    PLATFORM_ADMIN, TestApp, signed, spawn_admin_app, trust_campaign, verified_token,
};

/// What one side of the matrix points at: a trust, its region, its own trust campaign and one
/// approved nomination in the national campaign and in the trust campaign.
#[derive(Clone)]
struct Target {
    trust: String,
    region: String,
    national: String,
    category: String,
    nomination: String,
    trust_campaign: String,
    trust_category: String,
    trust_nomination: String,
}

const RPCS: [&str; 21] = [
    "GetNomination",
    "ListModerationQueue",
    "ListModerationQueueAll",
    "ModerateNomination",
    "ListAuditLog",
    "ListNominations",
    "ReviewNomineeMatch",
    "SetRubric",
    "GetRubric",
    "AssignJudge",
    "ListJudgingWork",
    "ScoreNomination",
    "DeclareConflict",
    "GetShortlist",
    "AnnounceFinalists",
    "AnnounceWinner",
    "ForwardWinner",
    "ListTrustNominations",
    "ListRoleGrants",
    "GrantRole",
    "RevokeRole",
];

/// Calls `rpc` against `t` and returns the trust codes of every nomination or audit entry in the
/// response.
async fn call(
    client: &mut NominationServiceClient<Credentialed>,
    token: &str,
    rpc: &str,
    t: &Target,
) -> Result<Vec<String>, tonic::Status> {
    let codes = |ns: Vec<pb::Nomination>| ns.into_iter().map(|n| n.trust_code).collect();
    Ok(match rpc {
        "GetNomination" => codes(
            client
                .get_nomination(signed(
                    token,
                    pb::GetNominationRequest {
                        nomination_id: t.trust_nomination.clone(),
                    },
                ))
                .await?
                .into_inner()
                .nomination
                .into_iter()
                .collect(),
        ),
        "ListModerationQueue" | "ListModerationQueueAll" => codes(
            client
                .list_moderation_queue(signed(
                    token,
                    pb::ListModerationQueueRequest {
                        campaign_id: t.trust_campaign.clone(),
                        trust_code: if rpc == "ListModerationQueue" {
                            t.trust.clone()
                        } else {
                            String::new()
                        },
                    },
                ))
                .await?
                .into_inner()
                .nominations,
        ),
        "ModerateNomination" => codes(
            client
                .moderate_nomination(signed(
                    token,
                    pb::ModerateNominationRequest {
                        nomination_id: t.nomination.clone(),
                        action: "approve".into(),
                        reason: String::new(),
                    },
                ))
                .await?
                .into_inner()
                .nomination
                .into_iter()
                .collect(),
        ),
        "ListAuditLog" => client
            .list_audit_log(signed(
                token,
                pb::ListAuditLogRequest {
                    trust_code: t.trust.clone(),
                },
            ))
            .await?
            .into_inner()
            .entries
            .into_iter()
            .map(|e| e.trust_code)
            .filter(|code| !code.is_empty())
            .collect(),
        "ListNominations" | "ListTrustNominations" => codes(
            client
                .list_nominations(signed(
                    token,
                    pb::ListNominationsRequest {
                        campaign_id: if rpc == "ListNominations" {
                            t.national.clone()
                        } else {
                            t.trust_campaign.clone()
                        },
                    },
                ))
                .await?
                .into_inner()
                .nominations,
        ),
        "ReviewNomineeMatch" => codes(
            client
                .review_nominee_match(signed(
                    token,
                    pb::ReviewNomineeMatchRequest {
                        nomination_id: t.nomination.clone(),
                        same_person: true,
                        ..Default::default()
                    },
                ))
                .await?
                .into_inner()
                .nomination
                .into_iter()
                .collect(),
        ),
        "SetRubric" => {
            client
                .set_rubric(signed(
                    token,
                    pb::SetRubricRequest {
                        campaign_id: t.trust_campaign.clone(),
                        criteria: vec![pb::Criterion {
                            id: String::new(),
                            name: "Impact".into(),
                            weight: 1,
                        }],
                    },
                ))
                .await?;
            vec![]
        }
        "GetRubric" => {
            client
                .get_rubric(signed(
                    token,
                    pb::GetRubricRequest {
                        campaign_id: t.trust_campaign.clone(),
                    },
                ))
                .await?;
            vec![]
        }
        "AssignJudge" => {
            client
                .assign_judge(signed(
                    token,
                    pb::AssignJudgeRequest {
                        campaign_id: t.trust_campaign.clone(),
                        category_id: t.trust_category.clone(),
                        judge_email: "new.judge@example.org".into(),
                    },
                ))
                .await?;
            vec![]
        }
        "ListJudgingWork" => client
            .list_judging_work(signed(
                token,
                pb::ListJudgingWorkRequest {
                    campaign_id: t.trust_campaign.clone(),
                },
            ))
            .await?
            .into_inner()
            .items
            .into_iter()
            .filter_map(|i| i.nomination.map(|n| n.trust_code))
            .collect(),
        "ScoreNomination" => {
            client
                .score_nomination(signed(
                    token,
                    pb::ScoreNominationRequest {
                        nomination_id: t.trust_nomination.clone(),
                        scores: HashMap::new(),
                    },
                ))
                .await?;
            vec![]
        }
        "DeclareConflict" => {
            client
                .declare_conflict(signed(
                    token,
                    pb::DeclareConflictRequest {
                        nomination_id: t.trust_nomination.clone(),
                        reason: "I work with them".into(),
                    },
                ))
                .await?;
            vec![]
        }
        "GetShortlist" => client
            .get_shortlist(signed(
                token,
                pb::GetShortlistRequest {
                    campaign_id: t.trust_campaign.clone(),
                    category_id: t.trust_category.clone(),
                },
            ))
            .await?
            .into_inner()
            .entries
            .into_iter()
            .filter_map(|e| e.nomination.map(|n| n.trust_code))
            .collect(),
        "AnnounceFinalists" => {
            client
                .announce_finalists(signed(
                    token,
                    pb::AnnounceFinalistsRequest {
                        campaign_id: t.national.clone(),
                        category_id: t.category.clone(),
                        region_code: t.region.clone(),
                        nomination_ids: vec![t.nomination.clone()],
                    },
                ))
                .await?;
            vec![]
        }
        "AnnounceWinner" => {
            client
                .announce_winner(signed(
                    token,
                    pb::AnnounceWinnerRequest {
                        nomination_id: t.trust_nomination.clone(),
                    },
                ))
                .await?;
            vec![]
        }
        "ForwardWinner" => {
            client
                .forward_winner(signed(
                    token,
                    pb::ForwardWinnerRequest {
                        nomination_id: t.trust_nomination.clone(),
                        to_campaign_id: t.national.clone(),
                    },
                ))
                .await?;
            vec![]
        }
        // The trusts whose admins' grants the caller is shown.
        "ListRoleGrants" => client
            .list_role_grants(signed(token, pb::ListRoleGrantsRequest {}))
            .await?
            .into_inner()
            .grants
            .into_iter()
            .filter(|g| g.role == "trust_admin")
            .map(|g| g.scope)
            .collect(),
        "GrantRole" => {
            client
                .grant_role(signed(
                    token,
                    pb::GrantRoleRequest {
                        email: "new.admin@example.org".into(),
                        role: "trust_admin".into(),
                        scope: t.trust.clone(),
                    },
                ))
                .await?;
            vec![]
        }
        // A grant nobody holds: NOT_FOUND where allowed, so that the matrix revokes nothing.
        "RevokeRole" => {
            client
                .revoke_role(signed(
                    token,
                    pb::RevokeRoleRequest {
                        email: "nobody@example.org".into(),
                        role: "trust_admin".into(),
                        scope: t.trust.clone(),
                    },
                ))
                .await?;
            vec![]
        }
        other => panic!("no such RPC {other}"),
    })
}

async fn target(app: &mut TestApp, admin: &str, trust: &str, region: &str) -> Target {
    let national = app.campaign.clone();
    let mut request = app.valid_request();
    request.trust_code = trust.into();
    request.nominee_name = format!("Nominee at {trust}");
    let nomination = app.submit_confirmed(request.clone()).await;
    let (trust_campaign, trust_category) = trust_campaign(app, trust).await;
    request.campaign_id = trust_campaign.clone();
    request.category_id = trust_category.clone();
    let trust_nomination = app.submit_confirmed(request).await;
    for id in [&nomination, &trust_nomination] {
        app.approve(admin, id).await;
    }
    Target {
        trust: trust.into(),
        region: region.into(),
        national: national.id,
        category: national.categories[0].id.clone(),
        nomination,
        trust_campaign,
        trust_category,
        trust_nomination,
    }
}

#[tokio::test]
async fn every_cross_trust_call_is_denied_and_leaks_nothing() {
    let (mut app, provider): (TestApp, OidcProvider) = spawn_admin_app().await;
    let platform = verified_token(&provider, PLATFORM_ADMIN).await;
    let own = target(&mut app, &platform, "RRK", "Y60").await;
    let other = target(&mut app, &platform, "RJ1", "Y56").await;

    grant(
        &app.db,
        &Outbox::detached("nomination"),
        &Actor::CommandLine,
        "trust@rrk.example.org",
        Role::TrustAdmin,
        "RRK",
    )
    .await
    .unwrap();
    grant(
        &app.db,
        &Outbox::detached("nomination"),
        &Actor::CommandLine,
        "region@y60.example.org",
        Role::RegionAdmin,
        "Y60",
    )
    .await
    .unwrap();
    // The judge sits on the RRK campaign's panel.
    app.client
        .assign_judge(signed(
            &platform,
            pb::AssignJudgeRequest {
                campaign_id: own.trust_campaign.clone(),
                category_id: own.trust_category.clone(),
                judge_email: "judge@example.org".into(),
            },
        ))
        .await
        .unwrap();

    // What each role may do at its own trust is allowed (a domain refusal is fine, a denial is not).
    // Checked first: a judge's declared conflict, later in the matrix, rightly ends their scoring.
    let allowed: [(&str, &[&str]); 3] = [
        (
            "trust@rrk.example.org",
            &[
                "GetNomination",
                "ListModerationQueue",
                "ListModerationQueueAll",
                "ModerateNomination",
                "ListAuditLog",
                "ListNominations",
                "ReviewNomineeMatch",
                "SetRubric",
                "GetRubric",
                "AssignJudge",
                "GetShortlist",
                "AnnounceWinner",
                "ListTrustNominations",
                "ListRoleGrants",
            ],
        ),
        (
            "region@y60.example.org",
            &[
                "GetNomination",
                "ListModerationQueue",
                "ListModerationQueueAll",
                "ModerateNomination",
                "ListAuditLog",
                "ListNominations",
                "ReviewNomineeMatch",
                "GetShortlist",
                "AnnounceFinalists",
                "ListTrustNominations",
                "ListRoleGrants",
                "GrantRole",
                "RevokeRole",
            ],
        ),
        (
            "judge@example.org",
            &[
                "GetNomination",
                "ListJudgingWork",
                "ScoreNomination",
                "DeclareConflict",
                "GetRubric",
                "ListRoleGrants",
            ],
        ),
    ];
    for (email, rpcs) in allowed {
        let token = verified_token(&provider, email).await;
        for rpc in rpcs {
            if let Err(status) = call(&mut app.client, &token, rpc, &own).await {
                assert_ne!(
                    status.code(),
                    tonic::Code::PermissionDenied,
                    "{email} {rpc} at its own trust: {status:?}"
                );
            }
        }
    }

    let roles = [
        ("trust admin", "trust@rrk.example.org"),
        ("region admin", "region@y60.example.org"),
        ("judge", "judge@example.org"),
    ];
    let mut cross_calls = 0;
    for (role, email) in roles {
        let token = verified_token(&provider, email).await;
        for rpc in RPCS {
            cross_calls += 1;
            match call(&mut app.client, &token, rpc, &other).await {
                Err(status) => assert_eq!(
                    status.code(),
                    tonic::Code::PermissionDenied,
                    "{role} {rpc} on another trust: {status:?}"
                ),
                Ok(codes) => assert!(
                    codes.iter().all(|c| c == "RRK"),
                    "{role} {rpc} on another trust returned {codes:?}"
                ),
            }
            // Against their own trust nothing leaks either, whatever is allowed.
            if let Ok(codes) = call(&mut app.client, &token, rpc, &own).await {
                assert!(
                    codes.iter().all(|c| c == "RRK"),
                    "{role} {rpc} on its own trust returned {codes:?}"
                );
            }
        }
    }
    assert_eq!(cross_calls, 3 * RPCS.len());

    // Without a token, or with a forged one, nothing at all.
    let anonymous = app.client.who_am_i(pb::WhoAmIRequest {}).await.unwrap_err();
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);
    let forged = format!("{}x", &platform[..platform.len() - 1]);
    let status = app
        .client
        .list_nominations(signed(
            &forged,
            pb::ListNominationsRequest {
                campaign_id: own.national.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
}
