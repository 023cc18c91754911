//! A nomination's whole life on PostgreSQL, RabbitMQ and a real SMTP server: typed into the web
//! form, confirmed from the email, the nominee thanked and consenting, approved, judged and announced
//! a finalist, with every email asserted as it arrives.

use std::time::Duration;

use valued_proto::nomination::v1::{
    self as pb, nomination_service_client::NominationServiceClient,
};
use valued_testkit::smtp::ReceivedEmail;

use crate::cluster::{Cluster, nomination_form, nomination_id};

/// Waits for the email with `subject` to `recipient`.
pub async fn email_to(cluster: &Cluster, recipient: &str, subject: &str) -> ReceivedEmail {
    email_where(cluster, |e| {
        e.rcpt_to == [recipient] && e.subject() == subject
    })
    .await
}

/// Waits (up to 30 s) for the first email that `wanted` picks.
pub async fn email_where(
    cluster: &Cluster,
    wanted: impl Fn(&ReceivedEmail) -> bool,
) -> ReceivedEmail {
    for _ in 0..300 {
        if let Some(email) = cluster.smtp.received().into_iter().find(|e| wanted(e)) {
            return email;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no such email; got {:?}; logs in {}",
        cluster
            .smtp
            .received()
            .iter()
            .map(|e| (e.rcpt_to.clone(), e.subject()))
            .collect::<Vec<_>>(),
        cluster.logs.display()
    );
}

pub fn signed<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

#[tokio::test]
async fn a_nomination_goes_from_the_form_to_finalist_with_every_email_sent() {
    let cluster = Cluster::start().await;
    let campaign = cluster.demo_campaign().await;
    let csrf = cluster.csrf_token().await;
    let trust = &campaign.trusts[0];
    let category = &campaign.categories[0];

    // 1. Nominate through the form: only a request to confirm goes out.
    let response = cluster
        .post_nomination(
            &csrf,
            &nomination_form(&campaign, "Sam Patel", "alex.jones@example.org"),
        )
        .await;
    let id = nomination_id(&response);
    let confirm = email_to(
        &cluster,
        "alex.jones@example.org",
        "Confirm your nomination of Sam Patel",
    )
    .await;
    assert_eq!(
        confirm.content_types(),
        ["multipart/alternative", "text/plain", "text/html"]
    );
    assert_eq!(
        cluster.smtp.received().len(),
        1,
        "nothing else before confirming"
    );

    // 2. Confirm from the email: the receipt, the trust's review email and the thank-you follow.
    let page = cluster.confirm_from_email(&confirm).await;
    assert!(page.contains("Sam Patel"), "{page}");
    let receipt = email_to(
        &cluster,
        "alex.jones@example.org",
        "Thank you for nominating Sam Patel",
    )
    .await;
    let text = receipt.text_body();
    assert!(text.contains("Dear Alex Jones"), "{text}");
    assert!(
        text.contains(&trust.name) && text.contains(&category.name) && text.contains(&id),
        "{text}"
    );
    assert!(receipt.html_body().contains("<strong>Sam Patel</strong>"));
    // Sent alongside the receipt, so it may arrive just after it.
    let review = email_where(&cluster, |e| {
        e.subject().starts_with("New nomination to review")
    })
    .await;
    let trust_contact = review.rcpt_to[0].clone();
    assert!(trust_contact.ends_with(".example.org"));
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
    // No work address was given: the trust's contact passes the thank-you on, with a link where
    // Sam gives an address of their own, never a consent link.
    let thanks = email_to(
        &cluster,
        &trust_contact,
        "Please pass on privately to Sam Patel: a thank-you from colleagues",
    )
    .await;
    let text = thanks.text_body();
    assert!(!text.contains("/consent/"), "{text}");
    let (_, after) = text.split_once("/claim/").expect("a claim link");
    let token: String = after.chars().take_while(char::is_ascii_hexdigit).collect();
    let claim_url = cluster.url(&format!("/claim/{token}"));
    let page = cluster.http.get(&claim_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Sam Patel"));
    // The address that passed it on is not Sam's own.
    let refused = cluster
        .http
        .post(&claim_url)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", trust_contact.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let claimed = cluster
        .http
        .post(&claim_url)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", "sam.patel@example.org"),
        ])
        .send()
        .await
        .unwrap();
    assert!(claimed.status().is_success(), "{}", claimed.status());
    let link = email_to(
        &cluster,
        "sam.patel@example.org",
        "Your link to choose what is shared about your nomination, Sam Patel",
    )
    .await;

    // 3. Sam consents on the page the link opens: listed and story, not their MP.
    let text = link.text_body();
    let (_, after) = text.split_once("/consent/").expect("a consent link");
    let token: String = after.chars().take_while(char::is_ascii_hexdigit).collect();
    let consent_url = cluster.url(&format!("/consent/{token}"));
    assert_eq!(
        cluster
            .http
            .get(&consent_url)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let consented = cluster
        .http
        .post(&consent_url)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("listed_publicly", "yes"),
            ("story_published", "yes"),
            ("shared_with_mp", "no"),
        ])
        .send()
        .await
        .unwrap();
    assert!(consented.status().is_success(), "{}", consented.status());

    // 4. The admin approves; 5. a judge scores; 6. the admin announces the finalist.
    cluster.make_finalist(&campaign, &id, false).await;

    // The finalist notices: to Sam (through the trust contact) and to the nominator.
    let to_nominator = email_to(
        &cluster,
        "alex.jones@example.org",
        "Sam Patel is a finalist in Health Heroes 2026",
    )
    .await;
    assert!(to_nominator.text_body().contains("Sam Patel"));
    // Told at the address Sam showed is theirs.
    email_to(
        &cluster,
        "sam.patel@example.org",
        "Congratulations: you are a finalist in Health Heroes 2026",
    )
    .await;

    // The public campaign page lists the finalist with the consented story.
    let public = NominationServiceClient::new(cluster.channel("nomination").await)
        .list_recognised(pb::ListRecognisedRequest {
            campaign_id: campaign.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(public.len(), 1);
    assert_eq!(public[0].nominee_name, "Sam Patel");
    assert!(public[0].story.starts_with("Always the first to help"));
    assert_eq!(cluster.smtp.received().len(), 7, "no other email");
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
    // What the service refuses is shown on the page of the form that asks it, one page at a time,
    // each listing only its own errors in the NHS.UK error summary. Unknown trust and category pass
    // the service's first checks, so they come back once the rest is right.
    let valid = nomination_form(&campaign, "Sam Patel", "alex@example.org");
    for (message, field) in [
        ("must be on one line", "nominee_name"),
        (
            "Your story must be 300 words or fewer (it has 301)",
            "story",
        ),
        (
            "Enter an email address in the correct format",
            "nominator_email",
        ),
        ("Select a category from the list", "category_id"),
        ("Select a trust from the list", "trust_code"),
    ] {
        let response = cluster.post_nomination(&csrf, &form).await;
        assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);
        let page = response.text().await.unwrap();
        assert!(
            page.contains("There is a problem"),
            "the NHS.UK error summary"
        );
        assert!(page.contains(message), "missing {message:?}");
        assert!(
            page.contains(&format!("href=\"#{field}\"")),
            "the summary links to {field}"
        );
        // Corrected on that page, as the user would.
        let corrected = valid.iter().find(|(f, _)| *f == field).unwrap().1.clone();
        form.iter_mut().find(|(f, _)| *f == field).unwrap().1 = corrected;
    }

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
