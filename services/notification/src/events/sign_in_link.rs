//! `admin.sign_in_link_requested.v1` → an organiser, judge or administrator who asked to sign in
//! by email gets a single-use link. Nothing else is in the email: no roles, no campaign.
//! `admin.invited.v1` → someone invited to a role hears what it is and where to sign in.

use serde_json::json;
use valued_platform::uk_time;
use valued_proto::events::v1::{AdminInvited, AdminSignInLinkRequested};

use super::{Email, Links, Notice};
use crate::templates::{ADMIN_INVITATION, SIGN_IN_LINK};

impl Notice for AdminSignInLinkRequested {
    fn emails(self, links: &Links) -> anyhow::Result<Vec<Email>> {
        let context = json!({
            "sign_in_url": links.to("admin/sign-in/email", &self.link_token)?,
            "expires_at": uk_time::of(self.expires_at.as_ref()).map(uk_time::time_of_day),
        });
        Ok(vec![Email::new(SIGN_IN_LINK, &self.email, context)])
    }
}

impl Notice for AdminInvited {
    fn emails(self, links: &Links) -> anyhow::Result<Vec<Email>> {
        let role = match self.role.as_str() {
            "platform_admin" => "a platform administrator",
            "region_admin" => "a regional administrator",
            "trust_admin" => "a trust administrator",
            "judge" => "a judge",
            other => anyhow::bail!("no such role: {other}"),
        };
        let context = json!({
            "role": role,
            "scope_name": self.scope_name,
            "invited_by": self.invited_by,
            "sign_in_url": links.page("admin/sign-in"),
            "email": self.email,
        });
        Ok(vec![Email::new(ADMIN_INVITATION, &self.email, context)])
    }
}
