//! The admin preview: every email template, rendered from sample data, in both parts.

use std::collections::BTreeSet;

use valued_notification::templates;
use valued_proto::notification::v1::PreviewTemplatesRequest;

use crate::helpers::spawn_app;

#[tokio::test]
async fn every_template_can_be_previewed_in_text_and_html() {
    let mut app = spawn_app().await;
    let previews = app
        .client
        .preview_templates(PreviewTemplatesRequest {})
        .await
        .unwrap()
        .into_inner()
        .templates;
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
