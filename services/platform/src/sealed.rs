//! Personal fields sealed at rest (a phone number given with a story) by envelope encryption.
//!
//! Each value gets a fresh random data key; only that key is encrypted ("wrapped") under a master
//! key from the settings, so a copy of the database opens nothing without the secret. Rotating the
//! master key re-wraps the small data keys a row at a time while the service runs
//! ([`Keyring::rewrap`]) and never touches a field's own ciphertext. Older master keys stay in the
//! keyring, able to open but never to seal, until no stored value names them.
//!
//! Both layers are AES-256-GCM with a random 12-byte nonce each (a data key seals one value, and a
//! master key wraps far fewer data keys than the 2^32 that random GCM nonces allow), and both bind
//! the caller's context (e.g. `story:<id>:phone`) as associated data: a value copied to another
//! record or field does not open. The stored form is one line of text, `v1.<key id>.<wrapped key>.<field>`, the
//! last two in unpadded URL-safe base64, each its nonce followed by its ciphertext and tag.

use std::collections::BTreeMap;
use std::fmt;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Nonce, Payload};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as STORED};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use zeroize::Zeroizing;

const VERSION: &str = "v1";
const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("the sealed value names master key \"{0}\", which is not in the keyring")]
    UnknownKey(String),
    /// Another context, or an altered value or key: which one is deliberately not told.
    #[error("the sealed value could not be opened")]
    NotOpened,
    #[error("the value could not be sealed")]
    NotSealed,
    #[error("malformed sealed value: {0}")]
    Malformed(&'static str),
    #[error("sealing settings: {0}")]
    BadKey(String),
}

pub type Result<T, E = SealError> = std::result::Result<T, E>;

/// The master keys, and which one seals. No default: a key is a secret, and secrets have none.
///
/// The keys are a map from id to key so that each is one environment variable
/// (`VALUED__<SERVICE>__SEALING__KEYS__K2026=...`); the environment lower-cases the id
/// (`k2026`), so ids are best written in lower case everywhere, `current` included.
#[derive(Debug, Clone, Deserialize)]
pub struct SealingSettings {
    /// The id of the key that seals new values and that [`Keyring::rewrap`] moves values to.
    pub current: String,
    /// Every master key that a stored value may still name, by id. An id is stored in each value
    /// its key wraps: 1 to 32 letters, digits, `-` or `_` (e.g. `2026-11`). A key is 32 random
    /// bytes in standard base64, as `openssl rand -base64 32` prints them.
    pub keys: BTreeMap<String, SecretString>,
}

/// The master keys, ready to seal, open and re-wrap. Its `Debug` names the key ids only.
pub struct Keyring {
    current: String,
    keys: BTreeMap<String, Aes256Gcm>,
}

impl Keyring {
    /// Refuses a key that is not 32 bytes of base64, a bad id, and a current id that
    /// names no key; each error names the key id.
    pub fn from_settings(settings: &SealingSettings) -> Result<Self> {
        let mut keys = BTreeMap::new();
        for (id, key) in &settings.keys {
            check_id(id)?;
            keys.insert(id.clone(), master_key(id, key)?);
        }
        let current = settings.current.clone();
        if !keys.contains_key(&current) {
            let problem = format!("the current master key \"{current}\" is not among the keys");
            return Err(SealError::BadKey(problem));
        }
        Ok(Self { current, keys })
    }

    /// `plaintext` under a fresh data key wrapped under the current master key, both bound to
    /// `context`.
    pub fn seal(&self, plaintext: &str, context: &str) -> Result<Sealed> {
        let mut data_key = Zeroizing::new([0u8; KEY_LEN]);
        rand::rng().fill_bytes(data_key.as_mut_slice());
        let cipher = Aes256Gcm::new((&*data_key).into());
        let field = encrypt(&cipher, plaintext.as_bytes(), &aad(&[context]))?;
        self.wrap(data_key.as_slice(), context, field)
    }

    /// The plaintext, with whichever master key the value names.
    pub fn open(&self, sealed: &Sealed, context: &str) -> Result<SecretString> {
        Ok(self.unseal(sealed, context)?.1)
    }

