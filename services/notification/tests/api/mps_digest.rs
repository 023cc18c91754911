//! MP digests: finalists and winners who agreed to their MP being told reach that MP in one email
//! per period, exactly once; without consent nothing ever does.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::Utc;
use sea_orm::ConnectionTrait;
use valued_notification::mps::digest::{not_included, waiting_for_check};
use valued_notification::mps::sent_to_mps;
use valued_platform::Envelope;
use valued_proto::events::v1 as ev;
use valued_testkit::smtp::ReceivedEmail;

use crate::helpers::envelope;
use crate::mps_support::{FakePostcodes, MpApp, spawn_mp_app};

/// Seven workplaces in seven constituencies, with each constituency's MP: four sites the service
/// knows, three it asks the postcode service about.
const SEVEN: [(&str, &str); 7] = [
    ("SE1 7EH", "florence.eshalomi.mp@parliament.uk"),
    ("SE1 9RT", "neil.coyle.mp@parliament.uk"),
    ("B15 2GW", "preet.gill.mp@parliament.uk"),
    ("NG7 2UH", "lilian.greenwood.mp@parliament.uk"),
    ("NG5 1PB", "alex.norris.mp@parliament.uk"),
    ("GU11 1PZ", "alex.baker.mp@parliament.uk"),
    ("WS9 8AA", "wendy.morton.mp@parliament.uk"),
];
/// Preston's MP has no email address in the list: flagged, never emailed.
const PRESTON: &str = "PR1 9HT";
const NOWHERE: &str = "ZZ9 9ZZ";

async fn app() -> MpApp {
    let postcodes = FakePostcodes::start(&[
        ("NG5 1PB", "E14001411"),
        ("GU11 1PZ", "E14001063"),
        ("WS9 8AA", "E14001064"),
        (PRESTON, "E14001433"),
    ])
    .await;
    spawn_mp_app(postcodes).await
}

fn name(i: usize) -> String {
    format!("Constituent {i:03}")
}

fn recognised(i: usize, postcode: &str, share_with_mp: bool) -> ev::RecognisedNominee {
    ev::RecognisedNominee {
        nominee_id: uuid::Uuid::now_v7().to_string(),
        nomination_id: uuid::Uuid::now_v7().to_string(),
        campaign_name: "Health Heroes 2026".into(),
        category_name: "Porter of the year".into(),
        trust_name: "Guy's and St Thomas' NHS Foundation Trust".into(),
        nominee_name: name(i),
        nominee_job_title: "Porter".into(),
        story_excerpt: format!("Story of constituent {i:03}."),
        share_with_mp,
        workplace_postcode: postcode.into(),
        nominee_email: format!("nominee{i}@trust.example.org"),
        ..Default::default()
    }
}

fn finalist(i: usize, postcode: &str, share_with_mp: bool) -> Envelope {
    envelope(&ev::FinalistAnnounced {
        finalist: Some(recognised(i, postcode, share_with_mp)),
        announced_at: None,
        vote: None,
        ..Default::default()
    })
}

fn winner(i: usize, postcode: &str) -> Envelope {
    envelope(&ev::WinnerAnnounced {
        winner: Some(recognised(i, postcode, true)),
        announced_at: None,
    })
}

fn to_mps(emails: &[ReceivedEmail]) -> Vec<&ReceivedEmail> {
    emails
        .iter()
        .filter(|e| e.rcpt_to.iter().any(|r| r.ends_with("@parliament.uk")))
        .collect()
}

