//! The emails of a nomination's life after it is submitted: confirming it, finishing a draft,
//! thanking the nominee, a moderator's question, finalists and winners.

use std::time::Duration;

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
        // Through the manager, a claim link; to the nominee, their consent link.
        consent_token: if via_manager {
            String::new()
        } else {
            format!("c0a5e7{count}")
        },
        claim_token: if via_manager {
            format!("c1a1e{count}")
        } else {
            String::new()
        },
        nomination_count: count,
        learning_routes: Vec::new(),
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

fn recognised(nominee_email: &str, nominator_emails: &[&str]) -> ev::RecognisedNominee {
    ev::RecognisedNominee {
        nominee_id: uuid::Uuid::now_v7().to_string(),
        nomination_id: uuid::Uuid::now_v7().to_string(),
        campaign_name: CAMPAIGN.into(),
        category_name: "Porter of the year".into(),
        trust_name: "Guy's and St Thomas' NHS Foundation Trust".into(),
        nominee_name: "Sam Patel".into(),
        nominee_job_title: "Porter".into(),
        nominee_email: nominee_email.into(),
        nominator_emails: nominator_emails.iter().map(|e| (*e).to_owned()).collect(),
        ..Default::default()
    }
}

fn finalist_announced() -> ev::FinalistAnnounced {
    ev::FinalistAnnounced {
        finalist: Some(recognised(
            "sam.patel@gstt.example.org",
            &[
                "alex@example.org",
                " ALEX@example.org ",
                "jo@example.org",
                "not an address",
                "sam.patel@gstt.example.org",
            ],
        )),
        announced_at: None,
        vote: None,
        ..Default::default()
    }
}

fn winner_announced() -> ev::WinnerAnnounced {
    ev::WinnerAnnounced {
        winner: Some(recognised(
            "sam.patel@gstt.example.org",
            &["alex@example.org"],
        )),
        announced_at: None,
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
    // The address was typed by a nominator: whoever holds it is told how to say it is not theirs.
    assert!(
        jo.text_body()
            .contains("If you are not Sam Patel, please open the link and tell us")
    );
}

#[tokio::test]
async fn a_nominee_who_gave_their_own_address_is_sent_their_consent_link() {
    let app = spawn_app().await;
    let event = ev::NomineeClaimed {
        nominee_id: uuid::Uuid::now_v7().to_string(),
        campaign_name: CAMPAIGN.into(),
        trust_name: "Guy's and St Thomas' NHS Foundation Trust".into(),
        nominee_name: "Sam Patel".into(),
        recipient_email: "sam.patel@example.org".into(),
        consent_token: "c0a5e7ab".into(),
    };
    let emails = app.publish_and_receive(&envelope(&event), 1).await;
    let email = to(&emails, "sam.patel@example.org");
    assert_eq!(
        email.subject(),
        "Your link to choose what is shared about your nomination, Sam Patel"
    );
    assert!(has_link(email, &format!("{PUBLIC_URL}/consent/c0a5e7ab")));
    for body in [email.text_body(), email.html_body()] {
        assert!(body.contains("Dear Sam Patel"));
        assert!(body.contains("your story may be shared with your MP"));
        assert!(body.contains("Nothing is made public without your answer"));
        assert!(body.contains("If you are not Sam Patel"));
    }
    // A link to act on, which the person asked for: no unsubscribe link.
    assert!(email.header("List-Unsubscribe").is_none());
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
    // The manager passes on a link where Sam gives their own address, never a consent link.
    assert!(has_link(email, &format!("{PUBLIC_URL}/claim/c1a1e2")));
    assert!(!email.text_body().contains("/consent/"));
    assert!(!email.html_body().contains("/consent/"));
    let text = email.text_body();
    assert!(text.contains("as Sam Patel's manager"));
    assert!(text.contains("They give their own email address there"));
    assert!(text.contains("please do not use the link yourself"));
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

#[tokio::test]
async fn a_finalist_is_told_and_so_is_each_nominator_once() {
    let app = spawn_app().await;
    let emails = app
        .publish_and_receive(&envelope(&finalist_announced()), 3)
        .await;
    assert_eq!(
        emails.len(),
        3,
        "nominee, alex and jo; the rest duplicates or unusable"
    );

    let nominee = to(&emails, "sam.patel@gstt.example.org");
    assert_eq!(
        nominee.subject(),
        "Congratulations: you are a finalist in Health Heroes 2026"
    );
    assert!(
        nominee
            .text_body()
            .contains("you are a finalist for Porter of the year")
    );
    assert!(
        nominee
            .html_body()
            .contains("Congratulations, you are a finalist")
    );
    for nominator in ["alex@example.org", "jo@example.org"] {
        let email = to(&emails, nominator);
        assert_eq!(
            email.subject(),
            "Sam Patel is a finalist in Health Heroes 2026"
        );
        assert!(
            email
                .text_body()
                .contains("whom you nominated, is a finalist")
        );
        assert!(
            email
                .html_body()
                .contains("whom you nominated, is a finalist")
        );
    }
    settled_as_sent(&app, 3).await;
}

#[tokio::test]
async fn a_winner_is_told_and_so_are_their_nominators() {
    let app = spawn_app().await;
    let emails = app
        .publish_and_receive(&envelope(&winner_announced()), 2)
        .await;
    assert_eq!(emails.len(), 2);
    let nominee = to(&emails, "sam.patel@gstt.example.org");
    assert_eq!(
        nominee.subject(),
        "Congratulations: you have won Porter of the year"
    );
    let nominator = to(&emails, "alex@example.org");
    assert_eq!(nominator.subject(), "Sam Patel has won Porter of the year");
    assert!(
        nominator
            .html_body()
            .contains("whom you nominated, has won")
    );
}

#[tokio::test]
async fn each_event_published_twice_sends_one_email_per_recipient() {
    let app = spawn_app().await;
    let envelopes = [
        envelope(&confirmation_requested()),
        envelope(&draft_saved()),
        envelope(&nominee_thanked("sam@example.org", false, 1)),
        envelope(&more_info_requested("awards@gstt.example.org")),
        envelope(&finalist_announced()),
        envelope(&winner_announced()),
    ];
    for envelope in envelopes.iter().chain(&envelopes) {
        app.publish(envelope).await;
    }
    let expected = 1 + 1 + 1 + 1 + 3 + 2;
    app.smtp.wait_for(expected, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.smtp.received().len(), expected);
    assert_eq!(app.deliveries().await.len(), expected);
}

#[tokio::test]
async fn an_announcement_that_names_no_one_is_dead_lettered() {
    let app = spawn_app().await;
    let event = ev::FinalistAnnounced {
        finalist: None,
        announced_at: None,
        vote: None,
        ..Default::default()
    };
    app.publish(&envelope(&event)).await;
    for _ in 0..100 {
        if !app.bus.dead_letters().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let dead = app.bus.dead_letters();
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0].error.contains("names no finalist"),
        "{}",
        dead[0].error
    );
    assert!(app.smtp.received().is_empty());
}
