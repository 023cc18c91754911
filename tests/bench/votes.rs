//! Vote ingest: a verified voter's vote POSTed to the gateway's category page → the voting service
//! (pass checked, the vote stored once, appended to the ballot's hash chain, the tally kept, the
//! receipt's outbox row) with every service its own release process on
//! PostgreSQL and RabbitMQ; next to, in the same run and on the same database server with the same
//! client count, a naive endpoint (axum and one INSERT per request) and PostgreSQL's own
//! single-row INSERT rate.
//!
//! Every vote is a different voter on one ballot: the worst case, since a ballot's chain takes its
//! entries one at a time. The voters' passes are written by SQL (as verification would leave them,
//! with the address each vote's receipt is emailed to), so the run measures voting, not
//! verification. The burst flag is off: every vote comes from 127.0.0.1. Half the votes are cast
//! with notification stopped (the ingest alone: the receipts wait in the broker), half with it
//! sending each receipt on the same cores. Each measure first sends a few requests per client
//! that it does not time ([`warm_up`]), so that connections and prepared statements are made.
//!
//! cargo build --release -p valued && cargo bench -p valued-e2e --bench votes
//! (VOTES_BENCH_VOTES, default 3000; VOTES_BENCH_CLIENTS, default 16)

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../e2e/cluster.rs"]
#[allow(dead_code)]
mod cluster;
#[allow(dead_code)]
mod measure;

use std::time::{Duration, Instant};

use axum::extract::{Form, State};
use axum::routing::post;
use futures::StreamExt;
use measure::{Run, env_or, warm_up};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use valued_platform::bus::AmqpBus;
use valued_platform::{BusSettings, Envelope, EventBus};
use valued_proto::events::v1 as ev;
use valued_proto::voting::v1 as pb;
use valued_proto::voting::v1::voting_service_client::VotingServiceClient;

const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

#[tokio::main]
async fn main() {
    let votes = env_or("VOTES_BENCH_VOTES", 3000);
    let clients = env_or("VOTES_BENCH_CLIENTS", 16);
    // Every vote comes from 127.0.0.1: the burst flag would hold them all.
    let mut cluster = cluster::Cluster::start_on(
        valued_testkit::rabbitmq::Vhost::create().unwrap(),
        |_| valued_testkit::postgres::server_url(),
        &[("VALUED__VOTING__FLAGS__PER_NETWORK", "0")],
    )
    .await;
    let db = Database::connect(&cluster.databases["voting"])
        .await
        .unwrap();

    let inserts = postgres_inserts(&db, votes, clients).await;
    let naive = naive_endpoint(&db, votes, clients).await;
    let (alone, with_emails) = through_valued(&mut cluster, &db, votes, clients).await;

    println!();
    println!("{votes} votes, {clients} clients at a time, one ballot");
    println!();
    println!("| measure | rate | p50 / p99 / max |");
    println!("|---|---|---|");
    inserts.row(
        &format!("PostgreSQL single-row INSERT, {clients} clients, autocommit"),
        "votes",
    );
    naive.row("naive endpoint: axum + one INSERT per request", "votes");
    alone.row(
        "Valued ingest: vote POST → gateway → voting (vote, ledger, tally, receipt in the outbox), receipts queued",
        "votes",
    );
    with_emails.row(
        "Valued, notification sending the receipt emails meanwhile",
        "votes",
    );
    for (what, valued) in [("ingest", &alone), ("with emails", &with_emails)] {
        println!(
            "| ratio: Valued {what} / naive endpoint | {:.2} | |",
            valued.rate / naive.rate
        );
        println!(
            "| ratio: Valued {what} / PostgreSQL inserts | {:.2} | |",
            valued.rate / inserts.rate
        );
    }
}

/// PostgreSQL's own rate: one vote-sized row per autocommitted INSERT, `clients` at a time.
async fn postgres_inserts(db: &DatabaseConnection, rows: usize, clients: usize) -> Run {
    db.execute_unprepared(
        "CREATE TABLE bench_insert (id uuid PRIMARY KEY, ballot text NOT NULL, choice text NOT NULL, voter text NOT NULL)",
    )
    .await
    .unwrap();
    Run::measure(rows, clients, |i| {
        let db = db.clone();
        async move {
            db.execute_unprepared(&format!(
                "INSERT INTO bench_insert VALUES ('{}', 'ballot', 'choice', 'voter-{i}')",
                uuid::Uuid::new_v4()
            ))
            .await
            .unwrap();
        }
    })
    .await
}

#[derive(serde::Deserialize)]
struct NaiveVote {
    ballot: String,
    choice: String,
    voter: String,
}

/// The naive endpoint: a form POST, one INSERT, a 200 with a short page.
async fn naive_endpoint(db: &DatabaseConnection, votes: usize, clients: usize) -> Run {
    db.execute_unprepared(
        "CREATE TABLE naive_vote (id uuid PRIMARY KEY, ballot text NOT NULL, choice text NOT NULL, voter text NOT NULL UNIQUE)",
    )
    .await
    .unwrap();
    async fn vote(
        State(db): State<DatabaseConnection>,
        Form(vote): Form<NaiveVote>,
    ) -> axum::response::Html<&'static str> {
        use sea_orm::{Statement, Value};
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "INSERT INTO naive_vote VALUES ($1, $2, $3, $4)",
            [
                Value::from(uuid::Uuid::now_v7()),
                vote.ballot.into(),
                vote.choice.into(),
                vote.voter.into(),
            ],
        ))
        .await
        .unwrap();
        axum::response::Html("<p>Your vote has been counted</p>")
    }
    let app = axum::Router::new()
        .route("/vote", post(vote))
        .with_state(db.clone());
    let url = measure::serve(app, "/vote").await;
    measure::post_forms(&url, votes, clients, |i| {
        vec![
            ("ballot", "ballot".to_owned()),
            ("choice", "choice".to_owned()),
            ("voter", format!("voter-{i}")),
        ]
    })
    .await
}

