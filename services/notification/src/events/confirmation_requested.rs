//! `nomination.confirmation_requested.v1` → the nominator is asked to confirm their email address;
//! the nomination does not count until they follow the link.

use serde_json::json;
use valued_proto::events::v1::NominationConfirmationRequested;

use super::{Email, Links, Notice};
use crate::templates::NOMINATION_CONFIRM;

impl Notice for NominationConfirmationRequested {
    fn emails(self, links: &Links) -> anyhow::Result<Vec<Email>> {
        let context = json!({
            "campaign_name": self.campaign_name,
            "nominator_name": self.nominator_name,
            "nominee_name": self.nominee_name,
            "confirm_url": links.to("confirm", &self.confirm_token)?,
        });
        Ok(vec![Email::new(
            NOMINATION_CONFIRM,
            &self.nominator_email,
            context,
        )])
    }
}