    /// The value with its data key re-wrapped under the current master key and its field
    /// unchanged, or `None` when it is already under the current key. A value that would not open
    /// is refused, so rotation never carries a damaged value forward unnoticed.
    pub fn rewrap(&self, sealed: &Sealed, context: &str) -> Result<Option<Sealed>> {
        if sealed.key_id == self.current {
            return Ok(None);
        }
        let (data_key, _) = self.unseal(sealed, context)?;
        Ok(Some(self.wrap(&data_key, context, sealed.field.clone())?))
    }

    fn wrap(&self, data_key: &[u8], context: &str, field: Vec<u8>) -> Result<Sealed> {
        let master = self.master(&self.current)?;
        let wrapped = encrypt(master, data_key, &aad(&[&self.current, context]))?;
        Ok(Sealed::new(self.current.clone(), wrapped, field))
    }

    /// The data key and the plaintext: both must open for either to be used.
    fn unseal(&self, sealed: &Sealed, context: &str) -> Result<(Zeroizing<Vec<u8>>, SecretString)> {
        let master = self.master(&sealed.key_id)?;
        let data_key = decrypt(master, &sealed.wrapped, &aad(&[&sealed.key_id, context]))?;
        let cipher = Aes256Gcm::new_from_slice(&data_key).map_err(|_| SealError::NotOpened)?;
        let plaintext = decrypt(&cipher, &sealed.field, &aad(&[context]))?;
        let text = std::str::from_utf8(&plaintext).map_err(|_| SealError::NotOpened)?;
        Ok((data_key, SecretString::from(text)))
    }

    fn master(&self, id: &str) -> Result<&Aes256Gcm> {
        let unknown = || SealError::UnknownKey(id.to_owned());
        self.keys.get(id).ok_or_else(unknown)
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (current, ids) = (&self.current, self.keys.keys().collect::<Vec<_>>());
        write!(f, "Keyring {{ current: {current:?}, keys: {ids:?} }}")
    }
}

/// A sealed field as stored: one line of text naming its format version and master key.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    text: String,
    key_id: String,
    /// The data key's nonce, ciphertext and tag under the master key.
    wrapped: Vec<u8>,
    /// The field's nonce, ciphertext and tag under the data key.
    field: Vec<u8>,
}

impl Sealed {
    /// A stored value; anything but `v1.<key id>.<wrapped key>.<field>` with the right lengths is
    /// refused.
    pub fn parse(text: &str) -> Result<Self> {
        let parts: Vec<&str> = text.split('.').collect();
        let [VERSION, key_id, wrapped, field] = parts[..] else {
            return Err(SealError::Malformed("not v1.<id>.<key>.<field>"));
        };
        check_id(key_id).map_err(|_| SealError::Malformed("bad master key id"))?;
        let (wrapped, field) = (decode(wrapped)?, decode(field)?);
        if wrapped.len() != NONCE_LEN + KEY_LEN + TAG_LEN || field.len() < NONCE_LEN + TAG_LEN {
            return Err(SealError::Malformed("a part has the wrong length"));
        }
        Ok(Self::new(key_id.to_owned(), wrapped, field))
    }

    /// The form to store.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn new(key_id: String, wrapped: Vec<u8>, field: Vec<u8>) -> Self {
        let (w, f) = (STORED.encode(&wrapped), STORED.encode(&field));
        let text = format!("{VERSION}.{key_id}.{w}.{f}");
        Self {
            text,
            key_id,
            wrapped,
            field,
        }
    }
}

impl fmt::Display for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sealed {{ key_id: {:?}, .. }}", self.key_id)
    }
}

/// The associated data: `v1.<key id>.<context>` for the wrap (key ids hold no dot, so it splits
/// one way only), `v1.<context>` for the field, which must still open after a re-wrap.
fn aad(parts: &[&str]) -> Vec<u8> {
    [&[VERSION], parts].concat().join(".").into_bytes()
}

/// A fresh random nonce followed by `msg` encrypted under it.
fn encrypt(cipher: &Aes256Gcm, msg: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    let payload = Payload { msg, aad };
    let ciphertext = cipher.encrypt(&Nonce::<Aes256Gcm>::from(nonce), payload);
    Ok([&nonce[..], &ciphertext.map_err(|_| SealError::NotSealed)?].concat())
}

