//! The ID token claims this service needs beyond the platform's `Identity`: the issuer, which with
//! the subject names an account, and whether the issuer has verified the email. They are read from
//! the token's payload only after the platform's verifier has checked its signature, issuer,
//! audience and expiry, and only if its subject is the one verified.

use serde::Deserialize;
use valued_platform::auth::Identity;

/// The signed-in account: `iss` + `sub`, and whether its email is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub issuer: String,
    pub subject: String,
    pub email_verified: bool,
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    /// A boolean by the specification; some issuers send the text "true".
    #[serde(default)]
    email_verified: serde_json::Value,
}

impl Account {
    /// The account behind `request`'s bearer token, which the verifier accepted as `identity`.
    pub fn of<T>(request: &tonic::Request<T>, identity: &Identity) -> Option<Self> {
        let token = request
            .metadata()
            .get("authorization")?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")?;
        Self::from_token(token.trim()).filter(|account| account.subject == identity.sub)
    }

    fn from_token(token: &str) -> Option<Self> {
        let payload = token.split('.').nth(1)?;
        let claims: Claims = serde_json::from_slice(&base64url(payload)?).ok()?;
        let email_verified = match &claims.email_verified {
            serde_json::Value::Bool(verified) => *verified,
            serde_json::Value::String(text) => text == "true",
            _ => false,
        };
        (!claims.iss.is_empty() && !claims.sub.is_empty()).then_some(Self {
            issuer: claims.iss,
            subject: claims.sub,
            email_verified,
        })
    }
}

/// Decodes unpadded base64url (RFC 4648 §5), as JWT segments are written.
fn base64url(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut bits, mut held) = (0u32, 0u32);
    for c in text.trim_end_matches('=').bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        held += 6;
        if held >= 8 {
            held -= 8;
            out.push(u8::try_from(bits >> held).ok()?);
            bits &= (1 << held) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn token(claims: &str) -> String {
        // base64url of the claims, written out by hand for these fixed inputs.
        format!("e30.{}.c2ln", encode(claims.as_bytes()))
    }

    fn encode(bytes: &[u8]) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
            for i in 0..=chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            }
        }
        out
    }

    #[test]
    fn base64url_round_trips_every_length() {
        for text in ["", "a", "ab", "abc", "abcd", "\u{ff}\u{fe}?>~"] {
            assert_eq!(
                base64url(&encode(text.as_bytes())).unwrap(),
                text.as_bytes()
            );
        }
        assert_eq!(base64url("aGk=").unwrap(), b"hi");
        assert!(base64url("a+b/").is_none());
    }

    #[test]
    fn email_verified_is_true_only_when_the_issuer_says_so() {
        let account = |claims: &str| Account::from_token(&token(claims));
        let verified = account(r#"{"iss":"https://id.example","sub":"1","email_verified":true}"#);
        assert_eq!(
            verified,
            Some(Account {
                issuer: "https://id.example".into(),
                subject: "1".into(),
                email_verified: true,
            })
        );
        for claims in [
            r#"{"iss":"i","sub":"1"}"#,
            r#"{"iss":"i","sub":"1","email_verified":false}"#,
            r#"{"iss":"i","sub":"1","email_verified":"false"}"#,
            r#"{"iss":"i","sub":"1","email_verified":1}"#,
        ] {
            assert!(!account(claims).unwrap().email_verified, "{claims}");
        }
        assert!(
            account(r#"{"iss":"i","sub":"1","email_verified":"true"}"#)
                .unwrap()
                .email_verified
        );
        assert!(account(r#"{"sub":"1"}"#).is_none());
        assert!(account(r#"{"iss":"","sub":"1"}"#).is_none());
        assert!(Account::from_token("not a token").is_none());
    }
}
