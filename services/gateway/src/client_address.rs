//! Where each request came from, for the services' rate limits: every gRPC call made while handling
//! a request carries its client address (`valued_platform::limits`), and the service that owns the
//! state counts it, so that every gateway replica shares one budget.
//!
//! The address is the TCP peer's, unless `http.trusted_proxies` says how many proxies (an ingress,
//! a load balancer) stand in front of the gateway: then it is the entry that many places from the
//! right of `X-Forwarded-For`, the last one a trusted proxy wrote (whatever a client puts further
//! left is its own claim). An IPv6 client counts by its /64, the block one household or phone
//! is given, so that it cannot step through its own addresses.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

/// How many proxies in front of the gateway append to `X-Forwarded-For`.
#[derive(Debug, Clone, Copy)]
pub struct TrustedProxies(pub usize);

/// Runs the rest of the request with its client address carried on every gRPC call.
pub async fn carry(
    State(proxies): State<TrustedProxies>,
    request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip());
    match client(peer, request.headers(), proxies) {
        Some(client) => {
            valued_platform::limits::as_client(counted(client), next.run(request)).await
        }
        None => next.run(request).await,
    }
}

/// The client's address as the proxies the gateway trusts report it, else the peer's.
fn client(peer: Option<IpAddr>, headers: &HeaderMap, proxies: TrustedProxies) -> Option<IpAddr> {
    if proxies.0 == 0 {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let index = hops.len().saturating_sub(proxies.0);
    hops.get(index)
        .and_then(|hop| hop.parse::<IpAddr>().ok())
        .or(peer)
}

/// The form a client is counted under: an IPv4 address whole, an IPv6 address by its /64.
fn counted(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let segments = v6.segments();
                let block = Ipv6Addr::new(
                    segments[0],
                    segments[1],
                    segments[2],
                    segments[3],
                    0,
                    0,
                    0,
                    0,
                );
                format!("{block}/64")
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    const PEER: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 9)));

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_headers_claim() {
        let claimed = forwarded(&["203.0.113.7"]);
        assert_eq!(client(PEER, &claimed, TrustedProxies(0)), PEER);
    }

    #[test]
    fn behind_one_proxy_the_last_entry_is_the_client_and_earlier_claims_are_ignored() {
        let headers = forwarded(&["198.51.100.1, 203.0.113.7"]);
        assert_eq!(
            client(PEER, &headers, TrustedProxies(1)),
            Some("203.0.113.7".parse().unwrap())
        );
        let two_headers = forwarded(&["198.51.100.1", "203.0.113.7, 10.1.1.1"]);
        assert_eq!(
            client(PEER, &two_headers, TrustedProxies(2)),
            Some("203.0.113.7".parse().unwrap())
        );
    }

    #[test]
    fn a_missing_or_garbled_header_falls_back_to_the_peer() {
        assert_eq!(client(PEER, &HeaderMap::new(), TrustedProxies(1)), PEER);
        assert_eq!(
            client(PEER, &forwarded(&["not an address"]), TrustedProxies(1)),
            PEER
        );
    }

    #[test]
    fn ipv6_clients_count_by_their_64_block() {
        let one = counted("2001:db8:1:2:aaaa::1".parse().unwrap());
        let other = counted("2001:db8:1:2:bbbb::2".parse().unwrap());
        assert_eq!(one, other);
        assert_eq!(one, "2001:db8:1:2::/64");
        assert_eq!(
            counted("::ffff:203.0.113.7".parse().unwrap()),
            "203.0.113.7"
        );
    }
}
