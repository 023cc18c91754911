//! DKIM signing (RFC 6376) with lettre's signer, when a key is configured: `rsa-sha256`,
//! relaxed/relaxed canonicalization, over the headers a receiver shows or acts on — including
//! `List-Unsubscribe` and `List-Unsubscribe-Post`, which RFC 8058 requires to be signed. A header
//! named but absent (a transactional email has no `List-Unsubscribe`) is signed as absent, so it
//! cannot be added on the way.

use anyhow::Context;
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::HeaderName;
use secrecy::ExposeSecret;

use crate::settings::DkimSettings;

/// Not `Content-Type`: lettre writes a multipart message's Content-Type with the body, outside the
/// headers it signs, so naming it in `h=` would make every signature fail to verify.
const SIGNED_HEADERS: &[&str] = &[
    "From",
    "To",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

pub struct Dkim {
    config: DkimConfig,
}

impl Dkim {
    /// The signer `settings` describe; `None` when no key is configured.
    pub fn from_settings(settings: &DkimSettings) -> anyhow::Result<Option<Self>> {
        let pem = settings.private_key_pem.expose_secret().trim();
        if pem.is_empty() {
            return Ok(None);
        }
        anyhow::ensure!(
            !settings.selector.trim().is_empty() && !settings.domain.trim().is_empty(),
            "dkim.private_key_pem is set, so dkim.selector and dkim.domain must be too"
        );
        let key = DkimSigningKey::new(pem, DkimSigningAlgorithm::Rsa)
            .context("dkim.private_key_pem: an RSA private key in PKCS#1 PEM")?;
        let headers = SIGNED_HEADERS
            .iter()
            .map(|name| HeaderName::new_from_ascii_str(name))
            .collect();
        let config = DkimConfig::new(
            settings.selector.trim().to_owned(),
            settings.domain.trim().to_owned(),
            key,
            headers,
            DkimCanonicalization {
                header: DkimCanonicalizationType::Relaxed,
                body: DkimCanonicalizationType::Relaxed,
            },
        );
        Ok(Some(Self { config }))
    }

    /// Adds the `DKIM-Signature` header; call it last, once every header is set.
    pub fn sign(&self, message: &mut lettre::Message) {
        message.sign(&self.config);
    }
}
