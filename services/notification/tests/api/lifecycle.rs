//! The emails of a nomination's life after it is submitted: confirming it, finishing a draft,
//! thanking the nominee, a moderator's question, finalists and winners.

use valued_proto::events::v1 as ev;

use crate::helpers::{PUBLIC_URL, TestApp, envelope, has_link, spawn_app};

const CAMPAIGN: &str = "Health Heroes 2026";

fn confirmation_requested() -> ev::NominationConfirmationRequested {
    ev::NominationConfirmationRequested {
        nomination_id: uuid::Uuid::now_v7().to_string(),
        campaign_name: CAMPAIGN.into(),
        nominator_name: "Alex Jones".into(),
        nominator_email: "alex@example.org".into(),
        nominee_name: "Sam Patel".into(),
        confirm_token: "c0ffee01".into(),
    }
}

fn draft_saved() -> ev::DraftSaved {
    ev::DraftSaved {
        draft_id: uuid::Uuid::now_v7().to_string(),
        campaign_name: CAMPAIGN.into(),
        campaign_slug: "health-heroes-2026".into(),
        nominator_email: "alex@example.org".into(),
        resume_token: "d1af7000".into(),
        // 2026-11-22T13:30:00Z
        expires_at: Some(prost_types::Timestamp {
            seconds: 1_795_354_200,
            nanos: 0,
        }),
    }
}

/// The one email that went to `recipient`.
fn to<'a>(
    emails: &'a [valued_testkit::smtp::ReceivedEmail],
    recipient: &str,
) -> &'a valued_testkit::smtp::ReceivedEmail {
    let mut found = emails.iter().filter(|e| e.rcpt_to == [recipient]);
    let email = found
        .next()
        .unwrap_or_else(|| panic!("no email to {recipient}"));
    assert!(found.next().is_none(), "more than one email to {recipient}");
    email
}

async fn settled_as_sent(app: &TestApp, count: usize) {
    let deliveries = app.settled().await;
    assert_eq!(deliveries.len(), count);
    assert!(deliveries.iter().all(|d| d.status == "sent"));
}

#[tokio::test]
async fn a_confirmation_request_asks_the_nominator_to_confirm() {
    let app = spawn_app().await;
    let emails = app
        .publish_and_receive(&envelope(&confirmation_requested()), 1)
        .await;
    assert_eq!(emails.len(), 1);
    let email = to(&emails, "alex@example.org");
    assert_eq!(email.subject(), "Confirm your nomination of Sam Patel");
    assert!(has_link(email, &format!("{PUBLIC_URL}/confirm/c0ffee01")));
    for body in [email.text_body(), email.html_body()] {
        assert!(body.contains("does not count until you confirm"));
        assert!(body.contains("If you did not nominate anyone, ignore this email"));
    }
    assert_eq!(
        email.content_types(),
        ["multipart/alternative", "text/plain", "text/html"]
    );
    settled_as_sent(&app, 1).await;
}

#[tokio::test]
async fn a_saved_draft_sends_a_link_to_finish_it_and_when_it_expires() {
    let app = spawn_app().await;
    let emails = app.publish_and_receive(&envelope(&draft_saved()), 1).await;
    assert_eq!(emails.len(), 1);
    let email = to(&emails, "alex@example.org");
    assert_eq!(
        email.subject(),
        "Finish your nomination for Health Heroes 2026"
    );
    assert!(has_link(email, &format!("{PUBLIC_URL}/drafts/d1af7000")));
    assert!(email.text_body().contains("expires on 22 November 2026"));
    assert!(email.html_body().contains("22 November 2026"));
}
