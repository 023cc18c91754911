//! The admin pages in front of the real nomination service (fresh PostgreSQL database, in-process
//! bus) and a real OpenID Connect provider: signing in through the provider's own form, the
//! moderation queue, the audit log, the CSV export, and what the service refuses.

use reqwest::StatusCode;
use valued_gateway::session::AuthSettings;
use valued_gateway::{Application, Peer, Peers, Settings};
use valued_nomination::auth::{Actor, Role, grant};
use valued_platform::Shutdown;
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::NominationConfirmationRequested;
use valued_proto::nomination::v1::nomination_service_client::NominationServiceClient;
use valued_proto::nomination::v1::{
    Campaign, ConfirmNominationRequest, GetCampaignRequest, SubmitNominationRequest,
};
use valued_testkit::oidc::{self, OidcProvider};
use valued_testkit::platform::TestPlatform;

mod campaign_files;
mod campaigns;
mod deliveries;
mod insight;
mod learning_routes;
mod mp_letter;
mod organisations;
mod people;
mod privacy;
mod public_vote;
mod setup;
mod trusts;

const PLATFORM_ADMIN: &str = "platform.admin@valued.example.org";

struct Admin {
    gateway: String,
    provider: OidcProvider,
    nomination: NominationServiceClient<valued_platform::grpc::Credentialed>,
    platform: TestPlatform,
    db: sea_orm::DatabaseConnection,
    campaign: Campaign,
    /// The service key every peer's credential is signed with (a real peer started later takes it).
    keys: valued_platform::GrpcSettings,
    shutdown: Shutdown,
}

impl Drop for Admin {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

/// A browser: keeps cookies, follows no redirects (the tests follow them one at a time).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("no redirect from {}", response.url()))
        .to_str()
        .unwrap()
        .to_owned()
}

async fn spawn() -> Admin {
    spawn_with(true).await
}

async fn spawn_with(sign_in: bool) -> Admin {
    spawn_full(sign_in, "http://127.0.0.1:9").await
}

/// As [`spawn_with`], the gateway calling the notification service at `notification`.
async fn spawn_full(sign_in: bool, notification: &str) -> Admin {
    spawn_peers(sign_in, notification, "http://127.0.0.1:9").await
}

