//! Which service is calling: every gRPC call between Valued's processes carries a short-lived token
//! in `x-valued-service` metadata, HS256-signed with the callee's own service key (a secret mounted
//! into the callee and into the processes allowed to call it). The callee refuses any call without a
//! valid one, before a handler runs, so that reaching a service's port is not enough to use it.
//!
//! One key per callee keeps a leaked key to the one service it opens; `previous_service_key` lets a
//! key be rotated without a failed call (callers move to the new key while the callee accepts both).

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tonic::Status;

/// The metadata key the token travels in.
pub const HEADER: &str = "x-valued-service";

/// A service key must be at least this long (bytes): HS256 is as strong as its key.
pub const MIN_KEY_BYTES: usize = 32;

/// How long a token is good for. Short, so a token copied from a log or a capture is soon useless.
pub const LIFETIME: Duration = Duration::from_secs(120);

/// What a service token says: which service signed it (`iss`), for which (`aud`), until when.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceClaims {
    pub iss: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
}

/// The calling service, as its verified token names it; handlers find it in the request's
/// extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller(pub String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error(
        "{0} is not set: every service needs its own service key (at least {MIN_KEY_BYTES} random bytes)"
    )]
    Missing(String),
    #[error("{0} is too short: use at least {MIN_KEY_BYTES} random bytes")]
    TooShort(String),
}

/// Checks a configured key: present and long enough. `setting` names it in the error.
pub fn check_key<'a>(
    setting: &str,
    key: Option<&'a SecretString>,
) -> Result<&'a SecretString, KeyError> {
    let key = key.ok_or_else(|| KeyError::Missing(setting.to_owned()))?;
    if key.expose_secret().len() < MIN_KEY_BYTES {
        return Err(KeyError::TooShort(setting.to_owned()));
    }
    Ok(key)
}

/// A new random key, for the embedded default (where every service is in one process and the keys
/// never leave it) and for tests.
pub fn random_key() -> SecretString {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    SecretString::from(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// What a caller signs its calls to one service with.
#[derive(Clone)]
pub struct Credential {
    caller: String,
    callee: String,
    key: EncodingKey,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("caller", &self.caller)
            .field("callee", &self.callee)
            .finish_non_exhaustive()
    }
}

impl Credential {
    pub fn new(caller: &str, callee: &str, key: &SecretString) -> Self {
        Self {
            caller: caller.to_owned(),
            callee: callee.to_owned(),
            key: EncodingKey::from_secret(key.expose_secret().as_bytes()),
        }
    }

    /// A token for one call, good for [`LIFETIME`].
    pub fn token(&self) -> String {
        let iat = now();
        self.sign(&ServiceClaims {
            iss: self.caller.clone(),
            aud: self.callee.clone(),
            iat,
            exp: iat + LIFETIME.as_secs(),
        })
    }

    /// Signs any claims with this key (tests make expired and misaddressed tokens with it).
    pub fn sign(&self, claims: &ServiceClaims) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.key).unwrap_or_default()
    }
}

/// What a service checks its callers' tokens with: its own name and its key (and, while a key is
/// being rotated, the previous one).
#[derive(Clone)]
pub struct Gate {
    callee: String,
    keys: Vec<DecodingKey>,
}

impl Gate {
    pub fn new(callee: &str, key: &SecretString, previous: Option<&SecretString>) -> Self {
        let keys = std::iter::once(key)
            .chain(previous)
            .map(|k| DecodingKey::from_secret(k.expose_secret().as_bytes()))
            .collect();
        Self {
            callee: callee.to_owned(),
            keys,
        }
    }

    /// The calling service, if `token` is a current token for this service signed with its key.
    pub fn verify(&self, token: Option<&str>) -> Result<Caller, Status> {
        let token = token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Status::unauthenticated("this service answers Valued's services only: the call carries no service credential"))?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[&self.callee]);
        validation.set_required_spec_claims(&["exp", "aud", "iss"]);
        validation.leeway = 5;
        let mut last = None;
        for key in &self.keys {
            match jsonwebtoken::decode::<ServiceClaims>(token, key, &validation) {
                Ok(data) => return Ok(Caller(data.claims.iss)),
                Err(error) => last = Some(error),
            }
        }
        let reason = last.map(|e| e.to_string()).unwrap_or_default();
        Err(Status::unauthenticated(format!(
            "invalid service credential: {reason}"
        )))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn key(text: &str) -> SecretString {
        SecretString::from(text.repeat(40))
    }

    #[test]
    fn a_token_from_the_callees_key_names_the_caller() {
        let gate = Gate::new("voting", &key("a"), None);
        let token = Credential::new("gateway", "voting", &key("a")).token();
        assert_eq!(gate.verify(Some(&token)).unwrap(), Caller("gateway".into()));
    }

    #[test]
    fn missing_forged_misaddressed_and_expired_tokens_are_unauthenticated() {
        let gate = Gate::new("voting", &key("a"), None);
        let other_key = Credential::new("gateway", "voting", &key("b")).token();
        let other_callee = Credential::new("gateway", "survey", &key("a")).token();
        let expired = Credential::new("gateway", "voting", &key("a")).sign(&ServiceClaims {
            iss: "gateway".into(),
            aud: "voting".into(),
            iat: now() - 600,
            exp: now() - 300,
        });
        for token in [
            None,
            Some(""),
            Some("a.b.c"),
            Some(&*other_key),
            Some(&*other_callee),
            Some(&*expired),
        ] {
            let status = gate.verify(token).unwrap_err();
            assert_eq!(status.code(), tonic::Code::Unauthenticated, "{token:?}");
        }
    }

    #[test]
    fn while_a_key_is_rotated_both_keys_are_accepted() {
        let gate = Gate::new("voting", &key("new"), Some(&key("old")));
        for signing in ["new", "old"] {
            let token = Credential::new("gateway", "voting", &key(signing)).token();
            assert!(gate.verify(Some(&token)).is_ok(), "{signing}");
        }
    }

    #[test]
    fn a_key_must_be_set_and_long() {
        assert_eq!(
            check_key("voting.grpc.service_key", None).unwrap_err(),
            KeyError::Missing("voting.grpc.service_key".into())
        );
        let short = SecretString::from("short");
        assert!(matches!(
            check_key("k", Some(&short)),
            Err(KeyError::TooShort(_))
        ));
        let random = random_key();
        assert!(check_key("k", Some(&random)).is_ok());
        assert_ne!(random.expose_secret(), random_key().expose_secret());
    }
}
