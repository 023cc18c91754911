//! Per-trust senders: a trust's emails show its own sender name (on the service's address, so SPF,
//! DKIM and DMARC still align) and send replies to its own contact.

use valued_notification::settings::TenantSender;
use valued_platform::Envelope;
use valued_proto::events::v1 as ev;

use crate::helpers::{nomination_submitted, spawn_app_with};

#[tokio::test]
async fn a_trust_s_emails_carry_its_sender_name_and_reply_to() {
    let app = spawn_app_with(|settings| {
        // As an environment variable would give it: lower case.
        settings.tenants.insert(
            "rj1".into(),
            TenantSender {
                sender_name: "Guy's and St Thomas' Staff Awards".into(),
                reply_to: "staff.awards@gstt.example.org".into(),
            },
        );
    })
    .await;
    let emails = app
        .publish_and_receive(&nomination_submitted("alex@example.org"), 2)
        .await;
    let receipt = emails
        .iter()
        .find(|e| e.rcpt_to == ["alex@example.org"])
        .expect("the nominator's receipt");
    assert_eq!(
        receipt.from(),
        (
            "Guy's and St Thomas' Staff Awards".to_owned(),
            "no-reply@valued.example.org".to_owned()
        )
    );
    assert_eq!(
        receipt.header("Reply-To").as_deref(),
        Some("staff.awards@gstt.example.org")
    );

    // Another trust's email keeps the service's own sender.
    let other = ev::NominationConfirmationRequested {
        nomination_id: uuid::Uuid::now_v7().to_string(),
        campaign_name: "Health Heroes 2026".into(),
        nominator_name: "Jo Bloggs".into(),
        nominator_email: "jo@example.org".into(),
        nominee_name: "Lee Chen".into(),
        confirm_token: "c0ffee02".into(),
    };
    let emails = app
        .publish_and_receive(&Envelope::new("nomination", Some("RRK"), &other), 3)
        .await;
    let confirm = emails
        .iter()
        .find(|e| e.rcpt_to == ["jo@example.org"])
        .expect("the confirmation request");
    assert_eq!(confirm.from().0, "Valued");
    assert_eq!(confirm.header("Reply-To"), None);
}
