//! Results of a big public vote: `GetTally` on a ballot of ten million votes reads the maintained
//! tally (and the ledger's head), so it costs what it costs on an empty ballot; next to it, the
//! GROUP BY over the vote table that results used to be. Then `CastVote` appending after ten
//! million entries, and `valued votes verify`'s check of a real chain of a million entries.
//!
//! The voting service runs in this process on a fresh PostgreSQL database. The ten million votes and
//! entries are written by SQL (their hashes are filler: only the results are read from them); the
//! chain that is verified is built entry by entry as the service builds it.
//!
//! cargo bench -p valued-e2e --bench ledger
//! (LEDGER_BENCH_VOTES, default 10000000; LEDGER_BENCH_VERIFY, default 1000000)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;
#[allow(dead_code)]
mod measure;

use std::time::Instant;

use measure::{env_or, percentiles};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use secrecy::SecretString;
use valued_platform::DatabaseSettings;
use valued_platform::grpc::Credentialed;
use valued_proto::voting::v1 as pb;
use valued_proto::voting::v1::voting_service_client::VotingServiceClient;
use valued_voting::ledger;

const CHOICES: usize = 10;
const READS: usize = 200;
const CASTS: usize = 200;

struct Voting {
    client: VotingServiceClient<Credentialed>,
    token: String,
    db: DatabaseConnection,
    _harness: harness::Harness,
}

impl Voting {
    fn signed<T>(&self, message: T) -> tonic::Request<T> {
        valued_testkit::roles::signed(&self.token, message)
    }

    async fn ballot(&self, title: &str) -> uuid::Uuid {
        let choices = (0..CHOICES)
            .map(|i| pb::Choice {
                id: format!("c{i}"),
                label: format!("Finalist {i}"),
            })
            .collect();
        let id = self
            .client
            .clone()
            .create_ballot(self.signed(pb::CreateBallotRequest {
                title: title.into(),
                choices,
            }))
            .await
            .unwrap()
            .into_inner()
            .ballot_id;
        id.parse().unwrap()
    }

    async fn sql(&self, sql: &str, ballot: uuid::Uuid, votes: u64) {
        self.db
            .execute_raw(Statement::from_sql_and_values(
                self.db.get_database_backend(),
                sql,
                [ballot.into(), i64::try_from(votes).unwrap().into()],
            ))
            .await
            .unwrap();
    }
}

async fn start(url: &str) -> Voting {
    let harness = harness::Harness::start("voting").await;
    let settings = valued_voting::Settings {
        database: DatabaseSettings::postgres(url.to_owned()),
        grpc: valued_testkit::grpc::settings(),
        voter_key_secret: SecretString::from("bench-voter-key-secret"),
        auth: harness.auth(),
        ..valued_voting::Settings::default()
    };
    let app = valued_voting::Application::build(&settings, harness.platform.platform())
        .await
        .unwrap();
    let port = app.port();
    let db = app.db().clone();
    tokio::spawn(app.run_until_stopped());
    let (channel, token) = harness
        .admin(&db, port, &settings.grpc, valued_voting::NAME)
        .await;
    let client = VotingServiceClient::new(channel);
    Voting {
        client,
        token,
        db,
        _harness: harness,
    }
}

/// p50 and p99 of `GetTally` on `ballot` over gRPC, as a platform admin.
async fn get_tally(voting: &Voting, ballot: uuid::Uuid, votes: u64) -> (f64, f64) {
    let mut reads = Vec::with_capacity(READS);
    // The first calls also warm the pool's connections and the token verifier's keys.
    for round in 0..READS + 10 {
        let started = Instant::now();
        let tally = voting
            .client
            .clone()
            .get_tally(voting.signed(pb::GetTallyRequest {
                ballot_id: ballot.to_string(),
            }))
            .await
            .unwrap()
            .into_inner();
        if round >= 10 {
            reads.push(started.elapsed());
        }
        assert_eq!(tally.total_votes, votes);
    }
    percentiles(reads)
}

