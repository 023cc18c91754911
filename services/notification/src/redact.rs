//! Link tokens kept out of what the API returns.
//!
//! The links emails carry to `/confirm`, `/consent`, `/drafts`, `/write-to-your-mp/confirm`,
//! `/unsubscribe`, `/vote/verify`, `/surveys/invitation`, `/stories/drafts`, `/stories/withdraw`
//! and `/admin/sign-in/email` end in a token: whoever has the link
//! can act as the recipient. A delivery's stored body (and the email sent) keep them; whatever the
//! gRPC API returns passes through [`LinkTokens::redact`] first, which keeps each link up to its
//! page (`…/confirm/[token removed]`) so an admin can still see which kind of link it was.
//!
//! A voter's 6-digit code is a token too: the templates write it after [`CODE_MARKER`], and it goes
//! the same way.
//!
//! Bodies are stored as rendered (plain text, and HTML where the templates' escaping writes `/` as
//! `&#x2f;`), never in their MIME transfer encoding, so those two spellings are all there is to find.

use minijinja::HtmlEscape;

/// The pages of the public site whose links end in a token: `{public_url}/{page}/{token}`.
pub const TOKEN_PAGES: &[&str] = &[
    "confirm",
    "consent",
    "drafts",
    "write-to-your-mp/confirm",
    "unsubscribe",
    "vote/verify",
    "surveys/invitation",
    "stories/drafts",
    "stories/withdraw",
    "admin/sign-in/email",
];

/// What every template writes just before a one-time code (the public vote's verification).
pub const CODE_MARKER: &str = "Your code: ";

/// What every template writes just before a vote's receipt: with the published ledger it says
/// what the voter chose, so it is kept from the admins who read deliveries, as a code is.
pub const RECEIPT_MARKER: &str = "Your receipt: ";

/// What a link's token is replaced with.
pub const REMOVED: &str = "[token removed]";

/// Finds the token links under one public URL (`email.public_url`) and removes their tokens.
#[derive(Debug, Clone)]
pub struct LinkTokens {
    /// `{public_url}/{page}/` for every token page, as written in plain text and in HTML.
    prefixes: Vec<String>,
}

impl LinkTokens {
    pub fn new(public_url: &str) -> Self {
        let base = public_url.trim_end_matches('/');
        let mut prefixes = Vec::with_capacity(TOKEN_PAGES.len() * 2);
        for page in TOKEN_PAGES {
            let plain = format!("{base}/{page}/");
            let html = HtmlEscape(&plain).to_string();
            if html != plain {
                prefixes.push(html);
            }
            prefixes.push(plain);
        }
        prefixes.push(CODE_MARKER.to_owned());
        prefixes.push(RECEIPT_MARKER.to_owned());
        Self { prefixes }
    }

    /// `text` with the token of every link to a token page replaced by [`REMOVED`].
    pub fn redact(&self, text: &str) -> String {
        let mut redacted = String::with_capacity(text.len());
        let mut rest = text;
        while let Some((at, prefix)) = self
            .prefixes
            .iter()
            .filter_map(|prefix| rest.find(prefix.as_str()).map(|at| (at, prefix.len())))
            .min_by_key(|&(at, _)| at)
        {
            let (before, after) = rest.split_at(at + prefix);
            redacted.push_str(before);
            let token = token_len(after);
            if token > 0 {
                redacted.push_str(REMOVED);
            }
            rest = &after[token..];
        }
        redacted.push_str(rest);
        redacted
    }
}

