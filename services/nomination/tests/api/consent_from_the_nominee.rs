//! Consent comes from the person it is about: a thank-you passed on by a manager carries a claim
//! link, never a consent link; a consent link is bound to the one address it was sent to, answering
//! it verifies that address, and the latest verified answer is the nominee's consent.

use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use valued_nomination::auth::Actor;
use valued_nomination::db::entities::{nominee, nominee_address, trust};
use valued_nomination::domain::hash_token;
use valued_nomination::erasure::{ERASED, progress, request};
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::{ConsentChanged, NomineeClaimed, NomineeThanked};
use valued_proto::nomination::v1 as pb;

use crate::helpers::{TestApp, consent_answer, spawn_app};

fn claim(thanks: &NomineeThanked, email: &str) -> pb::ClaimNomineeRequest {
    pb::ClaimNomineeRequest {
        claim_token: thanks.claim_token.clone(),
        email: email.to_owned(),
    }
}

/// A nomination of Sam Patel without a work address, confirmed: the thank-you through the manager.
async fn thanked_through_manager(app: &mut TestApp) -> NomineeThanked {
    app.submit_confirmed(app.valid_request()).await;
    let thanked = app.events::<NomineeThanked>().await;
    assert_eq!(thanked.len(), 1);
    thanked[0].clone()
}

/// `email` is given on the claim page of `thanks` and its link answered `(listed, story, MP)`: the
/// link's token.
async fn claimed_and_answered(
    app: &mut TestApp,
    thanks: &NomineeThanked,
    email: &str,
    (listed, story, mp): (bool, bool, bool),
) -> String {
    let token = app.claim(thanks, email).await;
    app.client
        .record_consent(consent_answer(&token, listed, story, mp))
        .await
        .unwrap();
    token
}

async fn addresses(app: &TestApp) -> Vec<nominee_address::Model> {
    nominee_address::Entity::find()
        .order_by_asc(nominee_address::Column::CreatedAt)
        .all(&app.db)
        .await
        .unwrap()
}

async fn stored_nominee(app: &TestApp, id: &str) -> nominee::Model {
    app.nominee(id).await.0
}

