//! A nomination typed into the web form arrives as two emails in the SMTP sink.

use std::time::Duration;

use crate::cluster::{Cluster, nomination_form, nomination_id};

#[tokio::test]
async fn a_nomination_through_the_form_emails_the_nominator_and_the_trust() {
    let cluster = Cluster::start().await;
    let campaign = cluster.demo_campaign().await;
    let csrf = cluster.csrf_token().await;

    let response = cluster
        .post_nomination(
            &csrf,
            &nomination_form(&campaign, "Sam Patel", "alex.jones@example.org"),
        )
        .await;
    let id = nomination_id(&response);

    let emails = cluster.smtp.wait_for(2, Duration::from_secs(30)).await;
    assert_eq!(emails.len(), 2, "logs in {}", cluster.logs.display());
    let trust = &campaign.trusts[0];
    let category = &campaign.categories[0];

    let confirmation = emails
        .iter()
        .find(|e| e.rcpt_to == ["alex.jones@example.org"])
        .expect("a confirmation to the nominator");
    assert_eq!(confirmation.subject(), "Thank you for nominating Sam Patel");
    let text = confirmation.text_body();
    assert!(text.contains("Dear Alex Jones"), "{text}");
    assert!(
        text.contains(&trust.name) && text.contains(&category.name) && text.contains(&id),
        "{text}"
    );
    assert!(
        confirmation
            .html_body()
            .contains("<strong>Sam Patel</strong>")
    );
    assert_eq!(
        confirmation.content_types(),
        ["multipart/alternative", "text/plain", "text/html"]
    );

    let review = emails
        .iter()
        .find(|e| e.subject().starts_with("New nomination to review"))
        .expect("an admin email");
    assert!(review.rcpt_to.len() == 1 && review.rcpt_to[0].ends_with(".example.org"));
    assert_eq!(
        review.subject(),
        format!("New nomination to review: Sam Patel ({})", category.name)
    );
    assert!(review.text_body().contains("Always the first to help"));
    assert!(
        review
            .text_body()
            .contains("Nominated by: Alex Jones (I work with them)")
    );
}

#[tokio::test]
async fn bad_input_is_refused_field_by_field_and_nothing_is_stored_or_sent() {
    let cluster = Cluster::start().await;
    let campaign = cluster.demo_campaign().await;
    let csrf = cluster.csrf_token().await;

    let mut form = nomination_form(&campaign, "Sam\r\nBcc: victim@example.org", "not an email");
    for (field, value) in &mut form {
        match *field {
            "story" => *value = "word ".repeat(301),
            "trust_code" => *value = "ZZZ".into(),
            "category_id" => *value = uuid::Uuid::now_v7().to_string(),
            _ => {}
        }
    }
    let response = cluster.post_nomination(&csrf, &form).await;
    assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("There is a problem"),
        "the NHS.UK error summary"
    );
    for message in [
        "must be on one line",
        "Your story must be 300 words or fewer (it has 301)",
        "Enter an email address in the correct format",
    ] {
        assert!(page.contains(message), "missing {message:?}");
    }
    for field in ["nominee_name", "story", "nominator_email"] {
        assert!(
            page.contains(&format!("href=\"#{field}\"")),
            "the summary links to {field}"
        );
    }

    // Unknown trust and category pass the form's checks, but not the service's.
    let mut form = nomination_form(&campaign, "Sam Patel", "alex@example.org");
    for (field, value) in &mut form {
        match *field {
            "trust_code" => *value = "ZZZ".into(),
            "category_id" => *value = uuid::Uuid::now_v7().to_string(),
            _ => {}
        }
    }
    let page = cluster
        .post_nomination(&csrf, &form)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Select a trust from the list"));
    assert!(page.contains("Select a category from the list"));

    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        cluster.row_count("nomination", "nomination").await,
        0,
        "nothing stored"
    );
    assert_eq!(
        cluster.row_count("nomination", "outbox").await,
        0,
        "no event"
    );
    assert!(
        cluster.smtp.received().is_empty(),
        "no email for refused input"
    );
}
