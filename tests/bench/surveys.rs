//! A national staff survey: the results of 200,000 responses across 200 trusts (every breakdown:
//! trust, site within trust, staff group, band, with complementary suppression) as an admin's
//! results page reads them, the close that computes them, and response ingest next to PostgreSQL's
//! own single-row INSERT rate and a naive endpoint, measured in the same run with the same client
//! count.
//!
//! The survey-feedback service runs in this process on a fresh PostgreSQL database; calls go over
//! gRPC (the gateway is not in the path). The survey is built through the service's API: the
//! built-in "feeling valued" set (five agreement questions, a 0–10 score, free text) and a section
//! with a single-choice and a multiple-choice question; 200 trusts with one to five sites each;
//! staff group and band asked. The 200,000 responses are written by SQL into `survey_response`, as
//! the mixer leaves them, each a sheet serialised as the service serialises it; answers are drawn
//! from a seeded generator, with a few trusts of a handful of respondents and one small site per
//! trust, so that suppression has groups to withhold and cover. Copies of the survey (its row and
//! responses, by SQL) are closed first so that the close is timed more than once; the steps of a
//! close (read, parse, compute, flag) are also timed alone, outside the service.
//!
//! Ingest is measured first, on the quiet database: the PostgreSQL inserts, the naive endpoint,
//! then `SubmitResponse`, each after untimed warm-up requests ([`measure::warm_up`]). The
//! service's own mixer is held off (an hour apart); the pending responses are mixed once, after.
//!
//! cargo bench -p valued-e2e --bench surveys
//! (SURVEY_BENCH_RESPONSES, default 200000; SURVEY_BENCH_TRUSTS, default 200;
//! SURVEY_BENCH_CLOSES, default 3; SURVEY_BENCH_INGEST, default 5000; SURVEY_BENCH_CLIENTS,
//! default 16)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;
mod measure;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Form, State};
use axum::routing::post;
use measure::{Run, env_or, percentiles};
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Statement,
};
use valued_platform::DatabaseSettings;
use valued_platform::grpc::Credentialed;
use valued_proto::survey::v1 as pb;
use valued_proto::survey::v1::survey_service_client::SurveyServiceClient;
use valued_survey_feedback::db::entities::survey_response;
use valued_survey_feedback::db::queries;
use valued_survey_feedback::domain::answers::{Sheet, Value};
use valued_survey_feedback::domain::bands::Band;
use valued_survey_feedback::domain::{StaffGroup, flags, results};

const READS: usize = 200;
/// The service's default minimum group size.
const MINIMUM: u32 = 11;

/// SplitMix64: a small seeded generator, so that every run answers alike.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// An index drawn with weights.
struct Weights(Vec<u64>);

impl Weights {
    fn new(weights: impl IntoIterator<Item = u64>) -> Self {
        Self(
            weights
                .into_iter()
                .scan(0, |sum, w| {
                    *sum += w;
                    Some(*sum)
                })
                .collect(),
        )
    }

    fn pick(&self, dice: &mut Dice) -> usize {
        let x = dice.next() % self.0.last().copied().unwrap_or(1);
        self.0.partition_point(|&sum| sum <= x)
    }
}

/// What a survey asks, by its ids, and how respondents are spread over it.
struct Shape {
    trusts: Vec<String>,
    trust_weights: Weights,
    sites: Vec<Vec<String>>,
    site_weights: Vec<Weights>,
    agreement: Vec<String>,
    recommend: String,
    free_text: String,
    single: (String, Vec<String>),
    multiple: (String, Vec<String>),
    staff_weights: Weights,
    band_weights: Weights,
    /// Three moods of trust, each its own spread over the agreement scale.
    moods: [Weights; 3],
    score_weights: Weights,
    single_weights: Weights,
}

/// Trust codes, labels and sites of `trusts` trusts: one to five sites each.
fn demographics(trusts: usize) -> pb::Demographics {
    let code = |t: usize| format!("T{t:03}");
    pb::Demographics {
        trusts: (0..trusts)
            .map(|t| pb::Group {
                code: code(t),
                label: format!("Trust {t}"),
            })
            .collect(),
        sites: (0..trusts)
            .flat_map(|t| {
                (0..1 + t % 5).map(move |s| pb::SiteGroup {
                    trust_code: code(t),
                    code: format!("{}-S{s}", code(t)),
                    label: format!("Site {s} of trust {t}"),
                })
            })
            .collect(),
        ask_staff_group: true,
        ask_band: true,
    }
}

