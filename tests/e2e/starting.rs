//! Services start while their database is still coming up, as pods do when a database cluster is
//! restored or fails over at the same time as a rollout: each serves its health at once, live but
//! not ready; the gateway stays in service and asks a nominator to send again, with nothing stored;
//! once the database is back each turns ready by itself, does the start-up work it had to put off,
//! and a nomination goes through to its email. A service that migrates at start waits for the
//! database instead, and comes up with the rest.

use std::time::Duration;

use valued_testkit::postgres::Server;
use valued_testkit::rabbitmq::Vhost;

use crate::cluster::{Cluster, nomination_form};

const SERVICES: [&str; 4] = ["nomination", "voting", "survey-feedback", "notification"];

#[tokio::test(flavor = "multi_thread")]
async fn services_start_while_their_database_is_down_and_serve_once_it_is_back() {
    let server = Server::start().await.unwrap();
    let url = server.url();
    let mut cluster = Cluster::start_on(Vhost::create().unwrap(), |_| url.clone(), &[]).await;
    let campaign = cluster.demo_campaign().await;
    let csrf = cluster.csrf_token().await;

    // Every service stops; the database goes away; the services start again without it. All but
    // survey-feedback start as they do in Kubernetes, where migrations are a Job of their own.
    for service in SERVICES {
        cluster.kill(service).await;
    }
    server.stop().unwrap();
    for service in ["nomination", "voting", "notification"] {
        let key = service.to_uppercase();
        cluster.set(
            &format!("VALUED__{key}__DATABASE__MIGRATE_ON_START"),
            "false",
        );
    }
    for service in SERVICES {
        cluster.start_service(service);
    }

    for service in ["nomination", "voting", "notification"] {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !cluster.health(service, "liveness").await {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{service} did not start without its database; logs in {}",
                cluster.logs.display()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(
            !cluster.serving(service).await,
            "{service} says it is ready without its database"
        );
    }
    let log = |service: &str| {
        std::fs::read_to_string(cluster.logs.join(format!("{service}.log"))).unwrap_or_default()
    };
    assert!(
        log("survey-feedback").contains("migrations wait for it"),
        "survey-feedback, which migrates at start, waits for its database; logs in {}",
        cluster.logs.display()
    );

    // The gateway stays in service, and a nominator is told plainly to send again.
    let ready = cluster
        .http
        .get(cluster.url("/readyz"))
        .send()
        .await
        .unwrap();
    assert!(ready.status().is_success(), "{}", ready.status());
    let mut form = nomination_form(&campaign, "Sam Patel", "while-down@example.org");
    form.push(("idempotency_key", uuid::Uuid::new_v4().to_string()));
    let refused = cluster.post_nomination(&csrf, &form).await;
    assert_eq!(refused.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("Sorry, your form could not be sent"),
        "{page}"
    );

    // The database comes back: every service turns ready by itself, without a restart.
    server.start_again().unwrap();
    cluster.wait_until_ready().await;
    assert!(
        log("nomination").contains("done once the database was back"),
        "nomination seeds and announces its role grants once its database is back; logs in {}",
        cluster.logs.display()
    );

    let taken = cluster
        .post_nomination(
            &csrf,
            &nomination_form(&campaign, "Jo Reid", "after@example.org"),
        )
        .await;
    assert_eq!(
        taken.status(),
        reqwest::StatusCode::SEE_OTHER,
        "a nomination is taken once the database is back; logs in {}",
        cluster.logs.display()
    );
    let emails = cluster.smtp.wait_for(1, Duration::from_secs(30)).await;
    let recipients: Vec<String> = emails.iter().flat_map(|e| e.rcpt_to.clone()).collect();
    assert_eq!(recipients, ["after@example.org"], "{recipients:?}");
    assert_eq!(
        cluster.row_count("nomination", "nomination").await,
        1,
        "the nomination refused while the database was down is not stored"
    );
}
