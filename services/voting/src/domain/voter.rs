//! Who a voter is, as far as the voting service knows.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use valued_platform::domain::EmailAddress;

/// The hex HMAC-SHA256 of the mailbox behind a voter's email ([`EmailAddress::identity`]) under the
/// service's secret key. The same person typing their address in any case, with spaces around it,
/// with a `+tag` or (at Gmail) with dots, gets the same key, so the database's UNIQUE (ballot, voter
/// key) allows them one vote; the email itself is never stored,
/// and without the key nobody can test a guessed address against the stored keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VoterKey(String);

impl VoterKey {
    pub fn derive(secret: &SecretString, email: &EmailAddress) -> Self {
        Self(hmac_hex(secret, &[email.identity().as_bytes()]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A key as stored with a verification or a voter pass.
    pub fn from_stored(key: String) -> Self {
        Self(key)
    }
}

/// A keyed digest of something a vote says about where it came from (its network, its voter's
/// email domain): 128 bits of the HMAC-SHA256, under the voter-key secret, of `kind` and `value`,
/// in hex. The kind keeps two kinds of value from ever sharing a digest; the key keeps anyone
/// without it from testing a guessed network or domain against the stored digests.
pub fn signal_digest(secret: &SecretString, kind: &str, value: &str) -> String {
    let mut hex = hmac_hex(
        secret,
        &[
            b"valued.voting.signal.",
            kind.as_bytes(),
            b"\0",
            value.as_bytes(),
        ],
    );
    hex.truncate(32);
    hex
}

/// The HMAC-SHA256 of the concatenated `parts` under `secret`, in lowercase hex.
#[expect(clippy::expect_used, reason = "HMAC accepts keys of any length")]
fn hmac_hex(secret: &SecretString, parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes a key of any length");
    for part in parts {
        mac.update(part);
    }
    let digest = mac.finalize().into_bytes();
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn key(secret: &str, email: &str) -> VoterKey {
        VoterKey::derive(
            &SecretString::from(secret),
            &EmailAddress::parse("voter_email", email).unwrap(),
        )
    }

    #[test]
    fn the_same_person_gets_the_same_key_however_they_type_it() {
        let first = key("s", "Sam.Patel@NHS.net");
        assert_eq!(first, key("s", "  sam.patel@nhs.net "));
        assert_ne!(first, key("s", "sam.patel2@nhs.net"));
        assert_eq!(first, key("s", "sam.patel+vote@nhs.net"));
        assert_eq!(
            key("s", "samp@gmail.com"),
            key("s", "s.a.m.p+1@googlemail.com")
        );
        assert_eq!(first.as_str().len(), 64);
        assert!(
            first
                .as_str()
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }

    #[test]
    fn the_construction_never_changes() {
        // Computed independently (Python's hmac module). If this changes, every stored key stops
        // matching and everyone could vote again in an open ballot.
        assert_eq!(
            key("dev-only-voter-key-change-me", "Sam.Patel@NHS.net").as_str(),
            "3c4acef22781bc7245ae3896747d047d30d67152d79611f44b667d1ab99f784e"
        );
    }

    #[test]
    fn signal_digests_are_keyed_kinded_and_short() {
        let secret = SecretString::from("s");
        let net = signal_digest(&secret, "network", "203.0.113.0/24");
        assert_eq!(net.len(), 32);
        assert_eq!(net, signal_digest(&secret, "network", "203.0.113.0/24"));
        assert_ne!(net, signal_digest(&secret, "domain", "203.0.113.0/24"));
        assert_ne!(
            net,
            signal_digest(&SecretString::from("t"), "network", "203.0.113.0/24")
        );
    }

    proptest! {
        #[test]
        fn a_key_depends_on_the_secret_and_never_contains_the_address(
            // A local part of hex letters only (`adc`) turns up in a 64-digit hex key by chance.
            local in "[g-z][a-z]{2,11}", domain in "[a-z]{3,12}",
        ) {
            let email = format!("{local}@{domain}.org");
            let a = key("secret-a", &email);
            prop_assert_ne!(&a, &key("secret-b", &email));
            prop_assert_eq!(&a, &key("secret-a", &email.to_uppercase()));
            prop_assert!(!a.as_str().contains(&local));
        }
    }
}