impl Shape {
    fn of(survey: &pb::Survey) -> Self {
        let demographics = survey.demographics.as_ref().unwrap();
        let trusts: Vec<String> = demographics.trusts.iter().map(|t| t.code.clone()).collect();
        let sites: Vec<Vec<String>> = trusts
            .iter()
            .map(|t| {
                demographics
                    .sites
                    .iter()
                    .filter(|s| &s.trust_code == t)
                    .map(|s| s.code.clone())
                    .collect()
            })
            .collect();
        // One trust in forty has a handful of respondents (weight 2 against about 500).
        let small = trusts.len().div_ceil(40);
        let trust_weights = Weights::new((0..trusts.len()).map(|t| {
            if t >= trusts.len() - small {
                2
            } else {
                200 + (t as u64 * 37 % 61) * 10
            }
        }));
        // Every trust's last site is small: a share of 1 against 30 or more for the others.
        let site_weights = sites
            .iter()
            .map(|list| {
                Weights::new((0..list.len()).map(|s| {
                    if s + 1 == list.len() && s > 0 {
                        1
                    } else {
                        30 + 10 * s as u64
                    }
                }))
            })
            .collect();
        let questions: Vec<&pb::Question> =
            survey.sections.iter().flat_map(|s| &s.questions).collect();
        let of_kind = |kind: pb::QuestionKind| {
            questions
                .iter()
                .filter(move |q| q.kind == kind as i32)
                .map(|q| {
                    let options: Vec<String> = q.options.iter().map(|o| o.id.clone()).collect();
                    (q.id.clone(), options)
                })
        };
        let first = |kind| -> (String, Vec<String>) { of_kind(kind).next().unwrap() };
        Self {
            trusts,
            trust_weights,
            sites,
            site_weights,
            agreement: of_kind(pb::QuestionKind::Agreement)
                .map(|(id, _)| id)
                .collect(),
            recommend: first(pb::QuestionKind::Recommend).0,
            free_text: first(pb::QuestionKind::FreeText).0,
            single: first(pb::QuestionKind::SingleChoice),
            multiple: first(pb::QuestionKind::MultipleChoice),
            staff_weights: Weights::new([40, 30, 25, 4]),
            band_weights: Weights::new([12, 25, 25, 15, 8, 6, 4, 1, 4]),
            moods: [
                Weights::new([5, 10, 20, 40, 25]),
                Weights::new([8, 15, 22, 35, 20]),
                Weights::new([15, 25, 25, 25, 10]),
            ],
            score_weights: Weights::new([3, 2, 3, 4, 5, 8, 10, 15, 20, 15, 15]),
            single_weights: Weights::new([60, 25, 15]),
        }
    }

    /// One respondent's sheet: about 1% give no trust, 3% no site, staff group or band.
    fn sheet(&self, dice: &mut Dice) -> Sheet {
        let trust = (!dice.chance(1)).then(|| self.trust_weights.pick(dice));
        let site = match trust {
            Some(t) if !dice.chance(3) => self.sites[t][self.site_weights[t].pick(dice)].clone(),
            _ => String::new(),
        };
        let staff_group = if dice.chance(3) {
            String::new()
        } else {
            StaffGroup::ALL[self.staff_weights.pick(dice)]
                .slug()
                .to_owned()
        };
        let band = if dice.chance(3) {
            String::new()
        } else {
            Band::ALL[self.band_weights.pick(dice)].slug().to_owned()
        };
        let mood = &self.moods[trust.unwrap_or(0) % 3];
        let mut answers = BTreeMap::new();
        for id in &self.agreement {
            answers.insert(id.clone(), Value::Point(mood.pick(dice) as u8 + 1));
        }
        if dice.chance(85) {
            let score = self.score_weights.pick(dice) as u8;
            answers.insert(self.recommend.clone(), Value::Point(score));
        }
        if dice.chance(95) {
            let (id, options) = &self.single;
            let chosen = options[self.single_weights.pick(dice)].clone();
            answers.insert(id.clone(), Value::Options(vec![chosen]));
        }
        let (id, options) = &self.multiple;
        let chosen: Vec<String> = options
            .iter()
            .zip([50, 40, 20, 15, 10])
            .filter(|&(_, percent)| dice.chance(percent))
            .map(|(o, _)| o.clone())
            .collect();
        if !chosen.is_empty() {
            answers.insert(id.clone(), Value::Options(chosen));
        }
        if dice.chance(5) {
            let n = dice.next() % 1000;
            let text = match n % 10 {
                0 => format!("Ring me on 07700 900{n:03}, my manager never listens"),
                1..=4 => format!("More thanks from managers on ward {n}"),
                5..=7 => format!("Being asked before rotas change (shift {n})"),
                _ => format!("A proper break room at site {n} and time to use it"),
            };
            answers.insert(self.free_text.clone(), Value::Text(text));
        }
        Sheet {
            trust: trust.map(|t| self.trusts[t].clone()).unwrap_or_default(),
            site,
            staff_group,
            band,
            answers,
        }
    }
}

