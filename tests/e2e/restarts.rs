//! No failed submissions during a restart: every service its own process on PostgreSQL and
//! RabbitMQ, each killed (SIGKILL) and started again in turn under a steady load of nominations
//! through the web form. Each nominator behaves as a person with a browser would: a "could not be
//! sent" page, or a connection that fails, and they send the same form again a moment later (the
//! form carries its idempotency key). At the end every nominator was told their nomination was
//! sent, exactly one nomination of theirs is stored, and exactly one email (one Message-ID; a copy
//! resent after notification's kill carries the same one) asks them to confirm it; no answer was
//! anything else. While a gRPC service restarts the gateway retries the
//! submission (safe, as it carries its key), so nobody is even asked to send it again.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, Statement};
use tokio::sync::Mutex;
use valued_proto::nomination::v1::Campaign;

use crate::cluster::{Cluster, DEMO_CAMPAIGN, SERVICES, nomination_form};

/// `notification.sender.concurrency` (its default): how many emails can be in flight at a kill.
const SENDER_CONCURRENCY: usize = 8;

/// Nominations per second across all clients.
const PER_SECOND: u64 = 40;
const CLIENTS: u64 = 8;
/// Load kept up after each service is back, before the next is killed.
const BETWEEN: Duration = Duration::from_secs(2);
/// How often one nominator sends the same form before giving up (a person would, eventually).
const SENDINGS: u32 = 30;

/// What each nominator saw.
#[derive(Default)]
struct Seen {
    /// Nominators told their nomination was sent (a redirect to "Check your email").
    sent: HashSet<String>,
    /// Nominators who gave up: told each time that it could not be sent.
    gave_up: HashSet<String>,
    /// Sendings answered "could not be sent, send it again" (503), and connections that failed.
    told_to_resend: u32,
    connection_failed: u32,
    /// Any other answer: none is expected.
    unexpected: Vec<String>,
}

/// Sends one nomination as a person would: again, with the same form, after a "could not be sent"
/// page or a failed connection.
async fn nominate(
    http: &reqwest::Client,
    url: &str,
    form: &[(&str, String)],
    nominator: &str,
    seen: &Mutex<Seen>,
) {
    for _ in 0..SENDINGS {
        match http.post(url).form(form).send().await {
            Ok(response) if response.status() == reqwest::StatusCode::SEE_OTHER => {
                seen.lock().await.sent.insert(nominator.to_owned());
                return;
            }
            Ok(response) if response.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE => {
                let page = response.text().await.unwrap_or_default();
                let mut seen = seen.lock().await;
                if page.contains("Sorry, your form could not be sent")
                    && page.contains("send them again")
                {
                    seen.told_to_resend += 1;
                } else {
                    seen.unexpected
                        .push(format!("{nominator}: 503 {}", title(&page)));
                    return;
                }
            }
            Ok(response) => {
                let status = response.status();
                let page = response.text().await.unwrap_or_default();
                seen.lock()
                    .await
                    .unexpected
                    .push(format!("{nominator}: {status} {}", title(&page)));
                return;
            }
            Err(_) => seen.lock().await.connection_failed += 1,
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    seen.lock().await.gave_up.insert(nominator.to_owned());
}

fn title(page: &str) -> &str {
    page.split_once("<title>")
        .and_then(|(_, rest)| rest.split_once("</title>"))
        .map_or("", |(title, _)| title.trim())
}

fn load(
    cluster: &Cluster,
    campaign: &Campaign,
    csrf: &str,
    stop: &Arc<AtomicBool>,
    seen: &Arc<Mutex<Seen>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let period = Duration::from_millis(1000 * CLIENTS / PER_SECOND);
    (0..CLIENTS)
        .map(|client| {
            let http = cluster.http.clone();
            let url = cluster.url(&format!("/campaigns/{DEMO_CAMPAIGN}/nominate"));
            let (campaign, csrf) = (campaign.clone(), csrf.to_owned());
            let (stop, seen) = (stop.clone(), seen.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let nominator = format!("restart-{client}-{n}@example.org");
                    let mut form =
                        nomination_form(&campaign, &format!("Restart {client} {n}"), &nominator);
                    form.push(("csrf_token", csrf.clone()));
                    // The key Check your answers puts in the form.
                    form.push(("idempotency_key", uuid::Uuid::new_v4().to_string()));
                    nominate(&http, &url, &form, &nominator, &seen).await;
                    tokio::time::sleep(period).await;
                }
            })
        })
        .collect()
}

