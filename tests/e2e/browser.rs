//! The public nomination journeys in headless Chromium (Debian's `chromium` and `chromium-driver`,
//! driven over WebDriver), against the services as separate processes and a real SMTP sink. Every
//! page visited is checked with axe-core (`tests/browser`, installed by `npm ci`): a violation of
//! impact serious or critical fails the test.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::cluster::{Cluster, DEMO_CAMPAIGN};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const FLAGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1024",
];

/// axe-core as `npm ci` in `tests/browser` installs it.
fn axe_source() -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `npm ci` in tests/browser (scripts/test does)",
            path.display()
        )
    })
}

/// A Chromium of its own (fresh profile) behind its own chromedriver.
pub(crate) struct Browser {
    client: Client,
    driver: Child,
    profile: PathBuf,
    axe: String,
}

impl Browser {
    pub(crate) async fn start() -> Self {
        assert!(
            std::path::Path::new(CHROMEDRIVER).exists(),
            "{CHROMEDRIVER} is missing: apt-get install chromium chromium-driver (scripts/test does)"
        );
        let port = valued_testkit::free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let webdriver = format!("http://127.0.0.1:{port}");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while reqwest::get(format!("{webdriver}/status")).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "chromedriver never answered"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        let profile =
            std::env::temp_dir().join(format!("valued-chromium-{}", uuid::Uuid::new_v4().simple()));
        let mut args: Vec<String> = FLAGS.iter().map(|f| (*f).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({ "binary": CHROMIUM, "args": args }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&webdriver)
            .await
            .expect("a Chromium session");
        Self {
            client,
            driver,
            profile,
            axe: axe_source(),
        }
    }

    pub(crate) async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.start_kill();
        let _ = self.driver.wait().await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }

    /// Narrows the window to a phone's width (390 CSS pixels), or widens it back.
    pub(crate) async fn phone_width(&self, phone: bool) {
        let (width, height) = if phone { (390, 844) } else { (1280, 1024) };
        self.client.set_window_size(width, height).await.unwrap();
    }

    pub(crate) async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// The address of the page shown.
    pub(crate) async fn current_url(&self) -> String {
        self.client.current_url().await.unwrap().to_string()
    }

    /// Sets the value of the input whose id is `id` as a date picker would (a `datetime-local`
    /// input takes no typed keys in a headless browser).
    pub(crate) async fn set_value(&self, id: &str, value: &str) {
        self.client
            .execute(
                "document.getElementById(arguments[0]).value = arguments[1];",
                vec![
                    Value::String(id.to_owned()),
                    Value::String(value.to_owned()),
                ],
            )
            .await
            .unwrap();
    }

    /// Ticks the checkbox whose id is `id` through its label, unless it is ticked already.
    pub(crate) async fn tick(&self, id: &str) {
        let ticked = self
            .client
            .execute(
                "return document.getElementById(arguments[0]).checked;",
                vec![Value::String(id.to_owned())],
            )
            .await
            .unwrap();
        if ticked != Value::Bool(true) {
            self.choose(id).await;
        }
    }

    /// Scrolls the first element `css` finds to the top of the window (for the screenshots).
    pub(crate) async fn scroll_to(&self, css: &str) {
        self.client
            .execute(
                "document.querySelector(arguments[0]).scrollIntoView();",
                vec![Value::String(css.to_owned())],
            )
            .await
            .unwrap();
    }

