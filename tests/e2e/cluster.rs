//! Starts and stops the services as separate processes of the `valued` binary.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use secrecy::ExposeSecret;
use tokio::process::{Child, Command};
use valued_platform::GrpcSettings;
use valued_platform::grpc::Credentialed;
use valued_proto::nomination::v1::nomination_service_client::NominationServiceClient;
use valued_proto::nomination::v1::{Campaign, GetCampaignRequest};
use valued_testkit::oidc::{self, OidcProvider};
use valued_testkit::rabbitmq::Vhost;
use valued_testkit::smtp::SmtpSink;

pub const SERVICES: [&str; 5] = [
    "nomination",
    "voting",
    "survey-feedback",
    "notification",
    "gateway",
];
pub const DEMO_CAMPAIGN: &str = "health-heroes-2026";
/// Signed in through the cluster's OpenID Connect provider, this address is a platform admin.
pub const PLATFORM_ADMIN: &str = "platform.admin@valued.example.org";

pub struct Cluster {
    pub smtp: SmtpSink,
    /// The real OpenID Connect provider admins sign in through.
    pub oidc: OidcProvider,
    pub vhost: Vhost,
    pub ports: HashMap<&'static str, u16>,
    pub databases: HashMap<&'static str, String>,
    /// Each service's gRPC settings as its process has them: its service key, which calls must be
    /// signed with.
    pub grpc: HashMap<&'static str, GrpcSettings>,
    env: Vec<(String, String)>,
    children: HashMap<&'static str, Child>,
    pub logs: PathBuf,
    pub http: reqwest::Client,
}

pub fn binary() -> PathBuf {
    // target/<profile>/deps/e2e-… → target/<profile>/valued
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory");
    let binary = dir.join("valued");
    assert!(
        binary.exists(),
        "{} is missing: run the tests with `cargo nextest run --workspace`",
        binary.display()
    );
    binary
}

impl Cluster {
    /// The services on the machine's PostgreSQL and RabbitMQ.
    pub async fn start() -> Self {
        let vhost = Vhost::create().unwrap();
        let server = valued_testkit::postgres::server_url();
        Self::start_on(vhost, |_| server.clone(), &[]).await
    }

    /// The services on `vhost`, each service's database on the PostgreSQL server `postgres` names
    /// for it (`postgres://user@host:port`), with `settings` (`VALUED__…` variables) beside the
    /// cluster's own.
    pub async fn start_on(
        vhost: Vhost,
        postgres: impl Fn(&str) -> String,
        settings: &[(&str, &str)],
    ) -> Self {
        Self::start_with(vhost, postgres, settings, None).await
    }

    /// The services on the machine's PostgreSQL and RabbitMQ, admins' ID tokens expiring
    /// `token_lifetime` seconds after they are issued.
    pub async fn start_with_token_lifetime(token_lifetime: u64) -> Self {
        let vhost = Vhost::create().unwrap();
        let server = valued_testkit::postgres::server_url();
        Self::start_with(vhost, |_| server.clone(), &[], Some(token_lifetime)).await
    }