fn decrypt(cipher: &Aes256Gcm, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let (nonce, msg) = sealed.split_first_chunk().ok_or(SealError::NotOpened)?;
    let plaintext = cipher.decrypt(&Nonce::<Aes256Gcm>::from(*nonce), Payload { msg, aad });
    Ok(Zeroizing::new(plaintext.map_err(|_| SealError::NotOpened)?))
}

/// The master key's 32 bytes, decoded into a buffer that is wiped when dropped.
fn master_key(id: &str, key: &SecretString) -> Result<Aes256Gcm> {
    let mut bytes = Zeroizing::new([0u8; 2 * KEY_LEN]);
    let decoded = STANDARD.decode_slice(key.expose_secret().trim(), bytes.as_mut_slice());
    let key = decoded.ok().and_then(|len| bytes.get(..len));
    let cipher = key.and_then(|key| Aes256Gcm::new_from_slice(key).ok());
    let problem = || format!("master key \"{id}\" must be 32 bytes in standard base64");
    cipher.ok_or_else(|| SealError::BadKey(problem()))
}

fn check_id(id: &str) -> Result<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let fits = (1..=32).contains(&id.len()) && id.chars().all(allowed);
    let problem = || format!("master key id \"{id}\" must be 1 to 32 letters, digits, '-' or '_'");
    fits.then_some(())
        .ok_or_else(|| SealError::BadKey(problem()))
}

