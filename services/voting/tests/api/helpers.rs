//! `spawn_app()`: the voting service on port 0 with a fresh PostgreSQL database and an in-process
//! bus whose every event a recorder keeps, and a gRPC client talking to it.

use sea_orm::DatabaseConnection;
use secrecy::SecretString;
use valued_platform::auth::OidcSettings;
use valued_platform::grpc::Credentialed;
use valued_platform::{DatabaseSettings, Envelope};
use valued_proto::events::Event;
use valued_proto::events::v1::{ErasureRequested, PersonErased};
use valued_proto::voting::v1 as pb;
use valued_proto::voting::v1::voting_service_client::VotingServiceClient;
use valued_testkit::oidc::{self, OidcProvider};
use valued_testkit::platform::TestPlatform;
use valued_voting::{Application, Settings};

/// Signed in through the test's OpenID Connect provider, a platform admin.
pub const PLATFORM_ADMIN: &str = "platform.admin@valued.example.org";

pub struct TestApp {
    pub client: VotingServiceClient<Credentialed>,
    /// A platform admin's ID token (see [`TestApp::signed`]).
    pub admin_token: String,
    /// The provider admins sign in through.
    pub provider: OidcProvider,
    pub db: DatabaseConnection,
    /// Records every event the service publishes; dropping it stops the service.
    platform: TestPlatform,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| ()).await
}

/// [`spawn_app`] with its settings changed by `configure`.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let url = valued_testkit::postgres::fresh_database("voting")
        .await
        .expect("a fresh database");
    spawn_app_on(DatabaseSettings::postgres(url), configure).await
}

/// The embedded default: a SQLite file in the app's data directory.
pub async fn spawn_embedded_app() -> TestApp {
    spawn_embedded_app_with(|_| ()).await
}

/// [`spawn_embedded_app`] with its settings changed by `configure`.
pub async fn spawn_embedded_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_on(DatabaseSettings::default(), configure).await
}

async fn spawn_app_on(
    database: DatabaseSettings,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let platform = TestPlatform::start("voting")
        .await
        .expect("an in-process platform");
    let provider = OidcProvider::start()
        .await
        .expect("an OpenID Connect provider");
    let mut settings = Settings {
        database,
        grpc: valued_testkit::grpc::settings(),
        voter_key_secret: SecretString::from("test-voter-key-secret"),
        auth: OidcSettings {
            issuer: provider.issuer.clone(),
            audience: oidc::CLIENT_ID.into(),
            ..Default::default()
        },
        // The tests vote many times as one person from one address: the rate limits have tests of
        // their own (platform and end to end).
        rate_limits: valued_platform::limits::RateLimits {
            per_client_per_hour: 0,
            per_address_per_day: 0,
        },
        ..Settings::default()
    };
    configure(&mut settings);
    let app = Application::build(&settings, platform.platform())
        .await
        .expect("the app builds");
    let port = app.port();
    let db = app.db().clone();
    tokio::spawn(app.run_until_stopped());
    let url = format!("http://127.0.0.1:{port}");
    let client = VotingServiceClient::new(
        valued_testkit::grpc::connect(url, &settings.grpc, valued_voting::NAME)
            .await
            .unwrap(),
    );
    let admin_token =
        valued_testkit::roles::platform_admin(&platform, &db, &provider, PLATFORM_ADMIN)
            .await
            .expect("a platform admin");
    TestApp {
        client,
        admin_token,
        provider,
        db,
        platform,
    }
}

impl TestApp {
    /// `message` as the platform admin sends it.
    pub fn signed<T>(&self, message: T) -> tonic::Request<T> {
        valued_testkit::roles::signed(&self.admin_token, message)
    }

    /// An ID token for `email`, who holds `(role, scope)` (`("trust_admin", "RJ1")`) once this
    /// service's copy of the grants has it.
    pub async fn admin_holding(&self, email: &str, grant: (&str, &str)) -> String {
        valued_testkit::roles::admin(&self.platform, &self.db, &self.provider, email, grant)
            .await
            .expect("the grant is copied")
    }

    /// Creates a ballot with the given `(id, label)` choices and returns its id.
    pub async fn create_ballot(&self, title: &str, choices: &[(&str, &str)]) -> String {
        self.client
            .clone()
            .create_ballot(self.signed(ballot_request(title, choices)))
            .await
            .expect("the ballot is created")
            .into_inner()
            .ballot_id
    }

