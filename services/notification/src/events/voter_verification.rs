//! `voter.verification_requested.v1` → the voter gets a link and a 6-digit code to verify their
//! address for a campaign's public vote.

use serde_json::json;
use valued_platform::uk_time;
use valued_proto::events::v1::VoterVerificationRequested;

use super::{Email, Links, Notice};
use crate::templates::VOTE_VERIFICATION;

impl Notice for VoterVerificationRequested {
    fn emails(self, links: &Links) -> anyhow::Result<Vec<Email>> {
        let expires_at = uk_time::of(self.expires_at.as_ref()).map(uk_time::time_of_day);
        let context = json!({
            "campaign_name": self.campaign_name,
            "verify_url": links.to("vote/verify", &self.token)?,
            "code": self.code,
            "expires_at": expires_at,
        });
        Ok(vec![Email::new(VOTE_VERIFICATION, &self.email, context)])
    }
}
