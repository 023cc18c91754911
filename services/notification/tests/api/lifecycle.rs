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

fn nominee_thanked(recipient: &str, via_manager: bool, count: u64) -> ev::NomineeThanked {
    ev::NomineeThanked {
        nominee_id: uuid::Uuid::now_v7().to_string(),
        nomination_id: uuid::Uuid::now_v7().to_string(),
        campaign_name: CAMPAIGN.into(),
        trust_name: "Guy's and St Thomas' NHS Foundation Trust".into(),
        nominee_name: "Sam Patel".into(),
        recipient_email: recipient.into(),
        via_manager,
        consent_token: format!("c0a5e7{count}"),
        nomination_count: count,
    }
}

fn more_info_requested(reply_to: &str) -> ev::MoreInfoRequested {
    ev::MoreInfoRequested {
        nomination_id: uuid::Uuid::now_v7().to_string(),
        campaign_name: CAMPAIGN.into(),
        trust_name: "Guy's and St Thomas' NHS Foundation Trust".into(),
        nominee_name: "Sam Patel".into(),
        nominator_name: "Alex Jones".into(),
        nominator_email: "alex@example.org".into(),
        question: "Which ward does Sam work on?".into(),
        reply_to: reply_to.into(),
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

#[tokio::test]
async fn a_nominee_is_thanked_privately_and_asked_what_may_be_shared() {
    let app = spawn_app().await;
    app.publish(&envelope(&nominee_thanked("sam@example.org", false, 3)))
        .await;
    let emails = app
        .publish_and_receive(&envelope(&nominee_thanked("jo@example.org", false, 1)), 2)
        .await;
    assert_eq!(emails.len(), 2);

    let sam = to(&emails, "sam@example.org");
    assert_eq!(
        sam.subject(),
        "Thank you, Sam Patel: 3 colleagues nominated you"
    );
    assert!(has_link(sam, &format!("{PUBLIC_URL}/consent/c0a5e73")));
    for body in [sam.text_body(), sam.html_body()] {
        assert!(body.contains("3 colleagues nominated you"));
        assert!(body.contains("your name may be listed publicly"));
        assert!(body.contains("your story may be published"));
        assert!(body.contains("your story may be shared with your MP"));
        assert!(body.contains("Nothing is made public without your answer"));
        assert!(!body.contains("pass this email on"));
    }

    let jo = to(&emails, "jo@example.org");
    assert_eq!(
        jo.subject(),
        "Thank you, Sam Patel: a colleague nominated you"
    );
    assert!(jo.text_body().contains("A colleague nominated you"));
    assert!(has_link(jo, &format!("{PUBLIC_URL}/consent/c0a5e71")));
}

#[tokio::test]
async fn a_thank_you_via_the_manager_asks_them_to_pass_it_on_privately() {
    let app = spawn_app().await;
    let event = nominee_thanked("manager@gstt.example.org", true, 2);
    let emails = app.publish_and_receive(&envelope(&event), 1).await;
    assert_eq!(emails.len(), 1);
    let email = to(&emails, "manager@gstt.example.org");
    assert_eq!(
        email.subject(),
        "Please pass on privately to Sam Patel: a thank-you from colleagues"
    );
    assert!(has_link(email, &format!("{PUBLIC_URL}/consent/c0a5e72")));
    let text = email.text_body();
    assert!(text.contains("as Sam Patel's manager"));
    assert!(text.contains("2 colleagues nominated Sam Patel"));
    assert!(text.contains("pass this email on to Sam Patel privately"));
    assert!(text.contains("their story may be shared with their MP"));
    assert!(text.contains("Nothing is made public without their answer"));
    assert!(!text.contains("Dear Sam Patel"));
    assert!(
        email
            .html_body()
            .contains("pass this email on to Sam Patel privately")
    );
}

#[tokio::test]
async fn a_moderators_question_replies_to_the_trust() {
    let app = spawn_app().await;
    let emails = app
        .publish_and_receive(
            &envelope(&more_info_requested("awards@gstt.example.org")),
            1,
        )
        .await;
    assert_eq!(emails.len(), 1);
    let email = to(&emails, "alex@example.org");
    assert_eq!(
        email.subject(),
        "A question about your nomination of Sam Patel"
    );
    let reply_to = email.header("Reply-To").expect("a Reply-To header");
    assert!(reply_to.contains("awards@gstt.example.org"), "{reply_to}");
    assert!(
        email
            .header("From")
            .unwrap()
            .contains("no-reply@valued.example.org")
    );
    for body in [email.text_body(), email.html_body()] {
        assert!(body.contains("Which ward does Sam work on?"));
        assert!(body.contains("Reply to this email to answer"));
    }
}

#[tokio::test]
async fn a_question_with_no_usable_trust_address_goes_without_reply_to() {
    let app = spawn_app().await;
    let event = more_info_requested("awards at gstt\r\nBcc: x@y.z");
    let emails = app.publish_and_receive(&envelope(&event), 1).await;
    assert_eq!(emails.len(), 1);
    let email = to(&emails, "alex@example.org");
    assert!(email.header("Reply-To").is_none());
    assert!(!email.header_names().iter().any(|h| h == "Bcc"));
    assert!(
        email
            .text_body()
            .contains("Replies to this email are not read")
    );
    assert!(!email.text_body().contains("Reply to this email to answer"));
}
