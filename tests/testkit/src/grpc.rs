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

/// The full gRPC path (`/package.Service/Method`) of every method of the service `service` (its
/// fully qualified name), read from the generated descriptors: what a service answers, so that a
/// test can call every one, including those added after it was written.
pub fn methods_of(service: &str) -> anyhow::Result<Vec<String>> {
    use prost::Message;
    let files = prost_types::FileDescriptorSet::decode(valued_proto::FILE_DESCRIPTOR_SET)?;
    let mut methods = Vec::new();
    for file in &files.file {
        for described in &file.service {
            let full = format!("{}.{}", file.package(), described.name());
            if full == service {
                for method in &described.method {
                    methods.push(format!("/{full}/{}", method.name()));
                }
            }
        }
    }
    anyhow::ensure!(!methods.is_empty(), "no service {service} is described");
    Ok(methods)
}

/// Sends an empty message, which is valid for every proto3 request, and ignores the reply's bytes.
#[derive(Debug, Clone, Copy, Default)]
struct EmptyCodec;

impl tonic::codec::Codec for EmptyCodec {
    type Encode = ();
    type Decode = ();
    type Encoder = Self;
    type Decoder = Self;

    fn encoder(&mut self) -> Self {
        *self
    }

    fn decoder(&mut self) -> Self {
        *self
    }
}

impl tonic::codec::Encoder for EmptyCodec {
    type Item = ();
    type Error = tonic::Status;

    fn encode(&mut self, (): (), _: &mut tonic::codec::EncodeBuf<'_>) -> Result<(), tonic::Status> {
        Ok(())
    }
}

impl tonic::codec::Decoder for EmptyCodec {
    type Item = ();
    type Error = tonic::Status;

    fn decode(
        &mut self,
        buf: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<()>, tonic::Status> {
        use prost::bytes::Buf;
        buf.advance(buf.remaining());
        Ok(Some(()))
    }
}

/// Calls the method at `path` with an empty message (valid for any proto3 request) through
/// `channel` (with or without a service credential), with `bearer` as the caller's ID token if
/// given; the reply's content is dropped.
pub async fn call_empty<T>(
    channel: T,
    path: &str,
    bearer: Option<&str>,
) -> Result<(), tonic::Status>
where
    T: tonic::client::GrpcService<tonic::body::Body>,
    T::Error: Into<tonic::codegen::StdError>,
    T::ResponseBody: tonic::codegen::Body<Data = prost::bytes::Bytes> + Send + 'static,
    <T::ResponseBody as tonic::codegen::Body>::Error: Into<tonic::codegen::StdError> + Send,
{
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.into().to_string()))?;
    let mut request = tonic::Request::new(());
    if let Some(token) = bearer
        && let Ok(value) = format!("Bearer {token}").parse()
    {
        request.metadata_mut().insert("authorization", value);
    }
    let path = path
        .parse::<tonic::codegen::http::uri::PathAndQuery>()
        .map_err(|e| tonic::Status::invalid_argument(e.to_string()))?;
    grpc.unary(request, path, EmptyCodec).await.map(|_| ())
}
