//! "Email your MP" in headless Chromium against the real services: the House of Commons directory
//! imported with `valued import mps`, a site postcode the service knows, a letter in the supporter's
//! words confirmed from the email, and the MP's copy (to the test's own SMTP sink) replying to the
//! supporter. Every page passes the axe-core check.

use std::time::Duration;

use crate::browser::{Browser, link_in_email};
use crate::cluster::Cluster;

const SUPPORTER: &str = "chris.example@example.org";
const MP: &str = "florence.eshalomi.mp@parliament.uk";

#[tokio::test]
async fn a_supporter_writes_to_their_mp_and_the_letter_arrives_once_confirmed() {
    let cluster = Cluster::start().await;
    let directory = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../services/notification/data/mp_lookup.csv"
    );
    let imported = std::process::Command::new(crate::cluster::binary())
        .args(["import", "mps", directory])
        .env(
            "VALUED__NOTIFICATION__DATABASE__URL",
            &cluster.databases["notification"],
        )
        .env("VALUED__DATA_DIR", &cluster.logs)
        .output()
        .unwrap();
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );

    let browser = Browser::start().await;
    // The privacy notice every page links to passes the same checks.
    browser.goto(&cluster.url("/privacy")).await;
    browser.expect_page("How we use your information").await;
    browser.goto(&cluster.url("/write-to-your-mp")).await;
    browser
        .expect_page("Email your MP about NHS support staff")
        .await;
    browser.fill("postcode", "se1 7eh").await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Write to Florence Eshalomi").await;
    assert!(
        browser
            .page_text()
            .await
            .contains("Vauxhall and Camberwell Green")
    );

    // Too short first: the form says so and keeps what was typed.
    browser.fill("name", "Chris Example").await;
    browser.fill("email", SUPPORTER).await;
    browser.fill("body", "Please help.").await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Write to Florence Eshalomi").await;
    assert!(browser.page_text().await.contains("There is a problem"));
    assert_eq!(browser.value("name").await, "Chris Example");

    browser
        .fill(
            "body",
            "I am writing as your constituent about the porters at St Thomas' who pushed my dad's \
             bed through three buildings with a joke for every corridor. Please recognise NHS \
             support staff when Parliament debates NHS pay.",
        )
        .await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Check your email").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !cluster.smtp.received().iter().any(|e| e.rcpt_to == [MP]),
        "nothing reaches the MP before the supporter confirms"
    );

    let link = link_in_email(&cluster, SUPPORTER, "write-to-your-mp/confirm").await;
    browser.goto(&cluster.url(&link)).await;
    browser.expect_page("Send your letter").await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Your letter has been sent").await;

    let to_mp = cluster.smtp.wait_for(2, Duration::from_secs(30)).await;
    let letter = to_mp
        .iter()
        .find(|e| e.rcpt_to == [MP])
        .expect("the letter to the MP");
    assert_eq!(letter.header("Reply-To").as_deref(), Some(SUPPORTER));
    let text = letter.text_body();
    assert!(text.contains("pushed my dad's"), "{text}");
    assert!(text.contains("SE1 7EH"), "{text}");

    // The link again sends nothing more.
    browser.goto(&cluster.url(&link)).await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Your letter has been sent").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let copies = cluster
        .smtp
        .received()
        .iter()
        .filter(|e| e.rcpt_to == [MP])
        .count();
    assert_eq!(copies, 1);
    browser.close().await;
}
