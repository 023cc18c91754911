//! SIGTERM: a service stops taking work, finishes what it started, and exits cleanly — so nothing
//! is resent after it comes back.

use std::collections::HashSet;
use std::time::Duration;

use futures::StreamExt;

use crate::cluster::{Cluster, nomination_form, nomination_id};

const NOMINATIONS: usize = 60;

#[tokio::test]
async fn a_terminated_notification_service_drains_and_nothing_is_sent_twice() {
    let mut cluster = Cluster::start().await;
    let campaign = cluster.demo_campaign().await;
    let csrf = cluster.csrf_token().await;
    let submitter = {
        let http = cluster.http.clone();
        let url = cluster.url("/campaigns/health-heroes-2026/nominate");
        tokio::spawn(async move {
            futures::stream::iter(0..NOMINATIONS)
                .map(|i| {
                    let mut form = nomination_form(
                        &campaign,
                        &format!("Nominee {i}"),
                        &format!("graceful-{i}@example.org"),
                    );
                    form.push(("csrf_token", csrf.clone()));
                    let (http, url) = (http.clone(), url.clone());
                    async move { nomination_id(&http.post(&url).form(&form).send().await.unwrap()) }
                })
                .buffer_unordered(4)
                .collect::<Vec<_>>()
                .await
        })
    };

    let received = cluster.smtp.wait_for(20, Duration::from_secs(60)).await;
    assert!(received.len() >= 20);
    assert!(
        cluster.terminate("notification").await,
        "exit status 0 after SIGTERM; logs in {}",
        cluster.logs.display()
    );
    cluster.start_service("notification");
    assert_eq!(submitter.await.unwrap().len(), NOMINATIONS);

    // Each nomination asks its nominator to confirm: one email each.
    let emails = cluster
        .smtp
        .wait_for(NOMINATIONS, Duration::from_secs(120))
        .await;
    tokio::time::sleep(Duration::from_secs(5)).await; // past the 3 s claim lease
    let emails = if emails.len() >= NOMINATIONS {
        cluster.smtp.received()
    } else {
        emails
    };
    let distinct: HashSet<String> = emails.iter().map(|e| e.message_id()).collect();
    assert_eq!(
        distinct.len(),
        NOMINATIONS,
        "every email sent; logs in {}",
        cluster.logs.display()
    );
    assert_eq!(
        emails.len(),
        NOMINATIONS,
        "and none twice: a drained sender leaves nothing half-done"
    );
}

/// A call that cannot finish (its table locked) keeps nomination draining after SIGTERM: the
/// process ends itself when its shutdown budget runs out, long before the 30 s the call itself may
/// take and before an orchestrator's grace period would kill it, and says why. The nominator is
/// told to send again, nothing half-done is stored, and sending again is taken once.
#[tokio::test]
async fn a_service_still_draining_when_its_shutdown_budget_runs_out_ends_itself() {
    use sea_orm::{ConnectionTrait, Database, TransactionTrait};
    let server = valued_testkit::postgres::server_url();
    let mut cluster = Cluster::start_on(
        valued_testkit::rabbitmq::Vhost::create().unwrap(),
        |_| server.clone(),
        &[("VALUED__SHUTDOWN_SECONDS", "3")],
    )
    .await;
    let campaign = cluster.demo_campaign().await;
    let csrf = cluster.csrf_token().await;

    let db = Database::connect(&cluster.databases["nomination"])
        .await
        .unwrap();
    let lock = db.begin().await.unwrap();
    lock.execute_unprepared("LOCK TABLE nomination IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let mut form = nomination_form(&campaign, "Sam Patel", "budget@example.org");
    form.push(("idempotency_key", uuid::Uuid::new_v4().to_string()));
    form.push(("csrf_token", csrf.clone()));
    let sending = {
        let (http, url, form) = (
            cluster.http.clone(),
            cluster.url("/campaigns/health-heroes-2026/nominate"),
            form.clone(),
        );
        tokio::spawn(async move {
            let response = http.post(&url).form(&form).send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        })
    };
    // The submission is in flight once it waits for the lock.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let waiting = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM pg_locks WHERE NOT granted AND database = \
                 (SELECT oid FROM pg_database WHERE datname = current_database())",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
        if waiting > 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the submission never reached the lock"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let asked = tokio::time::Instant::now();
    let clean = cluster.terminate("nomination").await;
    let took = asked.elapsed();
    assert!(
        !clean,
        "a process that ran out of budget does not claim a clean exit"
    );
    assert!(
        took < Duration::from_secs(15),
        "ended by its 3 s budget, not by the 30 s call: {took:?}"
    );
    let log = std::fs::read_to_string(cluster.logs.join("nomination.log")).unwrap();
    assert!(
        log.contains("still draining when the shutdown budget ran out"),
        "the log says why it ended; logs in {}",
        cluster.logs.display()
    );
    lock.rollback().await.unwrap();

    let (status, page) = sending.await.unwrap();
    assert_eq!(status, reqwest::StatusCode::SERVICE_UNAVAILABLE, "{page}");
    assert!(
        page.contains("Sorry, your form could not be sent"),
        "{page}"
    );
    assert_eq!(cluster.row_count("nomination", "nomination").await, 0);

    cluster.start_service("nomination");
    cluster.wait_until_ready().await;
    let again = cluster
        .http
        .post(cluster.url("/campaigns/health-heroes-2026/nominate"))
        .form(&form)
        .send()
        .await
        .unwrap();
    nomination_id(&again);
    assert_eq!(cluster.row_count("nomination", "nomination").await, 1);
}
