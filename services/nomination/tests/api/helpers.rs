use sea_orm::TransactionTrait;
use secrecy::ExposeSecret;
use valued_nomination::admin::campaigns::{NewCampaign, NewCategory, create};
use valued_nomination::auth::AuthSettings;
use valued_nomination::db::entities::{consent_record, nomination, nominee};
use valued_nomination::domain::{RecordId, Scope, Windows};
use valued_nomination::{Application, DEMO_CAMPAIGN_SLUG, Settings};
use valued_platform::DatabaseSettings;
use valued_platform::grpc::Credentialed;
use valued_proto::events::v1::{NominationConfirmationRequested, NomineeClaimed, NomineeThanked};
use valued_proto::nomination::v1::nomination_service_client::NominationServiceClient;
use valued_proto::nomination::v1::{
    Campaign, ClaimNomineeRequest, ConfirmNominationRequest, GetCampaignRequest,
    ModerateNominationRequest, SubmitNominationRequest,
};
use valued_testkit::oidc::{self, OidcProvider};
use valued_testkit::platform::TestPlatform;

pub struct TestApp {
    pub client: NominationServiceClient<Credentialed>,
    /// The connection `client` uses (signing each call as a Valued service), for calling a method
    /// by its name.
    pub channel: Credentialed,
    /// Records every event the service publishes; dropping it stops the service.
    pub platform: TestPlatform,
    pub db: sea_orm::DatabaseConnection,
    pub campaign: Campaign,
}

/// The nomination service on a fresh PostgreSQL database, port 0, an in-process bus.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Settings::default()).await
}

