//! The admin preview: every email template, rendered from sample data, in both parts.

use std::collections::BTreeSet;

use valued_notification::templates;
use valued_platform::auth::OidcSettings;
use valued_proto::notification::v1::{PreviewTemplatesRequest, TemplatePreview};
use valued_testkit::oidc::{self, OidcProvider};

use crate::helpers::{TestApp, spawn_app_with};

/// The previews, as a platform admin signed in through `provider` sees them once the service's copy
/// of the grants has them.
async fn previews(app: &TestApp, provider: &OidcProvider) -> Vec<TemplatePreview> {
    let token = valued_testkit::roles::announce_platform_admin(
        app.bus.as_ref(),
        provider,
        "platform.admin@valued.example.org",
    )
    .await
    .unwrap();
    for _ in 0..200 {
        match app
            .client
            .clone()
            .preview_templates(valued_testkit::roles::signed(
                &token,
                PreviewTemplatesRequest {},
            ))
            .await
        {
            Ok(previews) => return previews.into_inner().templates,
            Err(status) if status.code() == tonic::Code::PermissionDenied => {
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
            Err(status) => panic!("{status:?}"),
        }
    }
    panic!("the grant was never copied")
}

#[tokio::test]
async fn every_template_can_be_previewed_in_text_and_html() {
    let provider = OidcProvider::start().await.unwrap();
    let app = spawn_app_with(|settings| {
        settings.auth = OidcSettings {
            issuer: provider.issuer.clone(),
            audience: oidc::CLIENT_ID.into(),
            ..Default::default()
        };
    })
    .await;
    let anonymous = app
        .client
        .clone()
        .preview_templates(PreviewTemplatesRequest {})
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);
    let previews = previews(&app, &provider).await;
    let shown: BTreeSet<&str> = previews.iter().map(|p| p.template.as_str()).collect();
    let all: BTreeSet<&str> = templates::ALL.iter().copied().collect();
    assert_eq!(shown, all, "every template has a preview");
    for preview in &previews {
        let name = &preview.template;
        assert!(!preview.subject.is_empty(), "{name}");
        assert!(preview.text_body.len() > 40, "{name}");
        assert!(preview.html_body.contains("<html"), "{name}");
    }
    let finalist = previews
        .iter()
        .find(|p| p.template == "finalist_notice")
        .unwrap();
    assert!(!finalist.transactional, "people can unsubscribe from it");
    assert!(finalist.text_body.contains("/unsubscribe/"));
    let confirm = previews
        .iter()
        .find(|p| p.template == "nomination_confirm")
        .unwrap();
    assert!(confirm.transactional);
}
