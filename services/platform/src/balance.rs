//! Client channels balanced per call across a service's replicas. A gRPC client keeps one HTTP/2
//! connection per address and sends every call down it, so behind one Kubernetes Service address
//! all of a gateway's calls go to the one pod its connection happened to reach, however many pods
//! the autoscaler adds. Here the service's name is resolved again and again (a headless Service
//! answers with the address of every ready pod), each address gets a connection of its own, and
//! each call goes to the less loaded of two picked at random (tower's power of two choices). A pod
//! that stops being ready leaves the answer, and so the set, within one refresh.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tonic::codegen::http::Uri;
use tonic::transport::channel::Change;
use tonic::transport::{Channel, Endpoint};

/// How often a name is resolved again.
pub const REFRESH: Duration = Duration::from_secs(5);

/// Where a service's replicas are: the addresses a name resolves to, now.
#[async_trait::async_trait]
pub trait Replicas: Send + Sync + 'static {
    async fn addresses(&self) -> std::io::Result<BTreeSet<SocketAddr>>;
}

/// The replicas DNS names for `host:port` (every ready pod, for a headless Service).
pub struct Dns {
    host: String,
    port: u16,
}

#[async_trait::async_trait]
impl Replicas for Dns {
    async fn addresses(&self) -> std::io::Result<BTreeSet<SocketAddr>> {
        Ok(tokio::net::lookup_host((self.host.as_str(), self.port))
            .await?
            .collect())
    }
}

/// How each connection is made: the timeouts of the caller's own endpoint.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub request: Duration,
}

/// A channel to the service at `url` (`http://name:port`), balanced per call across the addresses
/// its name resolves to. A URL whose host is an address is one replica: a plain lazy channel.
pub fn channel(url: &str, timeouts: Timeouts) -> anyhow::Result<Channel> {
    let endpoint = endpoint(url, timeouts)?;
    let uri = endpoint.uri();
    let host = uri
        .host()
        .with_context(|| format!("no host in the gRPC URL {url:?}"))?
        .trim_start_matches('[')
        .trim_end_matches(']');
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Ok(endpoint.connect_lazy());
    }
    let port = uri
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("https") {
            443
        } else {
            80
        });
    Ok(across(
        Dns {
            host: host.to_owned(),
            port,
        },
        uri.clone(),
        timeouts,
        REFRESH,
    ))
}

/// A channel balanced across whatever `replicas` says, asked again every `refresh`; each address
/// is reached with `service`'s scheme and authority, within `timeouts`.
pub fn across(
    replicas: impl Replicas,
    service: Uri,
    timeouts: Timeouts,
    refresh: Duration,
) -> Channel {
    let (channel, changes) = Channel::balance_channel::<SocketAddr>(64);
    tokio::spawn(async move {
        let mut known = BTreeSet::new();
        loop {
            match replicas.addresses().await {
                Ok(now) if !now.is_empty() => {
                    for gone in known.difference(&now) {
                        if changes.send(Change::Remove(*gone)).await.is_err() {
                            return;
                        }
                    }
                    for new in now.difference(&known) {
                        let Ok(endpoint) = at(&service, *new, timeouts) else {
                            continue;
                        };
                        if changes.send(Change::Insert(*new, endpoint)).await.is_err() {
                            return;
                        }
                    }
                    if now != known {
                        tracing::debug!(replicas = ?now, "gRPC replicas changed");
                    }
                    known = now;
                }
                // No answer keeps the replicas last known: a DNS blip must not empty the set.
                Ok(_) => tracing::warn!(uri = %service, "no replicas resolved"),
                Err(error) => {
                    tracing::warn!(uri = %service, %error, "resolving the replicas failed")
                }
            }
            tokio::select! {
                _ = changes.closed() => return,
                _ = tokio::time::sleep(refresh) => {}
            }
        }
    });
    channel
}

fn endpoint(url: &str, timeouts: Timeouts) -> anyhow::Result<Endpoint> {
    Ok(Endpoint::from_shared(url.to_owned())
        .with_context(|| format!("invalid gRPC URL {url:?}"))?
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.request))
}

/// The replica at `address` of `service`, which keeps its name as the authority the server sees.
fn at(service: &Uri, address: SocketAddr, timeouts: Timeouts) -> anyhow::Result<Endpoint> {
    let scheme = service.scheme_str().unwrap_or("http");
    let url = format!("{scheme}://{address}");
    Ok(endpoint(&url, timeouts)?.origin(service.clone()))
}
