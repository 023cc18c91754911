//! Per-trust senders: a trust's emails show the sender name its admins set (on the service's
//! address, so SPF, DKIM and DMARC still align) and send replies to its reply-to, as announced by
//! the nomination service; a late, older announcement changes nothing.

use std::time::Duration;

use valued_notification::senders;
use valued_platform::Envelope;
use valued_proto::events::v1 as ev;

use crate::helpers::{TestApp, nomination_submitted, spawn_app};

fn changed(sender_name: &str, reply_to: &str, seconds: i64) -> Envelope {
    let event = ev::TrustSettingsChanged {
        trust_code: "RJ1".into(),
        sender_name: sender_name.into(),
        reply_to: reply_to.into(),
        work_email_domains: vec!["nhs.net".into()],
        changed_at: Some(prost_types::Timestamp { seconds, nanos: 0 }),
        region_code: "Y56".into(),
    };
    Envelope::new("nomination", Some("RJ1"), &event)
}

/// Waits until this service's copy of RJ1's sender is `name`.
async fn kept(app: &TestApp, name: &str) {
    for _ in 0..100 {
        let kept = senders::of(&app.db, Some("rj1")).await.unwrap();
        if kept.is_some_and(|k| k.sender_name == name) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the sender of RJ1 never became {name:?}");
}

#[tokio::test]
async fn a_trust_s_emails_carry_the_sender_name_and_reply_to_its_admins_set() {
    let app = spawn_app().await;
    let now = chrono::Utc::now().timestamp();
    app.publish(&changed(
        "Guy's and St Thomas' Staff Awards",
        "staff.awards@gstt.example.org",
        now,
    ))
    .await;
    kept(&app, "Guy's and St Thomas' Staff Awards").await;
    // An older announcement, delivered late, is not taken over the newer.
    app.publish(&changed("An old name", "old@gstt.example.org", now - 60))
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

    // Cleared by the trust's admins: the service's own sender again.
    app.publish(&changed("", "", now + 1)).await;
    kept(&app, "").await;
    let emails = app
        .publish_and_receive(&nomination_submitted("sam@example.org"), 5)
        .await;
    let receipt = emails
        .iter()
        .find(|e| e.rcpt_to == ["sam@example.org"])
        .expect("the second receipt");
    assert_eq!(receipt.from().0, "Valued");
    assert_eq!(receipt.header("Reply-To"), None);
}