/// Votes through the gateway's page, each by its own verified voter.
/// Half the votes with notification stopped (the receipts wait in the broker: the ingest alone),
/// then half with it sending each vote's receipt on the same two cores.
async fn through_valued(
    cluster: &mut cluster::Cluster,
    db: &DatabaseConnection,
    votes: usize,
    clients: usize,
) -> (Run, Run) {
    let campaign = cluster.demo_campaign().await;
    let category = &campaign.categories[0];
    let bus = AmqpBus::connect(&BusSettings::amqp(&cluster.vhost.amqp_url(), "valued"))
        .await
        .unwrap();
    let at = |days: i64| {
        Some(prost_types::Timestamp {
            seconds: (chrono::Utc::now() + chrono::Duration::days(days)).timestamp(),
            nanos: 0,
        })
    };
    let finalists: Vec<Envelope> = (1..=4)
        .map(|n| {
            Envelope::new(
                "nomination",
                None,
                &ev::FinalistAnnounced {
                    finalist: Some(ev::RecognisedNominee {
                        nominee_id: format!("finalist-{n}"),
                        campaign_id: campaign.id.clone(),
                        campaign_name: campaign.name.clone(),
                        category_id: category.id.clone(),
                        category_name: category.name.clone(),
                        nominee_name: format!("Finalist {n}"),
                        ..Default::default()
                    }),
                    announced_at: None,
                    vote: Some(ev::VoteTimetable {
                        opens_at: at(-1),
                        closes_at: at(6),
                        results_at: at(8),
                    }),
                    ..Default::default()
                },
            )
        })
        .collect();
    assert!(bus.publish(&finalists).await.into_iter().all(|r| r.is_ok()));
    let mut voting = VotingServiceClient::new(cluster.channel("voting").await);
    let ballot = loop {
        let ballots = voting
            .list_campaign_ballots(pb::ListCampaignBallotsRequest {
                campaign_id: campaign.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .ballots;
        if let Some(ballot) = ballots.into_iter().find(|b| b.finalists.len() == 4) {
            break ballot;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // A pass per voter, as a verification leaves it: only its hash is stored.
    let passes: Vec<String> = (0..warm_up(clients) + votes)
        .map(|i| format!("{:064x}", i + 1))
        .collect();
    for chunk in passes.chunks(1000) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|pass| {
                format!(
                    "('{}', '{}', 'bench-voter-{pass}', now() + interval '1 hour', \
                     'voter-{}@example.org')",
                    valued_platform::link_token::hash_token(pass),
                    campaign.id,
                    &pass[48..]
                )
            })
            .collect();
        db.execute_unprepared(&format!(
            "INSERT INTO voter_pass (pass_hash, campaign_id, voter_key, expires_at, email) VALUES {}",
            rows.join(",")
        ))
        .await
        .unwrap();
    }

    let url = cluster.url(&format!(
        "/campaigns/{}/vote/{}",
        cluster::DEMO_CAMPAIGN,
        ballot.ballot_id
    ));
    let (warming, passes) = passes.split_at(warm_up(clients));
    let (first, second) = passes.split_at(votes / 2);
    vote_with(&url, &ballot, warming, 0, clients).await;
    assert!(cluster.terminate("notification").await);
    let alone = vote_with(&url, &ballot, first, 0, clients).await;
    cluster.start_service("notification");
    cluster.wait_until_ready().await;
    let with_emails = vote_with(&url, &ballot, second, first.len(), clients).await;
    // Every vote stored once, in the chain and the tally.
    let counted = voting
        .verify_ledger(valued_testkit::roles::signed(
            &cluster
                .oidc
                .verified_id_token(cluster::PLATFORM_ADMIN)
                .await
                .unwrap(),
            pb::VerifyLedgerRequest {
                ballot_id: ballot.ballot_id.clone(),
            },
        ))
        .await;
    match counted {
        Ok(report) => {
            let report = report.into_inner();
            assert!(report.intact, "{:?}", report.breaks);
            assert_eq!(report.entries, (warm_up(clients) + votes) as u64);
        }
        // The admin's grant reaches voting only after their first sign-in: check by SQL instead.
        Err(_) => {
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    "SELECT count(*) AS n FROM ledger_entry",
                ))
                .await
                .unwrap()
                .unwrap();
            let entries: i64 = row.try_get("", "n").unwrap();
            assert_eq!(entries, (warm_up(clients) + votes) as i64);
        }
    }
    (alone, with_emails)
}

/// Votes with each of `passes` (the `offset`th onwards of the run) through the category page at
/// `url`, `clients` at a time.
async fn vote_with(
    url: &str,
    ballot: &pb::CampaignBallot,
    passes: &[String],
    offset: usize,
    clients: usize,
) -> Run {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let latencies: Vec<Duration> = futures::stream::iter(passes.iter().enumerate())
        .map(|(i, pass)| {
            let http = http.clone();
            let choice = ballot.finalists[(offset + i) % 4].choice_id.clone();
            async move {
                let sent = Instant::now();
                let response = http
                    .post(url)
                    .header("cookie", format!("valued_csrf={CSRF}; valued_voter={pass}"))
                    .form(&[("csrf_token", CSRF), ("choice", &choice)])
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                let page = response.text().await.unwrap();
                assert!(
                    status.is_success() && page.contains("Your vote has been counted"),
                    "{status}: {page}"
                );
                sent.elapsed()
            }
        })
        .buffer_unordered(clients)
        .collect()
        .await;
    Run::of(started, latencies)
}
