//! Sign-in by emailed link, for organisations without single sign-on and for a newcomer's first
//! sign-in to the embedded default: the nomination service, which owns the grants, emails a
//! single-use link, and when it is used signs an ID token of its own for the address the link went
//! to. The token looks to every service like one from an OpenID Connect provider (`iss`, `sub`,
//! `aud`, `exp`, a verified `email`), so it ends in the same role checks; it is signed with an
//! Ed25519 key only the nomination service holds (EdDSA, through `jsonwebtoken`), and every service
//! verifies it with the public half from its settings (`auth.sign_in_key`).
//!
//! The account such a token names is the address itself (`sub` is the normalised address under the
//! issuer [`ISSUER`]): a grant bound to it is held by whoever can read that inbox, as with any
//! emailed link. A grant already bound to a single sign-on account stays with that account.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::{Identity, TokenError};

/// The `iss` of every token signed for an emailed sign-in link.
pub const ISSUER: &str = "urn:valued:sign-in-link";
/// The `kid` those tokens carry, which tells a verifier to use the sign-in key.
pub const KEY_ID: &str = "valued-sign-in-link";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("{0} is not a base64 Ed25519 key of 32 bytes")]
    Malformed(String),
}

/// The private half: 32 random bytes, base64, from a secret.
pub struct SigningKey {
    encoding: EncodingKey,
    public: String,
}

impl SigningKey {
    /// Reads the key in `secret`; `setting` names it in the error.
    pub fn from_secret(setting: &str, secret: &SecretString) -> Result<Self, KeyError> {
        let seed: [u8; 32] = STANDARD
            .decode(secret.expose_secret().trim())
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| KeyError::Malformed(setting.to_owned()))?;
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let der = key
            .to_pkcs8_der()
            .map_err(|_| KeyError::Malformed(setting.to_owned()))?;
        Ok(Self {
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            public: URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes()),
        })
    }

    /// A new random key, for the embedded default (its tokens die with the process) and tests.
    pub fn generate() -> (SecretString, Self) {
        use rand::Rng;
        let seed: [u8; 32] = rand::rng().random();
        let secret = SecretString::from(STANDARD.encode(seed));
        let key = Self::from_secret("a generated key", &secret)
            .unwrap_or_else(|_| unreachable!("32 random bytes are an Ed25519 key"));
        (secret, key)
    }

    /// The public half as every service's `auth.sign_in_key` takes it (the JWK `x`, base64url).
    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// An ID token for `email` (normalised), issued to `audience`, good for `lifetime`.
    pub fn sign(
        &self,
        email: &str,
        audience: &str,
        lifetime: std::time::Duration,
    ) -> Result<String, TokenError> {
        #[derive(Serialize)]
        struct Claims<'a> {
            iss: &'a str,
            sub: &'a str,
            aud: &'a str,
            email: &'a str,
            email_verified: bool,
            iat: u64,
            exp: u64,
        }
        let now = jsonwebtoken::get_current_timestamp();
        let header = Header {
            kid: Some(KEY_ID.to_owned()),
            ..Header::new(Algorithm::EdDSA)
        };
        let claims = Claims {
            iss: ISSUER,
            sub: email,
            aud: audience,
            email,
            email_verified: true,
            iat: now,
            exp: now + lifetime.as_secs(),
        };
        jsonwebtoken::encode(&header, &claims, &self.encoding)
            .map_err(|e| TokenError::Invalid(e.to_string()))
    }
}

/// Whether `token` claims to be one of ours (by its header's key id), so that it is checked with
/// the sign-in key and never sent to the OpenID Connect issuer's keys.
pub fn is_ours(header: &Header) -> bool {
    header.kid.as_deref() == Some(KEY_ID)
}

/// Verifies one of our tokens with the configured public key (`auth.sign_in_key`): EdDSA only,
/// our issuer, `audience`, current.
pub fn verify(
    public_key: &str,
    audience: &str,
    token: &str,
    leeway: u64,
) -> Result<Identity, TokenError> {
    if public_key.trim().is_empty() {
        return Err(TokenError::Invalid(
            "sign-in by emailed link is not configured (auth.sign_in_key is empty)".into(),
        ));
    }
    let key = DecodingKey::from_ed_components(public_key.trim())
        .map_err(|e| TokenError::Invalid(format!("auth.sign_in_key: {e}")))?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = leeway;
    jsonwebtoken::decode::<Identity>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| TokenError::Invalid(e.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn a_signed_token_verifies_with_the_public_half_and_names_the_address() {
        let (_, key) = SigningKey::generate();
        let token = key.sign("ana@trust.nhs.uk", "valued", HOUR).unwrap();
        let identity = verify(key.public_key(), "valued", &token, 0).unwrap();
        assert_eq!(identity.iss, ISSUER);
        assert_eq!(identity.sub, "ana@trust.nhs.uk");
        assert_eq!(identity.email, "ana@trust.nhs.uk");
        assert!(identity.email_verified);
        assert!(is_ours(&jsonwebtoken::decode_header(&token).unwrap()));
    }

    #[test]
    fn another_key_another_audience_an_expired_or_altered_token_is_refused() {
        let (_, key) = SigningKey::generate();
        let (_, other) = SigningKey::generate();
        let token = key.sign("ana@trust.nhs.uk", "valued", HOUR).unwrap();
        assert!(verify(other.public_key(), "valued", &token, 0).is_err());
        assert!(verify(key.public_key(), "another-client", &token, 0).is_err());
        assert!(verify("", "valued", &token, 0).is_err(), "not configured");

        let expired = key
            .sign("ana@trust.nhs.uk", "valued", Duration::ZERO)
            .unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        assert!(verify(key.public_key(), "valued", &expired, 0).is_err());

        // The claims swapped for another address's, the signature kept.
        let parts: Vec<&str> = token.split('.').collect();
        let forged_claims = URL_SAFE_NO_PAD.encode(
            String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap())
                .unwrap()
                .replace("ana@", "bob@"),
        );
        let forged = format!("{}.{forged_claims}.{}", parts[0], parts[2]);
        assert!(verify(key.public_key(), "valued", &forged, 0).is_err());
    }

    #[test]
    fn the_key_is_read_back_from_its_secret_and_a_bad_one_is_named() {
        let (secret, key) = SigningKey::generate();
        let again = SigningKey::from_secret("nomination.auth.signing_key", &secret).unwrap();
        assert_eq!(again.public_key(), key.public_key());
        for bad in ["", "not base64!", "c2hvcnQ="] {
            let refused =
                SigningKey::from_secret("nomination.auth.signing_key", &SecretString::from(bad));
            assert_eq!(
                refused.err(),
                Some(KeyError::Malformed("nomination.auth.signing_key".into()))
            );
        }
    }
}
