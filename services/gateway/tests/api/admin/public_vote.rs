//! A campaign's public vote for the admins who run it, through the pages, with the real nomination
//! and voting services: the timetable saved, refused field by field, closed now; turnout; the vote
//! record checked; the results CSV from the results time. A platform admin runs any campaign's
//! vote, a trust admin their trust's campaign's; nobody else gets anywhere.

use reqwest::StatusCode;
use secrecy::SecretString;
use valued_nomination::auth::Role;
use valued_platform::auth::OidcSettings;
use valued_platform::{DatabaseSettings, Envelope};
use valued_proto::events::v1 as ev;
use valued_proto::voting::v1 as pb;
use valued_proto::voting::v1::voting_service_client::VotingServiceClient;
use valued_testkit::platform::TestPlatform;

use super::{Admin, PLATFORM_ADMIN, csrf, location, spawn_peers};

/// The admin pages before the real voting service, with two finalists of the demo campaign's first
/// category announced to it, and the platform admin's grant copied to it.
async fn spawn() -> (Admin, Voting) {
    spawn_scoped(("national", "")).await
}

/// As [`spawn`], the finalists announced as of a campaign of `(scope, code)`: `("trust", "RJ1")`.
async fn spawn_scoped(scope: (&str, &str)) -> (Admin, Voting) {
    let port = valued_testkit::free_port();
    let admin = spawn_peers(
        true,
        "http://127.0.0.1:9",
        &format!("http://127.0.0.1:{port}"),
    )
    .await;
    let platform = TestPlatform::start("voting").await.unwrap();
    let settings = valued_voting::Settings {
        database: DatabaseSettings::postgres(
            valued_testkit::postgres::fresh_database("gateway_admin_vote")
                .await
                .unwrap(),
        ),
        grpc: valued_platform::GrpcSettings {
            port,
            ..admin.keys.clone()
        },
        voter_key_secret: SecretString::from("test-voter-key-secret"),
        // Three votes for one finalist from one network are a burst here.
        flags: valued_voting::held::FlagSettings {
            per_network: 2,
            ..valued_voting::held::FlagSettings::default()
        },
        auth: OidcSettings {
            issuer: admin.provider.issuer.clone(),
            audience: valued_testkit::oidc::CLIENT_ID.into(),
            ..Default::default()
        },
        ..valued_voting::Settings::default()
    };
    let voting = valued_voting::Application::build(&settings, platform.platform())
        .await
        .unwrap();
    let db = voting.db().clone();
    let url = format!("http://127.0.0.1:{}", voting.port());
    tokio::spawn(voting.run_until_stopped());
    valued_testkit::roles::platform_admin(&platform, &db, &admin.provider, PLATFORM_ADMIN)
        .await
        .unwrap();
    let category = &admin.campaign.categories[0];
    let at = |days: i64| {
        Some(prost_types::Timestamp {
            seconds: (chrono::Utc::now() + chrono::Duration::days(days)).timestamp(),
            nanos: 0,
        })
    };
    let finalist = |id: &str, name: &str| {
        Envelope::new(
            "nomination",
            None,
            &ev::FinalistAnnounced {
                finalist: Some(ev::RecognisedNominee {
                    nominee_id: id.into(),
                    campaign_id: admin.campaign.id.clone(),
                    category_id: category.id.clone(),
                    category_name: category.name.clone(),
                    nominee_name: name.into(),
                    ..Default::default()
                }),
                announced_at: None,
                vote: Some(ev::VoteTimetable {
                    opens_at: at(-1),
                    closes_at: at(6),
                    results_at: at(8),
                }),
                campaign_scope: scope.0.into(),
                campaign_scope_code: scope.1.into(),
                vote_per_region: false,
                learning_routes: Vec::new(),
            },
        )
    };
    platform
        .publish_as_peer(&[
            finalist("n-sam", "Sam Patel"),
            finalist("n-jo", "Jo Bloggs"),
        ])
        .await
        .unwrap();
    let client = VotingServiceClient::new(
        valued_testkit::grpc::connect(url, &settings.grpc, valued_voting::NAME)
            .await
            .unwrap(),
    );
    let voting = Voting {
        client,
        platform,
        db,
    };
    (admin, voting)
}

