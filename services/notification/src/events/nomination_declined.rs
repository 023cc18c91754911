//! `nomination.declined.v1` → the nominator's own mailbox hears why a nomination was not sent (the
//! form said only "check your email", to whoever typed the address).

use serde_json::json;
use valued_proto::events::v1::NominationDeclined;

use super::{Email, Links, Notice};
use crate::templates::NOMINATION_DECLINED;

impl Notice for NominationDeclined {
    fn emails(self, _: &Links) -> anyhow::Result<Vec<Email>> {
        let context = json!({
            "campaign_name": self.campaign_name,
            "nominee_name": self.nominee_name,
            "category_name": self.category_name,
            "reason": self.reason,
            "limit": self.limit,
        });
        Ok(vec![Email::new(
            NOMINATION_DECLINED,
            &self.nominator_email,
            context,
        )])
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::templates::Templates;

    /// The text of the email telling a nominator they reached `limit`.
    fn limit_reached(limit: u64) -> String {
        let event = NominationDeclined {
            campaign_name: "Porters' Choice".into(),
            nominee_name: "Alex Smith".into(),
            category_name: "Porter of the year".into(),
            nominator_email: "alex@example.org".into(),
            reason: "limit_reached".into(),
            limit,
            ..Default::default()
        };
        let email = event
            .emails(&Links::new("https://valued.example.org"))
            .unwrap()
            .remove(0);
        let rendered = Templates::new()
            .unwrap()
            .render(email.template, &email.context)
            .unwrap();
        assert!(
            rendered.html.contains(&format!("up to {limit} nomination")),
            "{}",
            rendered.html
        );
        rendered.text
    }

    #[test]
    fn the_email_names_the_campaigns_limit_in_words_that_fit_it() {
        let text = limit_reached(2);
        assert!(
            text.contains("Porters' Choice takes up to 2 nominations from each person, and you have already made that many"),
            "{text}"
        );
        assert!(
            text.contains("Your earlier nominations still count."),
            "{text}"
        );
        let text = limit_reached(1);
        assert!(
            text.contains("Porters' Choice takes up to 1 nomination from each person, and you have already made yours"),
            "{text}"
        );
        assert!(
            text.contains("Your earlier nomination still counts."),
            "{text}"
        );
    }
}