/// Each nominator's nominations stored, by address.
async fn stored(cluster: &Cluster) -> HashMap<String, i64> {
    let db = Database::connect(&cluster.databases["nomination"])
        .await
        .unwrap();
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT nominator_email, COUNT(*) AS n FROM nomination \
         WHERE nominator_email LIKE 'restart-%' GROUP BY nominator_email",
    ))
    .await
    .unwrap()
    .into_iter()
    .map(|row| {
        (
            row.try_get::<String>("", "nominator_email").unwrap(),
            row.try_get::<i64>("", "n").unwrap(),
        )
    })
    .collect()
}

#[tokio::test]
async fn every_service_killed_in_turn_under_load_loses_and_doubles_no_nomination() {
    let mut cluster = Cluster::start().await;
    let campaign = cluster.demo_campaign().await;
    let csrf = cluster.csrf_token().await;
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let clients = load(&cluster, &campaign, &csrf, &stop, &seen);

    tokio::time::sleep(BETWEEN).await;
    for service in SERVICES {
        let before = seen.lock().await.sent.len();
        cluster.kill(service).await;
        cluster.start_service(service);
        cluster.wait_until_ready().await;
        tokio::time::sleep(BETWEEN).await;
        let after = seen.lock().await.sent.len();
        assert!(
            after > before,
            "nominations went on around the restart of {service}; logs in {}",
            cluster.logs.display()
        );
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }

    let seen = seen.lock().await;
    eprintln!(
        "{} nominators told their nomination was sent; {} sendings answered \"send it again\", \
         {} connections failed",
        seen.sent.len(),
        seen.told_to_resend,
        seen.connection_failed
    );
    assert!(
        seen.unexpected.is_empty(),
        "answers a person could not act on: {:?}; logs in {}",
        seen.unexpected,
        cluster.logs.display()
    );
    assert!(seen.gave_up.is_empty(), "gave up: {:?}", seen.gave_up);
    // Each gRPC service was back within the gateway's retry budget, so no sending failed while
    // one restarted; only the gateway's own restart can fail a connection.
    assert_eq!(
        seen.told_to_resend,
        0,
        "sendings answered \"send it again\"; logs in {}",
        cluster.logs.display()
    );
    assert!(seen.sent.len() > 100, "a steady load: {}", seen.sent.len());

    // Stored: exactly one each, for exactly the nominators told so.
    let stored = stored(&cluster).await;
    let doubled: Vec<_> = stored.iter().filter(|(_, n)| **n != 1).collect();
    assert!(doubled.is_empty(), "stored more than once: {doubled:?}");
    let stored: HashSet<String> = stored.into_keys().collect();
    assert_eq!(
        stored.difference(&seen.sent).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "stored without the nominator being told"
    );
    assert_eq!(
        seen.sent.difference(&stored).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "told it was sent, but not stored"
    );

    // And emailed once each: one request to confirm per nominator.
    let emails = cluster
        .smtp
        .wait_for(seen.sent.len(), Duration::from_secs(120))
        .await;
    tokio::time::sleep(Duration::from_secs(5)).await; // past the 3 s claim lease
    let emails = if emails.len() >= seen.sent.len() {
        cluster.smtp.received()
    } else {
        emails
    };
    // An email accepted by SMTP just before notification was killed, its sent mark not yet
    // committed, goes again once its claim lapses, with the same Message-ID (mailbox providers drop
    // such a copy; README, "Email"): one Message-ID per nominator, and no more extra copies than
    // the sender had in flight at the kill.
    let mut per_recipient: HashMap<String, HashSet<String>> = HashMap::new();
    for email in &emails {
        for to in &email.rcpt_to {
            per_recipient
                .entry(to.clone())
                .or_default()
                .insert(email.message_id());
        }
    }
    for nominator in &seen.sent {
        assert_eq!(
            per_recipient.get(nominator).map_or(0, HashSet::len),
            1,
            "{nominator} is asked to confirm once; logs in {}",
            cluster.logs.display()
        );
    }
    let copies = emails.len() - seen.sent.len();
    assert!(
        copies <= SENDER_CONCURRENCY,
        "{copies} copies sent again after notification's kill, more than the {SENDER_CONCURRENCY} \
         it can have in flight; logs in {}",
        cluster.logs.display()
    );
}
