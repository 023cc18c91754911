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
