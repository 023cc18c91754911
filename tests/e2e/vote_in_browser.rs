//! The public vote in headless Chromium, against the services as separate processes on PostgreSQL
//! and RabbitMQ with a real SMTP sink: finalists announced on the broker as the nomination service
//! announces them; a voter reads the finalists, confirms their address with the emailed code,
//! votes, keeps the receipt; at the results time the results page shows the count and finds the
//! receipt; a platform admin, signed in through the OpenID Connect provider, watches the turnout.
//! Every page is checked with axe-core, at desktop and phone widths.

use std::time::Duration;

use chrono::Utc;
use valued_platform::bus::AmqpBus;
use valued_platform::{BusSettings, Envelope, EventBus};
use valued_proto::events::v1 as ev;
use valued_proto::nomination::v1::nomination_service_client::NominationServiceClient;
use valued_proto::voting::v1 as pb;
use valued_proto::voting::v1::voting_service_client::VotingServiceClient;

use valued_testkit::roles::signed;

use crate::browser::Browser;
use crate::cluster::{Cluster, DEMO_CAMPAIGN, PLATFORM_ADMIN};

fn at(offset: chrono::Duration) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: (Utc::now() + offset).timestamp(),
        nanos: 0,
    })
}

/// The run of characters `keep` takes after `marker` in the latest email to `to` that has it.
pub(crate) async fn emailed(
    cluster: &Cluster,
    to: &str,
    marker: &str,
    keep: fn(&char) -> bool,
) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let found = cluster
            .smtp
            .received()
            .iter()
            .rev()
            .filter(|e| e.rcpt_to.iter().any(|r| r == to))
            .find_map(|e| {
                let text = e.text_body();
                let (_, after) = text.split_once(marker)?;
                Some(after.chars().take_while(keep).collect::<String>())
            });
        if let Some(found) = found {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {marker:?} emailed to {to}; logs in {}",
            cluster.logs.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The page as it is now, checked with axe-core at the phone's width too (and, with
/// `VALUED_SCREENSHOTS`, pictured at both).
pub(crate) async fn check_at_both_widths(browser: &Browser) {
    browser.check_accessibility().await;
    browser.phone_width(true).await;
    browser.check_accessibility().await;
    browser.phone_width(false).await;
}

#[tokio::test]
async fn a_voter_reads_the_finalists_votes_with_the_emailed_code_and_finds_the_receipt_in_the_results()
 {
    let cluster = Cluster::start().await;
    let campaign = cluster.demo_campaign().await;
    let category = &campaign.categories[0];

    // Two finalists in one category, announced as the nomination service announces them.
    let bus = AmqpBus::connect(&BusSettings::amqp(&cluster.vhost.amqp_url(), "valued"))
        .await
        .unwrap();
    let finalist = |id: &str, name: &str| {
        Envelope::new(
            "nomination",
            Some("RJ1"),
            &ev::FinalistAnnounced {
                finalist: Some(ev::RecognisedNominee {
                    nominee_id: id.into(),
                    nomination_id: id.into(),
                    campaign_id: campaign.id.clone(),
                    campaign_name: campaign.name.clone(),
                    category_id: category.id.clone(),
                    category_name: category.name.clone(),
                    region_name: "London".into(),
                    trust_name: "Guy's and St Thomas'".into(),
                    nominee_name: name.into(),
                    nominee_job_title: "Porter".into(),
                    story_excerpt: format!("{name} is always the first to help."),
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
    };
    let announced = [
        finalist("0193a1b2-0000-7000-8000-00000000f001", "Sam Patel"),
        finalist("0193a1b2-0000-7000-8000-00000000f002", "Jo Bloggs"),
    ];
    assert!(bus.publish(&announced).await.into_iter().all(|r| r.is_ok()));
    let mut voting = VotingServiceClient::new(cluster.channel("voting").await);
    let mut ballot_id = None;
    for _ in 0..300 {
        let ballots = voting
            .list_campaign_ballots(pb::ListCampaignBallotsRequest {
                campaign_id: campaign.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .ballots;
        if let Some(ballot) = ballots.first().filter(|b| b.finalists.len() == 2) {
            ballot_id = Some(ballot.ballot_id.clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ballot_id = ballot_id.expect("the finalists reach the vote");

    let browser = Browser::start().await;
    browser
        .goto(&cluster.url(&format!("/campaigns/{DEMO_CAMPAIGN}")))
        .await;
    browser.expect_page(&campaign.name).await;
    browser.click("a[href$='/vote']").await;
    let overview = format!("Vote for the {} finalists", campaign.name);
    browser.expect_page(&overview).await;
    browser.phone_width(true).await;
    browser.check_accessibility().await;
    browser.phone_width(false).await;

    // A disposable address is refused at its field; a real one is sent a link and a code.
    browser.fill("email", "someone@mailinator.com").await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page(&overview).await;
    let refused = browser.page_text().await;
    assert!(refused.contains("disposable"), "{refused}");
    browser.fill("email", "voter@example.org").await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Check your email").await;
    let code = emailed(
        &cluster,
        "voter@example.org",
        "Your code: ",
        char::is_ascii_digit,
    )
    .await;
    browser.fill("code", &code).await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page(&overview).await;
    assert!(browser.page_text().await.contains("Not voted yet"));
    // The same email's link opens a button (which a mail scanner opening it cannot press).
    let token = emailed(&cluster, "voter@example.org", "/vote/verify/", |c| {
        c.is_ascii_alphanumeric() || *c == '-' || *c == '_'
    })
    .await;
    browser
        .goto(&cluster.url(&format!("/vote/verify/{token}")))
        .await;
    browser.expect_page("Confirm your email address").await;
    check_at_both_widths(&browser).await;
    browser
        .goto(&cluster.url(&format!("/campaigns/{DEMO_CAMPAIGN}/vote")))
        .await;
    browser.expect_page(&overview).await;

    // The category: both finalists' stories, then the vote.
    browser.click(".nhsuk-task-list__link").await;
    browser.expect_page(&category.name).await;
    let page = browser.page_text().await;
    assert!(
        page.contains("Jo Bloggs is always the first to help."),
        "{page}"
    );
    browser.phone_width(true).await;
    browser.check_accessibility().await;
    browser.phone_width(false).await;
    // Voting without choosing asks again.
    browser.click("main form button[type='submit']").await;
    browser.expect_page(&category.name).await;
    assert!(
        browser
            .page_text()
            .await
            .contains("Select the finalist you are voting for")
    );
    // The finalists are in the order the announcements arrived: choose Jo by name.
    browser
        .click("input[value='0193a1b2-0000-7000-8000-00000000f002'] + label")
        .await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Your vote has been counted").await;
    let page = browser.page_text().await;
    assert!(page.contains("You voted for Jo Bloggs"), "{page}");
    let receipt = page
        .split("Your receipt is ")
        .nth(1)
        .map(|rest| rest.chars().take(11).collect::<String>())
        .unwrap();
    browser
        .goto(&cluster.url(&format!("/campaigns/{DEMO_CAMPAIGN}/vote")))
        .await;
    browser.expect_page(&overview).await;
    assert!(browser.page_text().await.contains("Voted"));

    // A platform admin signs in through the provider's form and watches the turnout: the vote in
    // this hour, in UK time, and nobody's count.
    browser
        .sign_in(
            &cluster,
            &format!("/admin/campaigns/{DEMO_CAMPAIGN}/vote"),
            PLATFORM_ADMIN,
        )
        .await;
    browser.expect_page("Public vote").await;
    check_at_both_widths(&browser).await;
    browser.click("#hours ~ details summary").await;
    browser.scroll_to("#hours").await;
    let turnout = browser.page_text_of("main").await;
    assert!(
        turnout.contains("(UK time)") && turnout.contains("Votes per hour in"),
        "{turnout}"
    );
    assert!(!turnout.contains("Jo Bloggs"), "{turnout}");
    browser.check_accessibility().await;
    browser.phone_width(true).await;
    browser.scroll_to("#hours").await;
    browser.check_accessibility().await;
    browser.phone_width(false).await;

    // Results: hidden while the vote runs; out when the admin closes it with the results now.
    let results = cluster.url(&format!("/campaigns/{DEMO_CAMPAIGN}/results"));
    browser.goto(&results).await;
    browser.expect_page("Results of the public vote").await;
    assert!(
        browser
            .page_text()
            .await
            .contains("The results will be published on")
    );
    let admin = cluster
        .oidc
        .verified_id_token(PLATFORM_ADMIN)
        .await
        .unwrap();
    // The admin's first call binds their grant, which the nomination service then announces.
    NominationServiceClient::new(cluster.channel("nomination").await)
        .who_am_i(signed(
            &admin,
            valued_proto::nomination::v1::WhoAmIRequest {},
        ))
        .await
        .unwrap();
    let close_now = pb::ScheduleVoteRequest {
        campaign_id: campaign.id.clone(),
        opens_at: at(chrono::Duration::days(-1)),
        closes_at: at(chrono::Duration::zero()),
        results_at: at(chrono::Duration::zero()),
    };
    for tries in 0.. {
        match voting
            .schedule_vote(signed(&admin, close_now.clone()))
            .await
        {
            Err(status) if status.code() == tonic::Code::PermissionDenied && tries < 100 => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            answer => {
                answer.unwrap();
                break;
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    browser.goto(&results).await;
    browser.expect_page("Results of the public vote").await;
    let page = browser.page_text().await;
    assert!(page.contains("Winner: Jo Bloggs"), "{page}");
    browser.phone_width(true).await;
    browser.check_accessibility().await;
    browser.phone_width(false).await;

    // The receipt, as typed in lower case, finds the vote in the published record.
    browser.select("ballot", &ballot_id).await;
    browser.fill("receipt", &receipt.to_lowercase()).await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Results of the public vote").await;
    let page = browser.page_text().await;
    assert!(
        page.contains(&format!("Receipt {receipt} is entry 1")),
        "{page}"
    );
    assert!(page.contains("a vote for Jo Bloggs"), "{page}");
    browser.close().await;
}
