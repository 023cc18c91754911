//! Drafts kept for a nominator, and an admin's review of who a nomination is about.

use valued_proto::events::v1::{DraftSaved, NomineeThanked};
use valued_proto::nomination::v1::{self as pb, SubmitNominationRequest};

use crate::helpers::{PLATFORM_ADMIN, signed, spawn_admin_app, spawn_app, verified_token};

#[tokio::test]
async fn a_draft_is_kept_emailed_and_gone_once_submitted() {
    let mut app = spawn_app().await;
    let partial = SubmitNominationRequest {
        campaign_id: app.campaign.id.clone(),
        nominee_name: "Sam Patel".into(),
        nominator_email: "alex@example.org".into(),
        ..Default::default()
    };
    let saved = app
        .client
        .save_draft(pb::SaveDraftRequest {
            draft_token: String::new(),
            answers: Some(partial.clone()),
            email_resume_link: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        app.events::<DraftSaved>().await.is_empty(),
        "no email unless asked"
    );

    // Saving again with the token updates the same draft, and this time emails the link.
    let more = SubmitNominationRequest {
        nominee_job_title: "Porter".into(),
        ..partial
    };
    let again = app
        .client
        .save_draft(pb::SaveDraftRequest {
            draft_token: saved.draft_token.clone(),
            answers: Some(more),
            email_resume_link: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.draft_token, saved.draft_token);
    let emailed = app.events::<DraftSaved>().await;
    assert_eq!(emailed.len(), 1);
    assert_eq!(emailed[0].resume_token, saved.draft_token);
    assert_eq!(emailed[0].nominator_email, "alex@example.org");
    assert_eq!(emailed[0].campaign_slug, "health-heroes-2026");

    let resumed = app
        .client
        .get_draft(pb::GetDraftRequest {
            draft_token: emailed[0].resume_token.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let answers = resumed.answers.unwrap();
    assert_eq!(answers.nominee_name, "Sam Patel");
    assert_eq!(answers.nominee_job_title, "Porter");

    // A resume link needs an address it can go to.
    let no_email = app
        .client
        .save_draft(pb::SaveDraftRequest {
            draft_token: String::new(),
            answers: Some(SubmitNominationRequest {
                campaign_id: app.campaign.id.clone(),
                nominator_email: "not an address".into(),
                ..Default::default()
            }),
            email_resume_link: true,
        })
        .await
        .unwrap_err();
    assert_eq!(no_email.code(), tonic::Code::InvalidArgument);

    let mut complete = app.valid_request();
    complete.draft_token = saved.draft_token.clone();
    app.client.submit_nomination(complete).await.unwrap();
    let gone = app
        .client
        .get_draft(pb::GetDraftRequest {
            draft_token: saved.draft_token,
        })
        .await
        .unwrap_err();
    assert_eq!(gone.code(), tonic::Code::NotFound);
}

#[tokio::test]
async fn expired_drafts_cannot_be_resumed() {
    let mut app = spawn_app_with_draft_days(0).await;
    let saved = app
        .client
        .save_draft(pb::SaveDraftRequest {
            draft_token: String::new(),
            answers: Some(SubmitNominationRequest {
                campaign_id: app.campaign.id.clone(),
                ..Default::default()
            }),
            email_resume_link: false,
        })
        .await
        .unwrap()
        .into_inner();
    let expired = app
        .client
        .get_draft(pb::GetDraftRequest {
            draft_token: saved.draft_token,
        })
        .await
        .unwrap_err();
    assert_eq!(expired.code(), tonic::Code::NotFound);
}

async fn spawn_app_with_draft_days(days: u32) -> crate::helpers::TestApp {
    crate::helpers::spawn_app_with(valued_nomination::Settings {
        draft_days: days,
        ..valued_nomination::Settings::default()
    })
    .await
}

#[tokio::test]
async fn an_admin_names_someone_described_and_splits_a_wrong_match() {
    let (mut app, provider) = spawn_admin_app().await;
    let admin = verified_token(&provider, PLATFORM_ADMIN).await;

    // "I don't know their name": no nominee and no thank-you until the manager identifies them.
    let mut described = app.valid_request();
    described.nominee_name = String::new();
    described.nominee_description = "The porter with the red scarf on nights".into();
    let unknown = app.submit_confirmed(described).await;
    assert!(app.events::<NomineeThanked>().await.is_empty());
    let named = app
        .client
        .review_nominee_match(signed(
            &admin,
            pb::ReviewNomineeMatchRequest {
                nomination_id: unknown.clone(),
                same_person: true,
                nominee_name: "Robin Red".into(),
                nominee_job_title: "Night porter".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .nomination
        .unwrap();
    assert_eq!(named.nominee_name, "Robin Red");
    assert_eq!(named.match_reviewed_by, PLATFORM_ADMIN);
    let thanked = app.events::<NomineeThanked>().await;
    assert_eq!(thanked.len(), 1);
    assert_eq!(thanked[0].nominee_name, "Robin Red");

    // Two Sam Patels, porters at the same trust, are matched; the admin says they are two people.
    let first = app.submit_confirmed(app.valid_request()).await;
    let mut other = app.valid_request();
    other.nominator_email = "someone.else@example.org".into();
    let second = app.submit_confirmed(other).await;
    let reader = app.client.clone();
    let nominee_of = |id: &str| {
        let mut client = reader.clone();
        let request = signed(
            &admin,
            pb::GetNominationRequest {
                nomination_id: id.to_owned(),
            },
        );
        async move {
            client
                .get_nomination(request)
                .await
                .unwrap()
                .into_inner()
                .nomination
                .unwrap()
                .nominee_id
        }
    };
    assert_eq!(nominee_of(&first).await, nominee_of(&second).await);
    app.client
        .review_nominee_match(signed(
            &admin,
            pb::ReviewNomineeMatchRequest {
                nomination_id: second.clone(),
                same_person: false,
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    assert_ne!(nominee_of(&first).await, nominee_of(&second).await);
    let thanked = app.events::<NomineeThanked>().await;
    assert_eq!(thanked.len(), 3, "each Sam is thanked");
    let audit = app
        .client
        .list_audit_log(signed(
            &admin,
            pb::ListAuditLogRequest {
                trust_code: app.campaign.trusts[0].code.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .entries;
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["split_match", "identify_nominee"]);
}