/// The request a respondent's browser would send for `sheet` through the survey's open link.
fn request(slug: &str, sheet: &Sheet) -> pb::SubmitResponseRequest {
    pb::SubmitResponseRequest {
        slug: slug.to_owned(),
        invitation_code: String::new(),
        answers: sheet
            .answers
            .iter()
            .map(|(id, value)| {
                let mut answer = pb::Answer {
                    question_id: id.clone(),
                    value: None,
                    option_ids: Vec::new(),
                    text: String::new(),
                };
                match value {
                    Value::Point(p) => answer.value = Some(u32::from(*p)),
                    Value::Options(ids) => answer.option_ids.clone_from(ids),
                    Value::Text(text) => answer.text.clone_from(text),
                }
                answer
            })
            .collect(),
        trust_code: sheet.trust.clone(),
        site_code: sheet.site.clone(),
        staff_group: sheet.staff_group.clone(),
        band: sheet.band.clone(),
    }
}

struct Surveys {
    client: SurveyServiceClient<Credentialed>,
    token: String,
    db: DatabaseConnection,
    _harness: harness::Harness,
}

impl Surveys {
    fn signed<T>(&self, message: T) -> tonic::Request<T> {
        valued_testkit::roles::signed(&self.token, message)
    }

    /// A national open-link survey of `trusts` trusts, closing tomorrow, published.
    async fn published(&self, title: &str, trusts: usize) -> pb::Survey {
        let mut client = self.client.clone();
        let id = client
            .create_survey(self.signed(pb::CreateSurveyRequest {
                scope: pb::Scope::National as i32,
                scope_code: String::new(),
                title: title.into(),
                starting_set: pb::StartingSet::FeelingValued as i32,
            }))
            .await
            .unwrap()
            .into_inner()
            .survey
            .unwrap()
            .id;
        let section_id = client
            .add_section(self.signed(pb::AddSectionRequest {
                survey_id: id.clone(),
                title: "Your work".into(),
                description: String::new(),
            }))
            .await
            .unwrap()
            .into_inner()
            .section_id;
        for (kind, text, options) in [
            (
                pb::QuestionKind::SingleChoice,
                "Which shifts do you mostly work?",
                &["Days", "Nights", "Rotating"][..],
            ),
            (
                pb::QuestionKind::MultipleChoice,
                "Who has thanked you in the last month?",
                &[
                    "My manager",
                    "My team",
                    "Patients",
                    "Visitors and families",
                    "Another department",
                ][..],
            ),
        ] {
            client
                .add_question(
                    self.signed(pb::AddQuestionRequest {
                        survey_id: id.clone(),
                        section_id: section_id.clone(),
                        question: Some(pb::QuestionInput {
                            kind: kind as i32,
                            text: text.into(),
                            hint: String::new(),
                            required: false,
                            options: options
                                .iter()
                                .map(|l| pb::Option {
                                    id: String::new(),
                                    label: (*l).into(),
                                })
                                .collect(),
                        }),
                    }),
                )
                .await
                .unwrap();
        }
        client
            .update_survey(self.signed(pb::UpdateSurveyRequest {
                survey_id: id.clone(),
                title: title.into(),
                introduction: "Tell us how it is.".into(),
                distribution: pb::Distribution::OpenLink as i32,
                closes_at: Some(prost_types::Timestamp {
                    seconds: (chrono::Utc::now() + chrono::Duration::days(1)).timestamp(),
                    nanos: 0,
                }),
                demographics: Some(demographics(trusts)),
                anonymity: None,
            }))
            .await
            .unwrap();
        client
            .publish_survey(self.signed(pb::PublishSurveyRequest { survey_id: id }))
            .await
            .unwrap()
            .into_inner()
            .survey
            .unwrap()
    }