/// As [`spawn_full`], the gateway calling the voting service at `voting`.
async fn spawn_peers(sign_in: bool, notification: &str, voting: &str) -> Admin {
    let provider = OidcProvider::start().await.unwrap();
    let platform = TestPlatform::start("nomination").await.unwrap();
    let url = valued_testkit::postgres::fresh_database("nomination")
        .await
        .unwrap();
    let settings = valued_nomination::Settings {
        database: valued_platform::DatabaseSettings::postgres(url),
        seed_demo: true,
        auth: valued_nomination::auth::AuthSettings {
            issuer: provider.issuer.clone(),
            audience: oidc::CLIENT_ID.into(),
            platform_admins: vec![PLATFORM_ADMIN.into()],
            ..Default::default()
        },
        grpc: valued_testkit::grpc::settings(),
        ..valued_nomination::Settings::default()
    };
    let app = valued_nomination::Application::build(&settings, platform.platform())
        .await
        .unwrap();
    let grpc = format!("http://127.0.0.1:{}", app.port());
    let db = app.db().clone();
    tokio::spawn(app.run_until_stopped());
    let mut nomination = NominationServiceClient::new(
        valued_testkit::grpc::connect(grpc.clone(), &settings.grpc, valued_nomination::NAME)
            .await
            .unwrap(),
    );
    let campaign = nomination
        .get_campaign(GetCampaignRequest {
            slug: valued_nomination::DEMO_CAMPAIGN_SLUG.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .campaign
        .unwrap();

    let nomination_grpc = settings.grpc.clone();
    let settings = Settings {
        auth: if sign_in {
            AuthSettings {
                issuer: provider.issuer.clone(),
                client_id: oidc::CLIENT_ID.into(),
                client_secret: Some(oidc::CLIENT_SECRET.to_owned().into()),
                ..AuthSettings::default()
            }
        } else {
            AuthSettings::default()
        },
        ..Settings::default()
    };
    let shutdown = Shutdown::new();
    let peers = Peers {
        nomination: Peer::new(valued_nomination::NAME, grpc, &nomination_grpc).unwrap(),
        notification: Peer::new("notification", notification.into(), &nomination_grpc).unwrap(),
        voting: Peer::new("voting", voting.into(), &nomination_grpc).unwrap(),
        // Stand-ins for voting answer for the suggestion box too.
        survey_feedback: Peer::new("survey-feedback", voting.into(), &nomination_grpc).unwrap(),
    };
    let gateway = Application::build(&settings, peers, shutdown.clone())
        .await
        .unwrap();
    let address = format!("http://127.0.0.1:{}", gateway.port());
    tokio::spawn(gateway.run_until_stopped());
    Admin {
        gateway: address,
        provider,
        nomination,
        platform,
        db,
        campaign,
        keys: nomination_grpc,
        shutdown,
    }
}

impl Admin {
    /// Invites `email` to `role` over `scope`, as `valued grant` does.
    async fn grant(&self, email: &str, role: Role, scope: &str) {
        grant(
            &self.db,
            &Outbox::detached("nomination"),
            &Actor::CommandLine,
            email,
            role,
            scope,
        )
        .await
        .unwrap();
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.gateway)
    }

    /// Signs `email` in as a browser does: the gateway sends it to the provider, the provider's form
    /// is submitted, the provider sends it back to the callback. Returns the signed-in browser.
    async fn sign_in(&self, email: &str) -> reqwest::Client {
        let browser = browser();
        let start = browser.get(self.url("/admin")).send().await.unwrap();
        assert_eq!(start.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&start), "/admin/sign-in?next=%2Fadmin");
        let to_provider = browser
            .get(self.url("/admin/sign-in?next=%2Fadmin"))
            .send()
            .await
            .unwrap();
        assert_eq!(to_provider.status(), StatusCode::SEE_OTHER);
        let authorize = location(&to_provider);
        assert!(authorize.starts_with(&self.provider.issuer), "{authorize}");
        let query: Vec<(String, String)> = reqwest::Url::parse(&authorize)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        for key in ["state", "nonce", "code_challenge"] {
            assert!(
                query.iter().any(|(k, v)| k == key && v.len() >= 43),
                "{key}"
            );
        }
        assert!(
            query
                .iter()
                .any(|(k, v)| k == "code_challenge_method" && v == "S256")
        );
        // The account's email is one the provider has verified: nomination binds roles only then.
        self.provider.register(email, email, true).await.unwrap();
        // The provider's sign-in form, as a person would fill it in.
        let form = browser.get(&authorize).send().await.unwrap();
        assert!(form.status().is_success());
        assert!(form.text().await.unwrap().contains("name=\"sub\""));
        let back = browser
            .post(&authorize)
            .form(&[("sub", email)])
            .send()
            .await
            .unwrap();
        let callback = location(&back);
        assert!(
            callback.starts_with(&self.url("/admin/callback?")),
            "{callback}"
        );
        let signed_in = browser.get(&callback).send().await.unwrap();
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&signed_in), "/admin");
        let session = signed_in
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("valued_admin="))
            .expect("a session cookie");
        assert!(session.contains("HttpOnly"), "{session}");
        assert!(session.contains("SameSite=Lax"), "{session}");
        browser
    }

    /// Submits a nomination to `trust` and confirms it as its nominator would.
    async fn confirmed(&mut self, trust: &str, nominee: &str, story: &str) -> String {
        let nominator = format!("alex.{}@example.org", uuid::Uuid::new_v4().simple());
        self.confirmed_by(trust, nominee, story, &nominator).await
    }

    /// As [`Self::confirmed`], nominated by `nominator` (an email address).
    async fn confirmed_by(
        &mut self,
        trust: &str,
        nominee: &str,
        story: &str,
        nominator: &str,
    ) -> String {
        let id = self
            .nomination
            .submit_nomination(SubmitNominationRequest {
                campaign_id: self.campaign.id.clone(),
                category_id: self.campaign.categories[0].id.clone(),
                trust_code: trust.into(),
                nominee_name: nominee.into(),
                nominee_job_title: "Porter".into(),
                staff_group: "estates-and-ancillary".into(),
                story: story.into(),
                nominator_name: "Alex Jones".into(),
                nominator_email: nominator.into(),
                relationship: "colleague".into(),
                ..SubmitNominationRequest::default()
            })
            .await
            .unwrap()
            .into_inner()
            .nomination_id;
        let confirm_token = self
            .platform
            .published(&self.db)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| {
                e.event_type
                    == <NominationConfirmationRequested as valued_proto::events::Event>::TYPE
            })
            .map(|e| e.decode::<NominationConfirmationRequested>().unwrap())
            .find(|e| e.nomination_id == id)
            .unwrap()
            .confirm_token;
        self.nomination
            .confirm_nomination(ConfirmNominationRequest { confirm_token })
            .await
            .unwrap();
        id
    }

    /// A page's body, checking its status.
    async fn page(&self, browser: &reqwest::Client, path: &str, status: StatusCode) -> String {
        let response = browser.get(self.url(path)).send().await.unwrap();
        assert_eq!(response.status(), status, "GET {path}");
        response.text().await.unwrap()
    }

    fn queue_path(&self) -> String {
        format!("/admin/campaigns/{}/moderation", self.campaign.slug)
    }
}

