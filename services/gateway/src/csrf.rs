//! CSRF protection for the public forms: the double-submit pattern. A form page sets a random
//! 256-bit token in an `HttpOnly; SameSite=Strict` cookie and repeats it in a hidden field; a POST is
//! accepted only when the field matches the cookie. Another site can make a browser send the cookie
//! (not with `SameSite=Strict`, and never read it), but cannot know the value to put in the field.

use axum::http::{HeaderMap, HeaderValue};
use rand::RngCore;

use crate::cookies;

/// Name of the cookie that holds the token.
pub const COOKIE: &str = "valued_csrf";
/// Name of the hidden form field that repeats it.
pub const FIELD: &str = "csrf_token";

const TOKEN_BYTES: usize = 32;
const TOKEN_CHARS: usize = TOKEN_BYTES * 2;

/// A token: 32 bytes from the operating system's CSPRNG-seeded generator, as 64 lower-case hex digits.
#[derive(Clone, PartialEq, Eq)]
pub struct CsrfToken(String);

impl std::fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfToken(..)")
    }
}

impl CsrfToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// A token as it came back from a browser, if it is well formed.
    pub fn parse(value: &str) -> Option<Self> {
        (value.len() == TOKEN_CHARS
            && value
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| Self(value.to_owned()))
    }

    /// The token of the request's cookie, if it has a well-formed one.
    pub fn from_cookie(headers: &HeaderMap) -> Option<Self> {
        cookies::value(headers, COOKIE).and_then(Self::parse)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `submitted` (the form field) is this token, compared in constant time.
    pub fn matches(&self, submitted: &str) -> bool {
        let expected = self.0.as_bytes();
        let submitted = submitted.as_bytes();
        expected.len() == submitted.len()
            && expected
                .iter()
                .zip(submitted)
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                == 0
    }

    /// The `Set-Cookie` value that stores this token for the browser's session. `secure` adds the
    /// `Secure` attribute (when the page was served over HTTPS).
    pub fn set_cookie(&self, secure: bool) -> HeaderValue {
        let secure = if secure { "; Secure" } else { "" };
        let cookie = format!(
            "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict{secure}",
            self.0
        );
        // Hex digits and fixed ASCII only: always a valid header value.
        HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

/// The token a form page should carry: the browser's existing one (so that two open tabs both work),
/// or a new one with the `Set-Cookie` header that stores it.
pub fn token_for(headers: &HeaderMap) -> (CsrfToken, Option<HeaderValue>) {
    match CsrfToken::from_cookie(headers) {
        Some(token) => (token, None),
        None => {
            let token = CsrfToken::generate();
            let cookie = token.set_cookie(is_https(headers));
            (token, Some(cookie))
        }
    }
}

/// Whether a POST carrying `submitted` in its form passes: the request has a well-formed token
/// cookie, and the field repeats it exactly.
pub fn verify(headers: &HeaderMap, submitted: &str) -> bool {
    CsrfToken::from_cookie(headers).is_some_and(|token| token.matches(submitted))
}

/// Whether the browser reached us over HTTPS (directly or through a proxy that says so).
pub fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use axum::http::header;

    use super::*;

    fn with_cookie(cookie: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(cookie).unwrap());
        headers
    }

    #[test]
    fn tokens_are_256_random_bits_in_hex() {
        let a = CsrfToken::generate();
        let b = CsrfToken::generate();
        assert_eq!(a.as_str().len(), 64);
        assert!(CsrfToken::parse(a.as_str()).is_some());
        assert_ne!(a, b);
    }

    #[test]
    fn a_form_whose_token_matches_its_cookie_passes() {
        let token = CsrfToken::generate();
        let headers = with_cookie(&format!("other=1; {COOKIE}={}; x=y", token.as_str()));
        assert!(verify(&headers, token.as_str()));
    }

    #[test]
    fn a_missing_or_different_token_fails() {
        let token = CsrfToken::generate();
        let other = CsrfToken::generate();
        let headers = with_cookie(&format!("{COOKIE}={}", token.as_str()));
        assert!(!verify(&headers, other.as_str()));
        assert!(!verify(&headers, ""));
        assert!(!verify(&headers, &token.as_str()[..63]));
        assert!(!verify(&HeaderMap::new(), token.as_str()));
        // An empty or malformed cookie never matches, not even an equally empty field.
        assert!(!verify(&with_cookie(&format!("{COOKIE}=")), ""));
        assert!(!verify(&with_cookie(&format!("{COOKIE}=abc")), "abc"));
    }

    #[test]
    fn an_existing_cookie_is_reused_and_a_new_one_is_http_only_and_strict() {
        let token = CsrfToken::generate();
        let (reused, set) = token_for(&with_cookie(&format!("{COOKIE}={}", token.as_str())));
        assert_eq!(reused, token);
        assert!(set.is_none());

        let (fresh, set) = token_for(&HeaderMap::new());
        let set = set.unwrap();
        let set = set.to_str().unwrap();
        assert!(
            set.starts_with(&format!("{COOKIE}={};", fresh.as_str())),
            "{set}"
        );
        assert!(set.contains("HttpOnly"));
        assert!(set.contains("SameSite=Strict"));
        assert!(!set.contains("Secure"));

        let mut https = HeaderMap::new();
        https.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        let (_, set) = token_for(&https);
        assert!(set.unwrap().to_str().unwrap().ends_with("; Secure"));
    }
}