#[tokio::test]
async fn a_thank_you_through_the_manager_carries_a_claim_link_and_no_consent_link() {
    let mut app = spawn_app().await;
    let thanks = thanked_through_manager(&mut app).await;
    assert!(thanks.via_manager);
    assert!(thanks.consent_token.is_empty(), "{thanks:?}");
    assert_eq!(thanks.claim_token.len(), 64);
    assert!(addresses(&app).await.is_empty(), "no consent link exists");

    // Only the claim link's hash is kept, and it opens no consent page.
    let nominee = stored_nominee(&app, &thanks.nominee_id).await;
    assert_eq!(
        nominee.claim_token_hash.as_deref(),
        Some(hash_token(&thanks.claim_token).as_str())
    );
    let refused = app
        .client
        .get_consent(pb::GetConsentRequest {
            consent_token: thanks.claim_token.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::NotFound);
    let refused = app
        .client
        .record_consent(consent_answer(&thanks.claim_token, true, true, true))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::NotFound);
    assert!(app.consent_history().await.is_empty());

    let claimable = app
        .client
        .get_nominee_claim(pb::GetNomineeClaimRequest {
            claim_token: thanks.claim_token.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(claimable.nominee_name, "Sam Patel");
    assert_eq!(claimable.campaign_name, thanks.campaign_name);
    assert_eq!(claimable.trust_name, thanks.trust_name);
}

#[tokio::test]
async fn a_nominee_claims_gives_their_address_and_their_answer_is_recorded_with_it() {
    let mut app = spawn_app().await;
    let thanks = thanked_through_manager(&mut app).await;

    let token = app.claim(&thanks, "Sam.Patel@example.org").await;
    let claimed = app.events::<NomineeClaimed>().await;
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].nominee_name, "Sam Patel");
    assert_eq!(claimed[0].nominee_id, thanks.nominee_id);
    let stored = addresses(&app).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].email, "sam.patel@example.org");
    assert_eq!(stored[0].token_hash, hash_token(&token));
    assert!(
        stored[0].verified_at.is_none(),
        "not until the link is answered"
    );

    let asked = app
        .client
        .get_consent(pb::GetConsentRequest {
            consent_token: token.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(asked.nominee_name, "Sam Patel");
    assert!(!asked.answered);

    app.client
        .record_consent(consent_answer(&token, true, true, false))
        .await
        .unwrap();
    let sam = Some("sam.patel@example.org".to_owned());
    assert_eq!(
        app.consent_history().await,
        [(true, true, false, sam.clone())]
    );
    let verified = addresses(&app).await;
    assert!(verified[0].verified_at.is_some(), "answering verifies it");
    let nominee = stored_nominee(&app, &thanks.nominee_id).await;
    assert!(nominee.listed_publicly && nominee.story_published && !nominee.shared_with_mp);
    assert_eq!(
        nominee.email, "sam.patel@example.org",
        "finalist notices go here"
    );

    // Used twice, nothing changes: the same address given again sends no second link, the same
    // answers again record nothing, and an answered link cannot be disowned.
    app.client
        .claim_nominee(claim(&thanks, "sam.patel@EXAMPLE.org"))
        .await
        .unwrap();
    assert_eq!(app.events::<NomineeClaimed>().await.len(), 1);
    app.client
        .record_consent(consent_answer(&token, true, true, false))
        .await
        .unwrap();
    assert_eq!(app.consent_history().await.len(), 1);
    assert_eq!(app.events::<ConsentChanged>().await.len(), 1);
    let refused = app
        .client
        .disown_consent_link(pb::DisownConsentLinkRequest {
            consent_token: token.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);

    let asked = app
        .client
        .get_consent(pb::GetConsentRequest {
            consent_token: token,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(asked.answered);
    let given = asked.consent.unwrap();
    assert!(given.listed_publicly && given.story_published && !given.shared_with_mp);
}

#[tokio::test]
async fn the_trust_contacts_address_is_refused_and_nothing_changes() {
    let mut app = spawn_app().await;
    let thanks = thanked_through_manager(&mut app).await;
    let contact = trust::Entity::find_by_id(app.campaign.trusts[0].code.clone())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .admin_email;
    assert_eq!(thanks.recipient_email, contact);

    for typed in [
        contact.to_uppercase(),
        format!(" {contact} "),
        "not an address".into(),
    ] {
        let refused = app
            .client
            .claim_nominee(claim(&thanks, &typed))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{typed}");
        let errors = valued_platform::grpc::field_errors(&refused);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "email");
    }
    let refused = app
        .client
        .claim_nominee(claim(&thanks, &contact))
        .await
        .unwrap_err();
    assert!(
        valued_platform::grpc::field_errors(&refused)[0]
            .message
            .contains("your own email address"),
        "{refused:?}"
    );
    let unknown = app
        .client
        .claim_nominee(pb::ClaimNomineeRequest {
            claim_token: "0".repeat(64),
            email: "sam@example.org".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);

    assert!(app.events::<NomineeClaimed>().await.is_empty());
    assert!(addresses(&app).await.is_empty());
    // The link still works for the nominee.
    app.claim(&thanks, "sam@example.org").await;
}

#[tokio::test]
async fn a_later_verified_answer_replaces_an_earlier_one() {
    let mut app = spawn_app().await;
    let thanks = thanked_through_manager(&mut app).await;
    // Someone who got hold of the link answers first, from an address of their own...
    claimed_and_answered(
        &mut app,
        &thanks,
        "someone.else@example.org",
        (true, true, true),
    )
    .await;
    // ...then Sam, from theirs.
    let own =
        claimed_and_answered(&mut app, &thanks, "sam@example.org", (false, false, false)).await;

    let nominee = stored_nominee(&app, &thanks.nominee_id).await;
    assert!(!nominee.listed_publicly && !nominee.story_published && !nominee.shared_with_mp);
    assert_eq!(
        app.consent_history().await,
        [
            (true, true, true, Some("someone.else@example.org".into())),
            (false, false, false, Some("sam@example.org".into())),
        ]
    );
    let announced: Vec<bool> = app
        .events::<ConsentChanged>()
        .await
        .into_iter()
        .map(|c| c.listed_publicly)
        .collect();
    assert_eq!(announced, [true, false]);
    let verified = nominee_address::Entity::find()
        .filter(nominee_address::Column::VerifiedAt.is_not_null())
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(verified, 2, "a nominee may have several verified addresses");

    // Each link shows what was answered through it.
    let asked = app
        .client
        .get_consent(pb::GetConsentRequest { consent_token: own })
        .await
        .unwrap()
        .into_inner();
    assert!(!asked.consent.unwrap().listed_publicly);
}

#[tokio::test]
async fn not_me_records_nothing_and_turns_the_link_off() {
    let mut app = spawn_app().await;
    let mut request = app.valid_request();
    request.nominee_email = "sam.patel@gstt.example.org".into();
    app.submit_confirmed(request).await;
    let thanks = app.events::<NomineeThanked>().await;
    assert_eq!(thanks.len(), 1);
    let thanks = thanks[0].clone();
    assert!(!thanks.via_manager);
    assert!(thanks.claim_token.is_empty());
    assert_eq!(thanks.recipient_email, "sam.patel@gstt.example.org");
    let stored = addresses(&app).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].email, "sam.patel@gstt.example.org");
    assert_eq!(stored[0].token_hash, hash_token(&thanks.consent_token));

    let token = thanks.consent_token.clone();
    let asked = app
        .client
        .get_consent(pb::GetConsentRequest {
            consent_token: token.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        asked.nominee_name, "Sam Patel",
        "the page says who it is for"
    );

    app.client
        .disown_consent_link(pb::DisownConsentLinkRequest {
            consent_token: token.clone(),
        })
        .await
        .unwrap();
    for refused in [
        app.client
            .get_consent(pb::GetConsentRequest {
                consent_token: token.clone(),
            })
            .await
            .unwrap_err(),
        app.client
            .record_consent(consent_answer(&token, true, true, true))
            .await
            .unwrap_err(),
        app.client
            .disown_consent_link(pb::DisownConsentLinkRequest {
                consent_token: token.clone(),
            })
            .await
            .unwrap_err(),
    ] {
        assert_eq!(refused.code(), tonic::Code::NotFound);
    }
    assert!(app.consent_history().await.is_empty());
    assert!(app.events::<ConsentChanged>().await.is_empty());
    assert!(addresses(&app).await.is_empty());
    let nominee = stored_nominee(&app, &thanks.nominee_id).await;
    assert_eq!(nominee.consent(), Default::default());
    assert!(nominee.consent_answered_at.is_none());
    assert_eq!(
        nominee.email, "",
        "no longer where a finalist notice would go"
    );

    // Sam is still thanked: through the trust's contact, with a claim link.
    let thanked = app.events::<NomineeThanked>().await;
    assert_eq!(thanked.len(), 2);
    assert!(thanked[1].via_manager);
    assert!(thanked[1].consent_token.is_empty());
    assert_eq!(thanked[1].nominee_id, thanks.nominee_id);
    app.claim(&thanked[1], "sam@example.org").await;
}

#[tokio::test]
async fn the_same_address_given_twice_at_once_is_sent_one_link() {
    let mut app = spawn_app().await;
    let thanks = thanked_through_manager(&mut app).await;
    let (mut a, mut b) = (app.client.clone(), app.client.clone());
    let (first, second) = tokio::join!(
        a.claim_nominee(claim(&thanks, "sam@example.org")),
        b.claim_nominee(claim(&thanks, "sam@example.org")),
    );
    first.unwrap();
    second.unwrap();
    assert_eq!(app.events::<NomineeClaimed>().await.len(), 1);
    assert_eq!(addresses(&app).await.len(), 1);
}

#[tokio::test]
async fn a_nominee_is_found_and_erased_by_an_address_they_verified() {
    let mut app = spawn_app().await;
    let thanks = thanked_through_manager(&mut app).await;
    let token =
        claimed_and_answered(&mut app, &thanks, "sam@example.org", (true, false, false)).await;
    // An address typed for Sam but never answered from.
    app.claim(&thanks, "typo@example.org").await;

    let export = valued_nomination::subject_access::export(&app.db, "sam@example.org")
        .await
        .unwrap();
    assert_eq!(export["nominee_records"].as_array().unwrap().len(), 1);
    assert_eq!(export["consent_history"].as_array().unwrap().len(), 1);
    let exported = export["nominee_addresses"].as_array().unwrap();
    assert_eq!(exported.len(), 2, "{exported:?}");
    assert!(exported.iter().all(|a| a.get("token_hash").is_none()));
    // Whoever holds an address only typed for Sam is not Sam: they see the address, not the nominee.
    let typo = valued_nomination::subject_access::export(&app.db, "typo@example.org")
        .await
        .unwrap();
    assert!(typo["nominee_records"].as_array().unwrap().is_empty());
    assert_eq!(typo["nominee_addresses"].as_array().unwrap().len(), 1);

    let id = request(
        &app.db,
        &Outbox::detached("nomination"),
        "sam@example.org",
        &Actor::CommandLine,
    )
    .await
    .unwrap();
    for _ in 0..200 {
        if !progress(&app.db, id).await.unwrap().answered.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let nominee = stored_nominee(&app, &thanks.nominee_id).await;
    assert_eq!(nominee.name, ERASED);
    assert_eq!(nominee.email, "");
    assert!(nominee.claim_token_hash.is_none());
    assert!(
        addresses(&app).await.is_empty(),
        "every address of theirs is gone"
    );
    assert_eq!(
        app.consent_history().await,
        [(true, false, false, None)],
        "the answer stays, without the address"
    );
    let refused = app
        .client
        .get_consent(pb::GetConsentRequest {
            consent_token: token,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::NotFound);
}