    async fn start_with(
        vhost: Vhost,
        postgres: impl Fn(&str) -> String,
        settings: &[(&str, &str)],
        token_lifetime: Option<u64>,
    ) -> Self {
        valued_testkit::init_test_logging();
        let smtp = SmtpSink::start().await.unwrap();
        let oidc = OidcProvider::start_with(token_lifetime).await.unwrap();
        let logs =
            std::env::temp_dir().join(format!("valued-e2e-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&logs).unwrap();
        let ports: HashMap<&'static str, u16> = SERVICES
            .iter()
            .map(|s| (*s, valued_testkit::free_port()))
            .collect();
        let mut env = vec![
            ("VALUED__DATA_DIR".to_owned(), logs.display().to_string()),
            ("VALUED__BUS__KIND".into(), "amqp".into()),
            ("VALUED__BUS__AMQP_URL".into(), vhost.amqp_url()),
            (
                "VALUED__TELEMETRY__FILTER".into(),
                "info,sqlx=warn,lapin=warn,h2=warn,tower=warn".into(),
            ),
            ("VALUED__NOMINATION__SEED_DEMO".into(), "true".into()),
            // The load and fault tests send thousands of nominations from this one machine's
            // address: no budget per client address here (rate_limits.rs sets its own).
            (
                "VALUED__NOMINATION__RATE_LIMITS__PER_CLIENT_PER_HOUR".into(),
                "0".into(),
            ),
            (
                "VALUED__NOTIFICATION__RATE_LIMITS__PER_CLIENT_PER_HOUR".into(),
                "0".into(),
            ),
            (
                "VALUED__VOTING__RATE_LIMITS__PER_CLIENT_PER_HOUR".into(),
                "0".into(),
            ),
            // `valued serve` refuses the development sealing key for stories' phone numbers.
            (
                "VALUED__SURVEY_FEEDBACK__STORIES__SEALING__KEYS__E2E".into(),
                "ZTJlLXRlc3Qtb25seS1zdG9yeS1zZWFsaW5nLWtleSE=".into(),
            ),
            (
                "VALUED__SURVEY_FEEDBACK__STORIES__SEALING__CURRENT".into(),
                "e2e".into(),
            ),
            // `valued serve` refuses the development voter key.
            (
                "VALUED__VOTING__VOTER_KEY_SECRET".into(),
                uuid::Uuid::new_v4().simple().to_string(),
            ),
            (
                "VALUED__NOMINATION__AUTH__ISSUER".into(),
                oidc.issuer.clone(),
            ),
            (
                "VALUED__NOMINATION__AUTH__AUDIENCE".into(),
                oidc::CLIENT_ID.into(),
            ),
            (
                "VALUED__NOMINATION__AUTH__PLATFORM_ADMINS".into(),
                PLATFORM_ADMIN.into(),
            ),
            (
                "VALUED__NOTIFICATION__EMAIL__TRANSPORT".into(),
                "smtp".into(),
            ),
            (
                "VALUED__NOTIFICATION__SMTP__PORT".into(),
                smtp.port().to_string(),
            ),
            ("VALUED__NOTIFICATION__SMTP__TLS".into(), "none".into()),
            // A claim left by a killed sender lapses quickly, so the test need not wait a minute.
            (
                "VALUED__NOTIFICATION__SENDER__LEASE_SECONDS".into(),
                "3".into(),
            ),
            (
                "VALUED__GATEWAY__HTTP__PORT".into(),
                ports["gateway"].to_string(),
            ),
            // Admin sign-in at the gateway, through the same provider.
            ("VALUED__GATEWAY__AUTH__ISSUER".into(), oidc.issuer.clone()),
            (
                "VALUED__GATEWAY__AUTH__CLIENT_ID".into(),
                oidc::CLIENT_ID.into(),
            ),
            (
                "VALUED__GATEWAY__AUTH__CLIENT_SECRET".into(),
                oidc::CLIENT_SECRET.into(),
            ),
        ];
        env.extend(
            settings
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let mut databases = HashMap::new();
        let mut grpc = HashMap::new();
        for service in ["nomination", "voting", "survey-feedback", "notification"] {
            let key = service.replace('-', "_").to_uppercase();
            // The service and the gateway that calls it both read this one variable.
            let settings = valued_testkit::grpc::settings();
            env.push((
                format!("VALUED__{key}__GRPC__SERVICE_KEY"),
                settings
                    .service_key
                    .as_ref()
                    .map(|k| k.expose_secret().to_owned())
                    .unwrap_or_default(),
            ));
            grpc.insert(service, settings);
            let url = valued_testkit::postgres::fresh_database_on(&postgres(service), service)
                .await
                .unwrap();
            // Loopback: plain TCP. TLS here only spends both sides' CPU (production's URLs ask
            // for it with their own sslmode).
            env.push((
                format!("VALUED__{key}__DATABASE__URL"),
                format!("{url}?sslmode=disable"),
            ));
            databases.insert(service, url);
            env.push((
                format!("VALUED__{key}__GRPC__PORT"),
                ports[service].to_string(),
            ));
            env.push((
                format!("VALUED__{key}__URL"),
                format!("http://127.0.0.1:{}", ports[service]),
            ));
        }
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let mut cluster = Self {
            smtp,
            oidc,
            vhost,
            ports,
            databases,
            grpc,
            env,
            children: HashMap::new(),
            logs,
            http,
        };
        for service in SERVICES {
            cluster.start_service(service);
        }
        cluster.wait_until_ready().await;
        cluster.assert_running();
        cluster
    }

    /// Every process started is still running: one that exited (a port it could not bind, a
    /// setting it refused) fails the test here, its log shown, rather than leaving the test to
    /// wait for work nobody does.
    pub fn assert_running(&mut self) {
        for (service, child) in &mut self.children {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("{service} exited ({status}); its log is below");
            }
        }
    }

    /// Sets `VALUED__…` variable `key` for the processes started from now on.
    pub fn set(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.to_owned()));
    }