/// The voting service as the test reaches it: to vote as the public do.
struct Voting {
    client: VotingServiceClient<valued_platform::grpc::Credentialed>,
    platform: TestPlatform,
    db: sea_orm::DatabaseConnection,
}

impl Voting {
    /// Signs `email` in as holding `role` over `scope`: granted by the nomination service (as
    /// `valued grant` does) and copied to the voting service.
    async fn grant(&self, admin: &Admin, email: &str, role: Role, scope: &str) -> reqwest::Client {
        admin.grant(email, role, scope).await;
        valued_testkit::roles::admin(
            &self.platform,
            &self.db,
            &admin.provider,
            email,
            (role.slug(), scope),
        )
        .await
        .unwrap();
        admin.sign_in(email).await
    }

    /// A vote by `email` for `choice` in the ballot `(campaign id, ballot id)`, sent from the
    /// client address `client` after the emailed link; whether it was held.
    async fn vote_from(
        &self,
        client: &str,
        email: &str,
        ballot: (&str, &str),
        choice: &str,
    ) -> bool {
        let (campaign_id, ballot_id) = ballot;
        self.client
            .clone()
            .request_voter_verification(pb::RequestVoterVerificationRequest {
                campaign_id: campaign_id.into(),
                email: email.into(),
                ..Default::default()
            })
            .await
            .unwrap();
        let token = self
            .platform
            .published(&self.db)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.event_type == "voter.verification_requested.v1")
            .map(|e| e.decode::<ev::VoterVerificationRequested>().unwrap())
            .find(|sent| sent.email == email)
            .unwrap()
            .token;
        let pass = self
            .client
            .clone()
            .verify_voter(pb::VerifyVoterRequest {
                token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .voter_pass;
        let mut request = tonic::Request::new(pb::CastVoteRequest {
            ballot_id: ballot_id.into(),
            choice_id: choice.into(),
            voter_pass: pass,
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
            .unwrap()
            .into_inner()
            .held
    }
}

impl Admin {
    /// The vote page at `path` as `browser` sees it, once the vote shows as open.
    async fn open_vote_page(&self, browser: &reqwest::Client, path: &str) -> String {
        let mut page = String::new();
        for _ in 0..100 {
            page = self.page(browser, path, StatusCode::OK).await;
            if page.contains("Open</td>") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        page
    }

    /// Closes the vote at `path` now, its results due at once, through the page's "close now";
    /// the page after, with the results out.
    async fn close_vote_now(&self, browser: &reqwest::Client, path: &str, token: &str) -> String {
        let closed = browser
            .post(self.url(&format!("{path}/timetable")))
            .form(&[
                ("csrf_token", token),
                ("action", "close_now"),
                ("opens_at", "2026-11-01T09:00"),
                ("closes_at", "2026-12-20T09:00"),
                ("results_at", "2026-11-02T09:00"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(closed.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&closed), format!("{path}?done=scheduled"));
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let page = self
            .page(browser, &format!("{path}?done=scheduled"), StatusCode::OK)
            .await;
        assert!(page.contains("The timetable has been saved"));
        assert!(page.contains("Results out</td>"), "{page}");
        page
    }

    /// The page after checking `ballot`'s vote record through the vote page at `path`.
    async fn check_record(
        &self,
        browser: &reqwest::Client,
        path: &str,
        ballot: &str,
        token: &str,
    ) -> String {
        let checked = browser
            .post(self.url(&format!("{path}/check/{ballot}")))
            .form(&[("csrf_token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(checked.status(), StatusCode::OK);
        checked.text().await.unwrap()
    }
}

/// The first ballot whose record the vote page at `path` offers to check.
fn ballot_on(page: &str, path: &str) -> String {
    page.split(&format!("{path}/check/"))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_platform_admin_schedules_closes_checks_and_downloads_the_vote() {
    let (admin, _voting) = spawn().await;
    let path = format!("/admin/campaigns/{}/vote", admin.campaign.slug);
    let browser = admin.sign_in(PLATFORM_ADMIN).await;
    let home = admin.page(&browser, "/admin", StatusCode::OK).await;
    assert!(
        home.contains(&format!(r#"<a href="{path}">Public vote"#)),
        "{home}"
    );

    let page = admin.open_vote_page(&browser, &path).await;
    assert!(
        page.contains("<strong>0</strong> people have confirmed"),
        "{page}"
    );
    assert!(page.contains(&admin.campaign.categories[0].name));
    assert!(
        !page.contains("results.csv"),
        "no results before their time"
    );
    let token = csrf(&page);
    let timetable = |action: &str, opens: &str, closes: &str, results: &str| {
        let request = browser
            .post(admin.url(&format!("{path}/timetable")))
            .form(&[
                ("csrf_token", token.as_str()),
                ("action", action),
                ("opens_at", opens),
                ("closes_at", closes),
                ("results_at", results),
            ]);
        async move { request.send().await.unwrap() }
    };

    // Times out of order, or not times at all, are named at their fields.
    let refused = timetable("save", "2026-12-10T09:00", "2026-12-01T09:00", "soon").await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains(r##"<a href="#results_at">Enter when the results come out"##),
        "{html}"
    );
    let refused = timetable(
        "save",
        "2026-12-10T09:00",
        "2026-12-01T09:00",
        "2026-12-11T09:00",
    )
    .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains(r##"<a href="#closes_at">"##)
    );

    // Times are typed in UK time: a summer timetable is an hour ahead of UTC, and shows as typed.
    let summer = timetable(
        "save",
        "2027-06-01T10:00",
        "2027-06-08T17:00",
        "2027-06-09T10:00",
    )
    .await;
    assert_eq!(location(&summer), format!("{path}?done=scheduled"));
    let page = admin
        .page(&browser, &format!("{path}?done=scheduled"), StatusCode::OK)
        .await;
    assert!(page.contains(r#"value="2027-06-01T10:00""#), "{page}");
    let public = admin
        .page(
            &browser,
            &format!("/campaigns/{}/vote", admin.campaign.slug),
            StatusCode::OK,
        )
        .await;
    assert!(
        public.contains("Voting opens on 1 June 2027 at 10:00 (UK time)"),
        "{public}"
    );
    // A time the clocks skip, or one they repeat, is refused at its field, saying why.
    let refused = timetable(
        "save",
        "2027-03-28T01:30",
        "2027-10-31T01:30",
        "2027-11-01T09:00",
    )
    .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains(
            r##"<a href="#opens_at">There is no 01:30 on 28 March 2027 in the UK: the clocks go forward from 01:00 to 02:00"##
        ),
        "{html}"
    );
    assert!(
        html.contains(r##"<a href="#closes_at">01:30 on 31 October 2027 happens twice in the UK"##),
        "{html}"
    );

    // Closed now, with the results due at once: out.
    let page = admin.close_vote_now(&browser, &path, &token).await;

    // The record check, and the CSV of the results.
    let ballot = ballot_on(&page, &path);
    let html = admin.check_record(&browser, &path, &ballot, &token).await;
    assert!(
        html.contains("The record is whole: all <strong>0</strong> entries"),
        "{html}"
    );
    let csv = browser
        .get(admin.url(&format!("{path}/results.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .ends_with("-vote-results.csv\"")
    );
    let body = csv.text().await.unwrap();
    let mut lines = body.lines();
    assert_eq!(
        lines.next(),
        Some("category,finalist,votes,category_total,ledger_entries,ledger_head")
    );
    let category = &admin.campaign.categories[0].name;
    assert_eq!(
        lines.next(),
        Some(format!("{category},Sam Patel,0,0,0,").as_str())
    );
    assert_eq!(
        lines.next(),
        Some(format!("{category},Jo Bloggs,0,0,0,").as_str())
    );

    // A trust admin is refused the page and the CSV.
    admin
        .grant("awards@trust.example.org", Role::TrustAdmin, "RJ1")
        .await;
    let other = admin.sign_in("awards@trust.example.org").await;
    admin.page(&other, &path, StatusCode::FORBIDDEN).await;
    admin
        .page(
            &other,
            &format!("{path}/results.csv"),
            StatusCode::FORBIDDEN,
        )
        .await;
}

#[tokio::test]
async fn a_platform_admin_limits_the_vote_to_staff_and_decides_a_held_burst() {
    let (admin, voting) = spawn().await;
    let path = format!("/admin/campaigns/{}/vote", admin.campaign.slug);
    let browser = admin.sign_in(PLATFORM_ADMIN).await;
    let page = admin.page(&browser, &path, StatusCode::OK).await;
    assert!(page.contains("No votes are held."));
    let token = csrf(&page);

    // Staff only: a bad domain is named at the domains box, then good ones are saved.
    let post = |fields: Vec<(&'static str, String)>, to: String| {
        let browser = browser.clone();
        let url = admin.url(&format!("{path}/{to}"));
        let mut fields = fields;
        fields.push(("csrf_token", token.clone()));
        async move { browser.post(url).form(&fields).send().await.unwrap() }
    };
    let refused = post(
        vec![
            ("eligibility", "staff".into()),
            ("domains", "nhs.net\nnot a domain".into()),
        ],
        "eligibility".into(),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let html = refused.text().await.unwrap();
    assert!(html.contains(r##"<a href="#domains">"##), "{html}");
    assert!(html.contains("not a domain"), "the typed domains are kept");
    // The trusts' own domains, while no trust has set any, are refused at their checkbox.
    let none_yet = post(
        vec![
            ("eligibility", "staff".into()),
            ("trust_domains", "yes".into()),
        ],
        "eligibility".into(),
    )
    .await;
    assert_eq!(none_yet.status(), StatusCode::BAD_REQUEST);
    let html = none_yet.text().await.unwrap();
    assert!(html.contains(r##"<a href="#trust_domains">"##), "{html}");
    assert!(
        html.contains("have set no work-email domains yet"),
        "{html}"
    );
    assert!(html.contains(r#"id="trust_domains" name="trust_domains" type="checkbox" value="yes" aria-describedby="trust_domains-hint trust_domains-error" checked"#), "the choice is kept: {html}");
    let saved = post(
        vec![
            ("eligibility", "staff".into()),
            ("domains", "nhs.net\ngstt.nhs.uk".into()),
        ],
        "eligibility".into(),
    )
    .await;
    assert_eq!(location(&saved), format!("{path}?done=eligibility"));
    let page = admin
        .page(
            &browser,
            &format!("{path}?done=eligibility"),
            StatusCode::OK,
        )
        .await;
    assert!(page.contains("Who may vote has been saved."));
    assert!(page.contains("nhs.net\ngstt.nhs.uk</textarea>"), "{page}");
    assert!(page.contains(r#"value="staff" checked"#));

    // Three staff voters on one ward network for Jo: the third is held, and waits here.
    let ballot_id = ballot_on(&page, &path);
    let mut held = Vec::new();
    for name in ["ann", "bob", "cat"] {
        held.push(
            voting
                .vote_from(
                    "10.1.2.3",
                    &format!("{name}@gstt.nhs.uk"),
                    (&admin.campaign.id, &ballot_id),
                    "n-jo",
                )
                .await,
        );
    }
    assert_eq!(held, [false, false, true]);
    let hour = || {
        let now = chrono::Utc::now();
        valued_platform::uk_time::hour(now - chrono::Duration::seconds(now.timestamp() % 3600))
    };
    let this_hour = hour();
    let page = admin.page(&browser, &path, StatusCode::OK).await;
    assert!(page.contains("1 votes for Jo Bloggs in"), "{page}");
    assert!(page.contains("From one network (network:"));

    // Votes per hour, in UK time: counted and held apart, and no finalist's count.
    let hourly = |page: &str| {
        let section = page
            .split_once(r#"id="hours""#)
            .and_then(|(_, rest)| rest.split_once(r#"id="held""#))
            .map(|(hours, _)| hours.to_owned())
            .unwrap();
        // Its text, one space between words.
        let mut text = String::new();
        let mut in_tag = false;
        for c in section.chars() {
            match c {
                '<' => in_tag = true,
                '>' => {
                    in_tag = false;
                    text.push(' ');
                }
                c if !in_tag => text.push(c),
                _ => {}
            }
        }
        (
            section,
            text.split_whitespace().collect::<Vec<_>>().join(" "),
        )
    };
    let (section, text) = hourly(&page);
    assert!(
        text.contains(&format!(
            "Hour {this_hour} Counted 2 Held 1 Discarded 0 All votes 3"
        )) || text.contains(&format!("Hour {} Counted 2 Held 1", hour())),
        "{text}"
    );
    assert!(this_hour.ends_with("(UK time)"), "{this_hour}");
    assert!(section.contains(r#"<svg role="img""#), "{section}");
    assert!(!text.contains("Jo Bloggs") && !text.contains("Sam Patel"));

    // A decision needs a reason; with one, the vote is counted and the record stays whole.
    let group = |page: &str, name: &str| {
        let (_, after) = page
            .split_once(&format!(r#"name="{name}" value=""#))
            .unwrap();
        after.split('"').next().unwrap().to_owned()
    };
    let fields = |reason: &str| {
        vec![
            ("ballot_id", group(&page, "ballot_id")),
            ("choice_id", group(&page, "choice_id")),
            ("flag", group(&page, "flag")),
            ("votes", group(&page, "votes")),
            ("decision", "count".to_owned()),
            ("reason", reason.to_owned()),
        ]
    };
    let refused = post(fields(""), "held".into()).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains("There is a problem"));
    let counted = post(
        fields("One ward voting together on the staff Wi-Fi"),
        "held".into(),
    )
    .await;
    assert_eq!(location(&counted), format!("{path}?done=counted"));
    let page = admin
        .page(&browser, &format!("{path}?done=counted"), StatusCode::OK)
        .await;
    assert!(page.contains("The held votes have been counted."));
    assert!(page.contains("No votes are held."));
    let (_, text) = hourly(&page);
    assert!(
        text.contains("Counted 3 Held 0 Discarded 0 All votes 3"),
        "{text}"
    );
    let checked = post(vec![], format!("check/{ballot_id}")).await;
    let html = checked.text().await.unwrap();
    assert!(
        html.contains("The record is whole: all <strong>3</strong> entries"),
        "{html}"
    );
}

#[tokio::test]
async fn a_trust_admin_runs_their_trusts_campaign_vote_and_another_trusts_admin_is_refused() {
    let (admin, voting) = spawn_scoped(("trust", "RJ1")).await;
    let path = format!("/admin/campaigns/{}/vote", admin.campaign.slug);
    let ours = voting
        .grant(&admin, "awards@gstt.example.org", Role::TrustAdmin, "RJ1")
        .await;
    let theirs = voting
        .grant(&admin, "awards@uhb.example.org", Role::TrustAdmin, "RRK")
        .await;

    // The trust's admin finds the page, sees the vote and closes it now: the results are out.
    let home = admin.page(&ours, "/admin", StatusCode::OK).await;
    assert!(
        home.contains(&format!(r#"<a href="{path}">Public vote"#)),
        "{home}"
    );
    let page = admin.open_vote_page(&ours, &path).await;
    assert!(page.contains(&admin.campaign.categories[0].name), "{page}");
    let token = csrf(&page);
    let page = admin.close_vote_now(&ours, &path, &token).await;
    let ballot = ballot_on(&page, &path);
    let html = admin.check_record(&ours, &path, &ballot, &token).await;
    assert!(html.contains("The record is whole"), "{html}");
    admin
        .page(&ours, &format!("{path}/results.csv"), StatusCode::OK)
        .await;

    // Another trust's admin gets the page that says they may not, whatever they ask.
    let refused = admin.page(&theirs, &path, StatusCode::FORBIDDEN).await;
    assert!(
        refused.contains("You do not have permission to see this page"),
        "{refused}"
    );
    admin
        .page(
            &theirs,
            &format!("{path}/results.csv"),
            StatusCode::FORBIDDEN,
        )
        .await;
    let token = csrf(&admin.page(&theirs, "/admin", StatusCode::OK).await);
    let check = format!("check/{ballot}");
    for (to, form) in [
        (
            "timetable",
            vec![
                ("action", "save"),
                ("opens_at", "2026-11-01T09:00"),
                ("closes_at", "2026-12-20T09:00"),
                ("results_at", "2026-12-21T09:00"),
            ],
        ),
        ("eligibility", vec![("eligibility", "public")]),
        (check.as_str(), vec![]),
    ] {
        let mut form = form;
        form.push(("csrf_token", token.as_str()));
        let answer = theirs
            .post(admin.url(&format!("{path}/{to}")))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "POST {to}");
    }
    // Nothing they sent changed the vote: it is still closed with its results out.
    let page = admin.page(&ours, &path, StatusCode::OK).await;
    assert!(page.contains("Results out</td>"), "{page}");
}