/// Writes `votes` votes, ledger entries and their tally by SQL: the results read them, nothing
/// checks their hashes.
async fn fill(voting: &Voting, ballot: uuid::Uuid, votes: u64) {
    for sql in [
        "INSERT INTO vote (id, ballot_id, choice_id, voter_key, cast_at) \
         SELECT gen_random_uuid(), $1, 'c' || (i % 10), md5('k' || i) || md5('l' || i), now() \
         FROM generate_series(1, $2) AS i",
        "INSERT INTO ledger_entry (ballot_id, seq, choice_id, voter_hash, cast_hour, prev_hash, hash) \
         SELECT $1, i, 'c' || (i % 10), md5('v' || i) || md5('w' || i), date_trunc('hour', now()), \
         md5('h' || (i - 1)) || md5('g' || (i - 1)), md5('h' || i) || md5('g' || i) \
         FROM generate_series(1, $2) AS i",
        "INSERT INTO tally (ballot_id, choice_id, votes) \
         SELECT $1, choice_id, count(*) FROM ledger_entry WHERE ballot_id = $1 AND seq <= $2 \
         GROUP BY choice_id",
    ] {
        voting.sql(sql, ballot, votes).await;
    }
    voting
        .db
        .execute_unprepared("ANALYZE vote; ANALYZE ledger_entry; ANALYZE tally")
        .await
        .unwrap();
}

