//! A staff survey from first draft to suppressed results, in headless Chromium against the services
//! as separate processes on PostgreSQL and RabbitMQ with a real SMTP sink: an admin, signed in
//! through the OpenID Connect provider, builds a trust survey from the "feeling valued" set,
//! previews and publishes it, emails an invitation and prints codes with QR codes; a porter
//! answers from the emailed link, others with printed codes; the admin closes the survey and reads
//! results in which the one person of a small staff group cannot be picked out, not even by
//! subtraction; the trust's Insight dashboard then shows the results beside its nomination counts.
//! Every page is checked with axe-core, at desktop and phone widths.

use std::time::Duration;

use valued_proto::survey::v1 as pb;
use valued_proto::survey::v1::survey_service_client::SurveyServiceClient;
use valued_testkit::roles::signed;

use crate::browser::Browser;
use crate::cluster::{Cluster, PLATFORM_ADMIN};

const PORTER: &str = "porter.one@example.org";

/// The page as it is now, checked with axe-core at the phone's width too.
async fn check_at_both_widths(browser: &Browser) {
    browser.check_accessibility().await;
    browser.phone_width(true).await;
    browser.check_accessibility().await;
    browser.phone_width(false).await;
}

/// The invitation link in the latest email to `to`.
async fn invitation_link(cluster: &Cluster, to: &str) -> String {
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
                let start = text.find("/surveys/invitation/")?;
                Some(
                    text[start..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-'))
                        .collect::<String>(),
                )
            });
        if let Some(found) = found {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no invitation emailed to {to}; logs in {}",
            cluster.logs.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Codes as the print page shows them: groups of four letters and digits joined by dashes.
fn printed_codes(page: &str) -> Vec<String> {
    page.split_whitespace()
        .filter(|word| {
            let groups: Vec<&str> = word.split('-').collect();
            groups.len() >= 4
                && groups
                    .iter()
                    .all(|g| g.len() == 4 && g.chars().all(|c| c.is_ascii_alphanumeric()))
        })
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn an_admin_builds_and_publishes_a_survey_staff_answer_by_email_and_printed_code_and_small_groups_stay_hidden()
 {
    let cluster = Cluster::start().await;
    let browser = Browser::start().await;

    // The admin signs in and creates a trust survey from the standard questions.
    browser
        .sign_in(&cluster, "/admin/surveys", PLATFORM_ADMIN)
        .await;
    browser.expect_page("Staff surveys").await;
    check_at_both_widths(&browser).await;
    browser
        .click("input[name='scope'][value='trust'] + label")
        .await;
    browser.fill("scope_code", "RJ1").await;
    browser.fill("title", "Do you feel valued? 2027").await;
    browser
        .click("main form[action='/admin/surveys'] button")
        .await;
    browser.expect_page("Do you feel valued? 2027").await;
    let survey_url = browser.current_url().await;
    let survey_id = survey_url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        browser
            .page_text()
            .await
            .contains("I feel valued by my organisation")
    );
    check_at_both_widths(&browser).await;

    // Settings: invitations only, a closing time, the staff group asked. A title left empty is
    // named at its field first, and the other settings typed are kept.
    browser.choose("distribution-2").await;
    browser.tick("ask_staff_group").await;
    browser.fill("title", "").await;
    browser.click("form[action$='/settings'] button").await;
    browser.expect_page("Do you feel valued? 2027").await;
    assert!(browser.page_text().await.contains("There is a problem"));
    browser.fill("title", "Do you feel valued? 2027").await;
    let closes = valued_platform::uk_time::input(chrono::Utc::now() + chrono::Duration::days(7));
    browser.set_value("closes_at", &closes).await;
    browser.click("form[action$='/settings'] button").await;
    browser.expect_page("Do you feel valued? 2027").await;
    let page = browser.page_text().await;
    assert!(page.contains("Single-use invitations"), "{page}");

    // The preview is the respondents' page, with nothing to send.
    browser.click("a[href$='/preview']").await;
    browser.expect_page("Do you feel valued? 2027").await;
    let preview = browser.page_text().await;
    assert!(
        preview.contains("Nothing on this page can be sent"),
        "{preview}"
    );
    assert!(
        preview.contains("Which staff group are you in?"),
        "{preview}"
    );
    check_at_both_widths(&browser).await;
    browser.goto(&survey_url).await;
    browser.click("form[action$='/publish'] button").await;
    browser.expect_page("Do you feel valued? 2027").await;
    assert!(browser.page_text().await.contains("Published."));

    // One invitation by email (a bad address is named first); twelve printed codes.
    browser
        .fill("emails", &format!("{PORTER}\nnot-an-address"))
        .await;
    browser
        .click("form[action$='/invitations/email'] button")
        .await;
    browser.expect_page("Do you feel valued? 2027").await;
    assert!(browser.page_text().await.contains("not-an-address"));
    browser.fill("emails", PORTER).await;
    browser
        .click("form[action$='/invitations/email'] button")
        .await;
    browser.expect_page("Do you feel valued? 2027").await;
    assert!(
        browser
            .page_text()
            .await
            .contains("Invitations are being emailed")
    );
    browser.fill("count", "12").await;
    browser
        .click("form[action$='/invitations/codes'] button")
        .await;
    browser
        .expect_page("Invitation codes: Do you feel valued? 2027")
        .await;
    let codes = printed_codes(&browser.page_text().await);
    assert_eq!(codes.len(), 12, "{codes:?}");
    check_at_both_widths(&browser).await;

    // The porter answers from the emailed link: asked again for what is missing, then thanked.
    let link = invitation_link(&cluster, PORTER).await;
    browser.goto(&cluster.url(&link)).await;
    browser.expect_page("Do you feel valued? 2027").await;
    check_at_both_widths(&browser).await;
    browser.click("main form button[type='submit']").await;
    browser.expect_page("Do you feel valued? 2027").await;
    assert!(browser.page_text().await.contains("There is a problem"));
    check_at_both_widths(&browser).await;
    let mut admin_client = SurveyServiceClient::new(cluster.channel("survey-feedback").await);
    let token = cluster
        .oidc
        .verified_id_token(PLATFORM_ADMIN)
        .await
        .unwrap();
    let survey = admin_client
        .get_survey(signed(
            &token,
            pb::GetSurveyRequest {
                survey_id: survey_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .survey
        .unwrap();
    let agreement: Vec<&pb::Question> = survey
        .sections
        .iter()
        .flat_map(|s| &s.questions)
        .filter(|q| q.kind == pb::QuestionKind::Agreement as i32)
        .collect();
    browser.choose("staff_group").await;
    for question in &agreement {
        browser.choose(&format!("q-{}-2", question.id)).await;
    }
    browser.click("main form button[type='submit']").await;
    browser
        .expect_page("Thank you: your answers have been sent")
        .await;
    check_at_both_widths(&browser).await;

    // Eleven more in the porter's staff group and one clerk, each with a printed code.
    let public = SurveyServiceClient::new(cluster.channel("survey-feedback").await);
    for (n, code) in codes.iter().enumerate() {
        let group = match n {
            0..11 => "estates-and-ancillary",
            11 => "administrative-and-clerical",
            _ => continue,
        };
        public
            .clone()
            .submit_response(pb::SubmitResponseRequest {
                invitation_code: code.clone(),
                answers: agreement
                    .iter()
                    .map(|q| pb::Answer {
                        question_id: q.id.clone(),
                        value: Some(5),
                        ..pb::Answer::default()
                    })
                    .collect(),
                staff_group: group.into(),
                ..pb::SubmitResponseRequest::default()
            })
            .await
            .unwrap_or_else(|e| panic!("code {n}: {e}"));
    }

    // Closed: thirteen answered; by staff group the clerk's group is under 11 and the porters'
    // is withheld too, or it would give the clerk's answers away by subtraction.
    browser.goto(&survey_url).await;
    browser.click("form[action$='/close'] button").await;
    browser.expect_page("Do you feel valued? 2027").await;
    browser.click("a[href$='/results']").await;
    browser.expect_page("Do you feel valued? 2027").await;
    let results = browser.page_text().await;
    assert!(results.contains("13 people answered"), "{results}");
    let by_group = results
        .split("By staff group: I feel valued by my organisation")
        .nth(1)
        .expect("a staff group breakdown");
    let by_group = by_group.split("By ").next().unwrap();
    assert!(
        by_group.contains("withheld so that a small group cannot be worked out"),
        "{by_group}"
    );
    assert!(by_group.contains("fewer than 11 responses"), "{by_group}");
    check_at_both_widths(&browser).await;
    // What the page was given says the same: no staff group's figures are shown at all.
    let results = admin_client
        .get_results(signed(&token, pb::GetResultsRequest { survey_id }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(results.responses, 13);
    for question in &results.questions {
        for cell in question
            .cells
            .iter()
            .filter(|c| c.dimension == pb::Dimension::StaffGroup as i32)
        {
            assert!(cell.withheld && cell.responses == 0, "{cell:?}");
        }
    }

    // The trust's Insight dashboard shows the survey's feeling-valued results beside its
    // nomination counts (none yet: every count is withheld), readable at both widths.
    browser
        .goto(&cluster.url("/admin/insight/trusts/RJ1"))
        .await;
    browser
        .expect_page("Guy's and St Thomas' NHS Foundation Trust")
        .await;
    let insight = browser.page_text().await;
    let feeling_valued = insight
        .split("Feeling valued")
        .nth(1)
        .expect("a feeling valued section");
    assert!(
        feeling_valued.contains("Do you feel valued? 2027"),
        "{feeling_valued}"
    );
    assert!(
        feeling_valued.contains("I feel valued by my organisation"),
        "{feeling_valued}"
    );
    assert!(insight.contains("Withheld (fewer than 11)"), "{insight}");
    check_at_both_widths(&browser).await;
    browser.close().await;
}
