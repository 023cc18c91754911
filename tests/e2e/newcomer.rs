//! A newcomer's first campaign in headless Chromium, on the embedded default started as the README
//! says (`valued up`: SQLite, the in-process bus, emails as files in the outbox) with nothing else
//! installed. They sign in with the link `valued up` prints, create a trust's campaign with two
//! categories, and invite a trust admin, who signs in by an emailed link; a member of the public
//! nominates through the campaign's form, and the trust admin finds the trust's figures on the
//! Insight dashboard (a count about people below 11 is withheld, and says so). Every page is
//! checked with axe-core, at desktop and phone widths.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::{Duration as Days, Utc};
use valued_testkit::smtp::ReceivedEmail;

use crate::browser::{Browser, answer_category_and_nominee, answer_the_rest};
use crate::cluster::binary;
use crate::vote_in_browser::check_at_both_widths;

const TRUST_ADMIN: &str = "awards@rj1.example.org";
const CAMPAIGN: &str = "porters-awards-2027";
/// The House of Commons, as the README has it imported.
const MP_LOOKUP_CSV: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../services/notification/data/mp_lookup.csv"
);

/// `valued up` as a newcomer runs it, on free ports in a fresh data directory.
struct Embedded {
    child: Child,
    base: String,
    first_link: String,
    data_dir: PathBuf,
    /// What the process logs, kept when a test fails.
    log: PathBuf,
}

