//! The privacy notice (UK GDPR Articles 13 and 14): what Valued collects, why, for how long and
//! what people may ask for, linked from the footer of every page and every email. Its text is the
//! deployment's (`gateway.privacy.notice`), with a trust's own section (`gateway.privacy.trusts`)
//! when the page is asked for with `?trust=<ODS code>`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::RawQuery;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;

use crate::error::Result;
use crate::routes::page;

/// The notice a deployment shows until it writes its own.
pub const DEFAULT_NOTICE: &str = "Valued is run for the NHS organisations taking part in each \
campaign. Each trust is the controller of what is collected for its campaigns.

When you nominate someone we keep your name and email address, and what you tell us about them, \
to run the campaign: to confirm your nomination, to let the trust consider it, and to tell you \
what happens. A nomination you never confirm is deleted after 30 days.

When you are nominated we keep your name, job, workplace and the story told about you. Nothing \
about you is made public, shared with the press or with your MP unless you say yes, separately \
for each, through the link in the email we send you. You can change your answers through the \
same link at any time.

When you write to your MP we send your letter, name, postcode and email address to them, and \
keep a copy so that we can count the letters they receive. A letter you never confirm is deleted \
after 7 days.

Emails we send are kept for 30 days and then emptied of their contents and your address.

You can ask for a copy of everything Valued holds about you, or for it to be erased, by writing \
to your trust's awards contact or information governance team.";

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PrivacySettings {
    /// The deployment's notice: paragraphs separated by blank lines. Empty: [`DEFAULT_NOTICE`].
    pub notice: String,
    /// A trust's own section, by ODS code (e.g. who its data protection officer is).
    pub trusts: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PrivacyQuery {
    trust: String,
}

fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

/// `GET /privacy[?trust=CODE]`
pub async fn show(
    Extension(settings): Extension<Arc<PrivacySettings>>,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    let query: PrivacyQuery = query
        .and_then(|q| serde_urlencoded::from_str(&q).ok())
        .unwrap_or_default();
    let notice = if settings.notice.trim().is_empty() {
        DEFAULT_NOTICE
    } else {
        settings.notice.as_str()
    };
    let code = query.trust.trim().to_uppercase();
    let trust = settings
        .trusts
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(&code))
        .map(|(_, text)| paragraphs(text));
    page::render(
        "privacy.html",
        context! {
            page_title => "How we use your information",
            paragraphs => paragraphs(notice),
            trust_code => code,
            trust => trust,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_are_split_on_blank_lines_and_their_lines_joined() {
        assert_eq!(paragraphs("One\nline.\n\n\nTwo."), ["One line.", "Two."]);
        assert!(paragraphs(DEFAULT_NOTICE).len() >= 5);
    }
}