    pub async fn vote(
        &self,
        ballot_id: &str,
        choice_id: &str,
        email: &str,
    ) -> Result<pb::CastVoteResponse, tonic::Status> {
        self.cast(pb::CastVoteRequest {
            ballot_id: ballot_id.into(),
            choice_id: choice_id.into(),
            voter_email: email.into(),
            ..Default::default()
        })
        .await
    }

    async fn cast(
        &self,
        request: pb::CastVoteRequest,
    ) -> Result<pb::CastVoteResponse, tonic::Status> {
        self.client
            .clone()
            .cast_vote(request)
            .await
            .map(tonic::Response::into_inner)
    }

    pub async fn tally(&self, ballot_id: &str) -> pb::GetTallyResponse {
        self.client
            .clone()
            .get_tally(self.signed(pb::GetTallyRequest {
                ballot_id: ballot_id.into(),
            }))
            .await
            .expect("a tally")
            .into_inner()
    }

    /// Every event published so far, once the outbox relay has published all it holds. Delivery
    /// is at-least-once (a relay round that fails after publishing publishes again), so events are
    /// told apart by id, as a consumer's inbox does.
    pub async fn published(&self) -> Vec<Envelope> {
        self.platform
            .published(&self.db)
            .await
            .expect("the outbox is drained")
    }

    /// Asks to vote in `campaign_id` as `email`, and returns the link's token and the code the
    /// email carries.
    pub async fn verification(&self, campaign_id: &str, email: &str) -> (String, String) {
        self.verification_asking(campaign_id, email, false).await
    }

    /// As [`TestApp::verification`], asking (or not) to hear when the results are out.
    pub async fn verification_asking(
        &self,
        campaign_id: &str,
        email: &str,
        notify_results: bool,
    ) -> (String, String) {
        let before = self
            .published_of::<valued_proto::events::v1::VoterVerificationRequested>()
            .await
            .len();
        self.client
            .clone()
            .request_voter_verification(pb::RequestVoterVerificationRequest {
                campaign_id: campaign_id.into(),
                email: email.into(),
                notify_results,
            })
            .await
            .expect("a verification");
        let sent = self
            .published_of::<valued_proto::events::v1::VoterVerificationRequested>()
            .await;
        assert_eq!(sent.len(), before + 1);
        let sent = sent.last().unwrap();
        (sent.token.clone(), sent.code.clone())
    }

    /// A voter pass for `email` in `campaign_id`, through the emailed link.
    pub async fn voter_pass(&self, campaign_id: &str, email: &str) -> String {
        self.voter_pass_asking(campaign_id, email, false).await
    }

    /// As [`TestApp::voter_pass`], asking (or not) to hear when the results are out.
    pub async fn voter_pass_asking(
        &self,
        campaign_id: &str,
        email: &str,
        notify_results: bool,
    ) -> String {
        let (token, _) = self
            .verification_asking(campaign_id, email, notify_results)
            .await;
        self.client
            .clone()
            .verify_voter(pb::VerifyVoterRequest {
                token,
                ..Default::default()
            })
            .await
            .expect("verified")
            .into_inner()
            .voter_pass
    }

    /// Votes with a voter pass from the client address `client` (as the gateway carries it).
    pub async fn vote_from(
        &self,
        client: &str,
        ballot_id: &str,
        choice_id: &str,
        pass: &str,
    ) -> Result<pb::CastVoteResponse, tonic::Status> {
        let mut request = tonic::Request::new(pb::CastVoteRequest {
            ballot_id: ballot_id.into(),
            choice_id: choice_id.into(),
            voter_pass: pass.into(),
            ..Default::default()
        });
        request.metadata_mut().insert(
            valued_platform::limits::CLIENT_HEADER,
            client.parse().unwrap(),
        );
        self.client
            .clone()
            .cast_vote(request)
            .await
            .map(tonic::Response::into_inner)
    }

    /// Votes with a voter pass.
    pub async fn vote_with_pass(
        &self,
        ballot_id: &str,
        choice_id: &str,
        pass: &str,
    ) -> Result<pb::CastVoteResponse, tonic::Status> {
        self.cast(pb::CastVoteRequest {
            ballot_id: ballot_id.into(),
            choice_id: choice_id.into(),
            voter_pass: pass.into(),
            ..Default::default()
        })
        .await
    }