impl MpApp {
    /// Waits until `count` constituents are recorded (included or not).
    async fn wait_for_items(&self, count: usize) {
        for _ in 0..200 {
            if not_included(&self.db).await.unwrap().len() >= count {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{count} constituents were never recorded");
    }

    /// Waits until the digest's own subscription has handled `count` events.
    async fn wait_for_digest_to_hear(&self, count: i64) {
        let statement = sea_orm::Statement::from_sql_and_values(
            self.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM inbox WHERE consumer = $1",
            [valued_notification::mps::digest::CONSUMER.into()],
        );
        for _ in 0..200 {
            let heard: i64 = self
                .db
                .query_one_raw(statement.clone())
                .await
                .unwrap()
                .and_then(|row| row.try_get("", "n").ok())
                .unwrap_or_default();
            if heard >= count {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the MP digest never heard {count} events");
    }

    /// Waits for `count` emails in all, then a little longer for any that should not come.
    async fn emails(&self, count: usize) -> Vec<ReceivedEmail> {
        self.smtp.wait_for(count, Duration::from_secs(20)).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        self.smtp.received()
    }
}

#[tokio::test]
async fn fifty_finalists_for_seven_mps_make_seven_digests_each_listing_its_own() {
    let app = app().await;
    let mut expected: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut events = Vec::new();
    for i in 0..50 {
        let (postcode, mp) = SEVEN[i % 7];
        expected.entry(mp).or_default().insert(name(i));
        events.push(if i == 49 {
            winner(i, postcode)
        } else {
            finalist(i, postcode, true)
        });
    }
    // Not told: no consent (even at a known site), an MP to check first, a postcode that isn't.
    for i in 50..55 {
        events.push(finalist(i, SEVEN[i % 7].0, false));
    }
    events.push(finalist(55, PRESTON, true));
    events.push(finalist(56, PRESTON, true));
    events.push(finalist(57, NOWHERE, true));
    app.publish(&events).await;
    app.wait_for_items(53).await;

    let now = Utc::now();
    let early = app.digest.run(now).await.unwrap();
    assert_eq!(early.digests, 0, "the period has not ended");
    let week_later = now + chrono::Duration::weeks(1);
    let report = app.digest.run(week_later).await.unwrap();
    assert_eq!(
        (
            report.digests,
            report.included,
            report.held_for_check,
            report.unresolvable
        ),
        (7, 50, 2, 1),
        "{report:?}"
    );

    // 58 finalist and winner notices to the nominees, and 7 digests.
    let emails = app.emails(58 + 7).await;
    assert_eq!(emails.len(), 65);
    let digests = to_mps(&emails);
    assert_eq!(digests.len(), 7);
    let recipients: BTreeSet<&str> = digests.iter().map(|e| e.rcpt_to[0].as_str()).collect();
    assert_eq!(recipients, expected.keys().copied().collect());
    for email in &digests {
        let listed = &expected[email.rcpt_to[0].as_str()];
        let text = email.text_body();
        let html = email.html_body();
        assert_eq!(
            text.matches("Constituent ").count(),
            listed.len(),
            "{}: {text}",
            email.rcpt_to[0]
        );
        for constituent in listed {
            assert!(text.contains(constituent.as_str()), "{constituent}: {text}");
            assert!(html.contains(constituent.as_str()), "{constituent}");
        }
        assert!(text.contains("Porter of the year, Health Heroes 2026"));
        assert!(text.contains("Guy's and St Thomas' NHS Foundation Trust"));
        assert!(email.subject().contains("constituents of yours"));
    }
    let winner_mp = SEVEN[49 % 7].1;
    let winner_email = digests.iter().find(|e| e.rcpt_to[0] == winner_mp).unwrap();
    assert!(
        winner_email
            .text_body()
            .contains("Winner: Porter of the year")
    );
    assert!(
        winner_email
            .text_body()
            .contains("\"Story of constituent 049.\"")
    );

    // The same period again, by this replica or two at once: nothing more.
    let (again, twice) = tokio::join!(app.digest.run(week_later), app.digest.run(week_later));
    assert_eq!((again.unwrap().digests, twice.unwrap().digests), (0, 0));
    assert_eq!(app.emails(65).await.len(), 65);

    // What was sent to MPs stays listed; Preston's constituents wait, counted, for a person.
    let mut listed = Vec::new();
    for _ in 0..100 {
        listed = sent_to_mps(&app.db, None, 100).await.unwrap();
        if listed.iter().all(|e| e.status == "sent") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(listed.len(), 7);
    assert!(
        listed
            .iter()
            .all(|e| e.status == "sent" && e.sent_at.is_some())
    );
    let counts: BTreeMap<&str, usize> = listed
        .iter()
        .map(|e| {
            (
                e.recipient.as_str(),
                usize::try_from(e.constituents).unwrap(),
            )
        })
        .collect();
    let wanted: BTreeMap<&str, usize> = expected.iter().map(|(mp, c)| (*mp, c.len())).collect();
    assert_eq!(counts, wanted);
    assert_eq!(waiting_for_check(&app.db).await.unwrap(), 2);
    let problems: Vec<_> = not_included(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|i| i.problem.is_some())
        .map(|i| i.nominee_name)
        .collect();
    assert_eq!(problems, [name(57)]);
}

#[tokio::test]
async fn without_consent_nothing_reaches_an_mp() {
    let app = app().await;
    let events: Vec<Envelope> = (0..10)
        .map(|i| finalist(i, SEVEN[i % 7].0, false))
        .chain((10..12).map(|i| {
            let mut nominee = recognised(i, SEVEN[0].0, false);
            nominee.share_with_mp = false;
            envelope(&ev::WinnerAnnounced {
                winner: Some(nominee),
                announced_at: None,
            })
        }))
        .collect();
    app.publish(&events).await;
    let emails = app.emails(12).await;
    app.wait_for_digest_to_hear(12).await;
    for weeks in 1..3 {
        let report = app
            .digest
            .run(Utc::now() + chrono::Duration::weeks(weeks))
            .await
            .unwrap();
        assert_eq!(report.digests, 0);
    }
    assert!(not_included(&app.db).await.unwrap().is_empty());
    assert_eq!(app.emails(12).await.len(), emails.len());
    assert!(to_mps(&app.smtp.received()).is_empty());
    assert!(sent_to_mps(&app.db, None, 10).await.unwrap().is_empty());
    assert_eq!(
        app.postcodes.requests(),
        0,
        "no postcode was even looked up"
    );
}

#[tokio::test]
async fn one_digest_per_mp_and_period_and_late_constituents_wait_for_the_next() {
    let app = app().await;
    let (aldershot, mp) = SEVEN[5];
    let first = finalist(1, aldershot, true);
    // Delivered twice: recorded once.
    app.publish(&[first.clone(), first, finalist(2, aldershot, true)])
        .await;
    app.wait_for_items(2).await;
    let week_later = Utc::now() + chrono::Duration::weeks(1);
    assert_eq!(app.digest.run(week_later).await.unwrap().digests, 1);

    app.publish(&[finalist(3, aldershot, true)]).await;
    app.wait_for_items(1).await;
    assert_eq!(app.digest.run(week_later).await.unwrap().digests, 0);
    let waiting = not_included(&app.db).await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].nominee_name, name(3));

    let two_weeks_later = week_later + chrono::Duration::weeks(1);
    assert_eq!(app.digest.run(two_weeks_later).await.unwrap().digests, 1);
    // Notices for constituents 1, 2 and 3, and two digests.
    let emails = app.emails(5).await;
    let digests = to_mps(&emails);
    assert_eq!(digests.len(), 2);
    assert!(digests.iter().all(|e| e.rcpt_to == [mp]));
    // The two may reach the sink in either order.
    let mut texts: Vec<String> = digests.iter().map(|e| e.text_body()).collect();
    texts.sort_by_key(|t| std::cmp::Reverse(t.matches("Constituent ").count()));
    let listed: Vec<usize> = texts
        .iter()
        .map(|t| t.matches("Constituent ").count())
        .collect();
    assert_eq!(listed, [2, 1]);
    assert!(texts[0].contains(&name(1)) && texts[0].contains(&name(2)));
    assert!(texts[1].contains(&name(3)) && !texts[1].contains(&name(1)));
    assert!(texts[1].starts_with("Dear Alex Baker,"));
    assert_eq!(
        app.postcodes.requests(),
        1,
        "Aldershot's postcode was looked up once"
    );
}

#[tokio::test]
async fn constituents_wait_while_the_postcode_service_is_down_and_go_once_it_answers() {
    let app = app().await;
    let (aldershot, mp) = SEVEN[5];
    app.publish(&[finalist(1, aldershot, true)]).await;
    app.wait_for_items(1).await;
    app.postcodes.slow_down(Duration::from_secs(3));
    let week_later = Utc::now() + chrono::Duration::weeks(1);
    let report = app.digest.run(week_later).await.unwrap();
    assert_eq!(
        (report.digests, report.awaiting_lookup),
        (0, 1),
        "{report:?}"
    );

    app.postcodes.slow_down(Duration::ZERO);
    let report = app.digest.run(week_later).await.unwrap();
    assert_eq!(
        (report.digests, report.awaiting_lookup),
        (1, 0),
        "{report:?}"
    );
    let emails = app.emails(2).await;
    assert_eq!(to_mps(&emails).len(), 1);
    assert_eq!(to_mps(&emails)[0].rcpt_to, [mp]);
}

#[tokio::test]
async fn a_constituent_reaches_whoever_is_their_mp_when_the_digest_goes() {
    let app = app().await;
    let (aldershot, _) = SEVEN[5];
    app.publish(&[finalist(1, aldershot, true)]).await;
    app.wait_for_items(1).await;
    // Aldershot's MP changes before the period ends.
    let next = std::fs::read_to_string(crate::mps_support::MP_LOOKUP_CSV)
        .unwrap()
        .replace(
            "\"5173\",\"Alex Baker MP\",\"Alex Baker\",\"Labour\",\"alex.baker.mp@parliament.uk\"",
            "\"99999\",\"Sam Example MP\",\"Sam Example\",\"Independent\",\"sam.example.mp@parliament.uk\"",
        );
    valued_notification::mps::import(&app.db, next.as_bytes(), &indicatif::ProgressBar::hidden())
        .await
        .unwrap();
    let report = app
        .digest
        .run(Utc::now() + chrono::Duration::weeks(1))
        .await
        .unwrap();
    assert_eq!(report.digests, 1);
    let emails = app.emails(2).await;
    let digests = to_mps(&emails);
    assert_eq!(digests.len(), 1);
    assert_eq!(digests[0].rcpt_to, ["sam.example.mp@parliament.uk"]);
    assert!(digests[0].text_body().starts_with("Dear Sam Example,"));
    let listed = sent_to_mps(&app.db, Some(99999), 10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(
        sent_to_mps(&app.db, Some(5173), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_withdrawn_consent_takes_a_constituent_or_their_story_out_of_digests_not_yet_sent() {
    let app = app().await;
    let (southwark, mp) = SEVEN[0];
    let withdrawn = recognised(1, southwark, true);
    let storyless = recognised(2, southwark, true);
    let events: Vec<Envelope> = [&withdrawn, &storyless]
        .into_iter()
        .map(|nominee| {
            envelope(&ev::FinalistAnnounced {
                finalist: Some(nominee.clone()),
                announced_at: None,
                vote: None,
                ..Default::default()
            })
        })
        .collect();
    app.publish(&events).await;
    app.wait_for_digest_to_hear(2).await;
    let changed = |nominee: &ev::RecognisedNominee, story: bool, mp: bool| {
        envelope(&ev::ConsentChanged {
            nominee_id: nominee.nominee_id.clone(),
            listed_publicly: true,
            story_published: story,
            shared_with_mp: mp,
            ..Default::default()
        })
    };
    app.publish(&[
        changed(&withdrawn, true, false),
        changed(&storyless, false, true),
    ])
    .await;
    app.wait_for_digest_to_hear(4).await;

    let report = app
        .digest
        .run(Utc::now() + chrono::Duration::weeks(1))
        .await
        .unwrap();
    assert_eq!(report.digests, 1);
    let digests = app.emails(3).await;
    let digest = to_mps(&digests)
        .into_iter()
        .find(|e| e.rcpt_to == [mp])
        .expect("the digest to the MP");
    let text = digest.text_body();
    assert!(text.contains(&storyless.nominee_name), "{text}");
    assert!(!text.contains(&withdrawn.nominee_name), "{text}");
    assert!(!text.contains(&storyless.story_excerpt), "{text}");
}
