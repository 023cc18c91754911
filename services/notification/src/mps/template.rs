//! The MP digest's email, from `templates/mp_digest.{subject,txt,html}` in the shared layout. It is
//! kept apart from [`crate::templates::Templates`], whose templates each answer one event.

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::email::RenderedEmail;

pub const MP_DIGEST: &str = "mp_digest";

pub struct DigestTemplate {
    env: Environment<'static>,
    privacy_url: Option<String>,
}

impl DigestTemplate {
    pub fn new() -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.add_global("privacy_url", "");
        for (name, source) in [
            ("_layout.html", include_str!("../../templates/_layout.html")),
            ("_macros.html", include_str!("../../templates/_macros.html")),
            (
                "mp_digest.subject",
                include_str!("../../templates/mp_digest.subject"),
            ),
            (
                "mp_digest.txt",
                include_str!("../../templates/mp_digest.txt"),
            ),
            (
                "mp_digest.html",
                include_str!("../../templates/mp_digest.html"),
            ),
        ] {
            env.add_template(name, source)?;
        }
        Ok(Self {
            env,
            privacy_url: None,
        })
    }

    /// The digest linking to the privacy notice under `public_url`, as every email does: it carries
    /// what constituents agreed to share, and the MP's own address is processed too.
    #[must_use]
    pub fn with_privacy_notice(mut self, public_url: &str) -> Self {
        let url = crate::templates::privacy_url(public_url);
        self.env.add_global("privacy_url", url.clone());
        self.privacy_url = Some(url);
        self
    }

    pub fn render(&self, context: impl Serialize) -> Result<RenderedEmail, minijinja::Error> {
        let context = minijinja::Value::from_serialize(context);
        let part = |suffix: &str| {
            self.env
                .get_template(&format!("{MP_DIGEST}.{suffix}"))?
                .render(&context)
        };
        let subject = part("subject")?;
        Ok(RenderedEmail {
            subject: subject.split_whitespace().collect::<Vec<_>>().join(" "),
            text: crate::templates::with_privacy_line(part("txt")?, self.privacy_url.as_deref()),
            html: part("html")?,
        })
    }
}
