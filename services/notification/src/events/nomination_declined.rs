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
