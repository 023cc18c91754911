//! The signed-in account: the issuer and subject that name it (never a bare email), and whether the
//! issuer has verified its email, from the identity the platform's verifier accepted.

use valued_platform::auth::Identity;

/// The signed-in account: `iss` + `sub`, and whether its email is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub issuer: String,
    pub subject: String,
    pub email_verified: bool,
}

impl Account {
    /// The account of a verified identity; none when the token names no issuer or subject.
    pub fn of(identity: &Identity) -> Option<Self> {
        (!identity.iss.is_empty() && !identity.sub.is_empty()).then(|| Self {
            issuer: identity.iss.clone(),
            subject: identity.sub.clone(),
            email_verified: identity.email_verified,
        })
    }
}