    /// Restarts every service with the `VALUED__…=value` settings in `settings` (separated by
    /// whitespace) added, for a benchmark's tuning runs (`BENCH_SET`); nothing when it is empty.
    #[allow(dead_code, reason = "the benchmarks use it, the tests do not")]
    pub async fn restart_with(&mut self, settings: &str) {
        if settings.trim().is_empty() {
            return;
        }
        for pair in settings.split_whitespace() {
            let (key, value) = pair
                .split_once('=')
                .unwrap_or_else(|| panic!("{pair:?} is not KEY=value"));
            self.set(key, value);
        }
        for service in SERVICES {
            self.terminate(service).await;
            self.start_service(service);
        }
        self.wait_until_ready().await;
        self.assert_running();
    }

    pub fn start_service(&mut self, service: &'static str) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.logs.join(format!("{service}.log")))
            .unwrap();
        let child = Command::new(binary())
            .args(["serve", service])
            .env_clear()
            .envs(self.env.iter().cloned())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        self.children.insert(service, child);
    }

    /// Another gateway process beside the first, on its own port, calling the same services (as a
    /// second replica would); returns its port once it is ready.
    pub async fn start_second_gateway(&mut self) -> u16 {
        let port = valued_testkit::free_port();
        let log = std::fs::File::create(self.logs.join("gateway-2.log")).unwrap();
        let child = Command::new(binary())
            .args(["serve", "gateway"])
            .env_clear()
            .envs(self.env.iter().cloned())
            .env("VALUED__GATEWAY__HTTP__PORT", port.to_string())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        self.children.insert("gateway-2", child);
        let ready = format!("http://127.0.0.1:{port}/readyz");
        for _ in 0..300 {
            if let Ok(response) = self.http.get(&ready).send().await
                && response.status().is_success()
            {
                return port;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the second gateway never became ready; logs in {}",
            self.logs.display()
        );
    }

    /// SIGTERM, then waits for the process to exit; returns whether it exited cleanly.
    pub async fn terminate(&mut self, service: &'static str) -> bool {
        let mut child = self.children.remove(service).expect("a running service");
        let pid = child.id().expect("a running process");
        let signalled = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(signalled.success());
        let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
            .await
            .expect("exited within 60 s")
            .unwrap();
        status.success()
    }

    /// SIGKILL: no shutdown, no flush, nothing finished.
    pub async fn kill(&mut self, service: &'static str) {
        if let Some(mut child) = self.children.remove(service) {
            child.start_kill().unwrap();
            child.wait().await.unwrap();
        }
    }

    /// Counts the rows of `table` in `service`'s database.
    pub async fn row_count(&self, service: &str, table: &str) -> i64 {
        use sea_orm::{ConnectionTrait, Database, Statement};
        let db = Database::connect(&self.databases[service]).await.unwrap();
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }

    /// Follows the confirmation link in a "Confirm your nomination" email as its nominator would:
    /// opens the page, then presses the button.
    pub async fn confirm_from_email(&self, email: &valued_testkit::smtp::ReceivedEmail) -> String {
        let text = email.text_body();
        let (_, after) = text.split_once("/confirm/").expect("a confirmation link");
        let token: String = after.chars().take_while(char::is_ascii_hexdigit).collect();
        let link = self.url(&format!("/confirm/{token}"));
        let page = self.http.get(&link).send().await.unwrap();
        assert_eq!(page.status(), reqwest::StatusCode::OK);
        let csrf = self.csrf_token().await;
        let confirmed = self
            .http
            .post(&link)
            .form(&[("csrf_token", csrf)])
            .send()
            .await
            .unwrap();
        assert!(confirmed.status().is_success(), "{}", confirmed.status());
        confirmed.text().await.unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.ports["gateway"])
    }

    pub fn grpc_url(&self, service: &str) -> String {
        format!("http://127.0.0.1:{}", self.ports[service])
    }

    /// A channel to `service` whose calls carry a service credential signed with its key.
    pub async fn channel(&self, service: &str) -> Credentialed {
        valued_testkit::grpc::connect(self.grpc_url(service), &self.grpc[service], service)
            .await
            .unwrap()
    }

