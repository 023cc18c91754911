//! A real OpenID Connect provider for tests: PyPI's `oidc-provider-mock` (Flask + Authlib), started
//! on a free port. Any subject may sign in; its `email` claim is the subject, unverified, unless the
//! account was given claims first ([`OidcProvider::register`]). `scripts/test` installs it into
//! `target/tools/oidc`; `VALUED_OIDC_PROVIDER` overrides the path to its executable.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

/// The client id tests sign in with (the provider accepts any unregistered client).
pub const CLIENT_ID: &str = "valued-test";
pub const CLIENT_SECRET: &str = "test-secret";
const REDIRECT_URI: &str = "http://127.0.0.1/callback";

pub struct OidcProvider {
    pub issuer: String,
    _child: Child,
}

fn executable() -> PathBuf {
    std::env::var_os("VALUED_OIDC_PROVIDER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/tools/oidc/bin/oidc-provider-mock")
        })
}

impl OidcProvider {
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(None).await
    }

    /// A provider whose ID tokens expire `token_lifetime` seconds after they are issued (by default
    /// the provider's own lifetime).
    pub async fn start_with(token_lifetime: Option<u64>) -> anyhow::Result<Self> {
        let port = crate::free_port();
        let path = executable();
        let mut args = vec![
            "--host".to_owned(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
        ];
        if let Some(seconds) = token_lifetime {
            args.extend(["--token-max-age".to_owned(), seconds.to_string()]);
        }
        let child = Command::new(&path)
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| {
                format!(
                    "starting {} (run scripts/test to install it)",
                    path.display()
                )
            })?;
        let issuer = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..100 {
            let ready = http
                .get(format!("{issuer}/.well-known/openid-configuration"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return Ok(Self {
                    issuer,
                    _child: child,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the OIDC provider did not start on port {port}")
    }

    /// Gives account `sub` the claims `email` and `email_verified` (the provider's
    /// `PUT /users/{sub}`), as an identity provider that has or has not verified the address would.
    pub async fn register(&self, sub: &str, email: &str, verified: bool) -> anyhow::Result<()> {
        reqwest::Client::new()
            .put(format!("{}/users/{sub}", self.issuer))
            .json(&serde_json::json!({"email": email, "email_verified": verified}))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// `email` signed in with the address its provider verified, as an admin normally is.
    pub async fn verified_id_token(&self, email: &str) -> anyhow::Result<String> {
        self.register(email, email, true).await?;
        self.id_token(email).await
    }

    /// Signs `email` in through the authorization-code flow and returns the ID token the provider
    /// issued for [`CLIENT_ID`], as a browser sign-in would obtain it.
    pub async fn id_token(&self, email: &str) -> anyhow::Result<String> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let authorize = http
            .post(format!("{}/oauth2/authorize", self.issuer))
            .query(&[
                ("client_id", CLIENT_ID),
                ("redirect_uri", REDIRECT_URI),
                ("response_type", "code"),
                ("scope", "openid email profile"),
                ("state", "test"),
                ("nonce", "test"),
            ])
            .form(&[("sub", email)])
            .send()
            .await?;
        let location = authorize
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .context("the provider did not redirect back")?;
        let code = reqwest::Url::parse(location)?
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .context("no code in the redirect")?;
        let tokens: serde_json::Value = http
            .post(format!("{}/oauth2/token", self.issuer))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT_URI),
            ])
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        tokens["id_token"]
            .as_str()
            .map(str::to_owned)
            .context("no id_token in the token response")
    }
}