    async fn close(&self, survey_id: &str) -> Duration {
        let started = Instant::now();
        let closed = self
            .client
            .clone()
            .close_survey(self.signed(pb::CloseSurveyRequest {
                survey_id: survey_id.into(),
            }))
            .await
            .unwrap()
            .into_inner()
            .survey
            .unwrap();
        let took = started.elapsed();
        assert_eq!(closed.status, pb::SurveyStatus::Closed as i32);
        took
    }

    async fn results(&self, survey_id: &str) -> pb::GetResultsResponse {
        self.client
            .clone()
            .get_results(self.signed(pb::GetResultsRequest {
                survey_id: survey_id.into(),
            }))
            .await
            .unwrap()
            .into_inner()
    }

    async fn sql(&self, sql: &str, values: Vec<sea_orm::Value>) -> Vec<sea_orm::QueryResult> {
        self.db
            .query_all_raw(Statement::from_sql_and_values(
                self.db.get_database_backend(),
                sql,
                values,
            ))
            .await
            .unwrap()
    }

    /// The bigint `n` that `sql` reads about `survey`.
    async fn number(&self, sql: &str, survey: uuid::Uuid) -> i64 {
        self.sql(sql, vec![survey.into()]).await[0]
            .try_get("", "n")
            .unwrap()
    }
}

async fn start(url: &str) -> Surveys {
    let harness = harness::Harness::start("survey").await;
    let mut settings = valued_survey_feedback::Settings {
        database: DatabaseSettings::postgres(url.to_owned()),
        grpc: valued_testkit::grpc::settings(),
        auth: harness.auth(),
        ..valued_survey_feedback::Settings::default()
    };
    // The benchmark closes its surveys itself: no mixer round in the middle of a measure.
    settings.surveys.mix_seconds = 3_600;
    let app = valued_survey_feedback::Application::build(&settings, harness.platform.platform())
        .await
        .unwrap();
    let port = app.port();
    let db = app.db().clone();
    tokio::spawn(app.run_until_stopped());
    let (channel, token) = harness
        .admin(&db, port, &settings.grpc, valued_survey_feedback::NAME)
        .await;
    let client = SurveyServiceClient::new(channel);
    Surveys {
        client,
        token,
        db,
        _harness: harness,
    }
}

/// Writes `responses` sheets of `shape` for `survey` into `survey_response`, as the mixer leaves
/// them, a thousand rows a statement.
async fn fill(surveys: &Surveys, survey: uuid::Uuid, shape: &Shape, responses: usize) {
    let mut dice = Dice(2026);
    let mut written = 0;
    while written < responses {
        let n = 1000.min(responses - written);
        let rows: Vec<String> = (0..n)
            .map(|_| {
                let sheet = serde_json::to_string(&shape.sheet(&mut dice)).unwrap();
                format!(
                    "(gen_random_uuid(), '{survey}', '{}')",
                    sheet.replace('\'', "''")
                )
            })
            .collect();
        surveys
            .db
            .execute_unprepared(&format!(
                "INSERT INTO survey_response (id, survey_id, sheet) VALUES {}",
                rows.join(", ")
            ))
            .await
            .unwrap();
        written += n;
    }
}

