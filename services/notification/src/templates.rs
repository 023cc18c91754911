//! Email templates, kept as files under `templates/`: `<name>.subject`, `<name>.txt` and
//! `<name>.html` (HTML is auto-escaped; every email has a plain-text and an HTML part).

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::email::RenderedEmail;

macro_rules! templates {
    ($($constant:ident = $name:literal),* $(,)?) => {
        $(pub const $constant: &str = $name;)*

        /// Every email template's name.
        pub const ALL: &[&str] = &[$($name),*];

        const FILES: &[(&str, &str)] = &[$(
            (concat!($name, ".subject"), include_str!(concat!("../templates/", $name, ".subject"))),
            (concat!($name, ".txt"), include_str!(concat!("../templates/", $name, ".txt"))),
            (concat!($name, ".html"), include_str!(concat!("../templates/", $name, ".html"))),
        )*];
    };
}

templates! {
    NOMINATION_RECEIVED = "nomination_received",
    NOMINATION_TO_REVIEW = "nomination_to_review",
    NOMINATION_CONFIRM = "nomination_confirm",
    DRAFT_RESUME = "draft_resume",
    NOMINATION_DECLINED = "nomination_declined",
    VOTE_VERIFICATION = "vote_verification",
    VOTE_COUNTED = "vote_counted",
    VOTE_RESULTS = "vote_results",
    FINALIST_VOTE_OPENED = "finalist_vote_opened",
    FINALIST_RESULTS = "finalist_results",
    NOMINEE_THANKS = "nominee_thanks",
    NOMINEE_CONSENT_LINK = "nominee_consent_link",
    MORE_INFO_NEEDED = "more_info_needed",
    FINALIST_NOTICE = "finalist_notice",
    WINNER_NOTICE = "winner_notice",
    MP_LETTER_CONFIRM = "mp_letter_confirm",
    MP_LETTER = "mp_letter",
    MP_SUPPORTER_COUNT = "mp_supporter_count",
    SUMMARY = "summary",
    SURVEY_INVITATION = "survey_invitation",
    STORY_RESUME = "story_resume",
    STORY_SENT = "story_sent",
    SUGGESTION_STATUS = "suggestion_status",
    SIGN_IN_LINK = "sign_in_link",
    ADMIN_INVITATION = "admin_invitation",
}

/// Every email that goes to an MP.
pub const TO_MPS: &[&str] = &[crate::mps::MP_DIGEST, MP_LETTER, MP_SUPPORTER_COUNT];

/// Templates sent at someone's request through the API, or by a periodic job (not because of an
/// event).
pub const ON_REQUEST: &[&str] = &[MP_LETTER_CONFIRM, MP_LETTER, MP_SUPPORTER_COUNT, SUMMARY];

const LAYOUT: &str = include_str!("../templates/_layout.html");
const MACROS: &str = include_str!("../templates/_macros.html");

pub struct Templates {
    env: Environment<'static>,
    /// The privacy notice every email links to, when the deployment has a public address.
    privacy_url: Option<String>,
}

impl Templates {
    pub fn new() -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        // A name a template uses but the context lacks is an error, not a blank in an email.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.add_global("privacy_url", "");
        env.add_template("_layout.html", LAYOUT)?;
        env.add_template("_macros.html", MACROS)?;
        for (name, source) in FILES {
            env.add_template(name, source)?;
        }
        Ok(Self {
            env,
            privacy_url: None,
        })
    }

    /// These templates with every email linking to the privacy notice under `public_url`
    /// (`/privacy`): in the HTML footer and as the text part's last line.
    #[must_use]
    pub fn with_privacy_notice(mut self, public_url: &str) -> Self {
        let url = privacy_url(public_url);
        self.env.add_global("privacy_url", url.clone());
        self.privacy_url = Some(url);
        self
    }

    pub fn render(
        &self,
        name: &str,
        context: impl Serialize,
    ) -> Result<RenderedEmail, minijinja::Error> {
        let context = minijinja::Value::from_serialize(context);
        let render = |suffix: &str| {
            self.env
                .get_template(&format!("{name}.{suffix}"))?
                .render(&context)
        };
        Ok(RenderedEmail {
            subject: render("subject")?
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            text: with_privacy_line(render("txt")?, self.privacy_url.as_deref()),
            html: render("html")?,
        })
    }
}

/// The privacy notice under `public_url`, every email's last link.
pub fn privacy_url(public_url: &str) -> String {
    format!("{}/privacy", public_url.trim_end_matches('/'))
}

/// A text part ending with the link to the privacy notice, when there is one.
pub fn with_privacy_line(text: String, privacy_url: Option<&str>) -> String {
    match privacy_url {
        Some(url) => format!(
            "{}\n\nHow we use your information: {url}\n",
            text.trim_end()
        ),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every template rendered from real events, and the escaping of what users typed: see the tests
    // in `events`.

    #[test]
    fn a_name_missing_from_the_context_is_an_error() {
        let templates = Templates::new().unwrap();
        let context = serde_json::json!({ "nominee_name": "Sam Patel" });
        assert!(templates.render(NOMINATION_RECEIVED, &context).is_err());
    }
}
