//! Every nomination yields exactly one "confirm your nomination" email, even when the notification
//! service is killed mid-load and the broker connections are cut; every confirmation then yields
//! exactly one review email; the same event delivered twice has one effect.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures::StreamExt;
use valued_platform::bus::AmqpBus;
use valued_platform::{BusSettings, Envelope, EventBus};
use valued_proto::events::v1::NominationSubmitted;

use crate::cluster::{Cluster, nomination_form, nomination_id};

const NOMINATIONS: usize = 200;
/// `notification.sender.unrecorded_at_most` (its default): how many emails can be on the wire or
/// accepted and not yet recorded at a kill.
const SENDER_UNRECORDED_AT_MOST: usize = 32;

fn nominator(i: usize) -> String {
    format!("nominator-{i}@example.org")
}

#[tokio::test]
async fn no_email_is_lost_or_doubled_when_the_consumer_dies_and_connections_drop() {
    let mut cluster = Cluster::start().await;
    let campaign = cluster.demo_campaign().await;
    let csrf = cluster.csrf_token().await;

    // 200 nominations in flight, 8 at a time, while the faults below happen.
    let submitter = {
        let http = cluster.http.clone();
        let url = cluster.url("/campaigns/health-heroes-2026/nominate");
        tokio::spawn(async move {
            futures::stream::iter(0..NOMINATIONS)
                .map(|i| {
                    let mut form =
                        nomination_form(&campaign, &format!("Nominee {i}"), &nominator(i));
                    form.push(("csrf_token", csrf.clone()));
                    let (http, url) = (http.clone(), url.clone());
                    async move {
                        let response = http.post(&url).form(&form).send().await.unwrap();
                        (i, nomination_id(&response))
                    }
                })
                .buffer_unordered(8)
                .collect::<Vec<_>>()
                .await
        })
    };

    wait_for_emails(&cluster, 40).await;
    cluster.kill("notification").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.start_service("notification");

    wait_for_emails(&cluster, 160).await;
    cluster.vhost.close_all_connections().unwrap();

    let submitted = submitter.await.unwrap();
    assert_eq!(submitted.len(), NOMINATIONS);
    let emails = cluster
        .smtp
        .wait_for(NOMINATIONS, Duration::from_secs(120))
        .await;
    // Anything sent twice would arrive after a lapsed claim (3 s): wait past it.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let emails = if emails.len() >= NOMINATIONS {
        cluster.smtp.received()
    } else {
        emails
    };

    // Exactly once as a mailbox sees it: one Message-ID per nomination. On the wire, a sender killed
    // between the SMTP server's "250" and its database commit resends that email after its claim
    // lapses, with the same Message-ID (mailbox providers drop such copies); count those apart.
    let mut confirmations: HashMap<String, HashSet<String>> = HashMap::new();
    let mut wire_copies = 0;
    for email in emails
        .iter()
        .filter(|e| e.subject().starts_with("Confirm your nomination"))
    {
        wire_copies += 1;
        let nominee = email.subject();
        let i: usize = nominee
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("Nominee {i} in the subject");
        assert_eq!(
            nominator(i),
            email.rcpt_to.join(","),
            "the right nomination to the right person"
        );
        confirmations
            .entry(email.rcpt_to.join(","))
            .or_default()
            .insert(email.message_id());
    }
    for (i, _) in &submitted {
        let distinct = confirmations.get(&nominator(*i)).map_or(0, HashSet::len);
        assert_eq!(
            distinct,
            1,
            "nomination {i}: {distinct} distinct confirmations; logs in {}",
            cluster.logs.display()
        );
    }
    assert_eq!(
        confirmations.len(),
        NOMINATIONS,
        "no confirmation to anyone else"
    );
    let resent = wire_copies - NOMINATIONS;
    eprintln!("{resent} confirmation(s) resent after the kill (same Message-ID)");
    assert!(
        resent <= SENDER_UNRECORDED_AT_MOST,
        "at most the emails sent and not yet recorded at the kill are resent, got {resent}"
    );
    // Each nominator follows their link (one email each, however many copies arrived).
    let mut links: HashMap<String, valued_testkit::smtp::ReceivedEmail> = HashMap::new();
    for email in emails
        .into_iter()
        .filter(|e| e.subject().starts_with("Confirm your nomination"))
    {
        links.entry(email.rcpt_to.join(",")).or_insert(email);
    }
    futures::stream::iter(links.values())
        .map(|email| cluster.confirm_from_email(email))
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    let reviews = || -> HashSet<String> {
        cluster
            .smtp
            .received()
            .iter()
            .filter(|e| e.subject().starts_with("New nomination to review"))
            .map(|e| e.message_id())
            .collect()
    };
    for _ in 0..1200 {
        if reviews().len() >= NOMINATIONS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let reviews = reviews();
    assert_eq!(
        reviews.len(),
        NOMINATIONS,
        "one review email per nomination"
    );

    // After the faults, the broker still has our consumer attached (not just our logs saying so).
    assert_eq!(
        cluster.vhost.consumer_count("valued.notification").unwrap(),
        1
    );
}

#[tokio::test]
async fn the_same_event_published_twice_sends_one_email_per_recipient() {
    let cluster = Cluster::start().await;
    let bus = AmqpBus::connect(&BusSettings::amqp(&cluster.vhost.amqp_url(), "valued"))
        .await
        .unwrap();
    let event = NominationSubmitted {
        nomination_id: uuid::Uuid::now_v7().to_string(),
        trust_admin_email: "awards@trust.example.org".into(),
        nominator_email: "twice@example.org".into(),
        nominee_name: "Jo Bloggs".into(),
        ..Default::default()
    };
    let envelope = Envelope::new("test", Some("RJ1"), &event);
    for _ in 0..2 {
        assert!(
            bus.publish(std::slice::from_ref(&envelope))
                .await
                .into_iter()
                .all(|r| r.is_ok())
        );
    }
    let emails = cluster.smtp.wait_for(2, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let emails = if emails.len() >= 2 {
        cluster.smtp.received()
    } else {
        emails
    };
    let mut recipients: Vec<String> = emails.iter().map(|e| e.rcpt_to.join(",")).collect();
    recipients.sort();
    assert_eq!(
        recipients,
        ["awards@trust.example.org", "twice@example.org"]
    );
}

async fn wait_for_emails(cluster: &Cluster, count: usize) {
    let received = cluster.smtp.wait_for(count, Duration::from_secs(60)).await;
    assert!(
        received.len() >= count,
        "only {} emails arrived; logs in {}",
        received.len(),
        cluster.logs.display()
    );
}
