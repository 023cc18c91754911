//! The daily cap on unsolicited email: whatever is typed into the public forms, one address gets at
//! most `policy.unsolicited_per_recipient_per_day` of the emails they cause in any 24 hours (5 by
//! default); the rest are recorded as `capped` and never sent. Emails to the trust's contact are not
//! capped.

use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use valued_notification::db::delivery::{Column, Entity};
use valued_platform::grpc::Credentialed;
use valued_platform::{Envelope, EventBus};
use valued_proto::events::v1 as ev;
use valued_proto::notification::v1::WriteToMpRequest;
use valued_proto::notification::v1::notification_service_client::NotificationServiceClient;

use crate::helpers::{TestApp, envelope, nomination_submitted, spawn_app};
use crate::mps_support::{FakePostcodes, spawn_mp_app_with};
use crate::sending_policy::nominee_thanked;

/// "Save and come back later" with `to` typed as the nominator's address.
fn draft_saved(to: &str) -> Envelope {
    envelope(&ev::DraftSaved {
        draft_id: uuid::Uuid::now_v7().to_string(),
        campaign_name: "Health Heroes 2026".into(),
        campaign_slug: "health-heroes-2026".into(),
        nominator_email: to.into(),
        resume_token: "d1af7000".into(),
        expires_at: None,
    })
}

impl TestApp {
    /// The statuses of the deliveries to `address` (as stored, normalised) from `template`.
    async fn statuses_of(&self, address: &str, template: &str) -> Vec<String> {
        self.deliveries()
            .await
            .into_iter()
            .filter(|d| d.recipient == address && d.template == template)
            .map(|d| d.status)
            .collect()
    }

    async fn sent_to(&self, address: &str) -> usize {
        self.smtp
            .received()
            .iter()
            .filter(|e| e.rcpt_to.iter().any(|r| r.eq_ignore_ascii_case(address)))
            .count()
    }
}

fn count(statuses: &[String], status: &str) -> usize {
    statuses.iter().filter(|s| *s == status).count()
}

