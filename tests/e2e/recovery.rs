//! Email resumes by itself after broker and database restarts: every service its own process on a
//! RabbitMQ node and a PostgreSQL server of the test's own, under a steady load of nominations
//! through the web form. The broker is restarted 10 times and the database 5 times (some right
//! after the notification process itself was killed and started again, some under a burst of
//! load); after each, a nomination made then must reach the SMTP sink within the bound, and the
//! broker must count the notification consumer again. A database outage longer than an event's
//! deliveries last dead-letters nothing, and a broker outage past the bound turns liveness off until
//! the broker is back. At the end every nomination the nomination service stored has exactly one
//! confirmation email.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, Statement};
use tokio::time::Instant;
use valued_proto::nomination::v1::Campaign;
use valued_testkit::postgres::Server;
use valued_testkit::rabbitmq::Node;

use crate::cluster::{Cluster, DEMO_CAMPAIGN, nomination_form};

/// The recovery bound the services run with: a connection, channel or consumer not back within it
/// is torn down and built afresh, and liveness fails after it.
const RECOVERY_SECONDS: &str = "10";
/// How long a nomination made after a restart may take to reach SMTP: the bound, a reconnect's
/// backoff and the backlog the restart left behind.
const RESUMED_WITHIN: Duration = Duration::from_secs(45);

/// Deliveries before an event is dead-lettered: low, so that a database outage that used them up
/// would show in the dead-letter queue within seconds.
const DELIVERY_LIMIT: &str = "5";
/// Longer than those deliveries' backoff takes to run out (about 3 s).
const DATABASE_OUTAGE: Duration = Duration::from_secs(10);

/// How long a consumer may be without the broker before its process reports itself not live.
const STALLED_SECONDS: u64 = 20;

/// Steady load: nominations per second across all clients; a burst multiplies it.
const STEADY_PER_SECOND: u64 = 30;

