//! Sign-in by emailed link: an address that holds or is invited to a role gets one link through
//! the outbox, any other address the same answer and nothing; the link works once, not after it
//! expired, and gives an ID token that the platform's verifier accepts with the public key and that
//! signs in with the address's roles. Without a signing key, both calls say it is not configured.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tonic::Code;
use valued_nomination::Settings;
use valued_nomination::auth::AuthSettings;
use valued_nomination::db::entities::{audit_log, sign_in_link};
use valued_platform::auth::sign_in_link::SigningKey;
use valued_platform::auth::{OidcSettings, Verifier};
use valued_proto::events::v1::AdminSignInLinkRequested;
use valued_proto::nomination::v1 as pb;

use crate::helpers::{PLATFORM_ADMIN, TestApp, signed, spawn_app, spawn_app_with};

async fn spawn_with_links() -> (TestApp, String) {
    let (secret, key) = SigningKey::generate();
    let settings = Settings {
        auth: AuthSettings {
            audience: "valued".into(),
            signing_key: Some(secret),
            platform_admins: vec![PLATFORM_ADMIN.into()],
            ..AuthSettings::default()
        },
        ..Settings::default()
    };
    (spawn_app_with(settings).await, key.public_key().to_owned())
}

async fn ask(app: &TestApp, email: &str) -> Result<(), tonic::Status> {
    app.client
        .clone()
        .request_sign_in_link(pb::RequestSignInLinkRequest {
            email: email.into(),
        })
        .await
        .map(drop)
}

async fn redeem(app: &TestApp, token: &str) -> Result<String, tonic::Status> {
    app.client
        .clone()
        .redeem_sign_in_link(pb::RedeemSignInLinkRequest {
            token: token.into(),
        })
        .await
        .map(|r| r.into_inner().id_token)
}

/// The sign-in links published so far, once the outbox is drained.
async fn links_sent(app: &TestApp) -> Vec<AdminSignInLinkRequested> {
    app.events::<AdminSignInLinkRequested>().await
}

#[tokio::test]
async fn an_admin_is_emailed_a_link_that_signs_them_in_once_and_a_stranger_gets_nothing() {
    let (app, public_key) = spawn_with_links().await;

    ask(&app, "someone.else@example.org").await.unwrap();
    ask(&app, " Platform.Admin@Valued.Example.org ")
        .await
        .unwrap();
    let sent = links_sent(&app).await;
    assert_eq!(sent.len(), 1, "only the admin is sent a link: {sent:?}");
    assert_eq!(sent[0].email, PLATFORM_ADMIN);
    assert!(sent[0].expires_at.is_some());
    let token = sent[0].link_token.clone();
    let stored = sign_in_link::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].token_hash, token, "only the token's hash is kept");

    let id_token = redeem(&app, &token).await.unwrap();
    let verifier = Verifier::new(OidcSettings {
        audience: "valued".into(),
        sign_in_key: public_key,
        ..OidcSettings::default()
    });
    let identity = verifier.verify(&id_token).await.unwrap();
    assert_eq!(identity.email, PLATFORM_ADMIN);
    assert!(identity.email_verified);

    // The token signs in with the address's roles, as a provider's would.
    let me = app
        .client
        .clone()
        .who_am_i(signed(&id_token, pb::WhoAmIRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(me.email, PLATFORM_ADMIN);
    assert!(me.grants.iter().any(|g| g.role == "platform_admin"));
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("signed in by emailed link"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].actor, PLATFORM_ADMIN);

    let again = redeem(&app, &token).await.unwrap_err();
    assert_eq!(again.code(), Code::NotFound, "a link works once");
    assert!(
        sign_in_link::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn an_expired_link_a_made_up_one_and_a_malformed_address_are_refused() {
    let (app, _) = spawn_with_links().await;
    ask(&app, PLATFORM_ADMIN).await.unwrap();
    let token = links_sent(&app).await[0].link_token.clone();
    sign_in_link::Entity::update_many()
        .col_expr(
            sign_in_link::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .exec(&app.db)
        .await
        .unwrap();
    assert_eq!(
        redeem(&app, &token).await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(
        redeem(&app, "0123456789abcdef").await.unwrap_err().code(),
        Code::NotFound
    );

    let refused = ask(&app, "not an address").await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    let errors = valued_platform::grpc::field_errors(&refused);
    assert_eq!(errors[0].field, "email");
    assert_eq!(links_sent(&app).await.len(), 1, "nothing more was sent");
}

#[tokio::test]
async fn without_a_signing_key_sign_in_by_email_is_not_configured() {
    let app = spawn_app().await;
    let refused = ask(&app, PLATFORM_ADMIN).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("not configured"));
    let refused = redeem(&app, "0123456789abcdef").await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(links_sent(&app).await.is_empty());
}