    /// `campaign`'s ballots once `finalists` finalists are on them.
    pub async fn ballots_of(&self, campaign: &str, finalists: usize) -> Vec<pb::CampaignBallot> {
        for _ in 0..100 {
            let ballots = self
                .client
                .clone()
                .list_campaign_ballots(pb::ListCampaignBallotsRequest {
                    campaign_id: campaign.into(),
                })
                .await
                .unwrap()
                .into_inner()
                .ballots;
            if ballots.iter().map(|b| b.finalists.len()).sum::<usize>() == finalists {
                return ballots;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the finalists of {campaign} never reached its ballots");
    }

    /// Delivers `envelopes` as the nomination service would publish them.
    pub async fn announce(&self, envelopes: &[Envelope]) {
        self.platform
            .publish_as_peer(envelopes)
            .await
            .expect("published");
    }

    /// What the service holds about `email`'s person, as a platform admin exports it.
    pub async fn export_person(&self, email: &str) -> serde_json::Value {
        let json = self
            .client
            .clone()
            .export_person(self.signed(pb::ExportPersonRequest {
                email: email.into(),
            }))
            .await
            .expect("an export")
            .into_inner()
            .json;
        serde_json::from_str(&json).expect("JSON")
    }

    /// Asks (as the nomination service does) for `email`'s person to be erased, and returns the
    /// service's answer once it is published.
    pub async fn erase(&self, request_id: &str, email: &str) -> PersonErased {
        let request = ErasureRequested {
            request_id: request_id.into(),
            email: email.into(),
            ..Default::default()
        };
        self.announce(&[Envelope::new("nomination", None, &request)])
            .await;
        for _ in 0..100 {
            if let Some(answer) = self
                .published_of::<PersonErased>()
                .await
                .into_iter()
                .find(|answer| answer.request_id == request_id)
            {
                return answer;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("erasure {request_id} was never answered");
    }

    /// The decoded payloads of every published event of type `E`.
    pub async fn published_of<E: Event>(&self) -> Vec<E> {
        self.published()
            .await
            .iter()
            .filter(|e| e.event_type == E::TYPE)
            .map(|e| e.decode::<E>().unwrap())
            .collect()
    }
}

pub fn ballot_request(title: &str, choices: &[(&str, &str)]) -> pb::CreateBallotRequest {
    pb::CreateBallotRequest {
        title: title.into(),
        choices: choices
            .iter()
            .map(|(id, label)| pb::Choice {
                id: (*id).into(),
                label: (*label).into(),
            })
            .collect(),
    }
}

/// `(choice id, votes)` of a tally, in the order it lists them.
pub fn counts(tally: &pb::GetTallyResponse) -> Vec<(&str, u64)> {
    tally
        .choices
        .iter()
        .map(|c| (c.choice_id.as_str(), c.votes))
        .collect()
}

pub fn fields(status: &tonic::Status) -> Vec<String> {
    valued_platform::grpc::field_errors(status)
        .into_iter()
        .map(|e| e.field)
        .collect()
}

/// Opens `campaign`'s public vote (from a day ago, for six days, results in eight) with the
/// `(nominee, category)` finalists announced; its ballots, once every finalist is on one.
pub async fn open_vote(
    app: &TestApp,
    campaign: &str,
    finalists: &[(&str, &str)],
) -> Vec<pb::CampaignBallot> {
    use valued_proto::events::v1 as ev;
    let at = |days: i64| {
        Some(prost_types::Timestamp {
            seconds: (chrono::Utc::now() + chrono::Duration::days(days)).timestamp(),
            nanos: 0,
        })
    };
    let vote = ev::VoteTimetable {
        opens_at: at(-1),
        closes_at: at(6),
        results_at: at(8),
    };
    let announced: Vec<Envelope> = finalists
        .iter()
        .map(|(nominee, category)| {
            Envelope::new(
                "nomination",
                None,
                &ev::FinalistAnnounced {
                    finalist: Some(ev::RecognisedNominee {
                        nominee_id: (*nominee).into(),
                        campaign_id: campaign.into(),
                        campaign_name: "Health Heroes 2026".into(),
                        category_id: (*category).into(),
                        category_name: (*category).into(),
                        nominee_name: (*nominee).into(),
                        ..Default::default()
                    }),
                    announced_at: None,
                    vote: Some(vote),
                    ..Default::default()
                },
            )
        })
        .collect();
    app.announce(&announced).await;
    app.ballots_of(campaign, finalists.len()).await
}
