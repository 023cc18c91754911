//! The embedded default: `valued up` on free ports, with SQLite, the in-process bus and the file
//! outbox, walked through the same journey as production.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use valued::Settings;
use valued_platform::Shutdown;

/// `valued up` on free ports in a fresh data directory: what runs, its shutdown, and the directory.
async fn start() -> (valued::Running, Shutdown, std::path::PathBuf) {
    valued_testkit::init_test_logging();
    let data_dir =
        std::env::temp_dir().join(format!("valued-embedded-{}", uuid::Uuid::new_v4().simple()));
    let settings = Settings::embedded_on_free_ports(&data_dir).unwrap();
    let shutdown = Shutdown::new();
    let running = valued::up(&settings, shutdown.clone()).await.unwrap();
    (running, shutdown, data_dir)
}

#[tokio::test]
async fn the_embedded_default_takes_a_nomination_and_shows_its_emails_in_the_outbox() {
    let (running, shutdown, data_dir) = start().await;
    let base = format!("http://127.0.0.1:{}", running.gateway_port);
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // The home page leads to the seeded demo campaign and its categories.
    let home = http
        .get(format!("{base}/campaigns/health-heroes-2026"))
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200);
    let home = home.text().await.unwrap();
    assert!(home.contains("Health Heroes 2026"));
    assert!(home.contains("Porter of the year"));

    let form = page_text(
        &http,
        &format!("{base}/campaigns/health-heroes-2026/nominate"),
    )
    .await;
    let value_after = |marker: &str| -> String {
        let (_, after) = form
            .split_once(marker)
            .unwrap_or_else(|| panic!("{marker} in the form"));
        let (_, value) = after.split_once("value=\"").unwrap();
        value.split('"').next().unwrap().to_owned()
    };
    let csrf = value_after("name=\"csrf_token\"");
    let campaign_id = value_after("name=\"campaign_id\"");
    let category_id = value_after("name=\"category_id\"");
    // A trust of the seeded demo campaign.
    let trust_code = "RJ1";

    let response = http
        .post(format!("{base}/campaigns/health-heroes-2026/nominate"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("campaign_id", &campaign_id),
            ("category_id", &category_id),
            ("trust_code", trust_code),
            ("nominee_name", "Pat Embedded"),
            ("nominee_job_title", "Housekeeper"),
            ("staff_group", "estates-and-ancillary"),
            ("story", "Pat makes every patient feel at home on the ward."),
            ("nominator_name", "Chris Example"),
            ("nominator_email", "chris@example.org"),
            ("relationship", "colleague"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        303,
        "{}",
        response.text().await.unwrap_or_default()
    );

    // The nominator is asked to confirm first; the link is in the email in the outbox directory.
    let outbox_dir = data_dir.join("outbox");
    let confirm_path = wait_for(|| {
        let emails = read_emails(&outbox_dir);
        let text = emails
            .iter()
            .find(|e| e.contains("Confirm your nomination of Pat Embedded"))?;
        let (_, after) = text.split_once("/confirm/")?;
        let token: String = after.chars().take_while(char::is_ascii_hexdigit).collect();
        Some(format!("/confirm/{token}"))
    })
    .await;
    let page = http
        .get(format!("{base}{confirm_path}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let confirmed = http
        .post(format!("{base}{confirm_path}"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 200);

    // Then the receipt, the trust's review email and the nominee's thank-you (through the trust,
    // as no work address was given) reach the outbox page and the outbox directory.
    let wanted = [
        "Confirm your nomination of Pat Embedded",
        "Thank you for nominating Pat Embedded",
        "New nomination to review: Pat Embedded",
        "Please pass on privately to Pat Embedded",
    ];
    let mut outbox = String::new();
    for _ in 0..100 {
        outbox = http
            .get(format!("{base}/outbox"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if wanted.iter().all(|subject| outbox.contains(subject))
            && outbox.matches(">sent<").count() >= wanted.len()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for subject in wanted {
        assert!(outbox.contains(subject), "{subject} in {outbox}");
    }
    assert!(outbox.contains("chris@example.org"));
    // A newcomer follows the confirmation from the outbox page: the email shown there carries the
    // working link (read from its file; the notification API removes link tokens).
    let (before, _) = outbox
        .split_once(">Confirm your nomination of Pat Embedded")
        .unwrap();
    let (_, href) = before.rsplit_once("href=\"").unwrap();
    let email_page = page_text(&http, &format!("{base}{}", href.trim_end_matches('"'))).await;
    assert!(
        email_page.contains(&confirm_path.replace('/', "&#x2f;"))
            || email_page.contains(&confirm_path),
        "the outbox shows the working link {confirm_path}: {email_page}"
    );
    let files = std::fs::read_dir(&outbox_dir).unwrap().count();
    assert_eq!(files, wanted.len(), "one .eml file per email");
    for service in ["nomination", "voting", "survey-feedback", "notification"] {
        assert!(
            data_dir.join(format!("{service}.db")).exists(),
            "{service}.db"
        );
    }

    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(30), running.wait())
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_newcomer_signs_in_with_the_printed_link_and_again_by_an_emailed_one() {
    let (running, shutdown, data_dir) = start().await;
    let base = format!("http://127.0.0.1:{}", running.gateway_port);
    let browser = || {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    };
    assert_eq!(running.first_sign_in.email, valued::FIRST_ADMIN);

    // The printed link opens a button; pressing it signs in as a platform admin.
    let http = browser();
    let first = format!("{base}{}", running.first_sign_in.path);
    let admin = sign_in_through(&http, &first).await;
    assert!(admin.contains("Platform administrator"), "{admin}");
    assert!(admin.contains(valued::FIRST_ADMIN), "{admin}");
    let page = page_text(&http, &first).await;
    let again = http
        .post(&first)
        .form(&[("csrf_token", csrf_of(&page).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404, "the link works once");

    // Later, in another browser: the admin pages ask to sign in, and the sign-in page emails a
    // link (read here from the outbox) to an admin, and nothing to anyone else.
    let http = browser();
    let asked = http.get(format!("{base}/admin")).send().await.unwrap();
    assert_eq!(asked.status(), 303);
    let sign_in = page_text(&http, &format!("{base}/admin/sign-in")).await;
    assert!(sign_in.contains("Email me a sign-in link"), "{sign_in}");
    for email in ["stranger@example.org", valued::FIRST_ADMIN] {
        let sent = http
            .post(format!("{base}/admin/sign-in/email"))
            .form(&[("csrf_token", csrf_of(&sign_in).as_str()), ("email", email)])
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), 200);
        assert!(sent.text().await.unwrap().contains("Check your email"));
    }
    let outbox = data_dir.join("outbox");
    let link = wait_for(|| {
        read_emails(&outbox)
            .into_iter()
            .filter(|e| e.starts_with("Your sign-in link for Valued"))
            .find_map(|e| {
                let start = e.find("/admin/sign-in/email/")?;
                let path = &e[start..];
                Some(path[..path.find(char::is_whitespace).unwrap_or(path.len())].to_owned())
            })
    })
    .await;
    let emailed: Vec<String> = read_emails(&outbox)
        .into_iter()
        .filter(|e| e.starts_with("Your sign-in link for Valued"))
        .collect();
    assert_eq!(emailed.len(), 1, "one link, to the admin only");
    let admin = sign_in_through(&http, &format!("{base}{link}")).await;
    assert!(admin.contains("Platform administrator"), "{admin}");

    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(30), running.wait())
        .await
        .unwrap()
        .unwrap();
}

/// Opens the sign-in link `url`, presses its button, and returns the admin home page it leads to.
async fn sign_in_through(http: &reqwest::Client, url: &str) -> String {
    let page = page_text(http, url).await;
    assert!(page.contains("Sign in to Valued"), "{page}");
    let signed_in = http
        .post(url)
        .form(&[("csrf_token", csrf_of(&page).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    let home = signed_in.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(home, "/admin");
    let base = url.split("/admin").next().unwrap();
    page_text(http, &format!("{base}{home}")).await
}

/// The CSRF token a page's form carries.
fn csrf_of(page: &str) -> String {
    let (_, after) = page
        .split_once("name=\"csrf_token\"")
        .expect("a form with a CSRF token");
    let (_, value) = after.split_once("value=\"").unwrap();
    value.split('"').next().unwrap().to_owned()
}

/// Every `.eml` file in `dir`, decoded to its text.
fn read_emails(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .filter_map(|raw| {
            let message = mail_parser::MessageParser::default().parse(&raw)?;
            Some(format!(
                "{}\n{}",
                message.subject().unwrap_or_default(),
                message.body_text(0).unwrap_or_default()
            ))
        })
        .collect()
}

/// Polls `found` for up to 10 s.
async fn wait_for<T>(mut found: impl FnMut() -> Option<T>) -> T {
    for _ in 0..100 {
        if let Some(value) = found() {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not found within 10 s")
}

async fn page_text(http: &reqwest::Client, url: &str) -> String {
    http.get(url).send().await.unwrap().text().await.unwrap()
}