/// Another survey like `survey` (its row under a new id and slug) with a copy of its responses.
async fn copy(surveys: &Surveys, survey: uuid::Uuid) -> uuid::Uuid {
    let copy = uuid::Uuid::now_v7();
    for sql in [
        "INSERT INTO survey (id, scope, scope_code, title, introduction, status, distribution, \
         slug, closes_at, definition, demographics, minimum_group_size, invitations_issued, \
         responses, created_at, published_at, closed_at) \
         SELECT $2, scope, scope_code, title, introduction, status, distribution, \
         substr(md5($2::text), 1, 12), closes_at, definition, demographics, minimum_group_size, \
         invitations_issued, responses, created_at, published_at, closed_at \
         FROM survey WHERE id = $1",
        "INSERT INTO survey_response (id, survey_id, sheet) \
         SELECT gen_random_uuid(), $2, sheet FROM survey_response WHERE survey_id = $1",
    ] {
        surveys.sql(sql, vec![survey.into(), copy.into()]).await;
    }
    copy
}

/// Where a close's time goes, step by step, outside the service: the responses read as the close
/// reads them, parsed and computed (each the best of three), and their free text flagged.
struct CloseSteps {
    read: Duration,
    parse: Duration,
    compute: Duration,
    flag: Duration,
    comments: usize,
}

async fn close_steps(surveys: &Surveys, survey: uuid::Uuid) -> CloseSteps {
    let model = queries::survey(&surveys.db, survey).await.unwrap().unwrap();
    let definition = queries::definition(&model).unwrap();
    let demographics = queries::demographics(&model).unwrap();
    let facts = results::Facts {
        definition: &definition,
        demographics: &demographics,
        fixed_trust: None,
        minimum: queries::effective_minimum(&model, MINIMUM),
    };
    let (mut reads, mut parses, mut sheets) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        let started = Instant::now();
        let stored: Vec<String> = survey_response::Entity::find()
            .select_only()
            .column(survey_response::Column::Sheet)
            .filter(survey_response::Column::SurveyId.eq(survey))
            .into_tuple()
            .all(&surveys.db)
            .await
            .unwrap();
        reads.push(started.elapsed());
        let started = Instant::now();
        sheets = stored
            .iter()
            .filter_map(|s| serde_json::from_str::<Sheet>(s).ok())
            .collect();
        parses.push(started.elapsed());
        assert_eq!(sheets.len(), stored.len());
    }
    let mut computed = Vec::new();
    let mut comments = Vec::new();
    for _ in 0..3 {
        let these = sheets.clone();
        let started = Instant::now();
        let (snapshot, found) = results::compute(&facts, these);
        computed.push(started.elapsed());
        assert_eq!(snapshot.responses, sheets.len() as u64);
        comments = found;
    }
    let started = Instant::now();
    let flagged = comments
        .iter()
        .filter(|c| !flags::flag(&c.text).0.is_empty())
        .count();
    let flag = started.elapsed();
    assert!(flagged > 0);
    CloseSteps {
        read: reads.into_iter().min().unwrap(),
        parse: parses.into_iter().min().unwrap(),
        compute: computed.into_iter().min().unwrap(),
        flag,
        comments: comments.len(),
    }
}

#[derive(serde::Deserialize)]
struct NaiveResponse {
    survey: uuid::Uuid,
    sheet: String,
}

/// PostgreSQL's own rate: one pending-response-shaped row per autocommitted INSERT.
async fn postgres_inserts(
    db: &DatabaseConnection,
    survey: uuid::Uuid,
    sheets: &Arc<Vec<String>>,
    rows: usize,
    clients: usize,
) -> Run {
    db.execute_unprepared(
        "CREATE TABLE bench_insert (id uuid PRIMARY KEY, survey_id uuid NOT NULL, sheet text NOT NULL)",
    )
    .await
    .unwrap();
    Run::measure(rows, clients, |i| {
        let (db, sheets) = (db.clone(), sheets.clone());
        async move {
            db.execute_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                "INSERT INTO bench_insert VALUES ($1, $2, $3)",
                [
                    sea_orm::Value::from(uuid::Uuid::new_v4()),
                    survey.into(),
                    sheets[i].clone().into(),
                ],
            ))
            .await
            .unwrap();
        }
    })
    .await
}

