//! `nomination.submitted.v1` → a confirmation to the nominator and a "new nomination to review" to
//! the trust's admin contact.

use std::sync::Arc;

use async_trait::async_trait;
use sea_orm::DatabaseTransaction;
use serde_json::json;
use tokio::sync::Notify;
use valued_platform::domain::EmailAddress;
use valued_platform::inbox::TransactionalHandler;
use valued_platform::{Envelope, HandlerError};
use valued_proto::events::v1::NominationSubmitted;

use crate::db::delivery::{self, NewDelivery};
use crate::templates::{NOMINATION_RECEIVED, NOMINATION_TO_REVIEW, Templates};

pub struct NominationSubmittedHandler {
    pub templates: Arc<Templates>,
    pub sender_wake: Arc<Notify>,
}

#[async_trait]
impl TransactionalHandler for NominationSubmittedHandler {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        let event: NominationSubmitted = envelope
            .decode()
            .map_err(|e| HandlerError::Poison(e.into()))?;
        let context = json!({
            "nomination_id": event.nomination_id,
            "campaign_name": event.campaign_name,
            "trust_name": event.trust_name,
            "category_name": event.category_name,
            "nominee_name": event.nominee_name,
            "nominee_job_title": event.nominee_job_title,
            "staff_group": event.staff_group,
            "nominator_name": event.nominator_name,
            "relationship": event.relationship,
            "story_excerpt": event.story_excerpt,
        });
        let emails = [
            (NOMINATION_RECEIVED, event.nominator_email.as_str()),
            (NOMINATION_TO_REVIEW, event.trust_admin_email.as_str()),
        ];
        for (template, recipient) in emails {
            let Ok(recipient) = EmailAddress::parse("recipient", recipient) else {
                tracing::warn!(event_id = %envelope.id, template, "no usable address; not sending");
                continue;
            };
            let email = self
                .templates
                .render(template, &context)
                .map_err(|e| HandlerError::Poison(e.into()))?;
            delivery::insert_once(
                txn,
                NewDelivery {
                    cause_event_id: envelope.id,
                    recipient: recipient.normalised(),
                    reply_to: None,
                    template,
                    email,
                },
            )
            .await
            .map_err(|e| HandlerError::Retry(e.into()))?;
        }
        Ok(())
    }

    fn after_commit(&self) {
        self.sender_wake.notify_one();
    }
}
