//! Who may read one nomination or nominee: the admins of its trust, and the judges who have it in
//! their judging work.

use valued_nomination::auth::{Actor, Role, grant};
use valued_platform::outbox::Outbox;
use valued_proto::nomination::v1 as pb;
use valued_testkit::oidc::OidcProvider;

use crate::helpers::{PLATFORM_ADMIN, TestApp, signed, spawn_admin_app, verified_token};

const JUDGE: &str = "judge@example.org";
const OTHER_PANEL: &str = "other.panel@example.org";

/// An approved nomination at the demo campaign's first trust, in its first category, with a judge
/// on that category's panel and another on the second category's.
async fn approved_nomination(app: &mut TestApp, provider: &OidcProvider) -> String {
    let admin = verified_token(provider, PLATFORM_ADMIN).await;
    let mut request = app.valid_request();
    request.nominee_email = "sam.patel@nhs.example.org".into();
    let id = app.submit_confirmed(request).await;
    app.approve(&admin, &id).await;
    for (judge, category) in [(JUDGE, 0), (OTHER_PANEL, 1)] {
        app.client
            .assign_judge(signed(
                &admin,
                pb::AssignJudgeRequest {
                    campaign_id: app.campaign.id.clone(),
                    category_id: app.campaign.categories[category].id.clone(),
                    judge_email: judge.into(),
                },
            ))
            .await
            .unwrap();
    }
    id
}

/// `own@` administers the nomination's trust, `other@` the campaign's second trust.
async fn trust_admins(app: &TestApp) {
    for (email, trust) in [("own@example.org", 0), ("other@example.org", 1)] {
        let code = &app.campaign.trusts[trust].code;
        grant(
            &app.db,
            &Outbox::detached("nomination"),
            &Actor::CommandLine,
            email,
            Role::TrustAdmin,
            code,
        )
        .await
        .unwrap();
    }
}

async fn get(app: &mut TestApp, token: &str, id: &str) -> Result<pb::Nomination, tonic::Status> {
    Ok(app
        .client
        .get_nomination(signed(
            token,
            pb::GetNominationRequest {
                nomination_id: id.to_owned(),
            },
        ))
        .await?
        .into_inner()
        .nomination
        .unwrap())
}

#[tokio::test]
async fn a_nomination_is_read_only_by_its_trusts_admins_and_its_judges() {
    let (mut app, provider) = spawn_admin_app().await;
    let id = approved_nomination(&mut app, &provider).await;
    let own = app.campaign.trusts[0].code.clone();
    trust_admins(&app).await;

    for email in [PLATFORM_ADMIN, "own@example.org", JUDGE] {
        let token = verified_token(&provider, email).await;
        let nomination = get(&mut app, &token, &id).await.unwrap();
        assert_eq!(nomination.id, id, "{email}");
        assert_eq!(nomination.trust_code, own, "{email}");
    }
    for email in ["other@example.org", OTHER_PANEL, "nobody@example.org"] {
        let token = verified_token(&provider, email).await;
        let status = get(&mut app, &token, &id).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::PermissionDenied, "{email}");
    }

    // A judge who steps away from it no longer sees it.
    let judge = verified_token(&provider, JUDGE).await;
    app.client
        .declare_conflict(signed(
            &judge,
            pb::DeclareConflictRequest {
                nomination_id: id.clone(),
                reason: "My manager".into(),
            },
        ))
        .await
        .unwrap();
    let status = get(&mut app, &judge, &id).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
}

#[tokio::test]
async fn a_nominee_is_read_only_by_their_trusts_admins() {
    let (mut app, provider) = spawn_admin_app().await;
    let id = approved_nomination(&mut app, &provider).await;
    let nominee_id = app.nominee_of(&id).await;
    trust_admins(&app).await;
    for (email, allowed) in [
        ("own@example.org", true),
        ("other@example.org", false),
        (JUDGE, false),
    ] {
        let token = verified_token(&provider, email).await;
        let found = app
            .client
            .get_nominee(signed(
                &token,
                pb::GetNomineeRequest {
                    nominee_id: nominee_id.clone(),
                },
            ))
            .await;
        match found {
            Ok(found) => {
                assert!(allowed, "{email} read the nominee");
                assert_eq!(found.into_inner().nominee.unwrap().nomination_count, 1);
            }
            Err(status) => {
                assert!(!allowed, "{email}: {status:?}");
                assert_eq!(status.code(), tonic::Code::PermissionDenied, "{email}");
            }
        }
    }
}

/// The nominator's and nominee's email addresses of every nomination in the caller's judging work.
async fn emails_in_work(app: &mut TestApp, token: &str) -> Vec<(String, String)> {
    app.client
        .list_judging_work(signed(
            token,
            pb::ListJudgingWorkRequest {
                campaign_id: app.campaign.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .items
        .into_iter()
        .filter_map(|i| i.nomination)
        .map(|n| (n.nominator_email, n.nominee_email))
        .collect()
}

#[tokio::test]
async fn judges_read_nominations_without_email_addresses_and_admins_with_them() {
    let (mut app, provider) = spawn_admin_app().await;
    let id = approved_nomination(&mut app, &provider).await;
    trust_admins(&app).await;
    let platform = verified_token(&provider, PLATFORM_ADMIN).await;
    // The trust's admin also sits on the panel: their admin role shows them everything.
    app.client
        .assign_judge(signed(
            &platform,
            pb::AssignJudgeRequest {
                campaign_id: app.campaign.id.clone(),
                category_id: app.campaign.categories[0].id.clone(),
                judge_email: "own@example.org".into(),
            },
        ))
        .await
        .unwrap();
    let whole = (
        "alex@example.org".to_owned(),
        "sam.patel@nhs.example.org".to_owned(),
    );
    let blank = (String::new(), String::new());

    let judge = verified_token(&provider, JUDGE).await;
    let read = get(&mut app, &judge, &id).await.unwrap();
    assert_eq!((read.nominator_email, read.nominee_email), blank);
    assert_eq!(read.nominator_name, "Alex Jones", "the people are named");
    assert!(!read.story.is_empty());
    assert_eq!(
        emails_in_work(&mut app, &judge).await,
        std::slice::from_ref(&blank)
    );

    let own = verified_token(&provider, "own@example.org").await;
    for token in [&platform, &own] {
        let read = get(&mut app, token, &id).await.unwrap();
        assert_eq!((read.nominator_email, read.nominee_email), whole);
    }
    assert_eq!(
        emails_in_work(&mut app, &own).await,
        std::slice::from_ref(&whole)
    );

    // The shortlist is an admin's view: the addresses stay; a judge alone does not get it.
    let shortlist = |token: String| {
        let mut client = app.client.clone();
        let request = pb::GetShortlistRequest {
            campaign_id: app.campaign.id.clone(),
            category_id: app.campaign.categories[0].id.clone(),
        };
        async move { client.get_shortlist(signed(&token, request)).await }
    };
    let entries = shortlist(own.clone()).await.unwrap().into_inner().entries;
    let listed: Vec<_> = entries
        .into_iter()
        .filter_map(|e| e.nomination)
        .map(|n| (n.nominator_email, n.nominee_email))
        .collect();
    assert_eq!(listed, [whole]);
    let status = shortlist(judge).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
}
