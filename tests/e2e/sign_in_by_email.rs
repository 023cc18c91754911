//! Sign-in by emailed link in headless Chromium, against the services as separate processes on
//! PostgreSQL and RabbitMQ with a real SMTP sink: the admin pages send a platform admin to the
//! sign-in page, which emails a link (and nothing to an address that holds no role); the link's
//! button signs them in, and the survey-feedback and notification services accept the ID token the
//! nomination service signed, as they accept the provider's; they create a campaign from its page
//! (after a timetable out of order is named), and invite a trust admin, who is emailed, signs in
//! by a link of their own, holds the role, sets their trust's awards contact and sender name (which
//! the trust's next email then shows) and the letter their trust's campaign suggests supporters
//! send their MP; the campaign's page gets a key date. Every page is checked with axe-core, at
//! desktop and phone widths.

use std::time::Duration;

use secrecy::ExposeSecret;
use valued_platform::auth::sign_in_link::SigningKey;
use valued_testkit::rabbitmq::Vhost;

use crate::browser::{Browser, link_in_email};
use crate::cluster::{Cluster, PLATFORM_ADMIN};
use crate::vote_in_browser::check_at_both_widths;

const TRUST_ADMIN: &str = "awards@rj1.example.org";

#[tokio::test]
async fn a_platform_admin_signs_in_by_an_emailed_link_and_every_service_knows_them() {
    let (secret, key) = SigningKey::generate();
    let server = valued_testkit::postgres::server_url();
    let cluster = Cluster::start_on(
        Vhost::create().unwrap(),
        |_| server.clone(),
        &[
            (
                "VALUED__NOMINATION__AUTH__SIGNING_KEY",
                secret.expose_secret(),
            ),
            ("VALUED__NOMINATION__AUTH__SIGN_IN_KEY", key.public_key()),
            ("VALUED__GATEWAY__AUTH__EMAIL_LINKS", "true"),
        ],
    )
    .await;

    let browser = Browser::start().await;
    browser.goto(&cluster.url("/admin")).await;
    browser.expect_page("Sign in").await;
    check_at_both_widths(&browser).await;

    // An address that holds no role is told the same, and sent nothing.
    browser.fill("email", "stranger@example.org").await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Check your email").await;
    check_at_both_widths(&browser).await;

    browser.goto(&cluster.url("/admin/sign-in")).await;
    browser.fill("email", PLATFORM_ADMIN).await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Check your email").await;
    let link = link_in_email(&cluster, PLATFORM_ADMIN, "admin/sign-in/email").await;
    assert!(
        !cluster
            .smtp
            .received()
            .iter()
            .any(|e| e.rcpt_to.iter().any(|r| r == "stranger@example.org")),
        "no email to an address without a role"
    );

    browser.goto(&cluster.url(&link)).await;
    browser.expect_page("Sign in to Valued").await;
    check_at_both_widths(&browser).await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Admin").await;
    let home = browser.page_text_of("main").await;
    assert!(home.contains("Platform administrator"), "{home}");
    assert!(home.contains(PLATFORM_ADMIN), "{home}");

    // Survey-feedback and notification check the same token themselves (their copy of the grants
    // follows the first sign-in by an event).
    for (path, heading) in [
        ("/admin/stories", "Stories"),
        ("/admin/surveys", "Staff surveys"),
        ("/admin/held-letters", "Letters to MPs held for review"),
    ] {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            browser.goto(&cluster.url(path)).await;
            if browser.heading().await.as_deref() == Some(heading) {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{path} never let the admin in: {}; logs in {}",
                browser.page_text().await,
                cluster.logs.display()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    // Signed in this way, they create a trust's campaign with two categories from the page.
    browser.goto(&cluster.url("/admin")).await;
    browser.click("main a[href='/admin/campaigns/new']").await;
    browser.expect_page("Create a campaign").await;
    check_at_both_widths(&browser).await;
    browser.fill("name", "Porters' Awards 2027").await;
    browser.choose("scope").await;
    browser.fill("scope_code", "RJ1").await;
    browser
        .set_value("nominations_open_at", "2027-03-01T09:00")
        .await;
    browser
        .set_value("nominations_close_at", "2027-02-01T09:00")
        .await;
    browser
        .fill_named("categories[0].name", "Porter of the year")
        .await;
    browser
        .fill_named("categories[1].name", "Domestic of the year")
        .await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Create a campaign").await;
    let refused = browser.page_text().await;
    assert!(
        refused.contains("Nominations closing must be after nominations opening"),
        "{refused}"
    );
    check_at_both_widths(&browser).await;
    browser
        .set_value("nominations_close_at", "2027-04-01T09:00")
        .await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Porters' Awards 2027").await;
    let shown = browser.page_text_of("main").await;
    assert!(shown.contains("Domestic of the year"), "{shown}");

    // Its page gets a key date, which the public page then shows.
    browser
        .goto(&cluster.url("/admin/campaigns/porters-awards-2027/page"))
        .await;
    browser
        .expect_page("Campaign page: Porters' Awards 2027")
        .await;
    check_at_both_widths(&browser).await;
    browser.choose("kind").await;
    browser.fill("title", "Awards ceremony").await;
    browser.set_value("at", "2027-06-01").await;
    browser
        .click("main form[action$='/page'] button[type='submit']")
        .await;
    browser
        .expect_page("Campaign page: Porters' Awards 2027")
        .await;
    assert!(
        browser
            .page_text()
            .await
            .contains("Added to the campaign's page")
    );
    browser
        .goto(&cluster.url("/campaigns/porters-awards-2027"))
        .await;
    let shown = browser.page_text_of("main").await;
    assert!(shown.contains("Key dates"), "{shown}");
    assert!(shown.contains("1 June 2027"), "{shown}");

    // They invite a trust admin for the new campaign's trust, who is emailed, asks for a link of
    // their own in another browser, and signs in holding that role.
    browser.goto(&cluster.url("/admin/people")).await;
    browser.fill("email", TRUST_ADMIN).await;
    browser.select("role", "trust_admin").await;
    browser.fill("scope", "RJ1").await;
    browser
        .click("main form[action='/admin/people'] button[type='submit']")
        .await;
    assert!(browser.page_text().await.contains("we have emailed them"));
    let invitation = link_in_email(&cluster, TRUST_ADMIN, "admin").await;
    assert_eq!(invitation, "/admin/sign-in");
    let invited = Browser::start().await;
    invited.goto(&cluster.url(&invitation)).await;
    invited.fill("email", TRUST_ADMIN).await;
    invited.click("main form button[type='submit']").await;
    invited.expect_page("Check your email").await;
    let their_link = link_in_email(&cluster, TRUST_ADMIN, "admin/sign-in/email").await;
    invited.goto(&cluster.url(&their_link)).await;
    invited.click("main form button[type='submit']").await;
    invited.expect_page("Admin").await;
    let home = invited.page_text_of("main").await;
    assert!(home.contains("Trust administrator"), "{home}");
    // Their trust's settings, from their home page.
    invited
        .click("main a[href='/admin/trusts/RJ1/settings']")
        .await;
    check_at_both_widths(&invited).await;
    invited.fill("awards_email", "stars@rj1.example.org").await;
    invited.fill("sender_name", "GSTT Staff Awards").await;
    invited
        .fill("work_email_domains", "nhs.net\ngstt.nhs.uk")
        .await;
    invited.click("main form button[type='submit']").await;
    assert!(invited.page_text().await.contains("Settings saved"));
    // And the letter their trust's campaign suggests supporters send their MP (the notification
    // service checks the role itself): too short first, named, then saved and offered on the
    // campaign's page.
    invited.goto(&cluster.url("/admin")).await;
    invited
        .click("main a[href='/admin/campaigns/porters-awards-2027/mp-letter']")
        .await;
    invited
        .expect_page("Email your MP: Porters' Awards 2027")
        .await;
    check_at_both_widths(&invited).await;
    let save = "main form[action$='/mp-letter'] button[type='submit']";
    invited.fill("wording", "Dear MP, thank them.").await;
    invited.click(save).await;
    invited
        .expect_page("Email your MP: Porters' Awards 2027")
        .await;
    let refused = invited.page_text().await;
    assert!(
        refused.contains("Write the suggested letter (50 characters or more)"),
        "{refused}"
    );
    check_at_both_widths(&invited).await;
    invited
        .fill(
            "wording",
            "I am writing as your constituent about the porters of our trust, who keep every \
             ward moving and are rarely thanked.",
        )
        .await;
    invited.click(save).await;
    invited
        .expect_page("Email your MP: Porters' Awards 2027")
        .await;
    let saved = invited.page_text().await;
    assert!(saved.contains("The suggested letter is saved"), "{saved}");
    invited
        .goto(&cluster.url("/campaigns/porters-awards-2027"))
        .await;
    invited
        .click("main a[href='/campaigns/porters-awards-2027/write-to-your-mp']")
        .await;
    invited
        .expect_page("Email your MP about NHS support staff")
        .await;
    check_at_both_widths(&invited).await;
    invited.close().await;

    // The notification service learns the trust's sender from the nomination service, and the
    // trust's next email shows it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while cluster.row_count("notification", "trust_sender").await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "notification never kept the trust's sender"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let campaign = cluster.demo_campaign().await;
    assert_eq!(campaign.trusts[0].code, "RJ1");
    let csrf = cluster.csrf_token().await;
    let posted = cluster
        .post_nomination(
            &csrf,
            &crate::cluster::nomination_form(&campaign, "Sam Patel", "nominator@example.org"),
        )
        .await;
    crate::cluster::nomination_id(&posted);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let confirm = loop {
        if let Some(email) = cluster
            .smtp
            .received()
            .into_iter()
            .find(|e| e.rcpt_to == ["nominator@example.org"])
        {
            break email;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the nominator was never emailed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(confirm.from().0, "GSTT Staff Awards");

    // The link has been used.
    browser.goto(&cluster.url(&link)).await;
    browser.click("main form button[type='submit']").await;
    browser
        .expect_page("This sign-in link has expired or been used")
        .await;
    check_at_both_widths(&browser).await;
    browser.close().await;
}
