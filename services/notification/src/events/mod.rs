//! What the notification service consumes, and what each event makes it send.
//!
//! Every event type has a [`Notice`]: the emails it asks for (template, recipient, context). One
//! handler, [`Notifications`], decodes the event, renders each email and records one delivery per
//! event, recipient and template in the inbox transaction; the sender sends them after the commit.
//! The MP digest hears finalists and winners on its own subscription ([`crate::mps::digest`]).

mod confirmation_requested;
mod draft_saved;
mod more_info_requested;
mod nomination_declined;
mod nomination_submitted;
mod nominee_claimed;
mod nominee_thanked;
mod public_vote;
mod recognised;
pub mod samples;
mod sign_in_link;
mod story;
mod suggestion_status;
mod survey_invitation;
mod voter_verification;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use sea_orm::DatabaseTransaction;
use tokio::sync::Notify;
use valued_platform::domain::EmailAddress;
use valued_platform::inbox::TransactionalHandler;
use valued_platform::{Envelope, HandlerError};
use valued_proto::events::Event;
use valued_proto::events::v1::{
    DraftSaved, FinalistAnnounced, FinalistResultsReleased, FinalistVoteOpened, MoreInfoRequested,
    NominationConfirmationRequested, NominationDeclined, NominationSubmitted, NomineeClaimed,
    NomineeThanked, SuggestionStatusChanged, SurveyInvitationRequested, VoterResultsReleased,
    VoterVerificationRequested, VoterVoteCounted, WinnerAnnounced,
};

use crate::db::delivery::{self, NewDelivery};
use crate::policy;
use crate::templates::Templates;

/// The consumer name: the queue `<prefix>.notification`.
pub const CONSUMER: &str = "notification";

/// One email an event asks for. The addresses are as the event carried them: an unusable recipient
/// is skipped with a warning, an unusable `reply_to` is left off.
#[derive(Debug, Clone)]
pub struct Email {
    pub template: &'static str,
    pub recipient: String,
    pub reply_to: Option<String>,
    /// Where the recipient's address came from: typed (as far as this service knows), or the
    /// trust's configured contact, which the daily cap on unsolicited email leaves alone.
    pub origin: policy::unsolicited::Origin,
    pub context: serde_json::Value,
}

impl Email {
    pub fn new(template: &'static str, recipient: &str, context: serde_json::Value) -> Self {
        Self {
            template,
            recipient: recipient.to_owned(),
            reply_to: None,
            origin: policy::unsolicited::Origin::Typed,
            context,
        }
    }
}

/// An event the service emails about, and the emails it asks for. An `Err` means the event can
/// never be turned into a useful email (e.g. its link token is missing): it is dead-lettered.
pub trait Notice: Event {
    fn emails(self, links: &Links) -> anyhow::Result<Vec<Email>>;
}

/// Links into the public site (the gateway), which emails carry.
#[derive(Debug, Clone)]
pub struct Links {
    public_url: String,
}

