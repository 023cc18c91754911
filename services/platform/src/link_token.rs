//! Secrets sent in email links (confirm, consent, resume). Only their SHA-256 is stored, so a copy of
//! the database does not unlock anyone's links.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new secret for a link, and the hash to store for it.
pub fn new_link_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex(&bytes);
    let hash = hash_token(&token);
    (token, hash)
}

/// The stored form of a link's secret.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.trim().as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_only_their_hash_matches() {
        let (a, a_hash) = new_link_token();
        let (b, _) = new_link_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(hash_token(&a), a_hash);
        assert_ne!(a, a_hash);
    }
}
