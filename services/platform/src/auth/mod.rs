//! Who is calling a service: signed-in admin calls carry the admin's OpenID Connect ID token in
//! `authorization: Bearer` metadata, and the service that owns the data verifies it here against
//! the issuer's published keys. What the caller may then do (roles, scopes) is the service's own
//! business, decided from its own grants.

mod id_token;
pub mod roles;
pub mod service;
pub mod sign_in_link;

pub use id_token::{Identity, TokenError, Verifier};

/// The issuer ID tokens must come from and the audience (the gateway's client id) they must be
/// issued to, and the public key of emailed sign-in links' tokens ([`sign_in_link`]). With neither
/// an issuer nor that key, admin sign-in is off: every signed-in call is refused.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct OidcSettings {
    pub issuer: String,
    pub audience: String,
    /// The public half of the nomination service's sign-in link key (base64url, 32 bytes); empty
    /// refuses every emailed link's token. Not a secret.
    pub sign_in_key: String,
}

/// The verified identity behind a request's bearer token: UNAUTHENTICATED without a token or with
/// a bad one, UNAVAILABLE while the issuer's keys cannot be fetched.
pub async fn identify<T>(
    verifier: &Verifier,
    request: &tonic::Request<T>,
) -> Result<Identity, tonic::Status> {
    let token = request
        .metadata()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| tonic::Status::unauthenticated("Sign in to continue"))?;
    verifier.verify(token.trim()).await.map_err(|e| match e {
        TokenError::Unreachable(_) => tonic::Status::unavailable(e.to_string()),
        _ => tonic::Status::unauthenticated(e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_call_without_a_bearer_token_is_unauthenticated() {
        let verifier = Verifier::new(OidcSettings {
            issuer: "http://127.0.0.1:9".into(),
            audience: "valued".into(),
            ..Default::default()
        });
        let status = identify(&verifier, &tonic::Request::new(()))
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
    }

    #[tokio::test]
    async fn without_an_issuer_every_token_is_refused() {
        let verifier = Verifier::new(OidcSettings::default());
        let mut request = tonic::Request::new(());
        request
            .metadata_mut()
            .insert("authorization", "Bearer a.b.c".parse().unwrap());
        let status = identify(&verifier, &request).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert!(status.message().contains("not configured"));
    }

    #[test]
    fn email_verified_is_true_only_when_the_issuer_says_so() {
        let identity = |claims: &str| serde_json::from_str::<Identity>(claims).unwrap();
        let verified = identity(r#"{"iss":"https://id.example","sub":"1","email_verified":true}"#);
        assert!(verified.email_verified);
        assert_eq!(verified.iss, "https://id.example");
        assert!(identity(r#"{"iss":"i","sub":"1","email_verified":"true"}"#).email_verified);
        for claims in [
            r#"{"iss":"i","sub":"1"}"#,
            r#"{"iss":"i","sub":"1","email_verified":false}"#,
            r#"{"iss":"i","sub":"1","email_verified":"false"}"#,
            r#"{"iss":"i","sub":"1","email_verified":1}"#,
        ] {
            assert!(!identity(claims).email_verified, "{claims}");
        }
        assert!(
            serde_json::from_str::<Identity>(r#"{"sub":"1"}"#).is_err(),
            "no issuer, no identity"
        );
    }
}