/// One path segment, percent-encoded (everything but RFC 3986 unreserved characters).
fn segment(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

impl Links {
    pub fn new(public_url: &str) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// `{public_url}/{page}`, for a page that needs no token.
    pub fn page(&self, page: &str) -> String {
        format!("{}/{}", self.public_url, page.trim_start_matches('/'))
    }

    /// What an email shows of learning routes: title, description, and the counting link.
    pub fn learning_routes(
        &self,
        routes: &[valued_proto::events::v1::LearningRouteLink],
    ) -> Vec<serde_json::Value> {
        routes
            .iter()
            .map(|route| {
                serde_json::json!({
                    "title": route.title,
                    "description": route.description,
                    "url": self.learning_route(route),
                })
            })
            .collect()
    }

    /// A learning route's link, through the page that counts its opens: a campaign's
    /// `{public_url}/campaigns/{slug}/routes/{id}`, a trust's `{public_url}/trusts/{code}/routes/{id}`;
    /// each segment percent-encoded.
    pub fn learning_route(&self, route: &valued_proto::events::v1::LearningRouteLink) -> String {
        let (owners, owner) = if route.trust_code.is_empty() {
            ("campaigns", &route.campaign_slug)
        } else {
            ("trusts", &route.trust_code)
        };
        format!(
            "{}/{owners}/{}/routes/{}",
            self.public_url,
            segment(owner),
            segment(&route.route_id)
        )
    }

    /// `{public_url}/{page}/{token}`; the token is percent-encoded should it ever hold more than
    /// the hex digits it is made of.
    pub fn to(&self, page: &str, token: &str) -> anyhow::Result<String> {
        let token = token.trim();
        anyhow::ensure!(
            !token.is_empty(),
            "the event has no token for its /{page} link"
        );
        Ok(format!("{}/{page}/{}", self.public_url, segment(token)))
    }
}

/// Turns an envelope into the emails it asks for.
type Compose = fn(&Envelope, &Links) -> Result<Vec<Email>, HandlerError>;

fn compose<N: Notice>(envelope: &Envelope, links: &Links) -> Result<Vec<Email>, HandlerError> {
    let event: N = envelope
        .decode()
        .map_err(|e| HandlerError::Poison(e.into()))?;
    event.emails(links).map_err(HandlerError::Poison)
}

/// The notification service's one event handler: every event type it emails about, by type.
pub struct Notifications {
    templates: Arc<Templates>,
    links: Links,
    sender_wake: Arc<Notify>,
    notices: BTreeMap<&'static str, Compose>,
    /// `policy.unsolicited_per_recipient_per_day`.
    unsolicited_per_day: u32,
}

impl Notifications {
    pub fn new(templates: Arc<Templates>, links: Links, sender_wake: Arc<Notify>) -> Self {
        Self {
            templates,
            links,
            sender_wake,
            notices: BTreeMap::new(),
            unsolicited_per_day: crate::settings::PolicySettings::default()
                .unsolicited_per_recipient_per_day,
        }
        .on::<NominationSubmitted>()
        .on::<NominationConfirmationRequested>()
        .on::<DraftSaved>()
        .on::<NominationDeclined>()
        .on::<NomineeThanked>()
        .on::<NomineeClaimed>()
        .on::<MoreInfoRequested>()
        .on::<FinalistAnnounced>()
        .on::<WinnerAnnounced>()
        .on::<VoterVerificationRequested>()
        .on::<VoterVoteCounted>()
        .on::<VoterResultsReleased>()
        .on::<FinalistVoteOpened>()
        .on::<FinalistResultsReleased>()
        .on::<SurveyInvitationRequested>()
        .on::<valued_proto::events::v1::StoryDraftSaved>()
        .on::<valued_proto::events::v1::StorySubmitted>()
        .on::<SuggestionStatusChanged>()
        .on::<valued_proto::events::v1::AdminSignInLinkRequested>()
        .on::<valued_proto::events::v1::AdminInvited>()
    }

    /// Emails caused by what someone typed into a public form obey these limits.
    pub fn with_policy(mut self, policy: &crate::settings::PolicySettings) -> Self {
        self.unsolicited_per_day = policy.unsolicited_per_recipient_per_day;
        self
    }

    fn on<N: Notice>(mut self) -> Self {
        self.notices.insert(N::TYPE, compose::<N>);
        self
    }

    /// Every event type handled: the consumer's subscription.
    pub fn event_types(&self) -> Vec<&'static str> {
        self.notices.keys().copied().collect()
    }

    /// Renders each email and records its delivery, unless its event already did for this
    /// recipient and template; the same few statements for a batch as for one email (the trusts'
    /// senders, the policy's decisions with the cap's slots, the rows).
    async fn deliver_all(
        &self,
        txn: &DatabaseTransaction,
        emails: Vec<(&Envelope, Email)>,
    ) -> Result<(), HandlerError> {
        let retry = |e: sea_orm::DbErr| HandlerError::Retry(e.into());
        let mut wanted = Vec::with_capacity(emails.len());
        for (envelope, email) in emails {
            match EmailAddress::parse("recipient", &email.recipient) {
                Ok(recipient) => wanted.push((envelope, recipient.normalised(), email)),
                Err(_) => {
                    tracing::warn!(event_id = %envelope.id, template = email.template, "no usable address; not sending");
                }
            }
        }
        if wanted.is_empty() {
            return Ok(());
        }
        let tenants = crate::senders::of_all(
            txn,
            wanted
                .iter()
                .filter_map(|(envelope, _, _)| envelope.tenant.as_deref()),
        )
        .await
        .map_err(retry)?;
        let asks: Vec<(&str, &str, policy::unsolicited::Origin)> = wanted
            .iter()
            .map(|(_, recipient, email)| (recipient.as_str(), email.template, email.origin))
            .collect();
        let decisions = policy::admit_all(txn, &asks, self.unsolicited_per_day)
            .await
            .map_err(retry)?;
        let mut deliveries = Vec::with_capacity(wanted.len());
        for ((envelope, recipient, email), decision) in wanted.into_iter().zip(decisions) {
            let template = email.template;
            let tenant = envelope
                .tenant
                .as_deref()
                .and_then(|code| tenants.get(&crate::senders::code(code)));
            let sender_name = tenant
                .map(|t| t.sender_name.trim())
                .filter(|name| !name.is_empty() && !name.contains(['\r', '\n']))
                .map(str::to_owned);
            // The email's own reply-to wins (a moderator's question goes to the trust contact);
            // otherwise the trust's, when it has one.
            let reply_to = email.reply_to.clone().or_else(|| {
                tenant
                    .map(|t| t.reply_to.trim().to_owned())
                    .filter(|address| !address.is_empty())
            });
            let reply_to = reply_to.as_deref().and_then(|address| {
                let parsed = EmailAddress::parse("reply_to", address).ok();
                if parsed.is_none() {
                    tracing::warn!(event_id = %envelope.id, template, "unusable reply-to address; left off");
                }
                parsed
            });
            let mut context = email.context;
            if let Some(token) = &decision.unsubscribe_token
                && let Some(fields) = context.as_object_mut()
            {
                // The same one-click link as the List-Unsubscribe header, for people to see.
                let url = self
                    .links
                    .to("unsubscribe", token)
                    .map_err(HandlerError::Poison)?;
                fields.insert("unsubscribe_url".into(), url.into());
            }
            let rendered = self
                .templates
                .render(template, &context)
                .map_err(|e| HandlerError::Poison(e.into()))?;
            deliveries.push((
                NewDelivery {
                    cause_event_id: envelope.id,
                    recipient,
                    reply_to: reply_to.map(|address| address.as_str().to_owned()),
                    sender_name,
                    template,
                    email: rendered,
                    verdict: decision.verdict,
                    unsolicited: decision.unsolicited,
                },
                // The send continues the trace of the event's handling.
                envelope.traceparent.clone(),
            ));
        }
        delivery::insert_all_once(txn, deliveries)
            .await
            .map_err(retry)?;
        Ok(())
    }
}

