//! The nomination form page by page, as a browser without JavaScript sends it, in front of a fake
//! nomination service.

use valued_platform::domain::FieldError;

use crate::fake::spawn;
use crate::helpers::TestApp;

const TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const START: &str = "/campaigns/health-heroes/nominate";

fn unescape(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The hidden fields of the form that posts to `action`, as a browser would send them back.
pub fn hidden_fields(html: &str, action: &str) -> Vec<(String, String)> {
    let start = html
        .find(&format!(r#"<form method="post" action="{action}""#))
        .unwrap_or_else(|| panic!("no form posting to {action}:\n{html}"));
    let form = &html[start..];
    let form = &form[..form.find("</form>").unwrap()];
    form.split(r#"<input type="hidden" name=""#)
        .skip(1)
        .map(|input| {
            let (name, rest) = input.split_once('"').unwrap();
            let value = rest.split_once(r#"value=""#).unwrap().1;
            let value = value.split_once('"').unwrap().0;
            (name.to_owned(), unescape(value))
        })
        .collect()
}

/// Posts `fields` with the CSRF token and its cookie; returns the status and the page.
async fn post(app: &TestApp, path: &str, fields: &[(String, String)]) -> (u16, String) {
    let mut fields = fields.to_vec();
    fields.retain(|(name, _)| name != "csrf_token");
    fields.push(("csrf_token".into(), TOKEN.into()));
    let body = serde_urlencoded::to_string(&fields).unwrap();
    let response = app
        .post_form(path, &body, Some(&format!("valued_csrf={TOKEN}")))
        .await;
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// Answers the page whose form posts to `page`: the hidden fields of `html` and `answers`.
async fn answer(app: &TestApp, html: &str, page: &str, answers: &[(&str, &str)]) -> (u16, String) {
    let path = format!("{START}/{page}");
    let mut fields = hidden_fields(html, &path);
    fields.extend(
        answers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
    );
    post(app, &path, &fields).await
}

fn h1(html: &str) -> &str {
    let start = html.find("<h1").expect("a heading");
    let text = &html[start..];
    let text = &text[text.find('>').unwrap() + 1..];
    text[..text.find("</h1>").unwrap()].trim()
}

const ALL_ANSWERS: [(&str, &str); 13] = [
    ("category_id", "cat-unsung"),
    ("nominee_kind", "person"),
    ("nominee_name", "Sam O'Brien"),
    ("nominee_job_title", "Porter"),
    ("nominee_email", ""),
    ("staff_group", "estates-and-ancillary"),
    ("band", "not-sure"),
    ("trust_code", "RJ1"),
    ("site_code", "RJ121"),
    ("story", "Always \"first\" to help & kind.\r\nEvery day."),
    ("nominator_name", "Alex Jones"),
    ("nominator_email", "alex@example.org"),
    ("relationship", "colleague"),
];

fn answers_of(fields: &[&str]) -> Vec<(&'static str, &'static str)> {
    ALL_ANSWERS
        .iter()
        .filter(|(name, _)| fields.contains(name))
        .copied()
        .collect()
}

/// Walks every page with its answers; returns Check your answers.
async fn answer_every_page(app: &TestApp) -> String {
    let start = app.get(START).await;
    assert_eq!(start.status(), 200);
    assert!(start.headers().contains_key("set-cookie"));
    let mut html = start.text().await.unwrap();
    let pages: [(&str, &[&str], &str); 6] = [
        ("category", &["category_id"], "Who are you nominating?"),
        (
            "nominee",
            &[
                "nominee_kind",
                "nominee_name",
                "nominee_job_title",
                "nominee_email",
            ],
            "Their staff group and pay band",
        ),
        (
            "staff-group",
            &["staff_group", "band"],
            "Where do they work?",
        ),
        (
            "workplace",
            &["trust_code", "site_code"],
            "Tell us their story",
        ),
        ("story", &["story"], "About you"),
        (
            "about-you",
            &["nominator_name", "nominator_email", "relationship"],
            "Check your answers before sending your nomination",
        ),
    ];
    for (page, fields, next) in pages {
        let (status, next_html) = answer(app, &html, page, &answers_of(fields)).await;
        assert_eq!(status, 200, "{page}: {next_html}");
        assert_eq!(h1(&next_html), next, "after {page}");
        html = next_html;
    }
    html
}

#[tokio::test]
async fn a_nomination_goes_page_by_page_to_check_your_answers_and_is_sent_whole() {
    let (app, fake) = spawn().await;
    let check = answer_every_page(&app).await;
    for shown in [
        "Unsung hero",
        "Sam O&#x27;Brien",
        "I&#x27;m not sure",
        "Guy&#x27;s and St Thomas&#x27;",
        "RJ121",
        "Always &quot;first&quot; to help &amp; kind.",
        "I work with them",
        "Not given",
    ] {
        assert!(check.contains(shown), "{shown} missing");
    }
    assert!(
        fake.state().submitted.is_empty(),
        "nothing sent before the last button"
    );

    let (status, _) = post(&app, START, &hidden_fields(&check, START)).await;
    assert_eq!(status, 303);
    let sent = fake.state().submitted[0].clone();
    assert_eq!(sent.campaign_id, "0193a1b2-0000-7000-8000-000000000001");
    assert_eq!(sent.category_id, "cat-unsung");
    assert_eq!(sent.nominee_name, "Sam O'Brien");
    assert_eq!(sent.story, "Always \"first\" to help & kind.\r\nEvery day.");
    assert_eq!(sent.band, "not-sure");
    assert_eq!(sent.site_code, "RJ121");
    assert_eq!(sent.nominator_email, "alex@example.org");
    assert!(!sent.team);
    assert_eq!(sent.nominee_description, "");
}

#[tokio::test]
async fn a_submission_is_sent_again_with_its_key_while_the_service_restarts() {
    let (app, fake) = spawn().await;
    let check = answer_every_page(&app).await;
    let fields = hidden_fields(&check, START);
    let key = fields
        .iter()
        .find(|(name, _)| name == "idempotency_key")
        .map(|(_, value)| value.clone())
        .expect("Check your answers carries an idempotency key");
    assert_eq!(key.len(), 36, "{key}");
    fake.state().fail_submissions.extend([
        tonic::Status::unavailable("connection refused"),
        tonic::Status::unavailable("connection refused"),
    ]);

    let (status, _) = post(&app, START, &fields).await;
    assert_eq!(status, 303, "answered once the service is back");
    let state = fake.state();
    assert_eq!(state.submit_calls.len(), 3);
    assert!(
        state
            .submit_calls
            .iter()
            .all(|call| call.idempotency_key == key),
        "every sending carries the form's key"
    );
    assert_eq!(state.submitted.len(), 1);
}

#[tokio::test]
async fn a_service_too_busy_to_take_it_gets_a_page_saying_to_send_it_again() {
    let (app, fake) = spawn().await;
    let check = answer_every_page(&app).await;
    // Shed by the service: not retried (retrying would add to the load), but the key makes sending
    // it again safe, and the page says so.
    fake.state()
        .fail_submissions
        .push_back(tonic::Status::resource_exhausted(
            "Too many active requests for the connection",
        ));
    let (status, page) = post(&app, START, &hidden_fields(&check, START)).await;
    assert_eq!(status, 503);
    assert!(
        page.contains("Sorry, your form could not be sent"),
        "{page}"
    );
    assert!(page.contains("send them again"), "{page}");
    assert!(page.contains("will not send it twice"), "{page}");
    assert_eq!(fake.state().submit_calls.len(), 1);
    assert!(fake.state().submitted.is_empty());

    // Sent again from Check your answers: taken.
    let (status, _) = post(&app, START, &hidden_fields(&check, START)).await;
    assert_eq!(status, 303);
    assert_eq!(fake.state().submitted.len(), 1);
}

#[tokio::test]
async fn the_check_email_page_follows_a_submission() {
    let (app, _fake) = spawn().await;
    let response = app
        .get("/campaigns/health-heroes/nominated/0193a1b2-abcd")
        .await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("<h1>Check your email</h1>"));
    assert!(html.contains("counts only when you open the link and confirm it"));
}

#[tokio::test]
async fn each_page_shows_only_its_own_errors() {
    let (app, _fake) = spawn().await;
    let html = app.get(START).await.text().await.unwrap();
    let (status, page) = answer(&app, &html, "category", &[]).await;
    assert_eq!(status, 400);
    assert!(page.contains("<title>Error: Choose a category"));
    assert!(page.contains(r##"<a href="#category_id">Select a category</a>"##));
    assert_eq!(page.matches("nhsuk-error-summary__list").count(), 1);
    assert!(!page.contains("Select a trust"));

    let (_, nominee) = answer(&app, &html, "category", &[("category_id", "cat-team")]).await;
    let (status, page) = answer(
        &app,
        &nominee,
        "nominee",
        &[("nominee_kind", "unknown"), ("nominee_email", "nope")],
    )
    .await;
    assert_eq!(status, 400);
    for (field, message) in [
        (
            "nominee_description",
            "Describe the person you are nominating",
        ),
        ("nominee_job_title", "Enter their job title"),
        (
            "nominee_email",
            "Enter an email address in the correct format",
        ),
    ] {
        assert!(
            page.contains(&format!(r##"<a href="#{field}">{message}"##)),
            "{field}"
        );
    }
    assert!(
        page.contains(r#"value="unknown" checked"#),
        "the answer is kept"
    );
}

#[tokio::test]
async fn the_story_page_shows_and_checks_the_category_s_word_limit() {
    let (app, fake) = spawn().await;
    let mut fields: Vec<(String, String)> = ALL_ANSWERS
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    fields.retain(|(n, _)| n != "category_id" && n != "story");
    fields.push(("category_id".into(), "cat-team".into()));
    fields.push(("story".into(), "one two three four five six".into()));
    fields.push(("go".into(), "show".into()));
    let (_, page) = post(&app, &format!("{START}/story"), &fields).await;
    assert!(page.contains("You can enter up to 5 words"));
    fields.retain(|(n, _)| n != "go");
    let (status, page) = post(&app, &format!("{START}/story"), &fields).await;
    assert_eq!(status, 400);
    assert!(page.contains("Your story must be 5 words or fewer (it has 6)"));
    assert!(fake.state().submitted.is_empty());
}

#[tokio::test]
async fn back_carries_every_answer_to_the_page_before() {
    let (app, _fake) = spawn().await;
    let check = answer_every_page(&app).await;
    let back = hidden_fields(&check, &format!("{START}/about-you"));
    let mut fields = back.clone();
    fields.push(("go".into(), "show".into()));
    let (status, about_you) = post(&app, &format!("{START}/about-you"), &fields).await;
    assert_eq!(status, 200);
    assert_eq!(h1(&about_you), "About you");
    assert!(about_you.contains(r#"value="alex@example.org""#));
    assert!(about_you.contains(r#"value="colleague" checked"#));
    // Its own Back goes to the story, with the story.
    let story_back = hidden_fields(&about_you, &format!("{START}/story"));
    assert!(story_back.contains(&("story".into(), ALL_ANSWERS[9].1.into())));
}

#[tokio::test]
async fn change_returns_to_check_your_answers() {
    let (app, _fake) = spawn().await;
    let check = answer_every_page(&app).await;
    let mut fields = hidden_fields(&check, START);
    fields.push(("go".into(), "change".into()));
    let (_, nominee) = post(&app, &format!("{START}/nominee"), &fields).await;
    assert_eq!(h1(&nominee), "Who are you nominating?");
    assert!(nominee.contains(r#"<input type="hidden" name="then" value="check">"#));
    let (status, check) = answer(
        &app,
        &nominee,
        "nominee",
        &[
            ("nominee_kind", "team"),
            ("nominee_name", "Ward 7 domestics"),
            ("nominee_job_title", "Domestic team"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        h1(&check),
        "Check your answers before sending your nomination"
    );
    assert!(check.contains("Ward 7 domestics") && check.contains("Team name"));
}

#[tokio::test]
async fn what_the_service_refuses_is_shown_on_the_page_that_asks_it() {
    let (app, fake) = spawn().await;
    let check = answer_every_page(&app).await;
    fake.state().refuse = vec![
        FieldError::new("nominator_email", "Enter an email address we can send to"),
        FieldError::new(
            "story",
            "Your story must be 300 words or fewer (it has 301)",
        ),
    ];
    let (status, page) = post(&app, START, &hidden_fields(&check, START)).await;
    assert_eq!(status, 400);
    assert_eq!(h1(&page), "Tell us their story");
    assert!(
        page.contains(
            r##"<a href="#story">Your story must be 300 words or fewer (it has 301)</a>"##
        )
    );
    assert!(
        !page.contains("Enter an email address we can send to"),
        "only its own errors"
    );
    assert!(page.contains(r#"<input type="hidden" name="then" value="check">"#));

    fake.state().refuse = vec![FieldError::new("campaign_id", "Nominations have closed")];
    let (status, page) = post(&app, START, &hidden_fields(&check, START)).await;
    assert_eq!(status, 400);
    assert_eq!(
        h1(&page),
        "Check your answers before sending your nomination"
    );
    assert!(page.contains("Nominations have closed"));
}

#[tokio::test]
async fn save_and_come_back_later_emails_a_link_that_continues_where_it_stopped() {
    let (app, fake) = spawn().await;
    let html = app.get(START).await.text().await.unwrap();
    let (_, nominee) = answer(&app, &html, "category", &[("category_id", "cat-unsung")]).await;
    // Saved from the second page, before any email address was given: it is asked for.
    let (status, save) = answer(
        &app,
        &nominee,
        "nominee",
        &[
            ("nominee_kind", "person"),
            ("nominee_name", "Sam Patel"),
            ("go", "save"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(h1(&save), "Save your nomination and come back later");
    let save_path = format!("{START}/save");
    let mut fields = hidden_fields(&save, &save_path);
    fields.push(("nominator_email".into(), "not an email".into()));
    let (status, page) = post(&app, &save_path, &fields).await;
    assert_eq!(status, 400);
    assert!(page.contains(r##"<a href="#nominator_email">"##));
    assert!(fake.state().saved.is_empty());

    fields.retain(|(n, _)| n != "nominator_email");
    fields.push(("nominator_email".into(), "alex@example.org".into()));
    let (status, saved) = post(&app, &save_path, &fields).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(h1(&saved), "We have emailed you a link");
    assert!(saved.contains("alex@example.org"));
    {
        let state = fake.state();
        let request = &state.saved[0];
        assert!(request.email_resume_link);
        assert_eq!(request.draft_token, "");
        let answers = request.answers.as_ref().unwrap();
        assert_eq!(answers.nominee_name, "Sam Patel");
        assert_eq!(answers.category_id, "cat-unsung");
    }

    // The emailed link, in another browser: the second page, with what was typed on it.
    let resumed = app.get("/drafts/draft-1").await;
    assert_eq!(resumed.status(), 200);
    assert!(resumed.headers().contains_key("set-cookie"));
    let resumed = resumed.text().await.unwrap();
    assert_eq!(h1(&resumed), "Who are you nominating?");
    assert!(resumed.contains(r#"value="Sam Patel""#));
    assert!(resumed.contains(r#"value="person" checked"#));
    let carried = hidden_fields(&resumed, &format!("{START}/nominee"));
    assert!(carried.contains(&("draft_token".into(), "draft-1".into())));
    assert!(carried.contains(&("nominator_email".into(), "alex@example.org".into())));

    // Saving again updates the same draft, without asking for the address.
    let (status, _) = answer(
        &app,
        &resumed,
        "nominee",
        &[
            ("nominee_kind", "person"),
            ("nominee_name", "Sam Patel"),
            ("go", "save"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(fake.state().saved[1].draft_token, "draft-1");
}

#[tokio::test]
async fn a_complete_draft_opens_at_check_your_answers_and_its_submission_deletes_it() {
    let (app, fake) = spawn().await;
    let request = valued_proto::nomination::v1::SubmitNominationRequest {
        campaign_id: "0193a1b2-0000-7000-8000-000000000001".into(),
        category_id: "cat-unsung".into(),
        trust_code: "RRK".into(),
        nominee_description: "Tall porter, nights on ward 7".into(),
        nominee_job_title: "Porter".into(),
        staff_group: "other".into(),
        story: "Kind to everyone.".into(),
        nominator_name: "Alex Jones".into(),
        nominator_email: "alex@example.org".into(),
        relationship: "public".into(),
        ..Default::default()
    };
    fake.state().drafts.insert("d1".into(), request);
    let check = app.get("/drafts/d1").await.text().await.unwrap();
    assert_eq!(
        h1(&check),
        "Check your answers before sending your nomination"
    );
    assert!(check.contains("A person whose name I do not know"));
    assert!(check.contains("Tall porter, nights on ward 7"));
    let (status, _) = post(&app, START, &hidden_fields(&check, START)).await;
    assert_eq!(status, 303);
    let state = fake.state();
    assert_eq!(state.submitted[0].draft_token, "d1");
    assert_eq!(state.submitted[0].nominee_name, "");
    assert!(
        state.drafts.is_empty(),
        "the draft went with the submission"
    );
}

#[tokio::test]
async fn an_unknown_or_expired_draft_link_says_so_and_offers_to_start_again() {
    let (app, _fake) = spawn().await;
    for path in ["/drafts/gone", "/drafts/bad%20token"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains("This link has expired or does not work"),
            "{path}"
        );
        assert!(html.contains("Start a new nomination"));
    }
}

#[tokio::test]
async fn every_post_checks_the_csrf_token_and_the_honeypot() {
    let (app, fake) = spawn().await;
    let body = "category_id=cat-unsung&csrf_token=wrong";
    let response = app
        .post_form(
            &format!("{START}/category"),
            body,
            Some(&format!("valued_csrf={TOKEN}")),
        )
        .await;
    assert_eq!(response.status(), 403);

    let fields = vec![
        ("category_id".to_owned(), "cat-unsung".to_owned()),
        ("website".into(), "http://spam.example".into()),
        ("nominator_email".into(), "bot@example.org".into()),
        ("go".into(), "save".into()),
    ];
    let (status, _) = post(&app, &format!("{START}/category"), &fields).await;
    assert_eq!(status, 303);
    assert!(fake.state().saved.is_empty(), "a bot saves nothing");
}

#[tokio::test]
async fn a_page_opened_by_its_address_starts_again() {
    let (app, _fake) = spawn().await;
    let response = app.get(&format!("{START}/story")).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], START);
}