/// As [`spawn_app`], with `settings` apart from the demo seed, and apart from the database
/// unless they name one (say a SQLite file).
pub async fn spawn_app_with(settings: Settings) -> TestApp {
    let platform = TestPlatform::start("nomination").await.unwrap();
    let database = if settings.database.url.expose_secret().is_empty() {
        let url = valued_testkit::postgres::fresh_database("nomination")
            .await
            .unwrap();
        DatabaseSettings::postgres(url)
    } else {
        settings.database.clone()
    };
    // A fresh service key; the rest of the gRPC settings (the server's bounds) as given.
    let settings = Settings {
        database,
        grpc: valued_platform::GrpcSettings {
            service_key: valued_testkit::grpc::settings().service_key,
            ..settings.grpc.clone()
        },
        seed_demo: true,
        ..settings
    };
    let app = Application::build(&settings, platform.platform())
        .await
        .unwrap();
    let port = app.port();
    let db = app.db().clone();
    tokio::spawn(app.run_until_stopped());
    let url = format!("http://127.0.0.1:{port}");
    let channel = valued_testkit::grpc::connect(url, &settings.grpc, valued_nomination::NAME)
        .await
        .unwrap();
    let mut test = TestApp {
        client: NominationServiceClient::new(channel.clone()),
        channel,
        platform,
        db,
        campaign: Campaign::default(),
    };
    test.campaign = test
        .client
        .get_campaign(GetCampaignRequest {
            slug: DEMO_CAMPAIGN_SLUG.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .campaign
        .unwrap();
    test
}

/// The service with admin sign-in through a real OpenID Connect provider started for the test.
pub async fn spawn_admin_app() -> (TestApp, OidcProvider) {
    spawn_admin_app_on(DatabaseSettings::default()).await
}

/// As [`spawn_admin_app`], on `database` (the default: a fresh PostgreSQL database).
pub async fn spawn_admin_app_on(database: DatabaseSettings) -> (TestApp, OidcProvider) {
    let provider = OidcProvider::start().await.unwrap();
    let settings = Settings {
        auth: AuthSettings {
            issuer: provider.issuer.clone(),
            audience: oidc::CLIENT_ID.into(),
            platform_admins: vec![PLATFORM_ADMIN.into()],
            ..Default::default()
        },
        database,
        ..Settings::default()
    };
    (spawn_app_with(settings).await, provider)
}

/// A campaign of `trust`'s own (`<trust>-staff-awards`, open for nominations), run by its trust
/// admins, with one category: the campaign's id and the category's.
pub async fn trust_campaign(app: &mut TestApp, trust: &str) -> (String, String) {
    let txn = app.db.begin().await.unwrap();
    let slug = format!("{}-staff-awards", trust.to_lowercase());
    create(
        &txn,
        NewCampaign {
            slug: &slug,
            name: &format!("{trust} staff awards"),
            description: "",
            scope: Scope::Trust(trust.into()),
            windows: Windows {
                nominations_open_at: Some(chrono::Utc::now() - chrono::Duration::days(1)),
                nominations_close_at: Some(chrono::Utc::now() + chrono::Duration::days(1)),
                ..Windows::default()
            },
            trusts: &[trust],
            vote_per_region: false,
            nominations_per_nominator: None,
        },
        &[NewCategory {
            name: "Porter of the year",
            description: "",
            word_limit: 300,
            eligible: &[],
            bands: &[],
        }],
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    let campaign = app
        .client
        .get_campaign(GetCampaignRequest { slug })
        .await
        .unwrap()
        .into_inner()
        .campaign
        .unwrap();
    (campaign.id, campaign.categories[0].id.clone())
}

/// The nominee's answers (listed, story, MP) through the consent link `token`.
pub fn consent_answer(
    token: &str,
    listed: bool,
    story: bool,
    mp: bool,
) -> valued_proto::nomination::v1::RecordConsentRequest {
    valued_proto::nomination::v1::RecordConsentRequest {
        consent_token: token.to_owned(),
        consent: Some(valued_proto::nomination::v1::Consent {
            listed_publicly: listed,
            story_published: story,
            shared_with_mp: mp,
        }),
    }
}

pub const PLATFORM_ADMIN: &str = "platform.admin@valued.example.org";

/// Signs in the provider's account `sub`, first given the claims `email` and `email_verified`, and
/// returns the ID token it issued.
pub async fn sign_in_as(provider: &OidcProvider, sub: &str, email: &str, verified: bool) -> String {
    provider.register(sub, email, verified).await.unwrap();
    provider.id_token(sub).await.unwrap()
}

/// `email` signed in with the email its issuer verified, as an admin normally is.
pub async fn verified_token(provider: &OidcProvider, email: &str) -> String {
    sign_in_as(provider, email, email, true).await
}

/// `message` as sent by whoever `id_token` belongs to.
pub fn signed<T>(id_token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {id_token}").parse().unwrap(),
    );
    request
}

impl TestApp {
    pub fn valid_request(&self) -> SubmitNominationRequest {
        SubmitNominationRequest {
            campaign_id: self.campaign.id.clone(),
            category_id: self.campaign.categories[0].id.clone(),
            trust_code: self.campaign.trusts[0].code.clone(),
            nominee_name: "Sam Patel".into(),
            nominee_job_title: "Porter".into(),
            staff_group: "estates-and-ancillary".into(),
            story: "Sam always stops to help lost visitors find their way.".into(),
            nominator_name: "Alex Jones".into(),
            nominator_email: "alex@example.org".into(),
            relationship: "colleague".into(),
            ..SubmitNominationRequest::default()
        }
    }

    /// Every distinct event of type `T` published so far (the outbox drained first).
    pub async fn events<T: valued_proto::events::Event>(&self) -> Vec<T> {
        self.platform
            .published(&self.db)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.event_type == T::TYPE)
            .map(|e| e.decode::<T>().unwrap())
            .collect()
    }

    /// The confirmation link's token the nominator of `nomination_id` was sent.
    pub async fn confirm_token(&self, nomination_id: &str) -> String {
        self.events::<NominationConfirmationRequested>()
            .await
            .into_iter()
            .find(|e| e.nomination_id == nomination_id)
            .map(|e| e.confirm_token)
            .expect("a confirmation request for the nomination")
    }

    /// Submits a nomination and follows its confirmation link, as its nominator would.
    pub async fn submit_confirmed(&mut self, request: SubmitNominationRequest) -> String {
        let id = self
            .client
            .submit_nomination(request)
            .await
            .unwrap()
            .into_inner()
            .nomination_id;
        let confirm_token = self.confirm_token(&id).await;
        let confirmed = self
            .client
            .confirm_nomination(ConfirmNominationRequest { confirm_token })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(confirmed.nomination_id, id);
        id
    }

    /// `admin` approves nomination `id` in moderation.
    pub async fn approve(&mut self, admin: &str, id: &str) {
        self.client
            .moderate_nomination(signed(
                admin,
                ModerateNominationRequest {
                    nomination_id: id.to_owned(),
                    action: "approve".into(),
                    reason: String::new(),
                },
            ))
            .await
            .unwrap();
    }

    /// A nomination as stored (reading one over gRPC takes an admin).
    pub async fn stored(&self, nomination_id: &str) -> nomination::Model {
        valued_nomination::db::load::nomination(&self.db, &RecordId::parse(nomination_id))
            .await
            .unwrap()
    }

    /// The nominee of a stored nomination.
    pub async fn nominee_of(&self, nomination_id: &str) -> String {
        self.stored(nomination_id)
            .await
            .nominee_id
            .map(|id| id.to_string())
            .unwrap_or_default()
    }

    /// A nominee as stored, with how many nominations name them.
    pub async fn nominee(&self, nominee_id: &str) -> (nominee::Model, u64) {
        valued_nomination::db::load::nominee(&self.db, &RecordId::parse(nominee_id))
            .await
            .unwrap()
    }

    pub async fn nomination_count(&self) -> u64 {
        valued_nomination::db::load::nomination_count(&self.db)
            .await
            .unwrap()
    }

    /// Every consent answer recorded, oldest first: listed, story, MP, and the address it came from.
    pub async fn consent_history(&self) -> Vec<(bool, bool, bool, Option<String>)> {
        use sea_orm::{EntityTrait, QueryOrder};
        consent_record::Entity::find()
            .order_by_asc(consent_record::Column::RecordedAt)
            .order_by_asc(consent_record::Column::Id)
            .all(&self.db)
            .await
            .unwrap()
            .into_iter()
            .map(|r| {
                (
                    r.listed_publicly,
                    r.story_published,
                    r.shared_with_mp,
                    r.address,
                )
            })
            .collect()
    }

    /// The nominee of `thanks` (thanked through their manager) gives `email` on the claim page the
    /// manager passed on: the consent link emailed to that address.
    pub async fn claim(&mut self, thanks: &NomineeThanked, email: &str) -> String {
        assert!(thanks.via_manager && thanks.consent_token.is_empty());
        self.client
            .claim_nominee(ClaimNomineeRequest {
                claim_token: thanks.claim_token.clone(),
                email: email.to_owned(),
            })
            .await
            .unwrap();
        self.events::<NomineeClaimed>()
            .await
            .into_iter()
            .rfind(|e| e.nominee_id == thanks.nominee_id && e.recipient_email == email)
            .map(|e| e.consent_token)
            .expect("a consent link for the address")
    }
}

/// Grants `email` `role` over `scope` from the command line.
pub async fn cli_grant(
    app: &TestApp,
    email: &str,
    role: valued_nomination::auth::Role,
    scope: &str,
) {
    valued_nomination::auth::grant(
        &app.db,
        &valued_platform::outbox::Outbox::detached("nomination"),
        &valued_nomination::auth::Actor::CommandLine,
        email,
        role,
        scope,
    )
    .await
    .unwrap();
}
