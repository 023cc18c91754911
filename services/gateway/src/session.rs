//! Admin sign-in: the OpenID Connect authorization code flow with `state`, `nonce` and PKCE (S256),
//! and the session cookie that either way of signing in ends in (a provider's ID token, or one the
//! nomination service signed for an emailed link: see `routes::admin::home`).
//!
//! `/admin/sign-in` keeps a random state, nonce and PKCE verifier in a short-lived `HttpOnly;
//! SameSite=Lax` cookie and sends the browser to the provider; `/admin/callback` checks the state
//! against that cookie, exchanges the code (with the verifier) for tokens at the provider's token
//! endpoint, checks the ID token's issuer, audience, expiry and nonce, and keeps the raw ID token in
//! the session cookie. The gateway decides nothing with it: every admin call forwards it to the
//! nomination service, which verifies its signature and decides what the caller may do.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::cookies;

/// The cookie holding the signed-in admin's raw ID token.
pub const SESSION_COOKIE: &str = "valued_admin";
/// The cookie holding state, nonce and PKCE verifier between sign-in and callback.
const FLOW_COOKIE: &str = "valued_oidc";
/// How long a sign-in at the provider may take.
const FLOW_SECONDS: u32 = 600;
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// The OpenID Connect issuer URL; empty switches admin sign-in off.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<SecretString>,
    /// The gateway's address as browsers reach it, e.g. `https://valued.example.nhs.uk`: the
    /// provider sends the browser back to `<public_url>/admin/callback`. Empty: `http://<Host>`,
    /// good enough on a developer's machine.
    pub public_url: String,
    /// Mark the sign-in cookies `Secure` (set it whenever the gateway is served over HTTPS).
    pub secure_cookies: bool,
    /// Offer sign-in by emailed link beside (or instead of) the provider: the nomination service
    /// must hold `nomination.auth.signing_key`. `valued up` turns it on.
    pub email_links: bool,
}

impl AuthSettings {
    /// Whether admins can sign in at all: through a provider, by emailed link, or both.
    pub fn enabled(&self) -> bool {
        self.has_provider() || self.email_links
    }

    /// Whether an OpenID Connect provider is configured.
    pub fn has_provider(&self) -> bool {
        !self.issuer.trim().is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("the sign-in provider could not be reached: {0}")]
    Provider(String),
    #[error("the sign-in came back without its state cookie or with another state")]
    StateMismatch,
    #[error("the provider refused the sign-in: {0}")]
    Refused(String),
    #[error("the ID token is not acceptable: {0}")]
    InvalidToken(String),
}

#[derive(Debug, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
}

/// What the browser carries between `/admin/sign-in` and `/admin/callback`.
#[derive(Debug, Serialize, Deserialize)]
struct Flow {
    state: String,
    nonce: String,
    verifier: String,
    /// The admin page to return to.
    next: String,
}

#[derive(Debug, Deserialize)]
struct TokenResponse {
    id_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Claims {
    iss: String,
    aud: Audience,
    exp: i64,
    #[serde(default)]
    nonce: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, client_id: &str) -> bool {
        match self {
            Self::One(aud) => aud == client_id,
            Self::Many(auds) => auds.iter().any(|a| a == client_id),
        }
    }
}

/// The gateway as an OpenID Connect client. The provider's metadata is fetched on first use, so
/// the gateway starts while the provider is down.
pub struct Oidc {
    settings: AuthSettings,
    http: reqwest::Client,
    discovery: OnceCell<Discovery>,
}

impl Oidc {
    pub fn new(settings: AuthSettings) -> Self {
        Self {
            settings,
            http: reqwest::Client::builder()
                .timeout(HTTP_TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            discovery: OnceCell::new(),
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.settings.secure_cookies
    }

    /// Whether sign-in goes through an OpenID Connect provider.
    pub fn has_provider(&self) -> bool {
        self.settings.has_provider()
    }

    /// Whether sign-in by emailed link is offered.
    pub fn email_links(&self) -> bool {
        self.settings.email_links
    }

    async fn discovery(&self) -> Result<&Discovery, SignInError> {
        self.discovery
            .get_or_try_init(|| async {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    self.settings.issuer.trim().trim_end_matches('/')
                );
                self.http
                    .get(url)
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status)
                    .map_err(|e| SignInError::Provider(e.to_string()))?
                    .json::<Discovery>()
                    .await
                    .map_err(|e| SignInError::Provider(e.to_string()))
            })
            .await
    }

    fn redirect_uri(&self, headers: &HeaderMap) -> String {
        format!("{}/admin/callback", self.public_base(headers))
    }