/// The naive endpoint: a form POST of a sheet, one INSERT, a 200 with a short page.
async fn naive_endpoint(
    db: &DatabaseConnection,
    survey: uuid::Uuid,
    sheets: &Arc<Vec<String>>,
    responses: usize,
    clients: usize,
) -> Run {
    db.execute_unprepared(
        "CREATE TABLE naive_response (id uuid PRIMARY KEY, survey_id uuid NOT NULL, sheet text NOT NULL)",
    )
    .await
    .unwrap();
    async fn respond(
        State(db): State<DatabaseConnection>,
        Form(response): Form<NaiveResponse>,
    ) -> axum::response::Html<&'static str> {
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "INSERT INTO naive_response VALUES ($1, $2, $3)",
            [
                sea_orm::Value::from(uuid::Uuid::new_v4()),
                response.survey.into(),
                response.sheet.into(),
            ],
        ))
        .await
        .unwrap();
        axum::response::Html("<p>Thank you: your answers have been sent</p>")
    }
    let app = axum::Router::new()
        .route("/responses", post(respond))
        .with_state(db.clone());
    let url = measure::serve(app, "/responses").await;
    measure::post_forms(&url, responses, clients, |i| {
        vec![("survey", survey.to_string()), ("sheet", sheets[i].clone())]
    })
    .await
}