#[async_trait]
impl TransactionalHandler for Notifications {
    async fn handle(
        &self,
        txn: &DatabaseTransaction,
        envelope: &Envelope,
    ) -> Result<(), HandlerError> {
        self.handle_all(txn, &[envelope]).await
    }

    /// Composes every event's emails, then records them all with [`Self::deliver_all`].
    async fn handle_all(
        &self,
        txn: &DatabaseTransaction,
        envelopes: &[&Envelope],
    ) -> Result<(), HandlerError> {
        let mut emails = Vec::new();
        for envelope in envelopes {
            let Some(compose) = self.notices.get(envelope.event_type.as_str()) else {
                return Err(HandlerError::Poison(anyhow::anyhow!(
                    "event {} has type {}, which {CONSUMER} does not handle",
                    envelope.id,
                    envelope.event_type
                )));
            };
            emails.extend(
                compose(envelope, &self.links)?
                    .into_iter()
                    .map(|email| (*envelope, email)),
            );
        }
        self.deliver_all(txn, emails).await
    }

    fn after_commit(&self) {
        self.sender_wake.notify_one();
    }
}

impl Notifications {
    /// Every template an event sends, rendered from a realistic sample event (the admin preview).
    pub fn preview(&self) -> Vec<(&'static str, crate::email::RenderedEmail)> {
        let mut seen = std::collections::BTreeSet::new();
        let mut previews = Vec::new();
        for envelope in samples::samples("Example") {
            let Some(compose) = self.notices.get(envelope.event_type.as_str()) else {
                continue;
            };
            let Ok(emails) = compose(&envelope, &self.links) else {
                continue;
            };
            for email in emails {
                if !seen.insert(email.template) {
                    continue;
                }
                let mut context = email.context;
                if let Some(fields) = context.as_object_mut() {
                    let url = self.links.to("unsubscribe", "0000").unwrap_or_default();
                    fields.insert("unsubscribe_url".into(), url.into());
                }
                if let Ok(rendered) = self.templates.render(email.template, &context) {
                    previews.push((email.template, rendered));
                }
            }
        }
        previews
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use valued_proto::events::v1::LearningRouteLink;

    use super::*;
    use crate::templates;

    /// What a user might type, in every field a user fills in.
    const TYPED: &str = "Sam <b>Patel</b> & \"Co\"";

    fn samples() -> Vec<Envelope> {
        super::samples::samples(TYPED)
    }

    #[test]
    fn every_event_renders_its_emails_and_html_escapes_what_people_typed() {
        let handler = Notifications::new(
            Arc::new(Templates::new().unwrap()),
            Links::new("https://valued.example.org"),
            Arc::default(),
        );
        let samples = samples();
        let sampled: BTreeSet<&str> = samples.iter().map(|e| e.event_type.as_str()).collect();
        let handled: BTreeSet<&str> = handler.event_types().into_iter().collect();
        assert_eq!(sampled, handled, "a sample of every event type handled");
        let mut used = BTreeSet::new();
        for envelope in &samples {
            let compose = handler.notices[envelope.event_type.as_str()];
            for email in compose(envelope, &handler.links).unwrap() {
                used.insert(email.template);
                let rendered = handler
                    .templates
                    .render(email.template, &email.context)
                    .unwrap();
                let name = email.template;
                assert!(!rendered.subject.contains('\n'), "{name}");
                assert!(!rendered.html.contains("<b>"), "{name}: {}", rendered.html);
                assert!(!rendered.html.contains("& \""), "{name}");
                if rendered.text.contains(TYPED) {
                    assert!(
                        rendered
                            .html
                            .contains("Sam &lt;b&gt;Patel&lt;&#x2f;b&gt; &amp; &quot;Co&quot;"),
                        "{name}"
                    );
                }
                assert!(
                    !rendered.text.contains("&lt;"),
                    "plain text is not escaped: {name}"
                );
            }
        }
        let all: BTreeSet<&str> = templates::ALL
            .iter()
            .copied()
            .filter(|t| !templates::ON_REQUEST.contains(t))
            .collect();
        assert_eq!(used, all, "every template is used by an event");
    }

    /// "Save and come back later" with `to` typed as the nominator's address, for trust `tenant`.
    fn draft_saved(to: &str, tenant: &str) -> Envelope {
        Envelope::new(
            "test",
            Some(tenant),
            &DraftSaved {
                draft_id: uuid::Uuid::now_v7().to_string(),
                campaign_name: "Health Heroes 2026".into(),
                campaign_slug: "health-heroes-2026".into(),
                nominator_email: to.into(),
                resume_token: "d1af7000".into(),
                expires_at: None,
            },
        )
    }

    /// Events arriving at once go through the inbox in shared transactions, each batch recorded with
    /// the same few statements: an address's slots are still taken one by one (the emails to it
    /// in one batch count each other), each trust's sender is applied, and nothing is recorded twice.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn events_recorded_together_keep_the_cap_and_each_trusts_sender() {
        use sea_orm::{ActiveValue, ColumnTrait, EntityTrait, QueryFilter};
        use valued_platform::EventHandler;
        use valued_platform::inbox::Idempotent;

        let db = crate::db::testing::postgres("batched", 8).await;
        crate::senders::entity::Entity::insert(crate::senders::entity::ActiveModel {
            trust_code: ActiveValue::Set("RJ1".into()),
            sender_name: ActiveValue::Set("Guy's and St Thomas'".into()),
            reply_to: ActiveValue::Set("comms@gstt.example.org".into()),
            changed_at: ActiveValue::Set(chrono::Utc::now()),
        })
        .exec_without_returning(&db)
        .await
        .unwrap();
        let wake = Arc::new(Notify::new());
        let inbox = Idempotent::new(
            CONSUMER,
            db.clone(),
            Notifications::new(
                Arc::new(Templates::new().unwrap()),
                Links::new("https://valued.example.org"),
                wake,
            ),
        );
        // 12 to one mailbox however typed, 30 to addresses of their own; the cap is 5 a day.
        let mut events: Vec<Envelope> = (0..12)
            .map(|i| {
                draft_saved(
                    if i % 2 == 0 {
                        "victim@example.org"
                    } else {
                        "Victim@Example.org"
                    },
                    "RJ1",
                )
            })
            .collect();
        events.extend((0..30).map(|i| draft_saved(&format!("person{i}@example.org"), "RX1")));
        let again = events[3].clone();
        events.push(again);
        let handled = futures::future::join_all(events.iter().map(|e| inbox.handle(e))).await;
        assert!(handled.iter().all(Result::is_ok), "{handled:?}");

        let rows = delivery::Entity::find().all(&db).await.unwrap();
        assert_eq!(
            rows.len(),
            42,
            "one delivery per event, the repeated one not again"
        );
        let victim: Vec<_> = rows
            .iter()
            .filter(|row| row.recipient == "victim@example.org")
            .collect();
        let capped = victim.iter().filter(|row| row.status == "capped").count();
        assert_eq!(
            (victim.len() - capped, capped),
            (5, 7),
            "five sent a day, the rest capped"
        );
        assert!(
            victim
                .iter()
                .all(|row| row.sender_name.as_deref() == Some("Guy's and St Thomas'"))
        );
        assert!(
            victim
                .iter()
                .all(|row| row.reply_to.as_deref() == Some("comms@gstt.example.org"))
        );
        let others = delivery::Entity::find()
            .filter(delivery::Column::Recipient.like("person%"))
            .all(&db)
            .await
            .unwrap();
        assert_eq!(others.len(), 30);
        assert!(
            others
                .iter()
                .all(|row| row.status == "pending" && row.sender_name.is_none())
        );
    }

    #[test]
    fn links_join_the_public_url_and_the_token() {
        let links = Links::new("https://valued.example.org/");
        assert_eq!(
            links.to("confirm", "0af9").unwrap(),
            "https://valued.example.org/confirm/0af9"
        );
        assert_eq!(
            links.to("consent", "a/b?c").unwrap(),
            "https://valued.example.org/consent/a%2Fb%3Fc"
        );
        assert!(links.to("drafts", " ").is_err());
        let route = |campaign_slug: &str, trust_code: &str| LearningRouteLink {
            campaign_slug: campaign_slug.into(),
            trust_code: trust_code.into(),
            route_id: "0193".into(),
            ..LearningRouteLink::default()
        };
        assert_eq!(
            links.learning_route(&route("health heroes", "")),
            "https://valued.example.org/campaigns/health%20heroes/routes/0193"
        );
        assert_eq!(
            links.learning_route(&route("", "RJ1")),
            "https://valued.example.org/trusts/RJ1/routes/0193"
        );
    }
}
