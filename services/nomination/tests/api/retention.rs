//! Retention: what never counted is deleted after its time; what counts is kept.

use chrono::Utc;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, Statement};
use valued_nomination::db::entities::{draft, nominee};
use valued_nomination::retention::{Purged, RetentionSettings, purge};
use valued_proto::nomination::v1 as pb;

use crate::helpers::spawn_app;

/// Moves every row of `table` matching `filter` back by `days` in `column`.
async fn age(app: &crate::helpers::TestApp, table: &str, column: &str, days: u32, filter: &str) {
    app.db
        .execute_raw(Statement::from_string(
            app.db.get_database_backend(),
            format!(
                "UPDATE {table} SET {column} = {column} - INTERVAL '{days} days' WHERE {filter}"
            ),
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn unconfirmed_nominations_and_expired_drafts_go_after_their_time_and_confirmed_ones_stay() {
    let mut app = spawn_app().await;
    let settings = RetentionSettings::default();
    let confirmed = app.submit_confirmed(app.valid_request()).await;
    let unconfirmed = app
        .client
        .submit_nomination(pb::SubmitNominationRequest {
            nominee_name: "Jo Bloggs".into(),
            nominator_email: "chris@example.org".into(),
            ..app.valid_request()
        })
        .await
        .unwrap()
        .into_inner()
        .nomination_id;
    let recent = app
        .client
        .submit_nomination(pb::SubmitNominationRequest {
            nominee_name: "Ali Khan".into(),
            nominator_email: "dee@example.org".into(),
            ..app.valid_request()
        })
        .await
        .unwrap()
        .into_inner()
        .nomination_id;
    for _ in 0..2 {
        app.client
            .save_draft(pb::SaveDraftRequest {
                draft_token: String::new(),
                answers: Some(pb::SubmitNominationRequest {
                    campaign_id: app.campaign.id.clone(),
                    ..pb::SubmitNominationRequest::default()
                }),
                email_resume_link: false,
            })
            .await
            .unwrap();
    }
    let jo = app.nominee_of(&unconfirmed).await;

    // Everything but the recent nomination and one draft is past its time.
    let days = settings.unconfirmed_days + 1;
    let old = format!("id IN ('{confirmed}', '{unconfirmed}')");
    age(&app, "nomination", "submitted_at", days, &old).await;
    age(&app, "nominee", "created_at", days, "TRUE").await;
    let one_draft = draft::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .id;
    age(
        &app,
        "draft",
        "expires_at",
        60,
        &format!("id = '{one_draft}'"),
    )
    .await;

    let purged = purge(&app.db, &settings, Utc::now()).await.unwrap();
    assert_eq!(
        purged,
        Purged {
            drafts: 1,
            unconfirmed: 1,
            nominees: 1,
            links: 0,
            keys: 0,
        }
    );
    assert_eq!(app.stored(&confirmed).await.status, "pending");
    assert_eq!(app.stored(&recent).await.status, "unconfirmed");
    assert_eq!(app.nomination_count().await, 2);
    assert!(
        nominee::Entity::find_by_id(uuid::Uuid::parse_str(&jo).unwrap())
            .one(&app.db)
            .await
            .unwrap()
            .is_none(),
        "the nominee only the unconfirmed nomination named is gone"
    );
    assert_eq!(draft::Entity::find().count(&app.db).await.unwrap(), 1);
    assert_eq!(
        purge(&app.db, &settings, Utc::now()).await.unwrap(),
        Purged::default(),
        "a second purge finds nothing more"
    );
}

#[tokio::test]
async fn expired_claim_and_unanswered_consent_links_stop_working_and_go_and_answered_ones_stay() {
    use valued_nomination::db::entities::nominee_address;
    use valued_proto::events::v1::NomineeThanked;

    let mut app = spawn_app().await;
    // Sam is thanked through the manager, claims, and answers from one address; a second address
    // given is never answered. Jo is thanked at a work address and never answers.
    app.submit_confirmed(app.valid_request()).await;
    app.submit_confirmed(pb::SubmitNominationRequest {
        nominee_name: "Jo Bloggs".into(),
        nominee_email: "jo.bloggs@example.org".into(),
        nominator_email: "chris@example.org".into(),
        ..app.valid_request()
    })
    .await;
    let thanked = app.events::<NomineeThanked>().await;
    let sam = thanked.iter().find(|t| t.via_manager).unwrap().clone();
    let jo = thanked.iter().find(|t| !t.via_manager).unwrap().clone();
    let answered = app.claim(&sam, "sam@example.org").await;
    app.client
        .record_consent(pb::RecordConsentRequest {
            consent_token: answered.clone(),
            consent: Some(pb::Consent::default()),
        })
        .await
        .unwrap();
    let unanswered = app.claim(&sam, "sam.patel@example.org").await;

    let days = 31;
    age(&app, "nominee_address", "expires_at", days, "TRUE").await;
    age(&app, "nominee", "claim_expires_at", days, "TRUE").await;
    // Past their time they stop working at once, before any purge.
    for token in [&unanswered, &jo.consent_token] {
        let refused = app
            .client
            .get_consent(pb::GetConsentRequest {
                consent_token: token.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), tonic::Code::NotFound);
    }
    let refused = app
        .client
        .claim_nominee(pb::ClaimNomineeRequest {
            claim_token: sam.claim_token.clone(),
            email: "sam.p@example.org".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::NotFound);

    let purged = purge(&app.db, &RetentionSettings::default(), Utc::now())
        .await
        .unwrap();
    assert_eq!(purged.links, 3, "{purged:?}");
    let left: Vec<String> = nominee_address::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.email)
        .collect();
    assert_eq!(left, ["sam@example.org"]);
    let (sam_now, _) = app.nominee(&sam.nominee_id).await;
    assert!(sam_now.claim_token_hash.is_none() && sam_now.claim_expires_at.is_none());
    // The answered link still lets Sam change their answers.
    app.client
        .get_consent(pb::GetConsentRequest {
            consent_token: answered,
        })
        .await
        .unwrap();
}
