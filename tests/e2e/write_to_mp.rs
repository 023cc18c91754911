//! "Email your MP" in headless Chromium against the real services: the House of Commons directory
//! imported with `valued import mps`, a site postcode the service knows, a letter in the supporter's
//! words confirmed from the email, and the MP's copy (to the test's own SMTP sink) replying to the
//! supporter. Every page passes the axe-core check.

use std::time::Duration;

use valued_proto::nomination::v1::WhoAmIRequest;
use valued_proto::nomination::v1::nomination_service_client::NominationServiceClient;
use valued_proto::notification::v1::notification_service_client::NotificationServiceClient;
use valued_proto::notification::v1::{
    CountMpLettersRequest, MpLetterCampaign, SetMpLetterWordingRequest,
};

use crate::browser::{Browser, link_in_email};
use crate::cluster::{Cluster, PLATFORM_ADMIN};

const SUPPORTER: &str = "chris.example@example.org";
const MP: &str = "florence.eshalomi.mp@parliament.uk";

/// Imports the House of Commons into the cluster's notification database with `valued import mps`.
fn import_mps(cluster: &Cluster) {
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
}

#[tokio::test]
async fn a_supporter_writes_to_their_mp_and_the_letter_arrives_once_confirmed() {
    let cluster = Cluster::start().await;
    import_mps(&cluster);

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

/// The demo campaign's organisers suggest a letter (over gRPC, as the admin page sends it); a
/// supporter finds it from the campaign's page, starts from it, makes it their own and confirms;
/// the campaign's page then says one person has written, which the notification service counts.
#[tokio::test]
async fn a_campaigns_suggested_letter_is_sent_for_the_campaign_and_counted() {
    let cluster = Cluster::start().await;
    import_mps(&cluster);
    let campaign = cluster.demo_campaign().await;
    let page = |path: String| {
        let http = cluster.http.clone();
        let url = cluster.url(&path);
        async move { http.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let campaign_page = format!("/campaigns/{}", campaign.slug);
    let letter_page = format!("/campaigns/{}/write-to-your-mp", campaign.slug);
    assert!(!page(campaign_page.clone()).await.contains(&letter_page));

    let wording = "I am writing as your constituent about the porters, cleaners and caterers \
        of our hospitals, who keep the NHS running and are rarely thanked.";
    let admin = cluster
        .oidc
        .verified_id_token(PLATFORM_ADMIN)
        .await
        .unwrap();
    // The platform admin's first call binds their grant, which the notification service's copy
    // then learns of.
    NominationServiceClient::new(cluster.channel("nomination").await)
        .who_am_i(valued_testkit::roles::signed(&admin, WhoAmIRequest {}))
        .await
        .unwrap();
    let mut notification = NotificationServiceClient::new(cluster.channel("notification").await);
    let request = || {
        valued_testkit::roles::signed(
            &admin,
            SetMpLetterWordingRequest {
                campaign: Some(MpLetterCampaign {
                    campaign_id: campaign.id.clone(),
                    slug: campaign.slug.clone(),
                    name: campaign.name.clone(),
                    scope: campaign.scope.clone(),
                    scope_code: campaign.scope_code.clone(),
                }),
                wording: wording.into(),
                clear: false,
            },
        )
    };
    // Until the notification service's copy of the grants has the platform admin.
    let mut set = notification.set_mp_letter_wording(request()).await;
    for _ in 0..100 {
        if !matches!(&set, Err(s) if s.code() == tonic::Code::PermissionDenied) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        set = notification.set_mp_letter_wording(request()).await;
    }
    set.unwrap();

    assert!(page(campaign_page.clone()).await.contains(&letter_page));
    let form = page(format!("{letter_page}?postcode=SE1+7EH")).await;
    assert!(form.contains("Write to Florence Eshalomi"), "{form}");
    assert!(form.contains("porters, cleaners and caterers"), "{form}");
    let csrf = cluster.csrf_token().await;
    let own = format!("{wording} My dad was one of them for thirty years at St Thomas'.");
    let post = |path: &str, form: &[(&str, &str)]| {
        let request = cluster.http.post(cluster.url(path)).form(form);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let written = post(
        &letter_page,
        &[
            ("csrf_token", &csrf),
            ("website", ""),
            ("postcode", "SE1 7EH"),
            ("name", "Chris Example"),
            ("email", SUPPORTER),
            ("body", &own),
        ],
    )
    .await;
    assert!(written.contains("Check your email"), "{written}");

    let link = link_in_email(&cluster, SUPPORTER, "write-to-your-mp/confirm").await;
    assert!(page(link.clone()).await.contains("Send your letter"));
    let sent = post(&link, &[("csrf_token", &csrf), ("website", "")]).await;
    assert!(sent.contains("Your letter has been sent"), "{sent}");
    let to_mp = cluster.smtp.wait_for(2, Duration::from_secs(30)).await;
    let letter = to_mp.iter().find(|e| e.rcpt_to == [MP]).unwrap();
    assert!(letter.text_body().contains("thirty years"));

    let count = notification
        .count_mp_letters(CountMpLettersRequest {
            campaign_id: campaign.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((count.letters, count.campaign_letters), (1, 1));
    assert!(
        page(campaign_page)
            .await
            .contains("1 person has written to their MP.")
    );
    assert!(
        page(letter_page)
            .await
            .contains("1 person has written to their MP.")
    );
}
