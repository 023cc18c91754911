//! Verifies OpenID Connect ID tokens against the configured issuer's published keys.
//!
//! Keys are fetched on first use (so the service starts while the issuer is down) and fetched again
//! when a token names a key we have not seen, at most once a minute (issuers rotate keys).

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use tokio::sync::Mutex;

use super::{OidcSettings, sign_in_link};

const REFETCH_AFTER: Duration = Duration::from_secs(60);
/// How far the issuer's clock and ours may differ (seconds): both keep time by NTP, and a stolen
/// token's life should not be stretched by more.
const CLOCK_SKEW: u64 = 10;
const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// Who the issuer says the caller is. `iss` and `sub` together name the account; `email` is only
/// the issuer's word for an address, to rely on only when `email_verified`.
#[derive(Debug, Clone, Deserialize)]
pub struct Identity {
    pub iss: String,
    pub sub: String,
    #[serde(default)]
    pub email: String,
    /// A boolean by the specification; some issuers send the text "true".
    #[serde(default, deserialize_with = "true_or_text_true")]
    pub email_verified: bool,
    #[serde(default)]
    pub name: String,
}

fn true_or_text_true<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Bool(verified) => verified,
        serde_json::Value::String(text) => text == "true",
        _ => false,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("admin sign-in is not configured (no OpenID Connect issuer is set)")]
    NotConfigured,
    #[error("the sign-in provider could not be reached: {0}")]
    Unreachable(String),
    #[error("invalid ID token: {0}")]
    Invalid(String),
}

#[derive(Deserialize)]
struct Discovery {
    jwks_uri: String,
}

pub struct Verifier {
    settings: OidcSettings,
    http: reqwest::Client,
    keys: Mutex<Option<(JwkSet, Instant)>>,
}

impl Verifier {
    pub fn new(settings: OidcSettings) -> Self {
        Self {
            settings,
            http: reqwest::Client::builder()
                .timeout(HTTP_TIMEOUT)
                .build()
                .unwrap_or_default(),
            keys: Mutex::new(None),
        }
    }

    pub async fn verify(&self, token: &str) -> Result<Identity, TokenError> {
        let issuer = self.settings.issuer.trim_end_matches('/');
        if issuer.is_empty() && self.settings.sign_in_key.trim().is_empty() {
            return Err(TokenError::NotConfigured);
        }
        let header = decode_header(token).map_err(|e| TokenError::Invalid(e.to_string()))?;
        // An emailed link's token is checked with its own key, never the provider's.
        if sign_in_link::is_ours(&header) {
            return sign_in_link::verify(
                &self.settings.sign_in_key,
                &self.settings.audience,
                token,
                CLOCK_SKEW,
            );
        }
        if issuer.is_empty() {
            return Err(TokenError::NotConfigured);
        }
        let kid = header.kid.clone().unwrap_or_default();
        let jwk = {
            let mut keys = self.keys.lock().await;
            let stale = match keys.as_ref() {
                None => true,
                Some((set, at)) => set.find(&kid).is_none() && at.elapsed() > REFETCH_AFTER,
            };
            if stale {
                *keys = Some((self.fetch_keys(issuer).await?, Instant::now()));
            }
            // An issuer with one key may leave `kid` out.
            keys.as_ref()
                .and_then(|(set, _)| match kid.as_str() {
                    "" => set.keys.first().cloned(),
                    kid => set.find(kid).cloned(),
                })
                .ok_or_else(|| TokenError::Invalid(format!("unknown signing key {kid:?}")))?
        };
        let key = DecodingKey::from_jwk(&jwk).map_err(|e| TokenError::Invalid(e.to_string()))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[&self.settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = CLOCK_SKEW;
        let data = decode::<Identity>(token, &key, &validation)
            .map_err(|e| TokenError::Invalid(e.to_string()))?;
        Ok(data.claims)
    }

    async fn fetch_keys(&self, issuer: &str) -> Result<JwkSet, TokenError> {
        let discovery: Discovery = self
            .get_json(&format!("{issuer}/.well-known/openid-configuration"))
            .await?;
        self.get_json(&discovery.jwks_uri).await
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, TokenError> {
        let unreachable = |e: reqwest::Error| TokenError::Unreachable(e.to_string());
        self.http
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unreachable)?
            .json()
            .await
            .map_err(unreachable)
    }
}
