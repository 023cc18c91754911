//! A service run in the benchmark's own process: its platform (in-process bus), the OpenID Connect
//! provider its admins sign in through, and a platform admin's channel to it.

use sea_orm::DatabaseConnection;
use valued_platform::GrpcSettings;
use valued_platform::auth::OidcSettings;
use valued_platform::grpc::Credentialed;
use valued_testkit::oidc::{self, OidcProvider};
use valued_testkit::platform::TestPlatform;

pub const PLATFORM_ADMIN: &str = "platform.admin@valued.example.org";

pub struct Harness {
    pub platform: TestPlatform,
    pub provider: OidcProvider,
}

impl Harness {
    /// The platform of the service `name` and an OpenID Connect provider.
    pub async fn start(name: &str) -> Self {
        Self {
            platform: TestPlatform::start(name).await.unwrap(),
            provider: OidcProvider::start().await.unwrap(),
        }
    }

    /// The service's settings for checking the provider's ID tokens.
    pub fn auth(&self) -> OidcSettings {
        OidcSettings {
            issuer: self.provider.issuer.clone(),
            audience: oidc::CLIENT_ID.into(),
            ..OidcSettings::default()
        }
    }

    /// A credentialed channel to `service` listening on `port` of 127.0.0.1 with the gRPC
    /// settings `grpc`, and the ID token of [`PLATFORM_ADMIN`] once the service's copy of the
    /// grants (in `db`) makes them a platform admin.
    pub async fn admin(
        &self,
        db: &DatabaseConnection,
        port: u16,
        grpc: &GrpcSettings,
        service: &str,
    ) -> (Credentialed, String) {
        let channel =
            valued_testkit::grpc::connect(format!("http://127.0.0.1:{port}"), grpc, service)
                .await
                .unwrap();
        let token = valued_testkit::roles::platform_admin(
            &self.platform,
            db,
            &self.provider,
            PLATFORM_ADMIN,
        )
        .await
        .unwrap();
        (channel, token)
    }
}