impl Drop for Embedded {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

impl Embedded {
    fn start() -> Self {
        let data_dir =
            std::env::temp_dir().join(format!("valued-newcomer-{}", uuid::Uuid::new_v4().simple()));
        let log = data_dir.with_extension("log");
        let mut command = Command::new(binary());
        command
            .arg("up")
            .env("VALUED__DATA_DIR", &data_dir)
            .env("VALUED__GATEWAY__HTTP__PORT", "0")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("a log file"));
        for service in ["NOMINATION", "VOTING", "SURVEY_FEEDBACK", "NOTIFICATION"] {
            command.env(format!("VALUED__{service}__GRPC__PORT"), "0");
        }
        let mut child = command.spawn().expect("valued up starts");
        // What it prints: where it runs, then the first admin's one-time link on a line of its
        // own.
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut base = String::new();
        let mut first_link = String::new();
        for line in lines.by_ref().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("Valued is running at ") {
                base = rest.trim_end_matches('/').to_owned();
            } else if line.starts_with("http://") && line.contains("/admin/sign-in/") {
                first_link = line.trim().to_owned();
                break;
            }
        }
        assert!(
            !base.is_empty() && !first_link.is_empty(),
            "valued up printed no address and sign-in link"
        );
        // The rest of what it prints (its log) goes beside what it writes to standard error.
        let mut rest = std::fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .expect("the log file");
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let _ = writeln!(rest, "{line}");
            }
        });
        Self {
            child,
            base,
            first_link,
            data_dir,
            log,
        }
    }

    /// Writes `text` to a file called `name` beside the data directory, for an upload.
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.data_dir.join(name);
        std::fs::create_dir_all(&self.data_dir).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The path of the first `marker` link in an email to `to` in the outbox, waiting for it: up
    /// to a minute, as CI runs this beside the fault test that restarts the broker and database
    /// on the same two cores (a missing email fails with the process's log).
    async fn link_in_email(&self, to: &str, marker: &str) -> String {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let found = std::fs::read_dir(self.data_dir.join("outbox"))
                .into_iter()
                .flatten()
                .filter_map(|entry| std::fs::read(entry.ok()?.path()).ok())
                .map(|raw| ReceivedEmail {
                    mail_from: String::new(),
                    rcpt_to: Vec::new(),
                    raw,
                    received_at: std::time::Instant::now(),
                })
                .filter(|email| email.header("To").is_some_and(|t| t.contains(to)))
                .find_map(|email| {
                    let text = email.text_body();
                    let start = text.find(&format!("/{marker}"))?;
                    let link = &text[start..];
                    Some(link[..link.find(char::is_whitespace).unwrap_or(link.len())].to_owned())
                });
            if let Some(path) = found {
                return path;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no email to {to} with a {marker} link in the outbox; valued up logged (in {}):\n{}",
                self.log.display(),
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// A moment `days` from now as a `datetime-local` input takes it (UK time is close enough: the
/// dates are days apart).
fn local(days: i64) -> String {
    (Utc::now() + Days::days(days))
        .format("%Y-%m-%dT09:00")
        .to_string()
}

#[tokio::test]
async fn a_newcomer_runs_a_first_campaign_from_valued_up_to_the_dashboard() {
    let valued = Embedded::start();
    let browser = Browser::start().await;

    // The printed link: one button, and they are the platform admin.
    browser.goto(&valued.first_link).await;
    browser.expect_page("Sign in to Valued").await;
    check_at_both_widths(&browser).await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Admin").await;
    let home = browser.page_text_of("main").await;
    assert!(home.contains("Platform administrator"), "{home}");

    // The reference data from the browser: a file with a bad line is refused with the line
    // named and nothing taken; a good one is imported, and its page counts what it held.
    browser.goto(&valued.url("/admin/organisations")).await;
    browser.expect_page("Import organisations").await;
    check_at_both_widths(&browser).await;
    let bad = valued.file(
        "bad.csv",
        "code,name,address,postcode,parent\n\
         R0A,Manchester University NHS Foundation Trust,,,NOWHERE\n",
    );
    browser.upload("file", &bad).await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Import organisations").await;
    let refused = browser.text_once("main", "There is a problem").await;
    assert!(refused.contains("Line 2:"), "{refused}");
    check_at_both_widths(&browser).await;
    let good = valued.file(
        "good.csv",
        "code,name,address,postcode,parent\n\
         Y62,North West,,,\n\
         R0A,Manchester University NHS Foundation Trust,,M13 9WL,Y62\n\
         R0A01,Manchester Royal Infirmary,Oxford Road,M13 9WL,R0A\n",
    );
    browser.upload("file", &good).await;
    browser.click("main form button[type='submit']").await;
    // The import's own page, with how it ended.
    browser.expect_page("Organisations import").await;
    browser
        .text_once("main", "Imported 1 region, 1 trust and 1 site")
        .await;
    check_at_both_widths(&browser).await;

    browser.goto(&valued.url("/admin/mps")).await;
    browser.expect_page("Import the MP directory").await;
    check_at_both_widths(&browser).await;
    browser
        .upload("file", std::path::Path::new(MP_LOOKUP_CSV))
        .await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Import the MP directory").await;
    browser.text_once("main", "Imported 650 MPs").await;
    check_at_both_widths(&browser).await;

    // A trust's campaign with two categories, open for nominations now.
    browser.goto(&valued.url("/admin")).await;
    browser.expect_page("Admin").await;
    browser.click("main a[href='/admin/campaigns/new']").await;
    browser.expect_page("Create a campaign").await;
    browser.fill("name", "Porters' Awards 2027").await;
    browser.choose("scope").await;
    browser.fill("scope_code", "RJ1").await;
    browser.set_value("nominations_open_at", &local(-1)).await;
    browser.set_value("nominations_close_at", &local(30)).await;
    browser
        .fill_named("categories[0].name", "Porter of the year")
        .await;
    browser
        .fill_named("categories[1].name", "Domestic of the year")
        .await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Porters' Awards 2027").await;
    let shown = browser.page_text_of("main").await;
    assert!(shown.contains("Domestic of the year"), "{shown}");

    // A learning route for the porters, on the campaign's page through its counting link.
    browser
        .goto(&valued.url(&format!("/admin/campaigns/{CAMPAIGN}/routes")))
        .await;
    browser
        .expect_page("Learning and career routes: Porters' Awards 2027")
        .await;
    check_at_both_widths(&browser).await;
    browser.fill("title", "Apprenticeships in the NHS").await;
    browser
        .fill("url", "http://example.org/apprenticeships")
        .await;
    browser.click("main form button[type='submit']").await;
    browser.text_once("main", "There is a problem").await;
    check_at_both_widths(&browser).await;
    browser
        .fill("url", "https://www.healthcareers.nhs.uk/apprenticeships")
        .await;
    browser
        .select_label("category_id", "Porter of the year")
        .await;
    browser.click("main form button[type='submit']").await;
    browser
        .text_once("main", "Route added to the campaign's page")
        .await;
    check_at_both_widths(&browser).await;
    browser
        .goto(&valued.url(&format!("/campaigns/{CAMPAIGN}")))
        .await;
    let page = browser.page_text_of("main").await;
    assert!(page.contains("Learning and career routes"), "{page}");
    let href = browser.href_of("Apprenticeships in the NHS").await;
    assert!(
        href.starts_with(&format!("/campaigns/{CAMPAIGN}/routes/")),
        "linked through the counter: {href}"
    );
    check_at_both_widths(&browser).await;

    // They invite the trust's awards lead, who is emailed and signs in by a link of their own.
    browser.goto(&valued.url("/admin/people")).await;
    browser.fill("email", TRUST_ADMIN).await;
    browser.select("role", "trust_admin").await;
    browser.fill("scope", "RJ1").await;
    browser
        .click("main form[action='/admin/people'] button[type='submit']")
        .await;
    browser.text_once("main", "we have emailed them").await;
    browser.close().await;
    let invitation = valued.link_in_email(TRUST_ADMIN, "admin").await;
    assert_eq!(invitation, "/admin/sign-in");
    let lead = Browser::start().await;
    lead.goto(&valued.url(&invitation)).await;
    lead.expect_page("Sign in").await;
    lead.fill("email", TRUST_ADMIN).await;
    lead.click("main form button[type='submit']").await;
    lead.expect_page("Check your email").await;
    let link = valued
        .link_in_email(TRUST_ADMIN, "admin/sign-in/email")
        .await;
    lead.goto(&valued.url(&link)).await;
    lead.click("main form button[type='submit']").await;
    lead.expect_page("Admin").await;
    assert!(
        lead.page_text_of("main")
            .await
            .contains("Trust administrator")
    );

    // Their dashboard: nothing by month yet.
    lead.goto(&valued.url("/admin/insight/trusts/RJ1")).await;
    lead.expect_page("Guy's and St Thomas' NHS Foundation Trust")
        .await;
    assert_eq!(months_with_nominations(&lead.page_text().await), 0);

    // Someone nominates a porter through the campaign's form, and confirms from the email.
    let public = Browser::start().await;
    let start = valued.url(&format!("/campaigns/{CAMPAIGN}/nominate"));
    answer_category_and_nominee(&public, &start, "Sam Patel").await;
    answer_the_rest(&public, "RJ1", "alex.jones@example.org").await;
    public.press("submit").await;
    public.expect_page("Check your email").await;
    let confirm = valued
        .link_in_email("alex.jones@example.org", "confirm")
        .await;
    public.goto(&valued.url(&confirm)).await;
    public.expect_page("Confirm your nomination").await;
    public.click("main form button[type='submit']").await;
    public.expect_page("Nomination confirmed").await;
    public.close().await;

    // The trust's dashboard counts it in this month: one nomination is fewer than 11, so its
    // count is withheld, and the page says why rather than showing a number.
    lead.goto(&valued.url("/admin/insight/trusts/RJ1")).await;
    lead.expect_page("Guy's and St Thomas' NHS Foundation Trust")
        .await;
    let insight = lead.page_text().await;
    assert_eq!(months_with_nominations(&insight), 1, "{insight}");
    assert!(insight.contains("Withheld (fewer than 11)"), "{insight}");
    check_at_both_widths(&lead).await;
    lead.close().await;
}

/// How many months the dashboard's "By month" table lists, each a row starting with a month and
/// a year (a month with no nomination is not listed).
fn months_with_nominations(page: &str) -> usize {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let Some(table) = page
        .split_once("By month")
        .and_then(|(_, rest)| rest.split("By staff group").next())
    else {
        return 0;
    };
    table
        .lines()
        .filter(|line| {
            let mut words = line.split_whitespace();
            words.next().is_some_and(|m| MONTHS.contains(&m))
                && words.next().is_some_and(|year| {
                    year.len() >= 4 && year.chars().take(4).all(|c| c.is_ascii_digit())
                })
        })
        .count()
}
