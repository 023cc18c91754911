//! Rate limits on the public forms hold across gateway replicas: the budgets live in the nomination
//! service's database, so two gateway processes behind one ingress share them, per network and per
//! person (however their address is typed).

use std::time::Duration;

use reqwest::StatusCode;
use valued_proto::nomination::v1::Campaign;
use valued_testkit::rabbitmq::Vhost;

use crate::cluster::{Cluster, DEMO_CAMPAIGN, nomination_form};

/// A browser behind the ingress at `network`, talking to the gateway on `port`.
struct Visitor {
    http: reqwest::Client,
    port: u16,
    network: &'static str,
}

impl Visitor {
    fn new(port: u16, network: &'static str) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Self {
            http,
            port,
            network,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Opens the form (for its CSRF cookie and token) and sends a nomination of `nominee` by
    /// `nominator_email`, as the ingress would forward it.
    async fn nominate(
        &self,
        campaign: &Campaign,
        nominee: &str,
        nominator_email: &str,
    ) -> (StatusCode, String) {
        let form_page = self
            .http
            .get(self.url(&format!("/campaigns/{DEMO_CAMPAIGN}/nominate")))
            .header("x-forwarded-for", self.network)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let (_, after) = form_page.split_once("name=\"csrf_token\"").unwrap();
        let (_, value) = after.split_once("value=\"").unwrap();
        let csrf = value.split('"').next().unwrap().to_owned();
        let mut form = nomination_form(campaign, nominee, nominator_email);
        form.push(("csrf_token", csrf));
        let response = self
            .http
            .post(self.url(&format!("/campaigns/{DEMO_CAMPAIGN}/nominate")))
            // What a client claims further left is ignored: the ingress's entry is the last.
            .header("x-forwarded-for", format!("192.0.2.1, {}", self.network))
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.text().await.unwrap())
    }
}

#[tokio::test]
async fn two_gateways_share_one_budget_per_network_and_per_person() {
    let vhost = Vhost::create().unwrap();
    let server = valued_testkit::postgres::server_url();
    let mut cluster = Cluster::start_on(
        vhost,
        |_| server.clone(),
        &[
            ("VALUED__NOMINATION__RATE_LIMITS__PER_CLIENT_PER_HOUR", "4"),
            ("VALUED__NOMINATION__RATE_LIMITS__PER_ADDRESS_PER_DAY", "3"),
            ("VALUED__GATEWAY__HTTP__TRUSTED_PROXIES", "1"),
        ],
    )
    .await;
    let gateways = [
        cluster.ports["gateway"],
        cluster.start_second_gateway().await,
    ];
    let campaign = cluster.demo_campaign().await;

    // One network: four nominations, alternating between the gateways, then the fifth is refused
    // with the answers kept and nothing stored.
    let hospital = [
        Visitor::new(gateways[0], "203.0.113.7"),
        Visitor::new(gateways[1], "203.0.113.7"),
    ];
    for i in 0..4 {
        let (status, _) = hospital[i % 2]
            .nominate(
                &campaign,
                &format!("Nominee {i}"),
                &format!("colleague{i}@example.org"),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "nomination {i}");
    }
    let (status, page) = hospital[0]
        .nominate(&campaign, "Nominee Five", "colleague5@example.org")
        .await;
    assert_ne!(status, StatusCode::SEE_OTHER);
    assert!(
        page.contains("too many requests from your network"),
        "{page}"
    );
    assert!(
        page.contains("Nominee Five"),
        "the answers are kept: {page}"
    );
    // Another network has its own budget.
    let (status, _) = Visitor::new(gateways[1], "203.0.113.8")
        .nominate(&campaign, "Nominee Six", "colleague6@example.org")
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // One person, typed three ways from three networks through both gateways: the fourth attempt
    // naming their mailbox is refused at the email field.
    let typed = [
        ("198.51.100.1", "Victim@example.org"),
        ("198.51.100.2", "victim+1@example.org"),
        ("198.51.100.3", "VICTIM+nominations@Example.org"),
    ];
    for (i, (network, address)) in typed.into_iter().enumerate() {
        let (status, _) = Visitor::new(gateways[i % 2], network)
            .nominate(&campaign, &format!("Victim's pick {i}"), address)
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{address}");
    }
    let (status, page) = Visitor::new(gateways[1], "198.51.100.4")
        .nominate(&campaign, "One more", "victim+again@example.org")
        .await;
    assert_ne!(status, StatusCode::SEE_OTHER);
    assert!(
        page.contains("This email address has been used too many times today"),
        "{page}"
    );

    // Nothing refused was stored or emailed: 4 + 1 + 3 nominations, one confirmation each.
    assert_eq!(cluster.row_count("nomination", "nomination").await, 8);
    cluster.smtp.wait_for(8, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(cluster.smtp.received().len(), 8);
}
