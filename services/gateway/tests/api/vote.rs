//! The public vote's pages in front of the real voting service (PostgreSQL, in-process bus) and the
//! fake nomination service's campaign: give an address, confirm by code or by the emailed link's
//! button, vote in a category, get a receipt, see the results at their time and check the receipt.

use std::time::Duration;

use chrono::Utc;
use secrecy::SecretString;
use valued_platform::auth::OidcSettings;
use valued_platform::{DatabaseSettings, Envelope};
use valued_proto::events::v1 as ev;
use valued_proto::voting::v1 as pb;
use valued_proto::voting::v1::voting_service_client::VotingServiceClient;
use valued_testkit::oidc::{self, OidcProvider};
use valued_testkit::platform::TestPlatform;

use crate::fake::{FakeNomination, campaign};
use crate::helpers::{TestApp, spawn_app_with_voting};

const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const VOTE: &str = "/campaigns/health-heroes/vote";

struct Vote {
    app: TestApp,
    voting: VotingServiceClient<valued_platform::grpc::Credentialed>,
    platform: TestPlatform,
    db: sea_orm::DatabaseConnection,
    admin_token: String,
    _provider: OidcProvider,
}

fn at(offset: chrono::Duration) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: (Utc::now() + offset).timestamp(),
        nanos: 0,
    })
}

fn finalist(nominee: &str, name: &str, category: &str) -> Envelope {
    Envelope::new(
        "nomination",
        None,
        &ev::FinalistAnnounced {
            finalist: Some(ev::RecognisedNominee {
                nominee_id: nominee.into(),
                campaign_id: campaign().id,
                campaign_name: "Health Heroes 2026".into(),
                category_id: category.into(),
                category_name: format!("{category} of the year"),
                region_name: "London".into(),
                trust_name: "Guy's and St Thomas'".into(),
                nominee_name: name.into(),
                nominee_job_title: "Porter".into(),
                story_excerpt: format!("{name} <always> helps."),
                ..Default::default()
            }),
            announced_at: None,
            vote: Some(ev::VoteTimetable {
                opens_at: at(chrono::Duration::days(-1)),
                closes_at: at(chrono::Duration::days(6)),
                results_at: at(chrono::Duration::days(8)),
            }),
            ..Default::default()
        },
    )
}