struct Load {
    stop: Arc<AtomicBool>,
    burst: Arc<AtomicBool>,
    accepted: Arc<std::sync::Mutex<Vec<String>>>,
    refused: Arc<AtomicUsize>,
    clients: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    /// `clients` submit nominations through the form, each from its own nominator address.
    fn start(cluster: &Cluster, campaign: &Campaign, csrf: &str, clients: u64) -> Self {
        let load = Self {
            stop: Arc::default(),
            burst: Arc::default(),
            accepted: Arc::default(),
            refused: Arc::default(),
            clients: Vec::new(),
        };
        let period = Duration::from_millis(1000 * clients / STEADY_PER_SECOND);
        let clients = (0..clients)
            .map(|client| {
                let (http, url) = (
                    cluster.http.clone(),
                    cluster.url(&format!("/campaigns/{DEMO_CAMPAIGN}/nominate")),
                );
                let (campaign, csrf) = (campaign.clone(), csrf.to_owned());
                let (stop, burst) = (load.stop.clone(), load.burst.clone());
                let (accepted, refused) = (load.accepted.clone(), load.refused.clone());
                tokio::spawn(async move {
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        let nominator = format!("load-{client}-{n}@example.org");
                        let mut form =
                            nomination_form(&campaign, &format!("Load {client} {n}"), &nominator);
                        form.push(("csrf_token", csrf.clone()));
                        match http.post(&url).form(&form).send().await {
                            Ok(r) if r.status() == reqwest::StatusCode::SEE_OTHER => {
                                accepted.lock().unwrap().push(nominator);
                            }
                            _ => {
                                refused.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        let pause = if burst.load(Ordering::Relaxed) {
                            period / 4
                        } else {
                            period
                        };
                        tokio::time::sleep(pause).await;
                    }
                })
            })
            .collect();
        Self { clients, ..load }
    }

    async fn stop(self) -> (Vec<String>, usize) {
        self.stop.store(true, Ordering::Relaxed);
        for client in self.clients {
            client.await.unwrap();
        }
        let accepted = self.accepted.lock().unwrap().clone();
        (accepted, self.refused.load(Ordering::Relaxed))
    }
}

/// A nomination made now (retried while the services find their database again) reaches SMTP
/// within the bound, and the broker counts the notification consumer.
async fn assert_email_resumes(
    cluster: &Cluster,
    campaign: &Campaign,
    csrf: &str,
    what: &str,
) -> Duration {
    let started = Instant::now();
    let nominator = format!("probe-{}@example.org", uuid::Uuid::new_v4().simple());
    let mut form = nomination_form(campaign, &format!("Probe after {what}"), &nominator);
    form.push(("csrf_token", csrf.to_owned()));
    let url = cluster.url(&format!("/campaigns/{DEMO_CAMPAIGN}/nominate"));
    loop {
        let response = cluster.http.post(&url).form(&form).send().await;
        if response.is_ok_and(|r| r.status() == reqwest::StatusCode::SEE_OTHER) {
            break;
        }
        assert!(
            started.elapsed() < RESUMED_WITHIN,
            "after {what}: no nomination accepted within {RESUMED_WITHIN:?}; logs in {}",
            cluster.logs.display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    loop {
        if cluster
            .smtp
            .received()
            .iter()
            .any(|e| e.rcpt_to.contains(&nominator))
        {
            break;
        }
        assert!(
            started.elapsed() < RESUMED_WITHIN,
            "after {what}: the confirmation email did not reach SMTP within {RESUMED_WITHIN:?} \
             (consumers on valued.notification: {:?}, messages waiting: {:?}); logs in {}",
            cluster.vhost.consumer_count("valued.notification"),
            cluster.vhost.message_count("valued.notification"),
            cluster.logs.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The broker's own count, not only our logs (it can trail the first deliveries briefly).
    let counted = Instant::now();
    loop {
        let consumers = cluster.vhost.consumer_count("valued.notification");
        if matches!(consumers, Ok(1)) {
            break;
        }
        assert!(
            counted.elapsed() < Duration::from_secs(10),
            "after {what}: the broker counts {consumers:?} notification consumers; logs in {}",
            cluster.logs.display()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    started.elapsed()
}

/// Round `round` of `restart`s: every third comes right after the consuming process itself was
/// killed and started again (while it is still connecting), every third under a burst of load
/// (every handler busy, the prefetch full); returns what the round is, for messages.
async fn set_the_scene(cluster: &mut Cluster, load: &Load, restart: &str, round: u32) -> String {
    match round % 3 {
        1 => {
            cluster.kill("notification").await;
            cluster.start_service("notification");
            tokio::time::sleep(Duration::from_millis(300)).await;
            format!("{restart} {round}, just after notification restarted")
        }
        2 => {
            load.burst.store(true, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_secs(2)).await;
            format!("{restart} {round}, under a burst of load")
        }
        _ => format!("{restart} {round}"),
    }
}

async fn nominators_stored(cluster: &Cluster) -> Vec<String> {
    let db = Database::connect(&cluster.databases["nomination"])
        .await
        .unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT nominator_email FROM nomination",
        ))
        .await
        .unwrap();
    db.close().await.unwrap();
    rows.iter()
        .map(|row| row.try_get::<String>("", "nominator_email").unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_resumes_by_itself_after_broker_and_database_restarts() {
    // Notification's database on a server of its own, so that it can be taken away while the
    // others go on taking nominations.
    let (broker, postgres, notification_postgres) =
        tokio::join!(Node::start(), Server::start(), Server::start());
    let (broker, postgres, notification_postgres) = (
        broker.unwrap(),
        postgres.unwrap(),
        notification_postgres.unwrap(),
    );
    let mut cluster = Cluster::start_on(
        broker.vhost().unwrap(),
        |service| match service {
            "notification" => notification_postgres.url(),
            _ => postgres.url(),
        },
        &[
            ("VALUED__BUS__RECOVERY_SECONDS", RECOVERY_SECONDS),
            ("VALUED__BUS__DELIVERY_LIMIT", DELIVERY_LIMIT),
            ("VALUED__BUS__STALLED_SECONDS", &STALLED_SECONDS.to_string()),
        ],
    )
    .await;
    let campaign = cluster.demo_campaign().await;
    let csrf = cluster.csrf_token().await;
    let load = Load::start(&cluster, &campaign, &csrf, 8);
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mut resumed = Vec::new();
    for round in 1..=10 {
        let what = set_the_scene(&mut cluster, &load, "broker restart", round).await;
        broker.restart(Duration::from_secs(1)).await.unwrap();
        load.burst.store(false, Ordering::Relaxed);
        let took = assert_email_resumes(&cluster, &campaign, &csrf, &what).await;
        eprintln!("{what}: email resumed in {took:?}");
        resumed.push((what, took));
    }
    for round in 1..=5 {
        let what = set_the_scene(&mut cluster, &load, "database restart", round).await;
        // Alternately as a crash (clients cut off, no checkpoint) and as an orderly restart.
        let crash = round % 2 == 1;
        postgres.restart(crash).unwrap();
        notification_postgres.restart(crash).unwrap();
        load.burst.store(false, Ordering::Relaxed);
        let took = assert_email_resumes(&cluster, &campaign, &csrf, &what).await;
        eprintln!("{what}: email resumed in {took:?}");
        resumed.push((what, took));
    }

    // Notification's database away for longer than an event's deliveries last, while
    // nominations go on arriving: the consumer waits for it instead of dead-lettering what it
    // holds, and the backlog waits in its queue.
    notification_postgres.stop().unwrap();
    tokio::time::sleep(DATABASE_OUTAGE).await;
    let waiting = cluster.vhost.message_count("valued.notification").unwrap();
    assert!(
        waiting > 0,
        "events queued for notification during its database outage"
    );
    notification_postgres.start_again().unwrap();
    let what = "a database outage longer than the deliveries last".to_owned();
    let took = assert_email_resumes(&cluster, &campaign, &csrf, &what).await;
    eprintln!("{what}: email resumed in {took:?}");
    resumed.push((what, took));

    // A broker away for longer than the bound: the consuming process says it is not live (so an
    // orchestrator would restart it) while staying ready; once the broker is back, it is live
    // again and email flows without anyone touching it.
    broker.ctl(&["stop_app"]).unwrap();
    let stopped = Instant::now();
    while cluster.health("notification", "liveness").await {
        assert!(
            stopped.elapsed() < Duration::from_secs(STALLED_SECONDS + 15),
            "notification still reports itself live {:?} after losing the broker",
            stopped.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        stopped.elapsed() >= Duration::from_secs(STALLED_SECONDS),
        "not live only after the bound, not at the first blip"
    );
    assert!(
        cluster.health("notification", "").await,
        "still ready: its database is there"
    );
    broker.ctl(&["start_app"]).unwrap();
    let started = Instant::now();
    while !cluster.health("notification", "liveness").await {
        assert!(
            started.elapsed() < RESUMED_WITHIN,
            "notification not live again {:?} after the broker came back",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let what = "a broker outage longer than the bound".to_owned();
    let took = assert_email_resumes(&cluster, &campaign, &csrf, &what).await;
    eprintln!("{what}: email resumed in {took:?}");
    resumed.push((what, took));

    let (accepted, refused) = load.stop().await;
    let slowest = resumed.iter().max_by_key(|(_, took)| *took);
    eprintln!("slowest resumption: {slowest:?}");
    eprintln!(
        "{} nominations accepted, {refused} refused while the database restarted",
        accepted.len()
    );

    // Every nomination stored (accepted ones, and any stored before its answer was lost) gets
    // exactly one confirmation: one Message-ID to its nominator.
    let stored = nominators_stored(&cluster).await;
    let stored_set: HashSet<&String> = stored.iter().collect();
    for nominator in &accepted {
        assert!(
            stored_set.contains(nominator),
            "{nominator} was told their nomination was taken, but it was not stored"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    let confirmations = loop {
        let mut confirmations: HashMap<String, HashSet<String>> = HashMap::new();
        for email in cluster
            .smtp
            .received()
            .iter()
            .filter(|e| e.subject().starts_with("Confirm your nomination"))
        {
            confirmations
                .entry(email.rcpt_to.join(","))
                .or_default()
                .insert(email.message_id());
        }
        if stored.iter().all(|n| confirmations.contains_key(n)) || Instant::now() > deadline {
            break confirmations;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let missing: Vec<&String> = stored
        .iter()
        .filter(|n| !confirmations.contains_key(*n))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} stored nominations had no confirmation email, e.g. {:?}; logs in {}",
        missing.len(),
        stored.len(),
        missing.first(),
        cluster.logs.display()
    );
    let doubled: Vec<(&String, usize)> = confirmations
        .iter()
        .filter(|(_, ids)| ids.len() > 1)
        .map(|(to, ids)| (to, ids.len()))
        .collect();
    assert!(doubled.is_empty(), "confirmations sent twice: {doubled:?}");
    assert_eq!(
        cluster
            .vhost
            .message_count("valued.notification.dlq")
            .unwrap(),
        0,
        "nothing dead-lettered by an outage; logs in {}",
        cluster.logs.display()
    );
    assert_eq!(
        confirmations.len(),
        stored.len(),
        "no confirmation to anyone who did not nominate"
    );
}
