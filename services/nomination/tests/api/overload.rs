//! A service held up (here: its database, by a lock another transaction holds) takes no more calls
//! than its bound, sheds the rest at once with RESOURCE_EXHAUSTED instead of
//! queueing them, answers those it holds CANCELLED when they run past the request timeout, with
//! nothing stored, and serves again once its database is free.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, TransactionTrait};
use tonic::Code;
use valued_nomination::Settings;
use valued_platform::GrpcSettings;
use valued_proto::nomination::v1::SubmitNominationRequest;

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn a_held_up_service_sheds_past_its_bound_times_out_what_it_holds_and_recovers() {
    let app = spawn_app_with(Settings {
        grpc: GrpcSettings {
            max_in_flight: 2,
            request_timeout_seconds: 1,
            ..GrpcSettings::default()
        },
        ..Settings::default()
    })
    .await;
    let request = |n: usize| SubmitNominationRequest {
        nominator_email: format!("held-{n}@example.org"),
        idempotency_key: format!("0193a1b2-0000-7000-8000-{n:012}"),
        ..app.valid_request()
    };

    let lock = app.db.begin().await.unwrap();
    lock.execute_unprepared("LOCK TABLE nomination IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let started = Instant::now();
    let calls = (0..5).map(|n| {
        let (mut client, request) = (app.client.clone(), request(n));
        async move {
            let answer = client.submit_nomination(request).await;
            (
                answer.map(|_| ()).map_err(|status| status.code()),
                started.elapsed(),
            )
        }
    });
    let answers = futures::future::join_all(calls).await;
    let shed: Vec<_> = answers
        .iter()
        .filter(|(answer, _)| *answer == Err(Code::ResourceExhausted))
        .collect();
    let timed_out: Vec<_> = answers
        .iter()
        .filter(|(answer, _)| *answer == Err(Code::Cancelled))
        .collect();
    assert_eq!((shed.len(), timed_out.len()), (3, 2), "{answers:?}");
    assert!(
        shed.iter()
            .all(|(_, after)| *after < Duration::from_millis(500)),
        "shed at once, not queued: {shed:?}"
    );
    assert!(
        timed_out
            .iter()
            .all(|(_, after)| *after >= Duration::from_secs(1)),
        "held until the timeout: {timed_out:?}"
    );
    lock.rollback().await.unwrap();
    assert_eq!(app.nomination_count().await, 0, "nothing stored");

    // The database is free again: each of the five, sent again with its key, is taken once.
    for n in 0..5 {
        app.client
            .clone()
            .submit_nomination(request(n))
            .await
            .unwrap();
    }
    assert_eq!(app.nomination_count().await, 5);
}
