//! No response of the API carries a live link token: the deliveries list shows each link up to its
//! page, the token replaced, while the email sent keeps it.

use prost::Message;
use valued_proto::events::v1::NominationConfirmationRequested;
use valued_proto::notification::v1::ListDeliveriesResponse;

use crate::helpers::{PUBLIC_URL, envelope, has_link, spawn_app};

#[tokio::test]
async fn the_deliveries_list_shows_a_confirmation_without_its_token() {
    let app = spawn_app().await;
    let event = NominationConfirmationRequested {
        nomination_id: uuid::Uuid::now_v7().to_string(),
        campaign_name: "Health Heroes 2026".into(),
        nominator_name: "Alex Jones".into(),
        nominator_email: "alex@example.org".into(),
        nominee_name: "Sam Patel".into(),
        confirm_token: "5e3f0c9a7b214d6e8f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70".into(),
    };
    let emails = app.publish_and_receive(&envelope(&event), 1).await;
    assert_eq!(emails.len(), 1);
    let email = &emails[0];
    // The token as the email carried it, not as the test sent it.
    let text = email.text_body();
    let link = format!("{PUBLIC_URL}/confirm/");
    let start = text.find(&link).expect("a confirm link") + link.len();
    let token: String = text[start..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    assert_eq!(token, event.confirm_token);
    assert!(has_link(email, &format!("{link}{token}")));
    // Every field of the list as the API answered it, once the email is sent.
    let response = ListDeliveriesResponse {
        deliveries: app.settled().await,
    };
    let bytes = response.encode_to_vec();
    assert!(
        !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
        "the token is nowhere in the response: {response:?}"
    );
    let [delivery] = response.deliveries.as_slice() else {
        panic!("one delivery: {response:?}");
    };
    assert_eq!(delivery.status, "sent");
    assert_eq!(delivery.subject, email.subject());
    assert!(
        delivery
            .text_body
            .contains(&format!("{link}[token removed]")),
        "{}",
        delivery.text_body
    );
    assert_eq!(
        delivery.text_body.replace('\r', "").trim_end(),
        text.replace(&token, "[token removed]")
            .replace('\r', "")
            .trim_end(),
        "everything but the token as sent"
    );
}

#[tokio::test]
async fn every_email_links_to_the_privacy_notice() {
    let app = spawn_app().await;
    let event = NominationConfirmationRequested {
        nomination_id: uuid::Uuid::now_v7().to_string(),
        campaign_name: "Health Heroes 2026".into(),
        nominator_name: "Alex Jones".into(),
        nominator_email: "alex@example.org".into(),
        nominee_name: "Sam Patel".into(),
        confirm_token: "c0ffee".into(),
    };
    let emails = app.publish_and_receive(&envelope(&event), 1).await;
    let privacy = format!("{PUBLIC_URL}/privacy");
    assert!(
        emails[0]
            .text_body()
            .trim_end()
            .ends_with(&format!("How we use your information: {privacy}")),
        "{}",
        emails[0].text_body()
    );
    assert!(has_link(&emails[0], &privacy), "{}", emails[0].html_body());
}
