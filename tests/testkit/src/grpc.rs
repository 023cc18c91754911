//! Calling a service under test as Valued's own processes do: with a service credential signed with
//! the service's key (every call without one is refused).

use tonic::transport::Channel;
use valued_platform::GrpcSettings;
use valued_platform::auth::service::{Credential, random_key};
use valued_platform::grpc::{Credentialed, credentialed};

/// The name tests sign their calls as.
pub const TEST_CALLER: &str = "test";

/// gRPC settings on a free port with a fresh random service key.
pub fn settings() -> GrpcSettings {
    GrpcSettings {
        service_key: Some(random_key()),
        ..GrpcSettings::default()
    }
}

/// The credential for calling `service`, whose gRPC settings are `grpc`.
pub fn credential(grpc: &GrpcSettings, service: &str) -> anyhow::Result<Credential> {
    grpc.credential(TEST_CALLER, service)
}

/// A connected channel to `service` at `url` whose every call carries a credential.
pub async fn connect(
    url: String,
    grpc: &GrpcSettings,
    service: &str,
) -> anyhow::Result<Credentialed> {
    let channel = Channel::from_shared(url)?.connect().await?;
    Ok(credentialed(channel, credential(grpc, service)?))
}