    /// Where browsers reach this site (`public_url`, else `http://<Host>`), without a trailing `/`.
    pub fn public_base(&self, headers: &HeaderMap) -> String {
        let base = self.settings.public_url.trim().trim_end_matches('/');
        if base.is_empty() {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}")
        } else {
            base.to_owned()
        }
    }

    /// Where to send the browser to sign in, and the cookie that remembers this attempt.
    pub async fn begin(
        &self,
        headers: &HeaderMap,
        next: &str,
    ) -> Result<(String, HeaderValue), SignInError> {
        let discovery = self.discovery().await?;
        let flow = Flow {
            state: random_token(),
            nonce: random_token(),
            verifier: random_token(),
            next: admin_path(next).to_owned(),
        };
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(flow.verifier.as_bytes()));
        let mut url = reqwest::Url::parse(&discovery.authorization_endpoint)
            .map_err(|e| SignInError::Provider(format!("authorization endpoint: {e}")))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", &self.redirect_uri(headers))
            .append_pair("scope", "openid email profile")
            .append_pair("state", &flow.state)
            .append_pair("nonce", &flow.nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        let value = URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&flow).map_err(|e| SignInError::Provider(e.to_string()))?);
        let cookie = self.cookie(FLOW_COOKIE, &value, Some(FLOW_SECONDS));
        Ok((url.into(), cookie))
    }

    /// Completes a sign-in: the raw ID token and the admin page to return to.
    pub async fn finish(
        &self,
        headers: &HeaderMap,
        code: &str,
        state: &str,
    ) -> Result<(String, String), SignInError> {
        let flow = cookies::value(headers, FLOW_COOKIE)
            .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
            .and_then(|bytes| serde_json::from_slice::<Flow>(&bytes).ok())
            .ok_or(SignInError::StateMismatch)?;
        if !constant_time_eq(flow.state.as_bytes(), state.as_bytes()) {
            return Err(SignInError::StateMismatch);
        }
        let discovery = self.discovery().await?;
        let secret = self
            .settings
            .client_secret
            .as_ref()
            .map(|s| s.expose_secret().to_owned());
        let redirect_uri = self.redirect_uri(headers);
        let response = self
            .http
            .post(&discovery.token_endpoint)
            .basic_auth(&self.settings.client_id, secret)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri.as_str()),
                ("code_verifier", flow.verifier.as_str()),
            ])
            .send()
            .await
            .map_err(|e| SignInError::Provider(e.to_string()))?;
        if !response.status().is_success() {
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            return Err(SignInError::Refused(format!("{status}: {body}")));
        }
        let tokens: TokenResponse = response
            .json()
            .await
            .map_err(|e| SignInError::Provider(e.to_string()))?;
        let id_token = tokens
            .id_token
            .ok_or_else(|| SignInError::InvalidToken("no id_token in the response".into()))?;
        self.check(&id_token, &discovery.issuer, &flow.nonce)?;
        Ok((id_token, flow.next))
    }

    /// The checks of OpenID Connect Core 3.1.3.7 that fall to the client. The token came straight
    /// from the token endpoint, so its signature is left to the nomination service, which verifies
    /// it against the provider's keys on every call.
    fn check(&self, id_token: &str, issuer: &str, nonce: &str) -> Result<(), SignInError> {
        let invalid = |m: &str| SignInError::InvalidToken(m.to_owned());
        let payload = id_token
            .split('.')
            .nth(1)
            .ok_or_else(|| invalid("not a JWT"))?;
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| invalid("unreadable claims"))?;
        if claims.iss.trim_end_matches('/') != issuer.trim_end_matches('/') {
            return Err(invalid("issued by another issuer"));
        }
        if !claims.aud.contains(&self.settings.client_id) {
            return Err(invalid("issued to another client"));
        }
        if claims.exp <= chrono::Utc::now().timestamp() {
            return Err(invalid("expired"));
        }
        if !claims
            .nonce
            .is_some_and(|n| constant_time_eq(n.as_bytes(), nonce.as_bytes()))
        {
            return Err(invalid("the nonce is not ours"));
        }
        Ok(())
    }

    /// The session cookie for a signed-in admin.
    pub fn session_cookie(&self, id_token: &str) -> HeaderValue {
        self.cookie(SESSION_COOKIE, id_token, None)
    }

    /// Cookies that end the session and any sign-in in progress.
    pub fn clear_cookies(&self) -> [HeaderValue; 2] {
        [
            self.cookie(SESSION_COOKIE, "", Some(0)),
            self.cookie(FLOW_COOKIE, "", Some(0)),
        ]
    }

    pub fn clear_flow_cookie(&self) -> HeaderValue {
        self.cookie(FLOW_COOKIE, "", Some(0))
    }

    fn cookie(&self, name: &str, value: &str, max_age: Option<u32>) -> HeaderValue {
        let secure = if self.settings.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        let max_age = max_age
            .map(|s| format!("; Max-Age={s}"))
            .unwrap_or_default();
        HeaderValue::from_str(&format!(
            "{name}={value}; Path=/admin; HttpOnly; SameSite=Lax{max_age}{secure}"
        ))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

/// The ID token of the request's session cookie, if it carries one.
pub fn id_token(headers: &HeaderMap) -> Option<String> {
    cookies::value(headers, SESSION_COOKIE)
        .filter(|v| {
            !v.is_empty()
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
        .map(str::to_owned)
}

/// `next` when it is an admin page of this site, else `/admin`.
pub fn admin_path(next: &str) -> &str {
    let plain = next.bytes().all(|b| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'/' | b'-' | b'.' | b'_' | b'~' | b'%' | b'?' | b'=' | b'&'
            )
    });
    if plain && (next == "/admin" || next.starts_with("/admin/")) && !next.contains("//") {
        next
    } else {
        "/admin"
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn oidc() -> Oidc {
        Oidc::new(AuthSettings {
            issuer: "https://id.example".into(),
            client_id: "valued".into(),
            ..AuthSettings::default()
        })
    }

    fn jwt(claims: serde_json::Value) -> String {
        format!(
            "eyJhbGciOiJSUzI1NiJ9.{}.c2ln",
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    #[test]
    fn only_admin_pages_are_returned_to() {
        assert_eq!(
            admin_path("/admin/campaigns/x/moderation?trust=RX1"),
            "/admin/campaigns/x/moderation?trust=RX1"
        );
        assert_eq!(admin_path("https://evil.example/admin"), "/admin");
        assert_eq!(admin_path("//evil.example/admin"), "/admin");
        assert_eq!(admin_path("/admin//evil.example"), "/admin");
        assert_eq!(admin_path("/administrator"), "/admin");
        assert_eq!(admin_path("/admin/\"x"), "/admin");
    }

    #[test]
    fn an_id_token_must_carry_our_issuer_audience_nonce_and_be_current() {
        let oidc = oidc();
        let exp = chrono::Utc::now().timestamp() + 300;
        let good = serde_json::json!({"iss": "https://id.example", "aud": "valued", "exp": exp, "nonce": "n1"});
        assert!(
            oidc.check(&jwt(good.clone()), "https://id.example/", "n1")
                .is_ok()
        );
        assert!(oidc.check(&jwt(good), "https://id.example", "n2").is_err());
        let many = serde_json::json!({"iss": "https://id.example", "aud": ["x", "valued"], "exp": exp, "nonce": "n1"});
        assert!(oidc.check(&jwt(many), "https://id.example", "n1").is_ok());
        let other = serde_json::json!({"iss": "https://id.example", "aud": "other", "exp": exp, "nonce": "n1"});
        assert!(oidc.check(&jwt(other), "https://id.example", "n1").is_err());
        let expired = serde_json::json!({"iss": "https://id.example", "aud": "valued", "exp": 1, "nonce": "n1"});
        assert!(
            oidc.check(&jwt(expired), "https://id.example", "n1")
                .is_err()
        );
        let no_nonce =
            serde_json::json!({"iss": "https://id.example", "aud": "valued", "exp": exp});
        assert!(
            oidc.check(&jwt(no_nonce), "https://id.example", "n1")
                .is_err()
        );
        let elsewhere = serde_json::json!({"iss": "https://evil.example", "aud": "valued", "exp": exp, "nonce": "n1"});
        assert!(
            oidc.check(&jwt(elsewhere), "https://id.example", "n1")
                .is_err()
        );
    }

    #[test]
    fn session_cookies_are_http_only_and_lax_and_secure_when_set() {
        let cookie = oidc().session_cookie("a.b.c");
        let cookie = cookie.to_str().unwrap();
        assert_eq!(
            cookie,
            "valued_admin=a.b.c; Path=/admin; HttpOnly; SameSite=Lax"
        );
        let secure = Oidc::new(AuthSettings {
            secure_cookies: true,
            ..AuthSettings::default()
        });
        assert!(
            secure
                .session_cookie("a.b.c")
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
    }
}
