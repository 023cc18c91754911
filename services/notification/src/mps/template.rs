//! The MP digest's email, from `templates/mp_digest.{subject,txt,html}` in the shared layout. It is
//! kept apart from [`crate::templates::Templates`], whose templates each answer one event.

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::email::RenderedEmail;

pub const MP_DIGEST: &str = "mp_digest";

pub struct DigestTemplate {
    env: Environment<'static>,
}

impl DigestTemplate {
    pub fn new() -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // The shared layout's privacy link: MPs are not data subjects of a digest, so none.
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
        Ok(Self { env })
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
            text: part("txt")?,
            html: part("html")?,
        })
    }
}