/// `SubmitResponse` over gRPC for the open link, one request per respondent.
async fn submit_responses(
    surveys: &Surveys,
    requests: &Arc<Vec<pb::SubmitResponseRequest>>,
    responses: usize,
    clients: usize,
) -> Run {
    Run::measure(responses, clients, |i| {
        let (mut client, requests) = (surveys.client.clone(), requests.clone());
        async move {
            client.submit_response(requests[i].clone()).await.unwrap();
        }
    })
    .await
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() {
    let responses: usize = env_or("SURVEY_BENCH_RESPONSES", 200_000);
    let trusts: usize = env_or("SURVEY_BENCH_TRUSTS", 200);
    let closes: usize = env_or("SURVEY_BENCH_CLOSES", 3).max(1);
    let ingested: usize = env_or("SURVEY_BENCH_INGEST", 5000);
    let clients: usize = env_or("SURVEY_BENCH_CLIENTS", 16);
    let url = valued_testkit::postgres::fresh_database("survey_bench")
        .await
        .unwrap();
    let surveys = start(&url).await;

    // Ingest first, on a quiet database.
    let open = surveys.published("Ingest survey", trusts).await;
    let open_id: uuid::Uuid = open.id.parse().unwrap();
    let shape = Shape::of(&open);
    let mut dice = Dice(11);
    let sent = measure::warm_up(clients) + ingested;
    let sheets: Vec<Sheet> = (0..sent).map(|_| shape.sheet(&mut dice)).collect();
    let requests = Arc::new(
        sheets
            .iter()
            .map(|s| request(&open.slug, s))
            .collect::<Vec<_>>(),
    );
    let json = Arc::new(
        sheets
            .iter()
            .map(|s| serde_json::to_string(s).unwrap())
            .collect::<Vec<_>>(),
    );
    let baseline = Database::connect(&url).await.unwrap();
    let inserts = postgres_inserts(&baseline, open_id, &json, ingested, clients).await;
    let naive = naive_endpoint(&baseline, open_id, &json, ingested, clients).await;
    let ingest = submit_responses(&surveys, &requests, ingested, clients).await;
    let pending = surveys
        .number(
            "SELECT count(*) AS n FROM survey_pending_response WHERE survey_id = $1",
            open_id,
        )
        .await;
    assert_eq!(pending, sent as i64);
    // What the mixer does within a minute; the closes below then find nothing pending.
    queries::mix_now(&surveys.db).await.unwrap();

    // The big survey, filled by SQL.
    let big = surveys.published("National staff survey", trusts).await;
    let big_id: uuid::Uuid = big.id.parse().unwrap();
    let filling = Instant::now();
    fill(&surveys, big_id, &Shape::of(&big), responses).await;
    surveys
        .db
        .execute_unprepared("ANALYZE survey_response")
        .await
        .unwrap();
    eprintln!("filled {responses} responses in {:.0?}", filling.elapsed());
    let steps = close_steps(&surveys, big_id).await;

    // Copies closed first, the survey itself last, each after a checkpoint.
    let mut closings = Vec::new();
    for _ in 1..closes {
        let copy = copy(&surveys, big_id).await;
        surveys.db.execute_unprepared("CHECKPOINT").await.unwrap();
        closings.push(surveys.close(&copy.to_string()).await);
    }
    surveys.db.execute_unprepared("CHECKPOINT").await.unwrap();
    closings.push(surveys.close(&big.id).await);

    let mut reads = Vec::with_capacity(READS);
    // The first calls also warm the pool's connections and the token verifier's keys.
    let mut shown = pb::GetResultsResponse::default();
    for round in 0..READS + 10 {
        let started = Instant::now();
        shown = surveys.results(&big.id).await;
        if round >= 10 {
            reads.push(started.elapsed());
        }
    }
    assert_eq!(shown.responses, responses as u64);
    let (read_p50, read_p99) = percentiles(reads);
    let mut decoded = Vec::with_capacity(READS);
    for _ in 0..READS {
        let started = Instant::now();
        queries::results(&surveys.db, big_id)
            .await
            .unwrap()
            .unwrap();
        decoded.push(started.elapsed());
    }
    let (db_p50, db_p99) = percentiles(decoded);
    let snapshot = surveys
        .number(
            "SELECT octet_length(snapshot)::bigint AS n FROM survey_results WHERE survey_id = $1",
            big_id,
        )
        .await;
    let cells: Vec<&pb::Cell> = shown.questions.iter().flat_map(|q| &q.cells).collect();
    let withheld = cells.iter().filter(|c| c.withheld).count();
    let free_text = surveys
        .number(
            "SELECT count(*) AS n FROM survey_free_text WHERE survey_id = $1",
            big_id,
        )
        .await;
    assert_eq!(free_text as usize, steps.comments);

    let sites: usize = (0..trusts).map(|t| 1 + t % 5).sum();
    let close_list: Vec<String> = closings
        .iter()
        .map(|d| format!("{:.2}", d.as_secs_f64()))
        .collect();
    let best_close = closings.iter().min().unwrap();

    println!();
    println!(
        "{responses} responses across {trusts} trusts ({sites} sites), {} questions; ingest: {ingested} responses, {clients} clients at a time",
        shown.questions.len()
    );
    println!();
    println!("| measure | figure | p50 / p99 (/ max) |");
    println!("|---|---|---|");
    println!(
        "| GetResults of the closed survey over gRPC as a platform admin, {READS} reads | {} cells, {withheld} withheld; snapshot {:.0} KiB | {read_p50:.2} / {read_p99:.2} ms |",
        cells.len(),
        snapshot as f64 / 1024.0
    );
    println!(
        "| the stored snapshot read and decoded (`queries::results`), {READS} reads | | {db_p50:.2} / {db_p99:.2} ms |"
    );
    println!(
        "| CloseSurvey of {responses} responses (mix, read, compute, snapshot, free text, delete), best of {closes} | {:.2} s (all: {} s) | |",
        best_close.as_secs_f64(),
        close_list.join(", ")
    );
    println!(
        "| … its read of the {responses} sheets, alone, best of 3 | {:.0} ms | |",
        ms(steps.read)
    );
    println!(
        "| … parsing them (serde_json), best of 3 | {:.0} ms | |",
        ms(steps.parse)
    );
    println!(
        "| … `results::compute` in memory (every breakdown, suppression), best of 3 | {:.0} ms | |",
        ms(steps.compute)
    );
    println!(
        "| … flagging the {} free-text answers | {:.0} ms | |",
        steps.comments,
        ms(steps.flag)
    );
    inserts.row(
        &format!("PostgreSQL single-row INSERT of a sheet, {clients} clients, autocommit"),
        "rows",
    );
    naive.row(
        "naive endpoint: axum form POST + one INSERT per request",
        "responses",
    );
    ingest.row(
        "Valued: SubmitResponse over gRPC, open link (survey read, sheet checked, pending row in its own transaction)",
        "responses",
    );
    println!(
        "| ratio: Valued ingest / naive endpoint | {:.2} | |",
        ingest.rate / naive.rate
    );
    println!(
        "| ratio: Valued ingest / PostgreSQL inserts | {:.2} | |",
        ingest.rate / inserts.rate
    );

    drop(baseline);
    drop(surveys);
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
