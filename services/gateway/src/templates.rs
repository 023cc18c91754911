//! The page templates (minijinja, compiled into the binary), rendered with HTML auto-escaping on
//! every template: user input can never reach a page unescaped.

use std::sync::LazyLock;

use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior, Value, context};
use serde::Serialize;

use crate::assets;

pub const SERVICE_NAME: &str = "Valued";

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    (
        "form_parts.html",
        include_str!("../templates/form_parts.html"),
    ),
    ("error.html", include_str!("../templates/error.html")),
    (
        "write_to_mp/postcode.html",
        include_str!("../templates/write_to_mp/postcode.html"),
    ),
    (
        "write_to_mp/letter.html",
        include_str!("../templates/write_to_mp/letter.html"),
    ),
    (
        "write_to_mp/check_email.html",
        include_str!("../templates/write_to_mp/check_email.html"),
    ),
    (
        "write_to_mp/confirm.html",
        include_str!("../templates/write_to_mp/confirm.html"),
    ),
    (
        "write_to_mp/sent.html",
        include_str!("../templates/write_to_mp/sent.html"),
    ),
    (
        "campaigns.html",
        include_str!("../templates/campaigns.html"),
    ),
    ("campaign.html", include_str!("../templates/campaign.html")),
    (
        "story/form.html",
        include_str!("../templates/story/form.html"),
    ),
    (
        "story/withdraw.html",
        include_str!("../templates/story/withdraw.html"),
    ),
    (
        "admin/campaign_page.html",
        include_str!("../templates/admin/campaign_page.html"),
    ),
    (
        "admin/learning_routes.html",
        include_str!("../templates/admin/learning_routes.html"),
    ),
    (
        "admin/mp_letter.html",
        include_str!("../templates/admin/mp_letter.html"),
    ),
    (
        "admin/campaign_new.html",
        include_str!("../templates/admin/campaign_new.html"),
    ),
    (
        "admin/trust_settings.html",
        include_str!("../templates/admin/trust_settings.html"),
    ),
    (
        "admin/import.html",
        include_str!("../templates/admin/import.html"),
    ),
    (
        "admin/import_progress.html",
        include_str!("../templates/admin/import_progress.html"),
    ),
    (
        "admin/sign_in.html",
        include_str!("../templates/admin/sign_in.html"),
    ),
    (
        "admin/sign_in_link.html",
        include_str!("../templates/admin/sign_in_link.html"),
    ),
    (
        "admin/stories.html",
        include_str!("../templates/admin/stories.html"),
    ),
    (
        "admin/story_phone.html",
        include_str!("../templates/admin/story_phone.html"),
    ),
    (
        "admin/story_audit.html",
        include_str!("../templates/admin/story_audit.html"),
    ),
    (
        "nominated.html",
        include_str!("../templates/nominated.html"),
    ),
    (
        "nominate/question.html",
        include_str!("../templates/nominate/question.html"),
    ),
    (
        "nominate/category.html",
        include_str!("../templates/nominate/category.html"),
    ),
    (
        "nominate/nominee.html",
        include_str!("../templates/nominate/nominee.html"),
    ),
    (
        "nominate/staff-group.html",
        include_str!("../templates/nominate/staff-group.html"),
    ),
    (
        "nominate/workplace.html",
        include_str!("../templates/nominate/workplace.html"),
    ),
    (
        "nominate/story.html",
        include_str!("../templates/nominate/story.html"),
    ),
    (
        "nominate/about-you.html",
        include_str!("../templates/nominate/about-you.html"),
    ),
    (
        "nominate/check.html",
        include_str!("../templates/nominate/check.html"),
    ),
    (
        "nominate/save.html",
        include_str!("../templates/nominate/save.html"),
    ),
    (
        "nominate/saved.html",
        include_str!("../templates/nominate/saved.html"),
    ),
    ("confirm.html", include_str!("../templates/confirm.html")),
    (
        "confirmed.html",
        include_str!("../templates/confirmed.html"),
    ),
    ("claim.html", include_str!("../templates/claim.html")),
    (
        "claim_sent.html",
        include_str!("../templates/claim_sent.html"),
    ),
    ("consent.html", include_str!("../templates/consent.html")),
    (
        "consented.html",
        include_str!("../templates/consented.html"),
    ),
    ("outbox.html", include_str!("../templates/outbox.html")),
    ("privacy.html", include_str!("../templates/privacy.html")),
    (
        "unsubscribe.html",
        include_str!("../templates/unsubscribe.html"),
    ),
    ("delivery.html", include_str!("../templates/delivery.html")),
    (
        "vote/overview.html",
        include_str!("../templates/vote/overview.html"),
    ),
    (
        "vote/check_email.html",
        include_str!("../templates/vote/check_email.html"),
    ),
    (
        "vote/verify.html",
        include_str!("../templates/vote/verify.html"),
    ),
    (
        "vote/ballot.html",
        include_str!("../templates/vote/ballot.html"),
    ),
    (
        "vote/voted.html",
        include_str!("../templates/vote/voted.html"),
    ),
    (
        "vote/results.html",
        include_str!("../templates/vote/results.html"),
    ),
    (
        "survey/answer.html",
        include_str!("../templates/survey/answer.html"),
    ),
    (
        "survey/thanks.html",
        include_str!("../templates/survey/thanks.html"),
    ),
    (
        "survey/code.html",
        include_str!("../templates/survey/code.html"),
    ),
    (
        "admin/surveys.html",
        include_str!("../templates/admin/surveys.html"),
    ),
    (
        "admin/survey.html",
        include_str!("../templates/admin/survey.html"),
    ),
    (
        "admin/survey_codes.html",
        include_str!("../templates/admin/survey_codes.html"),
    ),
    (
        "admin/insight.html",
        include_str!("../templates/admin/insight.html"),
    ),
    (
        "admin/survey_results.html",
        include_str!("../templates/admin/survey_results.html"),
    ),
    (
        "admin/survey_screening.html",
        include_str!("../templates/admin/survey_screening.html"),
    ),
    (
        "suggestions/index.html",
        include_str!("../templates/suggestions/index.html"),
    ),
    (
        "suggestions/board.html",
        include_str!("../templates/suggestions/board.html"),
    ),
    (
        "suggestions/new.html",
        include_str!("../templates/suggestions/new.html"),
    ),
    (
        "suggestions/posted.html",
        include_str!("../templates/suggestions/posted.html"),
    ),
    (
        "suggestions/support.html",
        include_str!("../templates/suggestions/support.html"),
    ),
    (
        "admin/suggestions.html",
        include_str!("../templates/admin/suggestions.html"),
    ),
    (
        "admin/suggestion_status.html",
        include_str!("../templates/admin/suggestion_status.html"),
    ),
    (
        "admin/public_vote.html",
        include_str!("../templates/admin/public_vote.html"),
    ),
    (
        "admin/parts.html",
        include_str!("../templates/admin/parts.html"),
    ),
    (
        "admin/home.html",
        include_str!("../templates/admin/home.html"),
    ),
    (
        "admin/moderation.html",
        include_str!("../templates/admin/moderation.html"),
    ),
    (
        "admin/audit.html",
        include_str!("../templates/admin/audit.html"),
    ),
    (
        "admin/templates.html",
        include_str!("../templates/admin/templates.html"),
    ),
    (
        "admin/mp_emails.html",
        include_str!("../templates/admin/mp_emails.html"),
    ),
    (
        "admin/held_letters.html",
        include_str!("../templates/admin/held_letters.html"),
    ),
    (
        "admin/rubric.html",
        include_str!("../templates/admin/rubric.html"),
    ),
    (
        "admin/judges.html",
        include_str!("../templates/admin/judges.html"),
    ),
    (
        "admin/deliveries.html",
        include_str!("../templates/admin/deliveries.html"),
    ),
    (
        "admin/judging.html",
        include_str!("../templates/admin/judging.html"),
    ),
    (
        "admin/shortlist.html",
        include_str!("../templates/admin/shortlist.html"),
    ),
    (
        "admin/people.html",
        include_str!("../templates/admin/people.html"),
    ),
    (
        "admin/privacy.html",
        include_str!("../templates/admin/privacy.html"),
    ),
    (
        "admin/erase.html",
        include_str!("../templates/admin/erase.html"),
    ),
    (
        "admin/erasure.html",
        include_str!("../templates/admin/erasure.html"),
    ),
];