/// How many bytes at the start of `s` are a token as `Links::to` writes it: unreserved URL
/// characters and percent-escapes, less any dots that end it (the full stop after a link).
fn token_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    let mut len = 0;
    while let Some(&byte) = bytes.get(len) {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            len += 1;
        } else if byte == b'%'
            && bytes
                .get(len + 1..len + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
        {
            len += 3;
        } else {
            break;
        }
    }
    while len > 0 && bytes[len - 1] == b'.' {
        len -= 1;
    }
    len
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::events::{Links, Notifications};
    use crate::templates::Templates;

    const URL: &str = "https://valued.example.org";

    #[test]
    fn a_token_at_the_end_of_a_sentence_goes_and_the_full_stop_stays() {
        let tokens = LinkTokens::new(URL);
        assert_eq!(
            tokens.redact("Confirm it at https://valued.example.org/confirm/c0ffee01."),
            "Confirm it at https://valued.example.org/confirm/[token removed]."
        );
        assert_eq!(
            tokens.redact("Open\nhttps://valued.example.org/drafts/d1af7000\nto finish"),
            "Open\nhttps://valued.example.org/drafts/[token removed]\nto finish"
        );
    }

    #[test]
    fn every_token_page_in_one_body_with_the_rest_untouched() {
        let tokens = LinkTokens::new(URL);
        let text = "a https://valued.example.org/confirm/1a, \
                    b https://valued.example.org/consent/2b; \
                    c (https://valued.example.org/drafts/3c) \
                    d https://valued.example.org/write-to-your-mp/confirm/4d \
                    e <https://valued.example.org/unsubscribe/5e>";
        assert_eq!(
            tokens.redact(text),
            "a https://valued.example.org/confirm/[token removed], \
             b https://valued.example.org/consent/[token removed]; \
             c (https://valued.example.org/drafts/[token removed]) \
             d https://valued.example.org/write-to-your-mp/confirm/[token removed] \
             e <https://valued.example.org/unsubscribe/[token removed]>"
        );
    }

    #[test]
    fn tokens_in_escaped_html_hrefs_and_link_text_go() {
        let tokens = LinkTokens::new(URL);
        let html = "<a href=\"https:&#x2f;&#x2f;valued.example.org&#x2f;confirm&#x2f;c0ffee01\">\
                    https:&#x2f;&#x2f;valued.example.org&#x2f;confirm&#x2f;c0ffee01</a>";
        assert_eq!(
            tokens.redact(html),
            "<a href=\"https:&#x2f;&#x2f;valued.example.org&#x2f;confirm&#x2f;[token removed]\">\
             https:&#x2f;&#x2f;valued.example.org&#x2f;confirm&#x2f;[token removed]</a>"
        );
        assert_eq!(
            tokens.redact("<a href=\"https://valued.example.org/consent/beef\">"),
            "<a href=\"https://valued.example.org/consent/[token removed]\">"
        );
    }

    #[test]
    fn percent_encoded_tokens_go_whole() {
        let links = Links::new(URL);
        let url = links.to("consent", "a/b?c d").unwrap();
        assert_eq!(
            LinkTokens::new(URL).redact(&format!("{url}?x=1")),
            "https://valued.example.org/consent/[token removed]?x=1"
        );
    }

    #[test]
    fn a_public_url_with_a_path_prefix_is_matched_whole() {
        let tokens = LinkTokens::new("https://nhs.example.org/valued/");
        assert_eq!(
            tokens.redact(
                "https://nhs.example.org/valued/unsubscribe/0af9 and \
                 https://nhs.example.org/valued/write-to-your-mp/confirm/ab12 but not \
                 https://nhs.example.org/confirm/ab12 or https://elsewhere.example/valued/confirm/ab12"
            ),
            "https://nhs.example.org/valued/unsubscribe/[token removed] and \
             https://nhs.example.org/valued/write-to-your-mp/confirm/[token removed] but not \
             https://nhs.example.org/confirm/ab12 or https://elsewhere.example/valued/confirm/ab12"
        );
    }

    #[test]
    fn text_without_token_links_is_unchanged() {
        let tokens = LinkTokens::new(URL);
        for text in [
            "",
            "Thank you, Sam.",
            "See https://valued.example.org/campaigns/health-heroes-2026.",
            "https://valued.example.org/confirm/",
            "c0ffee01 and /confirm/c0ffee01 alone",
        ] {
            assert_eq!(tokens.redact(text), text);
        }
    }

    /// Pages an email may link to without a token, nothing to remove: a trust's suggestion board
    /// (`suggestions/<trust>`), the sign-in page itself (`admin/sign-in`, but not its token links
    /// below it), a campaign's pages (a learning route's counting link,
    /// `campaigns/{slug}/routes/{id}`, names a route every reader of the campaign's page sees,
    /// nothing of the recipient's) and a trust's route's counting link
    /// (`trusts/{code}/routes/{id}`, naming the trust's route and the trust, which the email
    /// names anyway).
    const PUBLIC_PAGES: &[&str] = &["suggestions/", "admin/sign-in", "campaigns/", "trusts/"];

    /// How often `link` (a [`PUBLIC_PAGES`] page after the site's address, plain or escaped as
    /// HTML) is in `text`: a page not ending in `/` only where nothing below it follows.
    fn public_links(text: &str, link: &str, open_ended: bool) -> usize {
        text.match_indices(link)
            .filter(|(at, _)| open_ended || !text[at + link.len()..].starts_with(['/', '&']))
            .count()
    }

    /// Every link any email carries (the previews render every template, with sample tokens) is
    /// a token link the redaction knows, or a page listed as public: a link added with a new page fails here.
    #[test]
    fn every_link_in_every_email_loses_its_token() {
        let templates = Arc::new(Templates::new().unwrap());
        let handler = Notifications::new(templates.clone(), Links::new(URL), Arc::default());
        let previews = handler
            .preview()
            .into_iter()
            .chain(crate::mps::write_to_mp::preview(&templates))
            .chain(crate::policy::summary::preview(&templates));
        let tokens = LinkTokens::new(URL);
        let mut links = 0;
        for (template, email) in previews {
            for (body, base) in [
                (&email.text, URL.to_owned()),
                (&email.html, HtmlEscape(URL).to_string()),
            ] {
                let redacted = tokens.redact(body);
                let public: usize = PUBLIC_PAGES
                    .iter()
                    .map(|page| {
                        let plain = format!("{URL}/{page}");
                        let html = HtmlEscape(&plain).to_string();
                        let open_ended = page.ends_with('/');
                        public_links(&redacted, &plain, open_ended)
                            + public_links(&redacted, &html, open_ended)
                    })
                    .sum();
                let found = redacted.matches(base.as_str()).count() - public
                    + redacted.matches(CODE_MARKER).count()
                    + redacted.matches(RECEIPT_MARKER).count();
                assert!(!redacted.contains("042917"), "{template}: {redacted}");
                assert!(!redacted.contains("7K3QZ-M9D2A"), "{template}: {redacted}");
                assert!(!redacted.contains("K7QM-3XWP"), "{template}: {redacted}");
                assert_eq!(
                    redacted.matches(REMOVED).count(),
                    found,
                    "{template}: {redacted}"
                );
                links += found;
            }
        }
        assert!(links >= 10, "the previews carry links ({links})");
    }
}