fn decode(part: &str) -> Result<Vec<u8>> {
    let not_base64 = |_| SealError::Malformed("a part is not unpadded URL-safe base64");
    STORED.decode(part).map_err(not_base64)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;
    use sha2::{Digest, Sha256};

    use super::*;

    const PHONE: &str = "07700 900123";
    const CONTEXT: &str = "story:42:phone";

    fn setting(id: &str, key: &str) -> (String, SecretString) {
        (id.to_owned(), SecretString::from(key))
    }

    fn from_settings(keys: Vec<(String, SecretString)>, current: &str) -> Result<Keyring> {
        let (current, keys) = (current.to_owned(), keys.into_iter().collect());
        Keyring::from_settings(&SealingSettings { current, keys })
    }

    /// A keyring of `ids`, each key derived from its id, sealing under `current`.
    fn keyring(ids: &[&str], current: &str) -> Keyring {
        let key = |id: &&str| setting(id, &STANDARD.encode(Sha256::digest(id)));
        from_settings(ids.iter().map(key).collect(), current).unwrap()
    }

    fn opened(keyring: &Keyring, sealed: &Sealed) -> Result<String> {
        Ok(keyring.open(sealed, CONTEXT)?.expose_secret().to_owned())
    }

    #[test]
    fn a_value_round_trips_through_its_stored_form_and_each_seal_is_fresh() {
        let keyring = keyring(&["2026-11"], "2026-11");
        let sealed = keyring.seal(PHONE, CONTEXT).unwrap();
        let stored = Sealed::parse(&sealed.to_string()).unwrap();
        assert_eq!(stored, sealed);
        assert!(stored.as_str().starts_with("v1.2026-11."));
        assert_eq!(opened(&keyring, &stored).unwrap(), PHONE);
        let again = keyring.seal(PHONE, CONTEXT).unwrap();
        assert_ne!(again.wrapped, sealed.wrapped);
        assert_ne!(again.field[..NONCE_LEN], sealed.field[..NONCE_LEN]);
        assert_ne!(again.field[NONCE_LEN..], sealed.field[NONCE_LEN..]);
    }

    #[test]
    fn another_context_does_not_open() {
        let (before, during) = (keyring(&["a"], "a"), keyring(&["a", "b"], "b"));
        let sealed = before.seal(PHONE, CONTEXT).unwrap();
        let refused = before.open(&sealed, "story:43:phone").unwrap_err();
        assert!(matches!(refused, SealError::NotOpened), "{refused}");
        let refused = during.rewrap(&sealed, "story:43:phone");
        assert!(matches!(refused, Err(SealError::NotOpened)));
    }

    #[test]
    fn any_flipped_byte_of_the_wrapped_key_or_field_does_not_open() {
        let keyring = keyring(&["a"], "a");
        let sealed = keyring.seal(PHONE, CONTEXT).unwrap();
        let bytes = (0..sealed.wrapped.len()).map(|i| (0, i));
        for (part, i) in bytes.chain((0..sealed.field.len()).map(|i| (1, i))) {
            let mut parts = [sealed.wrapped.clone(), sealed.field.clone()];
            parts[part][i] ^= 0x80;
            let [wrapped, field] = parts;
            let altered = Sealed::parse(Sealed::new("a".into(), wrapped, field).as_str()).unwrap();
            let refused = opened(&keyring, &altered);
            assert!(matches!(refused, Err(SealError::NotOpened)), "byte {i}");
        }
    }

    #[test]
    fn rotation_rewraps_only_the_data_key() {
        let sealed = keyring(&["a"], "a").seal(PHONE, CONTEXT).unwrap();
        let during = keyring(&["a", "b"], "b");
        assert_eq!(opened(&during, &sealed).unwrap(), PHONE);
        let rewrapped = during.rewrap(&sealed, CONTEXT).unwrap().unwrap();
        assert!(rewrapped.as_str().starts_with("v1.b."));
        assert_eq!(rewrapped.field, sealed.field);
        let (_, stored_field) = sealed.as_str().rsplit_once('.').unwrap();
        assert!(rewrapped.as_str().ends_with(stored_field));
        assert!(during.rewrap(&rewrapped, CONTEXT).unwrap().is_none());
        let after = keyring(&["b"], "b");
        assert_eq!(opened(&after, &rewrapped).unwrap(), PHONE);
        let refused = opened(&after, &sealed).unwrap_err();
        assert!(matches!(&refused, SealError::UnknownKey(id) if id == "a"));
        let message = refused.to_string();
        assert!(message.contains("master key \"a\""), "{message}");
    }

    #[test]
    fn malformed_values_are_refused() {
        let sealed = keyring(&["a"], "a").seal(PHONE, CONTEXT).unwrap();
        let good = sealed.as_str();
        let short = STORED.encode([0u8; NONCE_LEN + TAG_LEN - 1]);
        let (rest, field) = good.rsplit_once('.').unwrap();
        for bad in [
            String::new(),
            rest.to_owned(),
            format!("{good}."),
            format!("{good}="),
            good.replacen("v1.", "v2.", 1),
            good.replacen(".a.", "..", 1),
            good.replacen(".a.", ".a b.", 1),
            format!("{rest}.not*base64"),
            format!("{rest}.{short}"),
            format!("v1.a.{field}.{field}"),
        ] {
            let refused = Sealed::parse(&bad);
            assert!(matches!(refused, Err(SealError::Malformed(_))), "{bad}");
        }
    }

    #[test]
    fn bad_key_settings_are_refused_naming_the_key() {
        let refusal = |keys, current| from_settings(keys, current).unwrap_err().to_string();
        let good = STANDARD.encode([7u8; KEY_LEN]);
        let short = STANDARD.encode([7u8; KEY_LEN - 1]);
        let expected = "master key \"2026-11\" must be 32 bytes";
        assert!(refusal(vec![setting("2026-11", &short)], "2026-11").contains(expected));
        assert!(refusal(vec![setting("2026-11", "not base64!")], "2026-11").contains(expected));
        assert!(refusal(vec![setting("a.b", &good)], "a.b").contains("\"a.b\""));
        assert!(refusal(vec![setting("a", &good)], "b").contains("\"b\" is not among"));
    }

    #[test]
    fn debug_shows_no_key_or_plaintext() {
        let keyring = keyring(&["a"], "a");
        let sealed = keyring.seal(PHONE, CONTEXT).unwrap();
        let key = STANDARD.encode(Sha256::digest("a"));
        let printed = format!("{keyring:?} {sealed:?} {:?}", setting("a", &key));
        for secret in [PHONE, "900123", &key, sealed.as_str()] {
            assert!(!printed.contains(secret), "{printed}");
        }
    }

    proptest! {
        #[test]
        fn any_text_round_trips(text in any::<String>(), context in any::<String>()) {
            let keyring = keyring(&["a"], "a");
            let sealed = Sealed::parse(keyring.seal(&text, &context).unwrap().as_str()).unwrap();
            let opened = keyring.open(&sealed, &context).unwrap();
            prop_assert_eq!(opened.expose_secret(), text.as_str());
        }
    }
}
