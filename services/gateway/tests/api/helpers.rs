use valued_gateway::{Application, Peer, Peers, Settings};
use valued_platform::Shutdown;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    shutdown: Shutdown,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap()
    }

    pub async fn post_form(
        &self,
        path: &str,
        body: &str,
        cookie: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}{path}", self.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned());
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.unwrap()
    }
}

/// A port nothing listens on.
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// The gateway on port 0, its peers at closed ports.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Settings::default()).await
}

pub async fn spawn_app_with(settings: Settings) -> TestApp {
    let nomination = format!("http://127.0.0.1:{}", closed_port().await);
    spawn_app_with_peers(settings, nomination).await
}

/// The gateway on port 0 calling the nomination service at `nomination` (a fake, say).
pub async fn spawn_app_with_peers(settings: Settings, nomination: String) -> TestApp {
    let voting = format!("http://127.0.0.1:{}", closed_port().await);
    let keys = valued_testkit::grpc::settings();
    spawn_app_on(settings, nomination, voting, keys, None).await
}

/// The gateway on port 0 calling the nomination service at `nomination` and the voting service
/// at `voting`, whose gRPC settings (and so its service key) are `voting_grpc`.
pub async fn spawn_app_with_voting(
    nomination: String,
    voting: String,
    voting_grpc: &valued_platform::GrpcSettings,
) -> TestApp {
    spawn_app_on(
        Settings::default(),
        nomination,
        voting,
        voting_grpc.clone(),
        None,
    )
    .await
}

/// The gateway on port 0 calling the nomination service at `nomination` and the survey-feedback
/// service at `survey`, whose gRPC settings (and so its service key) are `survey_grpc`.
pub async fn spawn_app_with_survey(
    nomination: String,
    survey: String,
    survey_grpc: &valued_platform::GrpcSettings,
) -> TestApp {
    let voting = format!("http://127.0.0.1:{}", closed_port().await);
    spawn_app_on(
        Settings::default(),
        nomination,
        voting,
        valued_testkit::grpc::settings(),
        Some((survey, survey_grpc.clone())),
    )
    .await
}

/// The peers' credentials are all signed with `keys`' service key (a fake checks none), but
/// the survey-feedback service's, when given, with its own.
async fn spawn_app_on(
    settings: Settings,
    nomination: String,
    voting: String,
    keys: valued_platform::GrpcSettings,
    survey: Option<(String, valued_platform::GrpcSettings)>,
) -> TestApp {
    valued_testkit::init_test_logging();
    let peers = Peers {
        nomination: Peer::new("nomination", nomination, &keys).unwrap(),
        notification: Peer::new(
            "notification",
            format!("http://127.0.0.1:{}", closed_port().await),
            &keys,
        )
        .unwrap(),
        voting: Peer::new("voting", voting, &keys).unwrap(),
        survey_feedback: match survey {
            Some((url, grpc)) => Peer::new("survey-feedback", url, &grpc).unwrap(),
            None => Peer::new(
                "survey-feedback",
                format!("http://127.0.0.1:{}", closed_port().await),
                &keys,
            )
            .unwrap(),
        },
    };
    let shutdown = Shutdown::new();
    let app = Application::build(&settings, peers, shutdown.clone())
        .await
        .unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        shutdown,
    }
}
