//! One-click unsubscribe through the gateway's `/unsubscribe/{token}` (RFC 8058), against this
//! service: a POST with no session, no cookie and no CSRF token, as a mail provider sends it, stops
//! the next non-transactional email and not a transactional one; opening the link changes nothing.

use valued_gateway::{Peer, Peers, Settings as GatewaySettings};
use valued_platform::Shutdown;

use crate::helpers::{PUBLIC_URL, TestApp, envelope, spawn_app};
use crate::sending_policy::{finalist, nominee_thanked, winner};

struct Gateway {
    address: String,
    shutdown: Shutdown,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

/// The gateway on port 0, calling `app` for notifications.
async fn gateway(app: &TestApp) -> Gateway {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let nomination = valued_testkit::grpc::settings();
    let peers = Peers {
        nomination: Peer::new(
            "nomination",
            format!("http://{}", closed.local_addr().unwrap()),
            &nomination,
        )
        .unwrap(),
        notification: Peer::new(valued_notification::NAME, app.grpc_url.clone(), &app.grpc)
            .unwrap(),
        voting: Peer::new(
            "voting",
            format!("http://{}", closed.local_addr().unwrap()),
            &nomination,
        )
        .unwrap(),
        survey_feedback: Peer::new(
            "survey-feedback",
            format!("http://{}", closed.local_addr().unwrap()),
            &nomination,
        )
        .unwrap(),
    };
    let shutdown = Shutdown::new();
    let gateway =
        valued_gateway::Application::build(&GatewaySettings::default(), peers, shutdown.clone())
            .await
            .unwrap();
    let address = format!("http://127.0.0.1:{}", gateway.port());
    tokio::spawn(gateway.run_until_stopped());
    Gateway { address, shutdown }
}

#[tokio::test]
async fn a_one_click_post_without_a_session_stops_news_but_not_transactional_email() {
    let app = spawn_app().await;
    let gateway = gateway(&app).await;
    let news = app
        .publish_and_receive(&envelope(&finalist("sam@example.org")), 1)
        .await;
    let link = news[0].header("List-Unsubscribe").unwrap();
    let link = link.trim_start_matches('<').trim_end_matches('>');
    let url = link.replace(PUBLIC_URL, &gateway.address);
    let http = reqwest::Client::new();

    // Opening the link (as a mail scanner would) only shows the button.
    let page = http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("s***@example.org"), "{html}");
    assert!(html.contains("<button") && html.contains("Unsubscribe"));
    assert!(html.contains("method=\"post\""));

    // The mail provider's one-click POST: no cookie, no CSRF token.
    let done = http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("You are unsubscribed"));
    // Again (providers retry): still fine.
    let again = http
        .post(&url)
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);

    app.publish(&envelope(&winner("sam@example.org"))).await;
    let emails = app
        .publish_and_receive(&envelope(&nominee_thanked("sam@example.org")), 2)
        .await;
    assert_eq!(
        emails.len(),
        2,
        "the transactional email went, the news did not"
    );
    assert!(emails[1].header("List-Unsubscribe").is_none());
    let deliveries = app.settled().await;
    let winner_notice = deliveries
        .iter()
        .find(|d| d.template == "winner_notice")
        .unwrap();
    assert_eq!(winner_notice.status, "unsubscribed");

    // The page now says so.
    let page = http.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("You are unsubscribed"));
}

#[tokio::test]
async fn an_unknown_token_is_a_404_and_unsubscribes_no_one() {
    let app = spawn_app().await;
    let gateway = gateway(&app).await;
    let http = reqwest::Client::new();
    for token in ["0".repeat(64), "not/a/token".into()] {
        let url = format!("{}/unsubscribe/{token}", gateway.address);
        assert_eq!(http.get(&url).send().await.unwrap().status(), 404);
        let post = http
            .post(&url)
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(post.status(), 404);
    }
}