static ENVIRONMENT: LazyLock<Result<Environment<'static>, String>> = LazyLock::new(build);

fn build() -> Result<Environment<'static>, String> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .map_err(|e| format!("template {name}: {e:#}"))?;
    }
    env.add_global("service_name", SERVICE_NAME);
    env.add_global(
        "assets",
        context! {
            stylesheet => asset(assets::STYLESHEET),
            script => asset(assets::SCRIPT),
            favicon_ico => asset("images/favicon.ico"),
            favicon_svg => asset("images/favicon.svg"),
            mask_icon => asset("images/nhsuk-icon-mask.svg"),
            apple_touch_icon => asset("images/nhsuk-icon-180.png"),
            manifest => asset("manifest.json"),
        },
    );
    env.add_filter("paragraphs", paragraphs);
    env.add_filter("path", path);
    Ok(env)
}

/// Fails if a template does not compile (called once at startup).
pub fn check() -> anyhow::Result<()> {
    ENVIRONMENT
        .as_ref()
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("{e}"))
}

pub fn render(name: &str, context: impl Serialize) -> Result<String, minijinja::Error> {
    let env = ENVIRONMENT
        .as_ref()
        .map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, e.clone()))?;
    env.get_template(name)?.render(context)
}

/// An asset's URL: ours, so printed as it is (the escaper would turn its `/` into `&#x2f;`).
fn asset(name: &str) -> Value {
    Value::from_safe_string(assets::url(name))
}

/// A local path (`/` then percent-encoded segments) printed as it is; anything else is escaped.
fn path(value: &str) -> Value {
    let plain = value.starts_with('/')
        && !value.starts_with("//")
        && value.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~' | b'%')
        });
    if plain {
        Value::from_safe_string(value.to_owned())
    } else {
        Value::from(value)
    }
}

/// Splits text into its paragraphs (separated by blank lines), each trimmed; the template escapes
/// each one as it prints it.
fn paragraphs(text: &str) -> Vec<String> {
    text.replace("\r\n", "\n")
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        check().unwrap();
    }

    #[test]
    fn no_template_styles_inline_what_the_content_security_policy_would_drop() {
        for (name, source) in TEMPLATES {
            assert!(!source.contains("style="), "{name} has an inline style");
        }
    }

    #[test]
    fn only_plain_local_paths_skip_escaping() {
        assert!(path("/campaigns/health-heroes/nominate").is_safe());
        assert!(!path("//evil.example/x").is_safe());
        assert!(!path("/a\"onmouseover=\"x").is_safe());
        assert!(!path("javascript:alert(1)").is_safe());
    }

    #[test]
    fn text_splits_into_paragraphs() {
        assert_eq!(
            paragraphs("One.\r\n\r\n  Two\nlines. \n\n\n"),
            vec!["One.", "Two\nlines."]
        );
    }
}