    /// Every gRPC service answers SERVING on health, and the gateway's /readyz says 200.
    pub async fn wait_until_ready(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        for service in ["nomination", "voting", "survey-feedback", "notification"] {
            while !self.serving(service).await {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "{service} never became ready; logs in {}",
                    self.logs.display()
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        loop {
            let ready = self
                .http
                .get(self.url("/readyz"))
                .send()
                .await
                .map(|r| r.status().is_success());
            if ready.unwrap_or(false) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "gateway never became ready; logs in {}",
                self.logs.display()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn serving(&self, service: &str) -> bool {
        self.health(service, "").await
    }

    /// Whether `service` answers SERVING for the health service `name` ("" for readiness,
    /// "liveness" for the liveness probe).
    pub async fn health(&self, service: &str, name: &str) -> bool {
        use tonic_health::pb::HealthCheckRequest;
        use tonic_health::pb::health_client::HealthClient;
        // Bounded: a process that hangs is not healthy, and must not hang the test.
        let Ok(channel) = tonic::transport::Endpoint::from_shared(self.grpc_url(service))
            .unwrap()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(5))
            .connect()
            .await
        else {
            return false;
        };
        let status = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: name.to_owned(),
            })
            .await;
        status.is_ok_and(|r| r.into_inner().status == 1)
    }

    pub async fn demo_campaign(&self) -> Campaign {
        let mut client = NominationServiceClient::new(self.channel("nomination").await);
        client
            .get_campaign(GetCampaignRequest {
                slug: DEMO_CAMPAIGN.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .campaign
            .unwrap()
    }

    /// Opens the nomination form (which sets the CSRF cookie) and returns its token.
    pub async fn csrf_token(&self) -> String {
        let page = self
            .http
            .get(self.url(&format!("/campaigns/{DEMO_CAMPAIGN}/nominate")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let (_, after) = page
            .split_once("name=\"csrf_token\"")
            .expect("a csrf_token field");
        let (_, value) = after.split_once("value=\"").expect("a csrf_token value");
        value.split('"').next().unwrap().to_owned()
    }

    /// Posts the nomination form as a browser would.
    pub async fn post_nomination(
        &self,
        csrf: &str,
        fields: &[(&str, String)],
    ) -> reqwest::Response {
        let mut form: Vec<(&str, String)> = fields.to_vec();
        form.push(("csrf_token", csrf.to_owned()));
        self.http
            .post(self.url(&format!("/campaigns/{DEMO_CAMPAIGN}/nominate")))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Rewrites the demo campaign's timetable: nominations closed, judging open or closed, and,
    /// with `vote_open`, its public vote open from an hour ago for an hour, results an hour later.
    pub async fn advance(&self, campaign_id: &str, judging_open: bool, vote_open: bool) {
        use sea_orm::{ConnectionTrait, Database, Statement};
        let db = Database::connect(&self.databases["nomination"])
            .await
            .unwrap();
        let now = chrono::Utc::now();
        let hours = chrono::Duration::hours;
        let judging_close = if judging_open {
            now + chrono::Duration::days(10)
        } else {
            now - chrono::Duration::seconds(1)
        };
        let mut sql =
            String::from("UPDATE campaign SET nominations_close_at = $1, judging_close_at = $2");
        let mut values: Vec<sea_orm::Value> = vec![
            (now - chrono::Duration::days(1)).into(),
            judging_close.into(),
        ];
        if vote_open {
            sql.push_str(", vote_open_at = $3, vote_close_at = $4, results_at = $5");
            values.extend([
                (now - hours(1)).into(),
                (now + hours(1)).into(),
                (now + hours(2)).into(),
            ]);
        }
        sql.push_str(&format!(" WHERE id = ${}", values.len() + 1));
        values.push(campaign_id.parse::<uuid::Uuid>().unwrap().into());
        db.execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            values,
        ))
        .await
        .unwrap();
    }

    /// A confirmed nomination, its nominee's consent given, made a finalist of the demo campaign's
    /// first category in region Y56 as its admins and judge do it: the platform admin approves it
    /// and sets a one-criterion rubric, a judge assigned to the category scores it while judging is
    /// open, and once judging has closed (with the public vote open, with `vote_open`) the admin
    /// announces it.
    pub async fn make_finalist(&self, campaign: &Campaign, nomination_id: &str, vote_open: bool) {
        use valued_proto::nomination::v1 as pb;
        use valued_testkit::roles::signed;
        let category = &campaign.categories[0];
        let mut client = NominationServiceClient::new(self.channel("nomination").await);
        let admin = self.oidc.verified_id_token(PLATFORM_ADMIN).await.unwrap();
        client
            .moderate_nomination(signed(
                &admin,
                pb::ModerateNominationRequest {
                    nomination_id: nomination_id.into(),
                    action: "approve".into(),
                    reason: String::new(),
                },
            ))
            .await
            .unwrap();
        let rubric = client
            .set_rubric(signed(
                &admin,
                pb::SetRubricRequest {
                    campaign_id: campaign.id.clone(),
                    criteria: vec![pb::Criterion {
                        id: String::new(),
                        name: "Impact on patients".into(),
                        weight: 1,
                    }],
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .criteria;
        client
            .assign_judge(signed(
                &admin,
                pb::AssignJudgeRequest {
                    campaign_id: campaign.id.clone(),
                    category_id: category.id.clone(),
                    judge_email: "judge@example.org".into(),
                },
            ))
            .await
            .unwrap();
        self.advance(&campaign.id, true, false).await;
        let judge = self
            .oidc
            .verified_id_token("judge@example.org")
            .await
            .unwrap();
        client
            .score_nomination(signed(
                &judge,
                pb::ScoreNominationRequest {
                    nomination_id: nomination_id.into(),
                    scores: HashMap::from([(rubric[0].id.clone(), 5)]),
                },
            ))
            .await
            .unwrap();
        self.advance(&campaign.id, false, vote_open).await;
        client
            .announce_finalists(signed(
                &admin,
                pb::AnnounceFinalistsRequest {
                    campaign_id: campaign.id.clone(),
                    category_id: category.id.clone(),
                    region_code: "Y56".into(),
                    nomination_ids: vec![nomination_id.into()],
                },
            ))
            .await
            .unwrap();
    }
}

/// A failed test's cluster tells why: each process's warnings and errors and its last lines go to
/// the test's output, which CI keeps (the log directory itself stays only on the machine that ran
/// it).
impl Drop for Cluster {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let Ok(entries) = std::fs::read_dir(&self.logs) else {
            return;
        };
        let mut logs: Vec<_> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "log"))
            .collect();
        logs.sort();
        for log in logs {
            let Ok(text) = std::fs::read_to_string(&log) else {
                continue;
            };
            eprintln!("──── {} ────", log.display());
            for line in notable_lines(&text, 40, 15) {
                eprintln!("{line}");
            }
        }
    }
}

/// The last `warnings` lines that say WARN or ERROR, then the last `tail` lines, each line once
/// and in the log's order.
fn notable_lines(text: &str, warnings: usize, tail: usize) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let from_tail = lines.len().saturating_sub(tail);
    let mut notable: Vec<usize> = lines[..from_tail]
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains("WARN") || l.contains("ERROR"))
        .map(|(i, _)| i)
        .collect();
    notable.drain(..notable.len().saturating_sub(warnings));
    notable.extend(from_tail..lines.len());
    notable.into_iter().map(|i| lines[i]).collect()
}

/// A complete, valid nomination form for the demo campaign.
pub fn nomination_form(
    campaign: &Campaign,
    nominee: &str,
    nominator_email: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("campaign_id", campaign.id.clone()),
        ("category_id", campaign.categories[0].id.clone()),
        ("trust_code", campaign.trusts[0].code.clone()),
        ("nominee_name", nominee.to_owned()),
        ("nominee_job_title", "Porter".into()),
        ("staff_group", "estates-and-ancillary".into()),
        (
            "story",
            "Always the first to help, knows every corridor and has a kind word for every patient."
                .into(),
        ),
        ("nominator_name", "Alex Jones".into()),
        ("nominator_email", nominator_email.to_owned()),
        ("relationship", "colleague".into()),
    ]
}

/// The nomination id from the redirect after a successful POST.
pub fn nomination_id(response: &reqwest::Response) -> String {
    assert_eq!(
        response.status(),
        reqwest::StatusCode::SEE_OTHER,
        "expected a redirect after a good nomination"
    );
    let location = response.headers()["location"].to_str().unwrap();
    location.rsplit('/').next().unwrap().to_owned()
}
