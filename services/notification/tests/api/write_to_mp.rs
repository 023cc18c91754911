//! "Email your MP": found by postcode, written in the supporter's own words, confirmed by a
//! single-use link, then sent to the MP with the supporter as Reply-To. Copies, over-the-limit letters
//! and unusual volume are handled as WriteToThem does. Every email goes to the test's own SMTP sink.

use std::time::Duration;

use valued_notification::mps::write_to_mp::{self, WriteToMpSettings};
use valued_platform::grpc::Credentialed;
use valued_proto::notification::v1::notification_service_client::NotificationServiceClient;
use valued_proto::notification::v1::{
    ConfirmMpLetterRequest, FindMpRequest, HeldLetterDecision, ListDeliveriesRequest,
    ListHeldLetterDecisionsRequest, ListHeldLettersRequest, ReviewHeldLetterRequest,
    WriteToMpRequest,
};
use valued_testkit::smtp::ReceivedEmail;

use crate::mps_support::{FakePostcodes, MpApp, PLATFORM_ADMIN, spawn_mp_app_with};

/// Aldershot (Alex Baker) and Bolton South and Walkden (no usable address in the published list).
const ALDERSHOT: &str = "GU11 1AA";
const BOLTON: &str = "BL4 0AA";

const LETTER: &str = "Dear Alex, the porters and domestics at Frimley Park looked after my mother \
    for three weeks this winter and nobody thanks them. Please speak up for fair pay and recognition \
    for NHS support staff in Parliament.";

/// Three letters, each in its writer's own words.
pub(crate) const OWN_WORDS: [&str; 3] = [
    "Dear Alex, the porters at Frimley Park carried my daughter's cot through the night \
         without a word of complaint. They deserve to be recognised in the NHS pay review.",
    "Dear Alex, I work beside the domestic team on ward 12 and nobody sees how hard they \
         work. Please ask the minister why agency cleaners are paid less than anyone else.",
    "Dear Alex, as a retired ward clerk I know the admin staff are the glue of every \
     hospital. Please support a national day of thanks for NHS support staff.",
];

pub(crate) struct LetterApp {
    pub(crate) client: NotificationServiceClient<Credentialed>,
    pub(crate) app: MpApp,
}

pub(crate) async fn spawn(hold_after_per_day: u64) -> LetterApp {
    let postcodes = FakePostcodes::start(&[(ALDERSHOT, "E14001063"), (BOLTON, "E14001111")]).await;
    let app = spawn_mp_app_with(postcodes, |settings| {
        settings.write_to_mp = WriteToMpSettings { hold_after_per_day };
    })
    .await;
    let client = app.client().await;
    LetterApp { client, app }
}

pub(crate) fn letter(name: &str, email: &str, body: &str) -> WriteToMpRequest {
    WriteToMpRequest {
        name: name.into(),
        email: email.into(),
        postcode: ALDERSHOT.into(),
        body: body.into(),
        campaign_id: String::new(),
    }
}

impl LetterApp {
    /// Writes a letter, which must be taken.
    pub(crate) async fn write(&mut self, name: &str, email: &str, body: &str) {
        self.client
            .write_to_mp(letter(name, email, body))
            .await
            .unwrap();
    }