/// The gateway before the voting service, with two categories of finalists open for votes.
async fn spawn() -> Vote {
    let fake = FakeNomination::default();
    fake.state().campaign = campaign();
    let nomination = fake.serve().await;
    let platform = TestPlatform::start("voting").await.unwrap();
    let provider = OidcProvider::start().await.unwrap();
    let settings = valued_voting::Settings {
        database: DatabaseSettings::postgres(
            valued_testkit::postgres::fresh_database("gateway_vote")
                .await
                .unwrap(),
        ),
        grpc: valued_testkit::grpc::settings(),
        voter_key_secret: SecretString::from("test-voter-key-secret"),
        auth: OidcSettings {
            issuer: provider.issuer.clone(),
            audience: oidc::CLIENT_ID.into(),
            ..Default::default()
        },
        ..valued_voting::Settings::default()
    };
    let voting = valued_voting::Application::build(&settings, platform.platform())
        .await
        .unwrap();
    let url = format!("http://127.0.0.1:{}", voting.port());
    let db = voting.db().clone();
    tokio::spawn(voting.run_until_stopped());
    let client = VotingServiceClient::new(
        valued_testkit::grpc::connect(url.clone(), &settings.grpc, valued_voting::NAME)
            .await
            .unwrap(),
    );
    let admin_token =
        valued_testkit::roles::platform_admin(&platform, &db, &provider, "admin@example.org")
            .await
            .unwrap();
    platform
        .publish_as_peer(&[
            finalist("n-sam", "Sam Patel", "Porter"),
            finalist("n-jo", "Jo Bloggs", "Porter"),
            finalist("n-ali", "Ali Khan", "Cleaner"),
        ])
        .await
        .unwrap();
    let app = spawn_app_with_voting(nomination, url, &settings.grpc).await;
    let vote = Vote {
        app,
        voting: client,
        platform,
        db,
        admin_token,
        _provider: provider,
    };
    let mut last = (0, String::new());
    for _ in 0..100 {
        last = vote.page(VOTE, None).await;
        if last.1.contains("Sam Patel, Jo Bloggs") && last.1.contains("Ali Khan") {
            return vote;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the finalists never reached the vote page: {last:?}");
}

impl Vote {
    async fn page(&self, path: &str, voter: Option<&str>) -> (u16, String) {
        let mut request = self.app.client.get(format!("{}{path}", self.app.address));
        if let Some(cookie) = voter {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// POSTs `fields` with the CSRF token (and the voter's cookie when given).
    async fn post(&self, path: &str, fields: &str, voter: Option<&str>) -> reqwest::Response {
        let mut cookie = format!("valued_csrf={CSRF}");
        if let Some(voter) = voter {
            cookie = format!("{cookie}; {voter}");
        }
        self.app
            .post_form(
                path,
                &format!("csrf_token={CSRF}&website=&{fields}"),
                Some(&cookie),
            )
            .await
    }

    /// The link's token and the code of the last verification email.
    async fn emailed(&self) -> (String, String) {
        let sent: Vec<ev::VoterVerificationRequested> = self
            .platform
            .published(&self.db)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.event_type == "voter.verification_requested.v1")
            .map(|e| e.decode().unwrap())
            .collect();
        let last = sent.last().expect("a verification email");
        (last.token.clone(), last.code.clone())
    }

    async fn ballots(&self) -> Vec<pb::CampaignBallot> {
        self.voting
            .clone()
            .list_campaign_ballots(pb::ListCampaignBallotsRequest {
                campaign_id: campaign().id,
            })
            .await
            .unwrap()
            .into_inner()
            .ballots
    }
}

/// The voter cookie a response sets, as the browser would send it back.
fn voter_cookie(response: &reqwest::Response) -> String {
    let set = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("valued_voter="))
        .expect("a voter cookie");
    assert!(set.contains("; Path=/campaigns/health-heroes;"), "{set}");
    assert!(
        set.contains("; HttpOnly") && set.contains("; SameSite=Lax"),
        "{set}"
    );
    set.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_voter_confirms_by_code_votes_in_each_category_once_and_gets_a_receipt() {
    let vote = spawn().await;
    let (status, html) = vote.page(VOTE, None).await;
    assert_eq!(status, 200);
    assert!(html.contains("Vote for the Health Heroes 2026 finalists"));
    assert!(html.contains(r#"id="email""#), "the address is asked for");
    assert!(!html.contains("Not voted yet"));

    // A malformed address is named at its field; nothing is sent.
    let bad = vote.post(VOTE, "email=not-an-address", None).await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains(r##"<a href="#email">"##));

    let asked = vote
        .post(VOTE, "email=Alex%2Bvote%40Example.org", None)
        .await;
    assert_eq!(asked.status(), 200);
    let html = asked.text().await.unwrap();
    assert!(html.contains("Check your email"));
    assert!(html.contains(r#"name="code""#));
    let (_, code) = vote.emailed().await;

    // A wrong code is refused at the code field; the right one gives the browser a voter pass.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = vote
        .post(
            &format!("{VOTE}/code"),
            &format!("email=alex%2Bvote%40example.org&code={wrong}"),
            None,
        )
        .await;
    assert_eq!(refused.status(), 400);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains(r##"<a href="#code">The code does not match"##),
        "{html}"
    );
    let verified = vote
        .post(
            &format!("{VOTE}/code"),
            &format!(
                "email=alex%2Bvote%40example.org&code={}+{}",
                &code[..3],
                &code[3..]
            ),
            None,
        )
        .await;
    assert_eq!(verified.status(), 303);
    assert_eq!(verified.headers()["location"], VOTE);
    let voter = voter_cookie(&verified);

    let (_, html) = vote.page(VOTE, Some(&voter)).await;
    assert_eq!(html.matches("Not voted yet").count(), 2, "{html}");
    assert!(
        !html.contains(r#"id="email""#),
        "a verified voter is not asked again"
    );

    // The category's page shows the finalists' stories, escaped, and the choice.
    let porter = vote.ballots().await.remove(0);
    let path = format!("{VOTE}/{}", porter.ballot_id);
    let (_, html) = vote.page(&path, Some(&voter)).await;
    assert!(html.contains("Sam Patel &lt;always&gt; helps."));
    assert!(html.contains(r#"value="n-jo""#));

    // No choice: asked again; a choice: counted, with a receipt.
    let none = vote.post(&path, "choice=", Some(&voter)).await;
    assert_eq!(none.status(), 400);
    assert!(
        none.text()
            .await
            .unwrap()
            .contains("Select the finalist you are voting for")
    );
    let cast = vote.post(&path, "choice=n-jo", Some(&voter)).await;
    assert_eq!(cast.status(), 200);
    let html = cast.text().await.unwrap();
    assert!(html.contains("Your vote has been counted"));
    assert!(html.contains("You voted for <strong>Jo Bloggs</strong>"));
    let receipt = html
        .split("Your receipt is <strong class=\"nhsuk-u-font-size-26\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap();
    assert!(
        receipt.len() == 11 && receipt.as_bytes()[5] == b'-',
        "{receipt}"
    );
    assert!(html.contains("Vote in another category"));

    // Voted is marked; a second vote (here from the same mailbox told apart by case and tag) is
    // refused, and the first one stands.
    let (_, html) = vote.page(VOTE, Some(&voter)).await;
    assert_eq!(html.matches("Not voted yet").count(), 1);
    assert!(html.contains("Voted</strong>"));
    let again = vote.post(&path, "choice=n-sam", Some(&voter)).await;
    assert_eq!(again.status(), 409);
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("You have already voted in this category")
    );
    let (_, html) = vote.page(&path, Some(&voter)).await;
    assert!(html.contains("You have voted in this category"));
    assert!(!html.contains(r#"name="choice""#));

    // The other category is the last one open: nothing is left to vote in.
    let other = vote.ballots().await.remove(1);
    let last = vote
        .post(
            &format!("{VOTE}/{}", other.ballot_id),
            &format!("choice={}", other.finalists[0].choice_id),
            Some(&voter),
        )
        .await;
    assert_eq!(last.status(), 200);
    let html = last.text().await.unwrap();
    assert!(
        html.contains("You have voted in every open category"),
        "{html}"
    );
    assert!(!html.contains("Vote in another category"));

    // Without the pass, a vote is not taken: the address is asked for again.
    let lost = vote.post(&path, "choice=n-sam", None).await;
    assert_eq!(lost.status(), 400);
    assert!(
        lost.text()
            .await
            .unwrap()
            .contains("Your voting session has ended")
    );
}

#[tokio::test]
async fn the_emailed_link_opens_a_button_that_works_once() {
    let vote = spawn().await;
    vote.post(VOTE, "email=sam%40example.org", None).await;
    let (token, _) = vote.emailed().await;
    let link = format!("/vote/verify/{token}");

    let (status, html) = vote.page(&link, None).await;
    assert_eq!(status, 200);
    assert!(html.contains("Confirm and vote"));
    assert!(html.contains(&format!(r#"action="{link}""#)));

    // Opening it again still works (a GET used nothing); the button verifies, once.
    assert_eq!(vote.page(&link, None).await.0, 200);
    let pressed = vote.post(&link, "", None).await;
    assert_eq!(pressed.status(), 303);
    assert_eq!(pressed.headers()["location"], VOTE);
    let voter = voter_cookie(&pressed);
    let (_, html) = vote.page(VOTE, Some(&voter)).await;
    assert!(html.contains("Not voted yet"));

    let replayed = vote.post(&link, "", None).await;
    assert_eq!(replayed.status(), 404);
    assert!(
        replayed
            .text()
            .await
            .unwrap()
            .contains("This link does not work")
    );
    assert!(!replayed_sets_cookie(&vote, &link).await);
}

async fn replayed_sets_cookie(vote: &Vote, link: &str) -> bool {
    vote.post(link, "", None)
        .await
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|v| v.to_str().unwrap().starts_with("valued_voter="))
}

#[tokio::test]
async fn results_show_only_from_their_time_with_a_chart_a_table_and_the_receipt_check() {
    let vote = spawn().await;
    let porter = vote.ballots().await.remove(0);
    let path = format!("{VOTE}/{}", porter.ballot_id);
    let mut receipts = Vec::new();
    for (email, choice) in [
        ("a%40example.org", "n-jo"),
        ("b%40example.org", "n-jo"),
        ("c%40example.org", "n-sam"),
    ] {
        vote.post(VOTE, &format!("email={email}"), None).await;
        let (token, _) = vote.emailed().await;
        let voter = voter_cookie(&vote.post(&format!("/vote/verify/{token}"), "", None).await);
        let html = vote
            .post(&path, &format!("choice={choice}"), Some(&voter))
            .await
            .text()
            .await
            .unwrap();
        let receipt = html
            .split("nhsuk-u-font-size-26\">")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .unwrap()
            .to_owned();
        receipts.push(receipt);
    }
    let results = "/campaigns/health-heroes/results";

    // While the vote runs, no count anywhere.
    let (status, html) = vote.page(results, None).await;
    assert_eq!(status, 200);
    assert!(html.contains("The results will be published on"));
    assert!(!html.contains("aria-labelledby=\"chart-") && !html.contains("nhsuk-table"));
    assert!(!html.contains("Check your vote"));

    // The admin closes the vote with the results out now.
    vote.voting
        .clone()
        .schedule_vote(valued_testkit::roles::signed(
            &vote.admin_token,
            pb::ScheduleVoteRequest {
                campaign_id: campaign().id,
                opens_at: at(chrono::Duration::days(-1)),
                closes_at: at(chrono::Duration::zero()),
                results_at: at(chrono::Duration::zero()),
            },
        ))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let (_, html) = vote.page(results, None).await;
    assert!(
        html.contains("Winner: <strong>Jo Bloggs</strong>"),
        "{html}"
    );
    assert!(html.contains(r#"<svg role="img""#));
    assert!(html.contains("<title id=\"chart-1-title\">Votes in Porter of the year"));
    // The table: each finalist's votes and share, and the total.
    let table = html.split("<caption").nth(1).unwrap();
    for row in [
        ("Sam Patel", "1", "33.3%"),
        ("Jo Bloggs (winner)", "2", "66.7%"),
    ] {
        assert!(
            table.contains(&format!(
                "scope=\"row\">{}</th>\n              <td class=\"nhsuk-table__cell nhsuk-table__cell--numeric\">{}</td>\n              <td class=\"nhsuk-table__cell nhsuk-table__cell--numeric\">{}</td>",
                row.0, row.1, row.2
            )),
            "{table}"
        );
    }
    let tally = vote
        .voting
        .clone()
        .get_tally(valued_testkit::roles::signed(
            &vote.admin_token,
            pb::GetTallyRequest {
                ballot_id: porter.ballot_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(html.contains(&tally.ledger_head), "the published head");
    assert!(
        html.contains("Nobody voted in this category"),
        "the cleaners' ballot"
    );

    // The receipt check: found as typed, or named at the field.
    let check = |receipt: &str| {
        format!(
            "{results}?ballot={}&receipt={}",
            porter.ballot_id,
            receipt.to_lowercase().replace('-', "+")
        )
    };
    let (status, html) = vote.page(&check(&receipts[2]), None).await;
    assert_eq!(status, 200);
    assert!(html.contains("Your vote was counted"));
    assert!(html.contains(&format!("Receipt {} is entry 3", receipts[2])));
    assert!(html.contains("a vote for <strong>Sam Patel</strong>"));
    let (status, html) = vote.page(&check("7K2QD"), None).await;
    assert_eq!(status, 400);
    assert!(html.contains(r##"<a href="#receipt">Enter your receipt as it was shown to you"##));
    let (status, html) = vote
        .page(&format!("{results}?ballot=&receipt={}", receipts[0]), None)
        .await;
    assert_eq!(status, 400);
    assert!(html.contains(r##"<a href="#ballot">Select the category you voted in"##));
}
