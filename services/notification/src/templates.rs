//! Email templates, kept as files under `templates/`: `<name>.subject`, `<name>.txt` and
//! `<name>.html` (HTML is auto-escaped; every email has a plain-text and an HTML part).

use minijinja::Environment;
use serde::Serialize;

use crate::email::RenderedEmail;

pub const NOMINATION_RECEIVED: &str = "nomination_received";
pub const NOMINATION_TO_REVIEW: &str = "nomination_to_review";

macro_rules! template_files {
    ($($name:literal),* $(,)?) => {
        &[$(
            (concat!($name, ".subject"), include_str!(concat!("../templates/", $name, ".subject"))),
            (concat!($name, ".txt"), include_str!(concat!("../templates/", $name, ".txt"))),
            (concat!($name, ".html"), include_str!(concat!("../templates/", $name, ".html"))),
        )*]
    };
}

const FILES: &[(&str, &str)] = template_files!["nomination_received", "nomination_to_review"];
const LAYOUT: &str = include_str!("../templates/_layout.html");

pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn new() -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        env.add_template("_layout.html", LAYOUT)?;
        for (name, source) in FILES {
            env.add_template(name, source)?;
        }
        Ok(Self { env })
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
            text: render("txt")?,
            html: render("html")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_renders_and_html_is_escaped() {
        let templates = Templates::new().unwrap();
        let context = serde_json::json!({
            "nominee_name": "Sam <b>Patel</b>",
            "nominator_name": "Alex",
            "story_excerpt": "<script>alert(1)</script>",
        });
        for name in [NOMINATION_RECEIVED, NOMINATION_TO_REVIEW] {
            let email = templates.render(name, &context).unwrap();
            assert!(
                email.subject.contains("Sam <b>Patel</b>"),
                "subjects are plain text"
            );
            assert!(!email.subject.contains('\n'));
            assert!(email.html.contains("Sam &lt;b&gt;Patel&lt;"));
            assert!(!email.html.contains("<b>Patel"));
            assert!(!email.html.contains("<script>"));
            assert!(email.text.contains("Sam <b>Patel</b>"));
        }
    }
}
