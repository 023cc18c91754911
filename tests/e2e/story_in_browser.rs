//! "Tell us your story" in headless Chromium, against the services as separate processes on
//! PostgreSQL and RabbitMQ with a real SMTP sink: a porter starts a story (after a refused empty
//! form), agrees to be contacted and gives a phone number, saves it and comes back from the emailed
//! link in a fresh browser, where the number is not shown again but kept, and sends it. A platform
//! admin, signed in through the OpenID Connect provider, approves it and reveals the number to
//! call, which is recorded in the story's audit trail; the story shows on the campaign page until
//! the teller withdraws it from the second emailed link. Every page is checked with axe-core, at
//! desktop and phone widths. Afterwards the number is in no table or outbox row of any service's
//! database (`pg_dump`), no line any process logged, and no email sent.

use std::time::Duration;

use crate::browser::{Browser, link_in_email};
use crate::cluster::{Cluster, DEMO_CAMPAIGN, PLATFORM_ADMIN};
use crate::vote_in_browser::check_at_both_widths;

const TELLER: &str = "alex.porter@example.org";
const STORY: &str = "On the night of the snow our porters kept every ward moving.";
const PHONE: &str = "07700 900123";
const DIGITS: &str = "07700900123";

#[tokio::test]
async fn a_story_saved_and_sent_is_called_about_shown_and_withdrawn() {
    let cluster = Cluster::start().await;
    let form = format!("/campaigns/{DEMO_CAMPAIGN}/story");
    let campaign_page = format!("/campaigns/{DEMO_CAMPAIGN}");

    let browser = Browser::start().await;
    browser.goto(&cluster.url(&campaign_page)).await;
    browser.click(&format!("main a[href='{form}']")).await;
    browser.expect_page("Tell us your story").await;
    check_at_both_widths(&browser).await;

    // Nothing answered: the error summary names each question.
    browser
        .click("main button[name='action'][value='send']")
        .await;
    browser.expect_page("Tell us your story").await;
    let refused = browser.page_text().await;
    assert!(refused.contains("There is a problem"), "{refused}");
    check_at_both_widths(&browser).await;

    browser.choose("works_in_nhs").await;
    browser.fill("nhs_role", "Porter").await;
    browser.fill("story", STORY).await;
    browser.tick("consent_publish").await;
    browser.tick("consent_contact").await;
    browser.fill("phone", PHONE).await;
    browser.fill("email", TELLER).await;
    browser
        .click("main button[name='action'][value='save']")
        .await;
    browser.expect_page("Your story is saved").await;
    check_at_both_widths(&browser).await;
    browser.close().await;

    // Back from the emailed link in another browser: the answers are there, the number is not,
    // but the page says one is kept.
    let resume = link_in_email(&cluster, TELLER, "stories/drafts").await;
    let browser = Browser::start().await;
    browser.goto(&cluster.url(&resume)).await;
    browser.expect_page("Tell us your story").await;
    assert_eq!(browser.value("nhs_role").await, "Porter");
    assert_eq!(browser.value("phone").await, "");
    let resumed = browser.page_text().await;
    assert!(resumed.contains("A number is saved"), "{resumed}");
    assert!(!resumed.contains("900123"), "{resumed}");
    check_at_both_widths(&browser).await;
    browser
        .click("main button[name='action'][value='send']")
        .await;
    browser
        .expect_page("Thank you for telling your story")
        .await;
    check_at_both_widths(&browser).await;

    // Not on the campaign page before it is approved.
    browser.goto(&cluster.url(&campaign_page)).await;
    assert!(!browser.page_text().await.contains(STORY));

    // A platform admin approves it. Survey-feedback learns of the admin's grant once nomination
    // binds it at their first page; the list waits for that copy.
    browser.sign_in(&cluster, "/admin", PLATFORM_ADMIN).await;
    browser.goto(&cluster.url("/admin/stories")).await;
    browser.expect_page("Stories").await;
    let waiting = browser.page_text_of("main").await;
    assert!(waiting.contains(STORY), "{waiting}");
    assert!(waiting.contains("contact them"), "{waiting}");
    check_at_both_widths(&browser).await;
    browser
        .click("main form button[type='submit']:not(.nhsuk-button--secondary)")
        .await;
    browser.expect_page("Stories").await;
    assert!(browser.page_text().await.contains("Story approved"));

    // The number to call, on a page of its own, after the reveal is recorded with a reason.
    browser.goto(&cluster.url("/admin/stories?all=yes")).await;
    browser.expect_page("Stories").await;
    browser
        .fill_named("reason", "To invite them to the ceremony")
        .await;
    browser
        .click("main form[action$='/phone'] button[type='submit']")
        .await;
    browser.expect_page("Number to call").await;
    let revealed = browser.page_text_of("main").await;
    assert!(revealed.contains(DIGITS), "{revealed}");
    check_at_both_widths(&browser).await;
    browser.click("main a[href$='/audit']").await;
    let trail = browser.page_text_of("main").await;
    assert!(trail.contains("To invite them to the ceremony"), "{trail}");
    assert!(trail.contains(PLATFORM_ADMIN), "{trail}");
    check_at_both_widths(&browser).await;

    // On the campaign page, with the role, until the teller withdraws it.
    browser.goto(&cluster.url(&campaign_page)).await;
    let shown = browser.page_text_of("main").await;
    assert!(shown.contains(STORY), "{shown}");
    assert!(!shown.contains(TELLER), "{shown}");
    check_at_both_widths(&browser).await;
    let withdraw = link_in_email(&cluster, TELLER, "stories/withdraw").await;
    browser.goto(&cluster.url(&withdraw)).await;
    browser.expect_page("Withdraw your story").await;
    check_at_both_widths(&browser).await;
    browser.click("main form button[type='submit']").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        browser.goto(&cluster.url(&campaign_page)).await;
        if !browser.page_text().await.contains(STORY) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the withdrawn story is still on the campaign page"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    browser.close().await;
    assert_no_plain_phone_number(&cluster);
}

/// The forms a phone number might be found in: typed, its digits, and its digits after `+44`.
const PHONE_FORMS: [&str; 4] = [PHONE, DIGITS, "7700900123", "900123"];

fn assert_no_plain_phone_number(cluster: &Cluster) {
    for (service, url) in &cluster.databases {
        let dump = std::process::Command::new("pg_dump")
            .args(["--data-only", "--no-owner", url])
            .output()
            .unwrap();
        assert!(dump.status.success(), "pg_dump of {service}'s database");
        let dump = String::from_utf8_lossy(&dump.stdout);
        assert!(
            dump.contains("COPY"),
            "the dump of {service}'s database has its tables"
        );
        for form in PHONE_FORMS {
            assert!(!dump.contains(form), "{service}'s database holds {form}");
        }
    }
    let mut logged = 0;
    for entry in std::fs::read_dir(&cluster.logs).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        logged += text.len();
        for form in PHONE_FORMS {
            assert!(!text.contains(form), "{} holds {form}", path.display());
        }
    }
    assert!(logged > 0, "the services' logs were read");
    for email in cluster.smtp.received() {
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&email.raw),
            email.text_body()
        );
        for form in PHONE_FORMS {
            assert!(
                !text.contains(form),
                "an email to {:?} holds {form}",
                email.rcpt_to
            );
        }
    }
}