#[tokio::test]
async fn six_resume_links_to_one_typed_address_in_a_day_send_five_and_cap_the_sixth() {
    let app = spawn_app().await;
    // The same mailbox however it is typed.
    for typed in [
        "Victim@Example.org",
        "victim@example.org",
        " VICTIM@example.org",
        "victim@Example.org",
        "Victim@Example.org",
        "victim@example.org",
    ] {
        app.publish(&draft_saved(typed)).await;
    }
    // Someone else's link is not held back by it.
    app.publish(&draft_saved("alex@example.org")).await;
    app.smtp.wait_for(6, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.settled().await;

    let victim = app.statuses_of("victim@example.org", "draft_resume").await;
    assert_eq!(victim.len(), 6, "{victim:?}");
    assert_eq!(count(&victim, "sent"), 5, "{victim:?}");
    assert_eq!(count(&victim, "capped"), 1, "{victim:?}");
    assert_eq!(app.sent_to("victim@example.org").await, 5);
    assert_eq!(
        app.statuses_of("alex@example.org", "draft_resume").await,
        ["sent"]
    );
    assert_eq!(app.sent_to("alex@example.org").await, 1);
    let capped = app
        .deliveries()
        .await
        .into_iter()
        .find(|d| d.status == "capped")
        .unwrap();
    assert!(capped.last_error.contains("limit"), "{}", capped.last_error);

    // Every form counts towards the same cap: a nomination confirmation or a nominee's thanks to
    // the address is capped too, once it has had its five.
    app.publish(&envelope(&nominee_thanked("victim@example.org")))
        .await;
    app.settled().await;
    assert_eq!(
        app.statuses_of("victim@example.org", "nominee_thanks")
            .await,
        ["capped"]
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.sent_to("victim@example.org").await, 5, "never sent");
}

#[tokio::test]
async fn plus_tags_and_gmail_dots_do_not_buy_one_mailbox_more_emails() {
    let app = spawn_app().await;
    for typed in [
        "victim@gmail.com",
        "victim+1@gmail.com",
        "Vic.tim@gmail.com",
        "v.i.c.t.i.m+drafts@googlemail.com",
        "VICTIM+2@gmail.com",
        "victim+3@gmail.com",
    ] {
        app.publish(&draft_saved(typed)).await;
    }
    app.smtp.wait_for(5, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.settled().await;
    let statuses: Vec<String> = app
        .deliveries()
        .await
        .into_iter()
        .filter(|d| d.template == "draft_resume")
        .map(|d| d.status)
        .collect();
    assert_eq!(count(&statuses, "sent"), 5, "{statuses:?}");
    assert_eq!(count(&statuses, "capped"), 1, "{statuses:?}");
    assert_eq!(app.smtp.received().len(), 5);
}

#[tokio::test]
async fn a_consent_link_to_an_address_typed_on_the_claim_page_is_capped() {
    let app = spawn_app().await;
    for _ in 0..5 {
        app.publish(&draft_saved("victim@example.org")).await;
    }
    app.smtp.wait_for(5, Duration::from_secs(10)).await;
    // Anyone holding a claim link can type any address: the consent link it sends counts too.
    app.publish(&envelope(&ev::NomineeClaimed {
        nominee_id: uuid::Uuid::now_v7().to_string(),
        campaign_name: "Health Heroes 2026".into(),
        trust_name: "Guy's and St Thomas' NHS Foundation Trust".into(),
        nominee_name: "Sam Patel".into(),
        recipient_email: "Victim@example.org".into(),
        consent_token: "c0a5e7".into(),
    }))
    .await;
    app.settled().await;
    assert_eq!(
        app.statuses_of("victim@example.org", "nominee_consent_link")
            .await,
        ["capped"]
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.sent_to("victim@example.org").await, 5, "never sent");
}

#[tokio::test]
async fn emails_to_the_trust_contact_are_not_capped() {
    let app = spawn_app().await;
    let contact = "awards@gstt.example.org";
    for _ in 0..5 {
        app.publish(&draft_saved(contact)).await;
    }
    app.smtp.wait_for(5, Duration::from_secs(10)).await;
    app.publish(&draft_saved(contact)).await;
    // Its nominees thanked through it, and its nominations to review, still go.
    let mut via_manager = ev::NomineeThanked {
        via_manager: true,
        consent_token: String::new(),
        claim_token: "c1a1e".into(),
        ..nominee_thanked(contact)
    };
    app.publish(&envelope(&via_manager)).await;
    via_manager.nominee_id = uuid::Uuid::now_v7().to_string();
    app.publish(&envelope(&via_manager)).await;
    app.publish(&nomination_submitted("alex@example.org")).await;
    app.smtp.wait_for(9, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.settled().await;

    assert_eq!(
        count(&app.statuses_of(contact, "draft_resume").await, "capped"),
        1
    );
    assert_eq!(
        app.statuses_of(contact, "nominee_thanks").await,
        ["sent", "sent"]
    );
    assert_eq!(
        app.statuses_of(contact, "nomination_to_review").await,
        ["sent"]
    );
    assert_eq!(app.sent_to(contact).await, 8);
}

#[tokio::test]
async fn two_events_at_the_last_slot_send_one() {
    let app = spawn_app().await;
    for _ in 0..4 {
        app.publish(&draft_saved("victim@example.org")).await;
    }
    let (first, second) = (
        draft_saved("victim@example.org"),
        draft_saved("Victim@Example.org"),
    );
    tokio::join!(app.publish(&first), app.publish(&second));
    app.smtp.wait_for(5, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.settled().await;

    let statuses = app.statuses_of("victim@example.org", "draft_resume").await;
    assert_eq!(count(&statuses, "sent"), 5, "{statuses:?}");
    assert_eq!(count(&statuses, "capped"), 1, "{statuses:?}");
    assert_eq!(app.sent_to("victim@example.org").await, 5);
}

const ALDERSHOT: &str = "GU11 1AA";

/// Two letters to an MP written at once, each from its own request (its own transaction), from an
/// address with one slot left: one confirmation link goes, the other is capped.
#[tokio::test]
async fn two_letters_written_at_once_at_the_last_slot_send_one_confirmation() {
    let postcodes = FakePostcodes::start(&[(ALDERSHOT, "E14001063")]).await;
    let app = spawn_mp_app_with(postcodes, |_| {}).await;
    let bus = app.bus.clone();
    for _ in 0..4 {
        let results = bus
            .publish(std::slice::from_ref(&draft_saved("chris@example.org")))
            .await;
        assert!(results.iter().all(Result::is_ok));
    }
    let client = app.client().await;
    let write = |mut client: NotificationServiceClient<Credentialed>, body: &'static str| async move {
        client
            .write_to_mp(WriteToMpRequest {
                name: "Chris Example".into(),
                email: "Chris@Example.org".into(),
                postcode: ALDERSHOT.into(),
                body: body.into(),
                campaign_id: String::new(),
            })
            .await
    };
    let (a, b) = tokio::join!(
        write(
            client.clone(),
            "Dear Alex, the porters at Frimley Park looked after my mother for three weeks this \
             winter and nobody thanks them. Please speak up for them."
        ),
        write(
            client.clone(),
            "Dear Alex, I am a domestic at the Royal Surrey and my team keeps the wards safe every \
             night. We would like you to visit and see what we do."
        ),
    );
    a.unwrap();
    b.unwrap();
    let confirmations = Entity::find()
        .filter(Column::Recipient.eq("chris@example.org"))
        .filter(Column::Template.eq("mp_letter_confirm"))
        .all(&app.db)
        .await
        .unwrap();
    let mut statuses: Vec<&str> = confirmations
        .iter()
        .map(|d| {
            if d.status == "capped" {
                "capped"
            } else {
                "goes"
            }
        })
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, ["capped", "goes"]);
    let slots = Entity::find()
        .filter(Column::Recipient.eq("chris@example.org"))
        .filter(Column::UnsolicitedAt.is_not_null())
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(slots.len(), 5);
}

/// The race itself, made certain: while one transaction holds the last slot, not yet committed,
/// another asking for the same address waits for it and then finds no slot.
#[tokio::test]
async fn a_slot_being_taken_holds_back_a_concurrent_ask_until_it_commits() {
    use sea_orm::TransactionTrait;
    use valued_notification::db::delivery::{NewDelivery, insert_once};
    use valued_notification::email::RenderedEmail;
    use valued_notification::policy::unsolicited::Origin;
    use valued_notification::policy::{Verdict, admit};

    let postcodes = FakePostcodes::start(&[(ALDERSHOT, "E14001063")]).await;
    let app = spawn_mp_app_with(postcodes, |_| {}).await;
    let to = "victim@example.org";
    let record = |verdict: Verdict, unsolicited: Option<String>| NewDelivery {
        cause_event_id: uuid::Uuid::now_v7(),
        recipient: to.into(),
        reply_to: None,
        sender_name: None,
        template: "draft_resume",
        email: RenderedEmail {
            subject: "s".into(),
            text: "t".into(),
            html: "h".into(),
        },
        verdict,
        unsolicited,
    };
    for _ in 0..4 {
        let decision = admit(&app.db, to, "draft_resume", Origin::Typed, 5)
            .await
            .unwrap();
        insert_once(&app.db, record(decision.verdict, decision.unsolicited))
            .await
            .unwrap();
    }
    let first = app.db.begin().await.unwrap();
    let last = admit(&first, to, "draft_resume", Origin::Typed, 5)
        .await
        .unwrap();
    assert_eq!(
        (last.verdict, last.unsolicited.is_some()),
        (Verdict::Send, true)
    );
    let second = app.db.begin().await.unwrap();
    let (asked, ()) = tokio::join!(
        admit(&second, to, "draft_resume", Origin::Typed, 5),
        async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            insert_once(&first, record(last.verdict, last.unsolicited))
                .await
                .unwrap();
            first.commit().await.unwrap();
        }
    );
    let asked = asked.unwrap();
    second.rollback().await.unwrap();
    assert_eq!(
        (asked.verdict, asked.unsolicited.is_some()),
        (Verdict::Capped, false)
    );
}

/// A nomination the form did not take is explained to the nominator's address as typed, and that
/// email is one of the address's unsolicited slots like the confirmation it stands in for.
#[tokio::test]
async fn a_declined_nomination_is_explained_to_the_typed_address_within_the_cap() {
    let app = spawn_app().await;
    for _ in 0..5 {
        app.publish(&draft_saved("alex@example.org")).await;
    }
    app.smtp.wait_for(5, Duration::from_secs(10)).await;
    let declined = |nominator: &str| {
        envelope(&ev::NominationDeclined {
            campaign_name: "Health Heroes 2026".into(),
            campaign_slug: "health-heroes-2026".into(),
            nominator_email: nominator.into(),
            nominee_name: "Sam Patel".into(),
            category_name: "Porter of the year".into(),
            reason: "already_nominated".into(),
            limit: 20,
        })
    };
    app.publish(&declined("jo@example.org")).await;
    app.publish(&declined("Alex@example.org")).await;
    app.smtp.wait_for(6, Duration::from_secs(10)).await;
    app.settled().await;
    let to_jo = app
        .smtp
        .received()
        .into_iter()
        .find(|e| e.rcpt_to == ["jo@example.org"])
        .expect("an email to the nominator");
    assert!(
        to_jo
            .subject()
            .contains("You have already nominated Sam Patel")
    );
    assert!(
        to_jo
            .text_body()
            .contains("Your earlier nomination still counts")
    );
    assert_eq!(
        app.statuses_of("alex@example.org", "nomination_declined")
            .await,
        ["capped"]
    );
}

/// A voter's link and code go to the address typed on the vote page, and count among its
/// unsolicited emails.
#[tokio::test]
async fn a_voters_link_and_code_are_sent_to_the_typed_address_within_the_cap() {
    let app = spawn_app().await;
    app.publish(&envelope(&ev::VoterVerificationRequested {
        campaign_name: "Health Heroes 2026".into(),
        email: "Voter@Example.org".into(),
        token: "b0a7".into(),
        code: "042917".into(),
        expires_at: None,
    }))
    .await;
    app.smtp.wait_for(1, Duration::from_secs(10)).await;
    let email = app.smtp.received().remove(0);
    assert_eq!(email.rcpt_to, ["voter@example.org"]);
    assert!(email.subject().contains("to vote in Health Heroes 2026"));
    let text = email.text_body();
    assert!(text.contains("/vote/verify/b0a7"), "{text}");
    assert!(text.contains("042917"), "{text}");
    for _ in 0..5 {
        app.publish(&draft_saved("voter@example.org")).await;
    }
    app.settled().await;
    app.publish(&envelope(&ev::VoterVerificationRequested {
        campaign_name: "Health Heroes 2026".into(),
        email: "voter@example.org".into(),
        token: "b0a8".into(),
        code: "111111".into(),
        expires_at: None,
    }))
    .await;
    app.settled().await;
    let statuses = app
        .statuses_of("voter@example.org", "vote_verification")
        .await;
    assert_eq!(
        (count(&statuses, "sent"), count(&statuses, "capped")),
        (1, 1),
        "{statuses:?}"
    );
}