    /// Opens the admin page at `path`, which sends the browser to the cluster's OpenID Connect
    /// provider, and signs in there as `email` on the provider's own form (an account whose
    /// provider has verified its address, as NHSmail's are).
    pub(crate) async fn sign_in(&self, cluster: &Cluster, path: &str, email: &str) {
        cluster.oidc.register(email, email, true).await.unwrap();
        self.goto(&cluster.url(path)).await;
        self.fill_named("sub", email).await;
        self.click("form button[type='submit']").await;
        // The click starts a chain of redirects through the provider; a `goto` before it ends
        // would be overtaken by its last step. Wait until the browser is back on `path`, loaded.
        let back = cluster.url(path.split('?').next().unwrap_or(path));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let url = self.client.current_url().await.unwrap();
            let here = url.as_str().split('?').next().unwrap_or_default();
            if here == back && self.heading().await.is_some() {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "signing in as {email} did not come back to {back}: at {url}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The page's heading, read in one step (an element found before a navigation would be stale
    /// after it); `None` while the page is changing.
    pub(crate) async fn heading(&self) -> Option<String> {
        let heading = self
            .client
            .execute(
                "const h1 = document.querySelector('main h1');
                 return document.readyState === 'complete' && h1 ? h1.innerText.trim() : null;",
                vec![],
            )
            .await
            .ok()?;
        heading.as_str().map(str::to_owned)
    }

    /// Waits for the page whose heading is `heading` (after a click that navigates), then checks
    /// its accessibility.
    pub(crate) async fn expect_page(&self, heading: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let now = self.heading().await;
            if now.as_deref() == Some(heading) {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "expected the page {heading:?}, got {now:?} at {}",
                self.client.current_url().await.unwrap()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.check_accessibility().await;
    }

    /// Checks the page: no serious or critical axe-core violation, and the page's own
    /// Content-Security-Policy in force. With `VALUED_SCREENSHOTS=<dir>`, keeps a picture of it.
    pub(crate) async fn check_accessibility(&self) {
        let url = self.client.current_url().await.unwrap();
        let violations = self.serious_violations().await;
        assert!(
            violations.is_empty(),
            "accessibility violations on {url}:\n{}",
            serde_json::to_string_pretty(&violations).unwrap()
        );
        // Nothing is wider than a phone's screen: the page never scrolls sideways (a wide table
        // scrolls inside its own container, if anywhere).
        let overflow = self
            .client
            .execute(
                "let widest = null, right = 0;
                 for (const e of document.body.querySelectorAll('*')) {
                   const r = e.getBoundingClientRect().right;
                   if (r > right) { right = r; widest = e; }
                 }
                 return [document.documentElement.scrollWidth, window.innerWidth,
                         widest ? widest.outerHTML.slice(0, 300) : ''];",
                vec![],
            )
            .await
            .unwrap();
        let widths: Vec<u64> = overflow
            .as_array()
            .map(|w| w.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        if let [page, window] = widths[..] {
            assert!(
                page <= window,
                "{url} is {page} px wide in a window {window} px wide: it scrolls sideways; the \
                 widest element: {}",
                overflow[2]
            );
        }
        // Scripts from WebDriver run whatever the policy says; the page's own policy still holds:
        // an inline script is refused.
        let inline_ran = self
            .client
            .execute(
                "const s = document.createElement('script');
                 s.textContent = 'window.__inlineRan = true';
                 document.head.appendChild(s);
                 return window.__inlineRan === true;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            inline_ran,
            Value::Bool(false),
            "CSP let an inline script run on {url}"
        );
        if let Some(dir) = std::env::var_os("VALUED_SCREENSHOTS") {
            let png = self.client.screenshot().await.unwrap();
            let width = self
                .client
                .execute("return window.innerWidth;", vec![])
                .await
                .unwrap();
            let name = format!(
                "{}-{}",
                url.path().trim_matches('/').replace('/', "_"),
                width.as_u64().unwrap_or(0)
            );
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(PathBuf::from(dir).join(format!("{name}.png")), png).unwrap();
        }
    }

    /// Injects axe-core through WebDriver's execute script (which the page's
    /// Content-Security-Policy does not govern in Chromium), runs it, and returns the violations of
    /// impact serious or critical.
    pub(crate) async fn serious_violations(&self) -> Vec<Value> {
        let loaded = self
            .client
            .execute(&format!("{}\nreturn typeof window.axe;", self.axe), vec![])
            .await
            .unwrap();
        assert_eq!(loaded, json!("object"), "axe-core did not load");
        let violations = self
            .client
            .execute_async(
                r"const done = arguments[arguments.length - 1];
                window.axe.run(document, { resultTypes: ['violations'] })
                  .then(result => done(result.violations
                    .filter(v => v.impact === 'serious' || v.impact === 'critical')
                    .map(v => ({ id: v.id, impact: v.impact, help: v.help,
                                 nodes: v.nodes.map(n => n.target.join(' ')) }))))
                  .catch(error => done([{ id: 'axe-error', help: String(error) }]));",
                vec![],
            )
            .await
            .unwrap();
        violations.as_array().cloned().unwrap_or_default()
    }

    pub(crate) async fn fill(&self, id: &str, text: &str) {
        let input = self
            .client
            .find(Locator::Css(&format!("#{id}")))
            .await
            .unwrap();
        input.clear().await.unwrap();
        input.send_keys(text).await.unwrap();
    }

    /// Chooses the file at `path` in the file input `id`, as a person picking it would.
    pub(crate) async fn upload(&self, id: &str, path: &std::path::Path) {
        let input = self
            .client
            .find(Locator::Css(&format!("#{id}")))
            .await
            .unwrap();
        input
            .send_keys(&path.canonicalize().unwrap().to_string_lossy())
            .await
            .unwrap();
    }

    /// Types into the input called `name` (for pages not ours, whose inputs have no id).
    pub(crate) async fn fill_named(&self, name: &str, text: &str) {
        let input = self
            .client
            .find(Locator::Css(&format!("input[name='{name}']")))
            .await
            .unwrap_or_else(|e| panic!("input {name}: {e}"));
        input.clear().await.unwrap();
        input.send_keys(text).await.unwrap();
    }

    pub(crate) async fn value(&self, id: &str) -> String {
        self.client
            .find(Locator::Css(&format!("#{id}")))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    /// Selects the option with `value` in the select whose id is `id`.
    pub(crate) async fn select(&self, id: &str, value: &str) {
        self.click(&format!("#{id} option[value='{value}']")).await;
    }

    /// Chooses the option reading `label` in the select `id`, as a person reads it.
    pub(crate) async fn select_label(&self, id: &str, label: &str) {
        self.client
            .find(Locator::XPath(&format!(
                "//select[@id='{id}']/option[normalize-space(.)='{label}']"
            )))
            .await
            .unwrap_or_else(|e| panic!("no option {label} in {id}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// Where the link reading `text` goes, as written in the page.
    pub(crate) async fn href_of(&self, text: &str) -> String {
        self.client
            .find(Locator::LinkText(text))
            .await
            .unwrap_or_else(|e| panic!("no link {text}: {e}"))
            .attr("href")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    /// The text of `css` once it contains `expected` (a page that keeps its heading after a form
    /// is sent: the answer is known by what it says, not by a new heading).
    pub(crate) async fn text_once(&self, css: &str, expected: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let text = self.page_text_of(css).await;
            if text.contains(expected) {
                return text;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{css} never said {expected:?}; it says:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Chooses a radio (or checks a box) by the id of its input, through its label as a person
    /// would.
    pub(crate) async fn choose(&self, id: &str) {
        self.click(&format!("label[for='{id}']")).await;
    }

    /// Clicks the first element matching `css`. When it sends a form, waits until the answer
    /// has replaced the page, so what is read next is the answer even when it keeps the heading
    /// of the page the form was on.
    pub(crate) async fn click(&self, css: &str) {
        let sends_a_form = self
            .client
            .execute(
                "const found = document.querySelector(arguments[0]);
                 const sends = !!(found && found.form && found.type === 'submit');
                 if (sends) { window.__valuedLeaving = true; }
                 return sends;",
                vec![serde_json::Value::from(css)],
            )
            .await
            .ok()
            .and_then(|sends| sends.as_bool())
            .unwrap_or(false);
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap();
        if sends_a_form {
            self.until_the_answer_has_loaded(css).await;
        }
    }

    /// Waits until the document marked before a form was sent has been replaced by a loaded one.
    async fn until_the_answer_has_loaded(&self, css: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let loaded = self
                .client
                .execute(
                    "return document.readyState === 'complete' && !window.__valuedLeaving;",
                    vec![],
                )
                .await
                .ok()
                .and_then(|loaded| loaded.as_bool())
                .unwrap_or(false);
            if loaded {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "sending the form with {css} never brought an answer (still at {})",
                self.client.current_url().await.unwrap()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) async fn press(&self, go: &str) {
        self.click(&format!("main button[name='go'][value='{go}']"))
            .await;
    }

    pub(crate) async fn page_text(&self) -> String {
        self.page_text_of("main").await
    }

    /// The text of the first element matching `css`, read in one step once the page has loaded
    /// (an element found before a navigation ends would be stale after it).
    pub(crate) async fn page_text_of(&self, css: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let text = self
                .client
                .execute(
                    "const found = document.querySelector(arguments[0]);
                     return document.readyState === 'complete' && found ? found.innerText : null;",
                    vec![serde_json::Value::from(css)],
                )
                .await
                .ok()
                .and_then(|text| text.as_str().map(str::to_owned));
            if let Some(text) = text {
                return text;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no {css} on the page at {}",
                self.client.current_url().await.unwrap()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The path of the first link to `/{page}/…` in the plain-text body of the email to `to` whose
/// text has one, waiting for it to arrive.
pub(crate) async fn link_in_email(cluster: &Cluster, to: &str, page: &str) -> String {
    let marker = format!("/{page}/");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let found = cluster
            .smtp
            .received()
            .iter()
            .filter(|e| e.rcpt_to.iter().any(|r| r == to))
            .map(|e| e.text_body())
            .find_map(|text| {
                let start = text.find(&marker)?;
                let link = &text[start..];
                Some(link[..link.find(char::is_whitespace).unwrap_or(link.len())].to_owned())
            });
        if let Some(path) = found {
            return path;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no email to {to} with a {marker} link; logs in {}",
            cluster.logs.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Opens the nomination form at `start` (its first page's address) and answers the first two
/// pages.
pub(crate) async fn answer_category_and_nominee(browser: &Browser, start: &str, nominee: &str) {
    browser.goto(start).await;
    browser.expect_page("Choose a category").await;
    browser.choose("category_id").await;
    browser.press("continue").await;

    browser.expect_page("Who are you nominating?").await;
    browser.choose("nominee_kind").await;
    browser.fill("nominee_name", nominee).await;
    browser.fill("nominee_job_title", "Porter").await;
    browser.press("continue").await;
}

/// From the staff group page to Check your answers.
pub(crate) async fn answer_the_rest(browser: &Browser, trust_code: &str, nominator_email: &str) {
    browser.expect_page("Their staff group and pay band").await;
    browser.choose("staff_group").await;
    browser.press("continue").await;

    browser.expect_page("Where do they work?").await;
    browser
        .client
        .find(Locator::Css("#trust_code"))
        .await
        .unwrap()
        .select_by_value(trust_code)
        .await
        .unwrap();
    browser.press("continue").await;

    browser.expect_page("Tell us their story").await;
    browser
        .fill(
            "story",
            "Knows every corridor, and always has a kind word for patients who are lost.",
        )
        .await;
    browser.press("continue").await;

    browser.expect_page("About you").await;
    browser.fill("nominator_name", "Alex Jones").await;
    browser.fill("nominator_email", nominator_email).await;
    browser.choose("relationship").await;
    browser.press("continue").await;

    browser
        .expect_page("Check your answers before sending your nomination")
        .await;
}

#[tokio::test]
async fn the_accessibility_check_finds_a_serious_violation() {
    let browser = Browser::start().await;
    browser
        .goto("data:text/html,<!DOCTYPE html><html lang=en><title>t</title><main><img src=x.png></main></html>")
        .await;
    let violations = browser.serious_violations().await;
    assert!(
        violations.iter().any(|v| v["id"] == "image-alt"),
        "{violations:?}"
    );
    browser.close().await;
}

#[tokio::test]
async fn a_nomination_through_every_page_is_confirmed_from_the_email_link() {
    let cluster = Cluster::start().await;
    let campaign = cluster.demo_campaign().await;
    let browser = Browser::start().await;

    let start = cluster.url(&format!("/campaigns/{DEMO_CAMPAIGN}/nominate"));
    answer_category_and_nominee(&browser, &start, "Sam Patel").await;
    answer_the_rest(&browser, &campaign.trusts[0].code, "alex.jones@example.org").await;
    let check = browser.page_text().await;
    for answer in [
        "Sam Patel",
        "Porter",
        campaign.categories[0].name.as_str(),
        campaign.trusts[0].name.as_str(),
        "alex.jones@example.org",
        "Knows every corridor",
    ] {
        assert!(check.contains(answer), "{answer} missing from:\n{check}");
    }
    browser.press("submit").await;
    browser.expect_page("Check your email").await;

    let confirm = link_in_email(&cluster, "alex.jones@example.org", "confirm").await;
    browser.goto(&cluster.url(&confirm)).await;
    browser.expect_page("Confirm your nomination").await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Nomination confirmed").await;
    let thanks = browser.page_text().await;
    assert!(
        thanks.contains("Thank you, your nomination of Sam Patel counts"),
        "{thanks}"
    );

    // The link again: already confirmed, nothing changes.
    browser.goto(&cluster.url(&confirm)).await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Nomination already confirmed").await;

    browser.close().await;
}

#[tokio::test]
async fn a_saved_nomination_continues_from_the_emailed_link_in_another_browser() {
    let cluster = Cluster::start().await;
    let campaign = cluster.demo_campaign().await;
    let email = "jo.bloggs@example.org";

    let first = Browser::start().await;
    let start = cluster.url(&format!("/campaigns/{DEMO_CAMPAIGN}/nominate"));
    answer_category_and_nominee(&first, &start, "Jo Bloggs").await;
    first.expect_page("Their staff group and pay band").await;
    first.press("save").await;
    first
        .expect_page("Save your nomination and come back later")
        .await;
    first.fill("nominator_email", email).await;
    first.press("continue").await;
    first.expect_page("We have emailed you a link").await;
    assert!(first.page_text().await.contains(email));
    first.close().await;

    let resume = link_in_email(&cluster, email, "drafts").await;
    let second = Browser::start().await;
    second.goto(&cluster.url(&resume)).await;
    // The first question not yet answered, with the earlier answers kept.
    second.expect_page("Their staff group and pay band").await;
    second.click("button.nhsuk-back-link").await;
    second.expect_page("Who are you nominating?").await;
    assert_eq!(second.value("nominee_name").await, "Jo Bloggs");
    assert_eq!(second.value("nominee_job_title").await, "Porter");
    second.press("continue").await;

    answer_the_rest(&second, &campaign.trusts[0].code, email).await;
    assert!(second.page_text().await.contains("Jo Bloggs"));
    second.press("submit").await;
    second.expect_page("Check your email").await;

    // The draft went with the submission: its link no longer works.
    second.goto(&cluster.url(&resume)).await;
    second
        .expect_page("This link has expired or does not work")
        .await;
    second.close().await;
}

#[tokio::test]
async fn a_nominee_claims_a_thank_you_passed_on_and_answers_from_their_own_address() {
    let cluster = Cluster::start().await;
    let campaign = cluster.demo_campaign().await;
    let csrf = cluster.csrf_token().await;
    cluster
        .post_nomination(
            &csrf,
            &crate::cluster::nomination_form(&campaign, "Sam Patel", "alex.jones@example.org"),
        )
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let confirm = loop {
        let found = cluster.smtp.received().into_iter().find(|e| {
            e.rcpt_to.iter().any(|r| r == "alex.jones@example.org")
                && e.text_body().contains("/confirm/")
        });
        if let Some(email) = found {
            break email;
        }
        assert!(tokio::time::Instant::now() < deadline, "no confirmation");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    cluster.confirm_from_email(&confirm).await;
    // No work address: the trust's contact is sent the thank-you to pass on.
    let contact = loop {
        let found = cluster
            .smtp
            .received()
            .into_iter()
            .find(|e| e.text_body().contains("/claim/"));
        if let Some(email) = found {
            break email.rcpt_to[0].clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "no thank-you");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let claim = link_in_email(&cluster, &contact, "claim").await;

    let browser = Browser::start().await;
    browser.goto(&cluster.url(&claim)).await;
    browser.expect_page("Get your own link").await;
    // The contact's own address is not the nominee's.
    browser.fill("email", &contact).await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Get your own link").await;
    let refused = browser.page_text().await;
    assert!(
        refused.contains("Enter your own email address"),
        "{refused}"
    );
    browser.fill("email", "sam.patel@example.org").await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Check your email").await;

    let consent = link_in_email(&cluster, "sam.patel@example.org", "consent").await;
    browser.goto(&cluster.url(&consent)).await;
    browser
        .expect_page("What can we share about your nomination?")
        .await;
    let page = browser.page_text().await;
    assert!(page.contains("Only answer if you are Sam Patel."), "{page}");
    assert!(page.contains("This is not me"), "{page}");
    browser.choose("listed_publicly").await;
    browser.click("main form button[type='submit']").await;
    browser
        .expect_page("Thank you, we have saved your answers")
        .await;
    browser.close().await;
}