/// The boundary of the multipart bodies the tests build.
const BOUNDARY: &str = "valued-test-boundary-7f3a";

/// Posts `body`, a multipart form with parts separated by [`BOUNDARY`], as a browser does.
async fn post_multipart(browser: &reqwest::Client, url: &str, body: Vec<u8>) -> reqwest::Response {
    browser
        .post(url)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The CSRF token a page's forms carry.
fn csrf(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
    html[start..start + 64].to_owned()
}

#[tokio::test]
async fn an_admin_signs_in_through_the_provider_and_sees_their_roles() {
    let admin = spawn().await;
    let browser = admin.sign_in(PLATFORM_ADMIN).await;
    let home = admin.page(&browser, "/admin", StatusCode::OK).await;
    assert!(home.contains(PLATFORM_ADMIN), "{home}");
    assert!(home.contains("Platform administrator"));
    assert!(home.contains(&format!(
        "/admin/campaigns/{}/moderation",
        admin.campaign.slug
    )));

    // Signing out forgets the ID token: the next admin page sends the browser to sign in.
    let token = csrf(&home);
    let out = browser
        .post(admin.url("/admin/sign-out"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let again = browser.get(admin.url("/admin")).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert!(location(&again).starts_with("/admin/sign-in"));
}

#[tokio::test]
async fn a_callback_with_another_state_or_a_forged_session_does_not_sign_in() {
    let admin = spawn().await;
    let browser = browser();
    browser
        .get(admin.url("/admin/sign-in"))
        .send()
        .await
        .unwrap();
    let forged = browser
        .get(admin.url("/admin/callback?code=abc&state=not-ours"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert!(
        !forged
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("valued_admin=e"))
    );

    // A made-up token in the cookie is refused by the nomination service: sign in again.
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(admin.url("/admin"))
        .header(
            "cookie",
            "valued_admin=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/admin/sign-in"));
}

#[tokio::test]
async fn without_an_issuer_the_admin_pages_say_sign_in_is_not_configured() {
    let admin = spawn_with(false).await;
    let body = admin
        .page(&browser(), "/admin", StatusCode::SERVICE_UNAVAILABLE)
        .await;
    assert!(body.contains("Admin sign-in is not configured"), "{body}");
}

#[tokio::test]
async fn a_trust_admin_approves_from_the_queue_and_sees_it_in_the_audit_log() {
    let mut admin = spawn().await;
    let moderator = "moderator.rj1@valued.example.org";
    admin.grant(moderator, Role::TrustAdmin, "RJ1").await;
    let first = admin
        .confirmed("RJ1", "Sam Patel", "Sam always helps lost visitors.")
        .await;
    let other_trust = admin
        .confirmed("RRK", "Jo Bloggs", "Jo keeps the wards stocked.")
        .await;
    let browser = admin.sign_in(moderator).await;

    let queue = admin
        .page(&browser, &admin.queue_path(), StatusCode::OK)
        .await;
    assert!(queue.contains("Sam Patel"), "{queue}");
    assert!(queue.contains("Sam always helps lost visitors."));
    assert!(
        !queue.contains("Jo Bloggs"),
        "another trust's nomination shown"
    );

    // Rejecting without a reason shows the service's field error beside the reason box.
    let token = csrf(&queue);
    let action = format!("{}/{first}", admin.queue_path());
    let no_reason = browser
        .post(admin.url(&action))
        .form(&[
            ("csrf_token", token.as_str()),
            ("action", "reject"),
            ("reason", " "),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(no_reason.status(), StatusCode::BAD_REQUEST);
    let body = no_reason.text().await.unwrap();
    assert!(body.contains("There is a problem"));
    assert!(
        body.contains(&format!("href=\"#reason-reject-{first}\"")),
        "{body}"
    );
    assert!(body.contains("Enter the reason for rejecting"));

    // Without the CSRF token nothing happens.
    let forged = browser
        .post(admin.url(&action))
        .form(&[
            ("csrf_token", "0".repeat(64).as_str()),
            ("action", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let approved = browser
        .post(admin.url(&action))
        .form(&[("csrf_token", token.as_str()), ("action", "approve")])
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&approved),
        format!("{}?done=approve", admin.queue_path())
    );
    let queue = admin
        .page(&browser, &location(&approved), StatusCode::OK)
        .await;
    assert!(queue.contains("Nomination approved"));
    assert!(!queue.contains("Sam Patel"), "approved but still queued");

    let audit = admin
        .page(&browser, "/admin/trusts/RJ1/audit", StatusCode::OK)
        .await;
    assert!(audit.contains(moderator), "{audit}");
    assert!(audit.contains(&first));
    assert!(audit.contains("approve"));

    // Another trust's queue, audit log and nomination are refused by the service: 403.
    let refused = admin
        .page(
            &browser,
            &format!("{}?trust=RRK", admin.queue_path()),
            StatusCode::FORBIDDEN,
        )
        .await;
    assert!(refused.contains("You do not have permission to see this page"));
    admin
        .page(&browser, "/admin/trusts/RRK/audit", StatusCode::FORBIDDEN)
        .await;
    let theirs = browser
        .post(admin.url(&format!("{}/{other_trust}", admin.queue_path())))
        .form(&[("csrf_token", token.as_str()), ("action", "approve")])
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_csv_export_neutralises_formulas() {
    let mut admin = spawn().await;
    let id = admin
        .confirmed(
            "RX1",
            "Ada Lovelace",
            "=HYPERLINK(\"https://evil.example\") she, \"always\" helps",
        )
        .await;
    let browser = admin.sign_in(PLATFORM_ADMIN).await;
    let response = browser
        .get(admin.url(&format!(
            "/admin/campaigns/{}/nominations.csv",
            admin.campaign.slug
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let disposition = response.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\""),
        "{disposition}"
    );
    let body = response.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let story = headers.iter().position(|h| h == "story").unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let row = rows.iter().find(|r| &r[0] == id.as_str()).unwrap();
    assert_eq!(
        &row[story],
        "'=HYPERLINK(\"https://evil.example\") she, \"always\" helps"
    );
    assert!(
        rows.iter()
            .flat_map(|r| r.iter())
            .all(|cell| !cell.starts_with(['=', '+', '-', '@']))
    );
}

#[tokio::test]
async fn a_judge_without_work_sees_no_progress_and_others_are_refused() {
    let admin = spawn().await;
    let judge = "judge@valued.example.org";
    admin.grant(judge, Role::Judge, &admin.campaign.id).await;
    let browser = admin.sign_in(judge).await;
    let work = admin
        .page(
            &browser,
            &format!("/admin/campaigns/{}/judging", admin.campaign.slug),
            StatusCode::OK,
        )
        .await;
    assert!(work.contains("0 of 0 scored"), "{work}");
    // Only those who run the campaign see its shortlist.
    admin
        .page(
            &browser,
            &format!("/admin/campaigns/{}/shortlist", admin.campaign.slug),
            StatusCode::FORBIDDEN,
        )
        .await;
    let admin_browser = admin.sign_in(PLATFORM_ADMIN).await;
    let shortlist = admin
        .page(
            &admin_browser,
            &format!("/admin/campaigns/{}/shortlist", admin.campaign.slug),
            StatusCode::OK,
        )
        .await;
    assert!(shortlist.contains("Shortlist:"), "{shortlist}");
}