    pub(crate) async fn email_to(&self, to: &str, subject_starts: &str) -> ReceivedEmail {
        for _ in 0..100 {
            if let Some(found) = self
                .app
                .smtp
                .received()
                .into_iter()
                .find(|e| e.rcpt_to == [to] && e.subject().starts_with(subject_starts))
            {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no email {subject_starts:?} to {to}");
    }

    /// The token of the confirmation link in the supporter's email.
    pub(crate) async fn confirm_token(&self, supporter: &str) -> String {
        let email = self.email_to(supporter, "Confirm your letter").await;
        let text = email.text_body();
        let (_, after) = text
            .split_once("/write-to-your-mp/confirm/")
            .expect("a confirmation link");
        after.chars().take_while(char::is_ascii_hexdigit).collect()
    }

    /// Follows the confirmation link in the supporter's email.
    pub(crate) async fn confirm(&mut self, supporter: &str) -> String {
        let token = self.confirm_token(supporter).await;
        self.client
            .confirm_mp_letter(ConfirmMpLetterRequest { token })
            .await
            .unwrap()
            .into_inner()
            .status
    }

    /// The platform admin the test signs in as, as the provider names them.
    fn admin(&self) -> valued_platform::auth::Identity {
        valued_platform::auth::Identity {
            iss: self.app.provider.issuer.clone(),
            sub: PLATFORM_ADMIN.into(),
            email: PLATFORM_ADMIN.into(),
            email_verified: true,
            name: String::new(),
        }
    }

    /// The decisions on held letters, as a platform admin reads them.
    async fn decisions(&mut self) -> Vec<HeldLetterDecision> {
        let request = self.app.signed(ListHeldLetterDecisionsRequest {
            limit: 100,
            letter_id: String::new(),
        });
        self.client
            .list_held_letter_decisions(request)
            .await
            .unwrap()
            .into_inner()
            .decisions
    }

    pub(crate) fn to_mp(&self) -> Vec<ReceivedEmail> {
        self.app
            .smtp
            .received()
            .into_iter()
            .filter(|e| e.rcpt_to == ["alex.baker.mp@parliament.uk"])
            .collect()
    }
}

#[tokio::test]
async fn a_postcode_finds_the_mp_and_bad_or_unknown_ones_are_explained() {
    let mut app = spawn(50).await;
    let mp = app
        .client
        .find_mp(FindMpRequest {
            postcode: "gu111aa".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .mp
        .unwrap();
    assert_eq!(
        (mp.name.as_str(), mp.constituency_name.as_str()),
        ("Alex Baker", "Aldershot")
    );
    let malformed = app
        .client
        .find_mp(FindMpRequest {
            postcode: "nowhere".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(malformed.code(), tonic::Code::InvalidArgument);
    let unknown = app
        .client
        .find_mp(FindMpRequest {
            postcode: "ZZ1 1ZZ".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);
    assert!(unknown.message().contains("could not find a constituency"));
    let unchecked = app
        .client
        .find_mp(FindMpRequest {
            postcode: BOLTON.into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unchecked.code(), tonic::Code::FailedPrecondition);
    assert!(
        unchecked.message().contains("being checked"),
        "never guessed"
    );
}

#[tokio::test]
async fn a_letter_reaches_the_mp_only_once_confirmed_with_the_supporter_as_reply_to() {
    let mut app = spawn(50).await;
    app.client
        .write_to_mp(letter("Chris Example", "chris@example.org", LETTER))
        .await
        .unwrap();
    let status = app.confirm("chris@example.org").await;
    assert_eq!(status, "sent");
    let to_mp = app
        .email_to(
            "alex.baker.mp@parliament.uk",
            "A letter from your constituent",
        )
        .await;
    assert_eq!(
        to_mp.subject(),
        "A letter from your constituent Chris Example about NHS support staff"
    );
    assert_eq!(
        to_mp.header("Reply-To").as_deref(),
        Some("chris@example.org")
    );
    let text = to_mp.text_body();
    assert!(
        text.contains("the porters and domestics at Frimley Park"),
        "{text}"
    );
    assert!(
        text.contains("GU11 1AA") && text.contains("chris@example.org"),
        "{text}"
    );

    // The link again: nothing more is sent.
    assert_eq!(app.confirm("chris@example.org").await, "sent");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(app.to_mp().len(), 1);

    // National admins see what went to MPs, and only that.
    let logged = app
        .client
        .list_mp_emails(app.app.signed(ListDeliveriesRequest {
            limit: 50,
            recipient: String::new(),
        }))
        .await
        .unwrap()
        .into_inner()
        .deliveries;
    let logged: Vec<(&str, &str, &str)> = logged
        .iter()
        .map(|d| (d.recipient.as_str(), d.template.as_str(), d.status.as_str()))
        .collect();
    assert_eq!(
        logged,
        [("alex.baker.mp@parliament.uk", "mp_letter", "sent")]
    );
}

#[tokio::test]
async fn limits_and_unusual_volume_are_refused_or_held() {
    let mut app = spawn(2).await;
    app.client
        .write_to_mp(letter("Chris Example", "chris@example.org", LETTER))
        .await
        .unwrap();

    // Two letters a day per person per MP, in their own words, counted once confirmed: a third can
    // be written (whoever typed Chris's address cannot use up Chris's day), but not confirmed
    // (below).
    app.client
        .write_to_mp(letter(
            "Chris Example",
            "chris@example.org",
            "Dear Alex, I forgot to say that the catering team at Frimley Park brought my mother \
             soup every evening when she could not face a full meal. They deserve recognition.",
        ))
        .await
        .unwrap();
    app.client
        .write_to_mp(letter(
            "Chris Example",
            "CHRIS@example.org",
            "Dear Alex, one more thing: the hospital's cleaners are agency staff on lower pay than \
             anyone else in the building, and that seems wrong for the people who keep us safe.",
        ))
        .await
        .unwrap();

    // Too short, and a bad address: field errors.
    let bad = app
        .client
        .write_to_mp(letter("Eve", "eve@", "Please help."))
        .await
        .unwrap_err();
    let fields: Vec<String> = valued_platform::grpc::field_errors(&bad)
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(fields, ["email", "body"]);

    // With the hold threshold at 2 a day, the third confirmed letter to the MP is held.
    app.client
        .write_to_mp(letter(
            "Fay Example",
            "fay@example.org",
            "Dear Alex, my brother is a healthcare support worker at Frimley Park and works nights \
             on a salary that does not cover his rent in Aldershot. Please raise this.",
        ))
        .await
        .unwrap();
    let mut statuses = Vec::new();
    for supporter in ["chris@example.org", "fay@example.org"] {
        statuses.push(app.confirm(supporter).await);
    }
    // Chris's letters: the confirm email the helper reads first is the first letter's.
    for _ in 0..100 {
        let to_chris = app.app.smtp.received().into_iter();
        if to_chris
            .filter(|e| e.rcpt_to == ["chris@example.org"])
            .count()
            >= 3
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let chris_token = |nth: usize| {
        let email = app
            .app
            .smtp
            .received()
            .into_iter()
            .filter(|e| e.rcpt_to == ["chris@example.org"])
            .nth(nth)
            .expect("a confirmation email");
        let text = email.text_body();
        let (_, after) = text.split_once("/write-to-your-mp/confirm/").unwrap();
        after
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .collect::<String>()
    };
    let (second, third) = (chris_token(1), chris_token(2));
    statuses.push(
        app.client
            .confirm_mp_letter(ConfirmMpLetterRequest { token: second })
            .await
            .unwrap()
            .into_inner()
            .status,
    );
    assert_eq!(statuses, ["sent", "sent", "held"]);
    let refused = app
        .client
        .confirm_mp_letter(ConfirmMpLetterRequest { token: third })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    assert!(refused.message().contains("twice in the last 24 hours"));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(app.to_mp().len(), 2, "the held letter waits for review");

    // Another held letter; a national admin reviews both: one is sent after all, one discarded.
    app.client
        .write_to_mp(letter(
            "Gil Example",
            "gil@example.org",
            "Dear Alex, my neighbour is a hospital telephonist who has answered calls at Frimley \
             Park for thirty years. People like her deserve a thank you from Parliament.",
        ))
        .await
        .unwrap();
    assert_eq!(app.confirm("gil@example.org").await, "held");
    let held = app
        .client
        .list_held_letters(app.app.signed(ListHeldLettersRequest {}))
        .await
        .unwrap()
        .into_inner()
        .letters;
    let held: Vec<(String, String)> = held
        .into_iter()
        .map(|l| (l.supporter_email, l.id))
        .collect();
    assert_eq!(held.len(), 2);
    let review = |email: &str, send: bool| ReviewHeldLetterRequest {
        letter_id: held.iter().find(|(e, _)| e == email).unwrap().1.clone(),
        send,
    };
    let sent = app
        .client
        .review_held_letter(app.app.signed(review("chris@example.org", true)))
        .await
        .unwrap()
        .into_inner()
        .status;
    assert_eq!(sent, "sent");
    let discarded = app
        .client
        .review_held_letter(app.app.signed(review("gil@example.org", false)))
        .await
        .unwrap()
        .into_inner()
        .status;
    assert_eq!(discarded, "discarded");
    let again = app
        .client
        .review_held_letter(app.app.signed(review("gil@example.org", true)))
        .await
        .unwrap_err();
    assert_eq!(
        again.code(),
        tonic::Code::FailedPrecondition,
        "decided once"
    );
    let _ = app
        .email_to(
            "alex.baker.mp@parliament.uk",
            "A letter from your constituent Chris",
        )
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let to_mp = app.to_mp();
    assert_eq!(
        to_mp.len(),
        3,
        "the reviewed letter went, the discarded one did not"
    );
    assert!(!to_mp.iter().any(|e| e.text_body().contains("telephonist")));
}

#[tokio::test]
async fn each_mp_is_told_once_a_week_how_many_constituents_wrote() {
    let mut app = spawn(50).await;
    for (i, body) in OWN_WORDS.iter().enumerate() {
        let email = format!("supporter-{i}@example.org");
        app.client
            .write_to_mp(letter("A Supporter", &email, body))
            .await
            .unwrap();
        assert_eq!(app.confirm(&email).await, "sent");
    }
    let week = chrono::Duration::hours(168);
    let next_week = valued_notification::mps::digest::period_start(week, chrono::Utc::now())
        + week
        + chrono::Duration::seconds(1);
    assert_eq!(
        app.app.letters.send_counts(week, next_week).await.unwrap(),
        1
    );
    assert_eq!(
        app.app.letters.send_counts(week, next_week).await.unwrap(),
        0,
        "once a week, however often the job looks"
    );
    let count = app
        .email_to("alex.baker.mp@parliament.uk", "3 constituents wrote to you")
        .await;
    assert!(count.text_body().contains("Aldershot"));
    // The letters themselves went one by one; the count is one more email, not three.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(app.to_mp().len(), 4);
}

/// Letters from one person to one MP confirmed at once, each its own request: the daily limit is
/// counted under the MP's lock with the letter it admits, so exactly two go whatever the timing.
/// Writing them is not limited: only confirmed letters count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn letters_confirmed_at_once_by_one_person_pass_the_daily_limit_only_twice() {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use valued_notification::mps::write_to_mp::entity::{Column, Entity};

    let app = spawn(50).await;
    for i in 0..4 {
        // Each different: no two share a word triple.
        let words: Vec<String> = (0..16).map(|j| format!("thought{i}x{j}")).collect();
        let body = format!("Dear Alex, {}.", words.join(" "));
        app.client
            .clone()
            .write_to_mp(letter("Chris Example", "Chris@Example.org", &body))
            .await
            .unwrap();
    }
    app.app.smtp.wait_for(4, Duration::from_secs(10)).await;
    let tokens: Vec<String> = app
        .app
        .smtp
        .received()
        .iter()
        .map(|email| {
            let text = email.text_body();
            let (_, after) = text.split_once("/write-to-your-mp/confirm/").unwrap();
            after.chars().take_while(char::is_ascii_hexdigit).collect()
        })
        .collect();
    assert_eq!(tokens.len(), 4);
    let confirms: Vec<_> = tokens
        .into_iter()
        .map(|token| {
            let mut client = app.client.clone();
            tokio::spawn(async move {
                client
                    .confirm_mp_letter(ConfirmMpLetterRequest { token })
                    .await
            })
        })
        .collect();
    let mut taken = 0;
    for confirm in confirms {
        match confirm.await.unwrap() {
            Ok(_) => taken += 1,
            Err(refused) => {
                assert_eq!(
                    refused.code(),
                    tonic::Code::FailedPrecondition,
                    "{refused:?}"
                );
                assert!(refused.message().contains("twice in the last 24 hours"));
            }
        }
    }
    assert_eq!(taken, 2);
    let confirmed = Entity::find()
        .filter(Column::SupporterEmail.eq("chris@example.org"))
        .filter(Column::ConfirmedAt.is_not_null())
        .count(&app.app.db)
        .await
        .unwrap();
    assert_eq!(confirmed, 2);
}

/// A pasted copy (case and punctuation changed) of LETTER.
fn pasted() -> String {
    LETTER.to_uppercase().replace(',', "")
}

#[tokio::test]
async fn an_unconfirmed_letter_blocks_no_one_however_alike() {
    let mut app = spawn(50).await;
    // Typed, never confirmed: anyone can type anything with any address.
    app.write("Chris Example", "chris@example.org", LETTER)
        .await;
    app.write("Dee Example", "dee@example.org", &pasted()).await;
    assert_eq!(app.confirm("dee@example.org").await, "sent");
    let to_mp = app
        .email_to(
            "alex.baker.mp@parliament.uk",
            "A letter from your constituent Dee",
        )
        .await;
    assert!(to_mp.text_body().contains("FRIMLEY PARK"));
}

/// Copies of a confirmed letter are held for a person, never refused: nothing tells an abuser's
/// letters from a supporter's, so someone confirming an organiser's suggested wording from
/// addresses of their own must not stop anyone else writing.
#[tokio::test]
async fn a_copy_of_a_letter_someone_else_confirmed_is_held_for_review_not_refused() {
    let mut app = spawn(50).await;
    // Someone confirms the suggested wording first, from two addresses of their own.
    for address in ["first@example.net", "second@example.net"] {
        app.write("Pat Example", address, LETTER).await;
    }
    assert_eq!(app.confirm("first@example.net").await, "sent");
    assert_eq!(app.confirm("second@example.net").await, "held");

    // A supporter using that wording can still write; a person reads the letter before it goes.
    app.write("Dee Example", "dee@example.org", &pasted()).await;
    assert_eq!(app.confirm("dee@example.org").await, "held");
    // One in their own words goes straight away.
    app.write(
        "Fay Example",
        "fay@example.org",
        "Dear Alex, my brother is a healthcare support worker at Frimley Park and works nights \
         on a salary that does not cover his rent in Aldershot. Please raise this.",
    )
    .await;
    assert_eq!(app.confirm("fay@example.org").await, "sent");

    // Held with the letters waiting for review; a person sends the supporter's.
    let held = write_to_mp::held(&app.app.db).await.unwrap();
    let mut held_from: Vec<&str> = held
        .iter()
        .map(|(l, _)| l.supporter_email.as_str())
        .collect();
    held_from.sort_unstable();
    assert_eq!(held_from, ["dee@example.org", "second@example.net"]);
    let (dee, _) = held
        .iter()
        .find(|(l, _)| l.supporter_email == "dee@example.org")
        .unwrap();
    app.app
        .letters
        .review(&dee.id.to_string(), true, &app.admin())
        .await
        .unwrap();
    let _ = app
        .email_to(
            "alex.baker.mp@parliament.uk",
            "A letter from your constituent Dee",
        )
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let senders: Vec<String> = app
        .to_mp()
        .iter()
        .filter_map(|e| e.header("Reply-To"))
        .collect();
    assert_eq!(senders.len(), 3, "{senders:?}");
    assert!(!senders.iter().any(|s| s == "second@example.net"));
}

/// Every decision on a held letter is recorded with the platform admin who made it, in the
/// decision's own transaction: a refused decision (the letter was decided already) records
/// nothing, and the database refuses to change or remove what is recorded.
#[tokio::test]
async fn each_decision_on_a_held_letter_is_recorded_with_the_admin_who_made_it() {
    use sea_orm::{ConnectionTrait, Statement};

    // Every letter is held: the MP's day is "full" from the first.
    let mut app = spawn(0).await;
    app.write("Chris Example", "chris@example.org", LETTER)
        .await;
    app.write(
        "Gil Example",
        "gil@example.org",
        "Dear Alex, my neighbour is a hospital telephonist who has answered calls at Frimley \
         Park for thirty years. People like her deserve a thank you from Parliament.",
    )
    .await;
    assert_eq!(app.confirm("chris@example.org").await, "held");
    assert_eq!(app.confirm("gil@example.org").await, "held");
    let held = app
        .client
        .list_held_letters(app.app.signed(ListHeldLettersRequest {}))
        .await
        .unwrap()
        .into_inner()
        .letters;
    let id_of = |email: &str| {
        held.iter()
            .find(|l| l.supporter_email == email)
            .unwrap()
            .id
            .clone()
    };
    let (chris, gil) = (id_of("chris@example.org"), id_of("gil@example.org"));
    assert!(app.decisions().await.is_empty());

    let before = chrono::Utc::now().timestamp();
    for (letter_id, send) in [(&chris, true), (&gil, false)] {
        app.client
            .review_held_letter(app.app.signed(ReviewHeldLetterRequest {
                letter_id: letter_id.clone(),
                send,
            }))
            .await
            .unwrap();
    }
    // Decided already: refused, and nothing recorded.
    let again = app
        .client
        .review_held_letter(app.app.signed(ReviewHeldLetterRequest {
            letter_id: gil.clone(),
            send: true,
        }))
        .await
        .unwrap_err();
    assert_eq!(again.code(), tonic::Code::FailedPrecondition);

    let decisions = app.decisions().await;
    let what: Vec<(&str, &str)> = decisions
        .iter()
        .map(|d| (d.letter_id.as_str(), d.decision.as_str()))
        .collect();
    assert_eq!(
        what,
        [(gil.as_str(), "discard"), (chris.as_str(), "send")],
        "newest first, one each"
    );
    for decision in &decisions {
        assert_eq!(decision.admin_email, PLATFORM_ADMIN);
        assert_eq!(decision.admin_issuer, app.app.provider.issuer);
        assert_eq!(
            decision.admin_subject, PLATFORM_ADMIN,
            "the provider's account id"
        );
        assert_eq!(decision.mp_name, "Alex Baker");
        assert_eq!(decision.constituency_name, "Aldershot");
        assert_eq!(decision.constituency_code, "E14001063");
        let at = decision.decided_at.unwrap().seconds;
        assert!(at >= before - 1 && at <= chrono::Utc::now().timestamp() + 1);
    }
    let one = app
        .client
        .list_held_letter_decisions(app.app.signed(ListHeldLetterDecisionsRequest {
            limit: 10,
            letter_id: chris.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .decisions;
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].decision, "send");
    // Only for platform admins.
    let anonymous = app
        .client
        .list_held_letter_decisions(ListHeldLetterDecisionsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);

    // Append-only: not even the service's own database account can rewrite the record.
    for sql in [
        "UPDATE held_letter_decision SET decision = 'send'",
        "DELETE FROM held_letter_decision",
        "TRUNCATE held_letter_decision",
    ] {
        let refused = app
            .app
            .db
            .execute_raw(Statement::from_string(
                app.app.db.get_database_backend(),
                sql,
            ))
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("append-only"),
            "{sql}: {refused}"
        );
    }
    assert_eq!(app.decisions().await.len(), 2);
}

/// Five weeks on, retention has taken what supporters typed out of their letters and out of every
/// stored email, with the links those emails carried; a letter never confirmed is gone with its
/// confirm-token hash, so its link finds nothing; and the MP's count of letters for the week they
/// were confirmed in is what it was.
#[tokio::test]
async fn after_retention_no_supporter_details_or_links_remain_and_the_mps_count_stays_right() {
    use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use valued_notification::db::delivery;
    use valued_notification::mps::write_to_mp::entity::{Column, Entity};

    let mut app = spawn(50).await;
    for (i, body) in OWN_WORDS[..2].iter().enumerate() {
        let email = format!("supporter-{i}@example.org");
        app.write("A Supporter", &email, body).await;
        assert_eq!(app.confirm(&email).await, "sent");
    }
    app.write("Una Example", "una@example.org", OWN_WORDS[2])
        .await;
    let unconfirmed = app.email_to("una@example.org", "Confirm your letter").await;
    let text = unconfirmed.text_body();
    let (_, after) = text.split_once("/write-to-your-mp/confirm/").unwrap();
    let una_token: String = after.chars().take_while(char::is_ascii_hexdigit).collect();
    for _ in 0..100 {
        if app.to_mp().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.to_mp().len(), 2);

    // Five weeks pass.
    for sql in [
        "UPDATE mp_letter SET created_at = created_at - INTERVAL '35 days', \
         confirmed_at = confirmed_at - INTERVAL '35 days'",
        "UPDATE delivery SET created_at = created_at - INTERVAL '35 days', \
         unsolicited_at = unsolicited_at - INTERVAL '35 days', \
         counted_at = counted_at - INTERVAL '35 days'",
    ] {
        app.app.db.execute_unprepared(sql).await.unwrap();
    }
    let report = app.app.retention.run(chrono::Utc::now()).await.unwrap();
    assert_eq!((report.sent_letters, report.unconfirmed_letters), (2, 1));
    assert_eq!(
        report.deliveries, 5,
        "three links to confirm, two letters to the MP"
    );

    // Not in the database, let alone the API: no stored email holds a link, a supporter's address
    // or their words.
    for row in delivery::Entity::find().all(&app.app.db).await.unwrap() {
        for text in [&row.subject, &row.text_body, &row.html_body] {
            assert_eq!(text, "[removed after 30 days]");
        }
        assert_eq!(row.reply_to, None);
        if row.template == "mp_letter" {
            assert_eq!(row.recipient, "alex.baker.mp@parliament.uk");
        } else {
            assert!(!row.recipient.contains('@'), "{}", row.recipient);
        }
    }
    let listed = app
        .client
        .list_deliveries(app.app.signed(ListDeliveriesRequest {
            limit: 100,
            recipient: String::new(),
        }))
        .await
        .unwrap()
        .into_inner()
        .deliveries;
    assert_eq!(listed.len(), 5);
    assert!(listed.iter().all(|d| !d.text_body.contains("example.org")));
    // The never-confirmed letter's link leads nowhere; no letter keeps a confirm-token hash.
    let gone = app
        .client
        .confirm_mp_letter(ConfirmMpLetterRequest { token: una_token })
        .await
        .unwrap_err();
    assert_eq!(gone.code(), tonic::Code::NotFound);
    let with_hash = Entity::find()
        .filter(Column::ConfirmTokenHash.is_not_null())
        .count(&app.app.db)
        .await
        .unwrap();
    assert_eq!(with_hash, 0);
    let letters = Entity::find().all(&app.app.db).await.unwrap();
    assert_eq!(letters.len(), 2);
    assert!(letters.iter().all(|l| l.body == "[removed after 30 days]"));

    // The MP's count for the week the letters were confirmed in.
    let week = chrono::Duration::hours(168);
    let confirmed = letters[0].confirmed_at.unwrap();
    let that_week_over = valued_notification::mps::digest::period_start(week, confirmed)
        + week
        + chrono::Duration::seconds(1);
    assert_eq!(
        app.app
            .letters
            .send_counts(week, that_week_over)
            .await
            .unwrap(),
        1
    );
    let _ = app
        .email_to("alex.baker.mp@parliament.uk", "2 constituents wrote to you")
        .await;
}