/// A real chain of `votes` entries, built as the service builds it, with its votes and tally.
async fn real_chain(voting: &Voting, ballot: uuid::Uuid, votes: u64) {
    let mut prev = ledger::genesis(ballot);
    let at = chrono::Utc::now();
    let mut counts = [0i64; CHOICES];
    let mut seq = 0u64;
    while seq < votes {
        let mut entries = Vec::new();
        let mut keys = Vec::new();
        for _ in 0..1_000.min(votes - seq) {
            seq += 1;
            let key = format!(
                "{:064x}",
                u128::from(seq.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            );
            let choice = (seq % CHOICES as u64) as usize;
            counts[choice] += 1;
            let entry = ledger::Entry::next(
                ballot,
                seq,
                &format!("c{choice}"),
                ledger::voter_hash_of(ballot, &key),
                at,
                prev.clone(),
            );
            prev.clone_from(&entry.hash);
            keys.push((key, choice));
            entries.push(entry);
        }
        let rows: Vec<String> = entries
            .iter()
            .map(|e| {
                format!(
                    "('{ballot}', {}, '{}', '{}', '{}', '{}', '{}')",
                    e.seq,
                    e.choice_id,
                    e.voter_hash,
                    ledger::hour_text(e.cast_hour),
                    e.prev_hash,
                    e.hash
                )
            })
            .collect();
        voting
            .db
            .execute_unprepared(&format!(
                "INSERT INTO ledger_entry (ballot_id, seq, choice_id, voter_hash, cast_hour, prev_hash, hash) VALUES {}",
                rows.join(", ")
            ))
            .await
            .unwrap();
        let rows: Vec<String> = keys
            .iter()
            .map(|(key, choice)| {
                format!("(gen_random_uuid(), '{ballot}', 'c{choice}', '{key}', now())")
            })
            .collect();
        voting
            .db
            .execute_unprepared(&format!(
                "INSERT INTO vote (id, ballot_id, choice_id, voter_key, cast_at) VALUES {}",
                rows.join(", ")
            ))
            .await
            .unwrap();
    }
    for (choice, n) in counts.iter().enumerate() {
        voting
            .db
            .execute_unprepared(&format!(
                "INSERT INTO tally (ballot_id, choice_id, votes) VALUES ('{ballot}', 'c{choice}', {n})"
            ))
            .await
            .unwrap();
    }
}

#[tokio::main]
async fn main() {
    let votes = env_or("LEDGER_BENCH_VOTES", 10_000_000);
    let verified = env_or("LEDGER_BENCH_VERIFY", 1_000_000);
    let url = valued_testkit::postgres::fresh_database("voting_bench")
        .await
        .unwrap();
    let voting = start(&url).await;

    let big = voting.ballot("Porter of the year").await;
    let filling = Instant::now();
    fill(&voting, big, votes).await;
    eprintln!("filled {votes} votes in {:.0?}", filling.elapsed());

    let empty = voting.ballot("Cleaner of the year").await;
    let (empty_p50, empty_p99) = get_tally(&voting, empty, 0).await;
    let (read_p50, read_p99) = get_tally(&voting, big, votes).await;
    let mut reads = Vec::with_capacity(READS);
    for _ in 0..READS {
        let started = Instant::now();
        let head = ledger::store::head(&voting.db, big).await.unwrap();
        let tally = valued_voting::db::queries::tally(&voting.db, big)
            .await
            .unwrap();
        reads.push(started.elapsed());
        assert_eq!(tally.total, votes);
        assert_eq!(head.unwrap().seq, votes);
    }
    let (db_p50, db_p99) = percentiles(reads);

    let mut counted = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        voting
            .db
            .query_all_raw(Statement::from_sql_and_values(
                voting.db.get_database_backend(),
                "SELECT choice_id, count(id) FROM vote WHERE ballot_id = $1 GROUP BY choice_id",
                [big.into()],
            ))
            .await
            .unwrap();
        counted.push(started.elapsed());
    }
    let group_by = counted.iter().min().unwrap().as_secs_f64() * 1e3;

    let mut casts = Vec::with_capacity(CASTS);
    for i in 0..CASTS {
        let started = Instant::now();
        let cast = voting
            .client
            .clone()
            .cast_vote(pb::CastVoteRequest {
                ballot_id: big.to_string(),
                choice_id: format!("c{}", i % CHOICES),
                voter_email: format!("voter{i}@example.org"),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        casts.push(started.elapsed());
        assert_eq!(cast.receipt.len(), 11);
    }
    let (cast_p50, cast_p99) = percentiles(casts);

    let chained = voting.ballot("Domestic of the year").await;
    real_chain(&voting, chained, verified).await;
    let started = Instant::now();
    let report = valued_voting::ledger::store::verify(&voting.db, chained)
        .await
        .unwrap();
    let verify = started.elapsed().as_secs_f64();
    assert!(
        report.intact(),
        "{:?}",
        &report.breaks[..report.breaks.len().min(5)]
    );
    assert_eq!(report.entries, verified);

    println!();
    println!("| measure | figure |");
    println!("|---|---|");
    println!(
        "| results of a {votes}-vote ballot as GetTally reads them (maintained tally + ledger head), p50 / p99 of {READS} | {db_p50:.2} ms / {db_p99:.2} ms |"
    );
    println!(
        "| GetTally of the {votes}-vote ballot over gRPC as a platform admin, p50 / p99 of {READS} | {read_p50:.2} ms / {read_p99:.2} ms |"
    );
    println!(
        "| GetTally of an empty ballot, the same way | {empty_p50:.2} ms / {empty_p99:.2} ms |"
    );
    println!(
        "| the GROUP BY over its votes that results used to be (best of 3) | {group_by:.0} ms |"
    );
    println!(
        "| CastVote after {votes} entries (ledger append + tally), p50 / p99 of {CASTS} | {cast_p50:.2} ms / {cast_p99:.2} ms |"
    );
    println!(
        "| verify a real {verified}-entry chain (hashes, links, votes, tally) | {verify:.1} s ({:.0} entries/s) |",
        verified as f64 / verify
    );

    drop(voting);
    let name = url.rsplit('/').next().unwrap().to_owned();
    let admin = Database::connect(format!(
        "{}/postgres",
        valued_testkit::postgres::server_url()
    ))
    .await
    .unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await
        .unwrap();
}
