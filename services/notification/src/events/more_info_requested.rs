//! `nomination.more_info_requested.v1` → the moderator's question to the nominator, with Reply-To
//! set to the trust's contact so that the answer reaches the trust.

use serde_json::json;
use valued_platform::domain::EmailAddress;
use valued_proto::events::v1::MoreInfoRequested;

use super::{Email, Links, Notice};
use crate::templates::MORE_INFO_NEEDED;

impl Notice for MoreInfoRequested {
    fn emails(self, _links: &Links) -> anyhow::Result<Vec<Email>> {
        let reply_by_email = EmailAddress::parse("reply_to", &self.reply_to).is_ok();
        let context = json!({
            "nomination_id": self.nomination_id,
            "campaign_name": self.campaign_name,
            "trust_name": self.trust_name,
            "nominee_name": self.nominee_name,
            "nominator_name": self.nominator_name,
            "question": self.question,
            "reply_by_email": reply_by_email,
        });
        let mut email = Email::new(MORE_INFO_NEEDED, &self.nominator_email, context);
        // Left off, with a warning, when it is not a usable address (the wording then says so).
        email.reply_to = Some(self.reply_to);
        Ok(vec![email])
    }
}
