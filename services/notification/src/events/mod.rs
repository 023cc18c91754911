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

    /// Renders `email` and records its delivery, unless this event already did for this recipient
    /// and template.
    async fn deliver(
        &self,
        txn: &DatabaseTransaction,
        envelope: &Envelope,
        email: Email,
    ) -> Result<(), HandlerError> {
        let template = email.template;
        let Ok(recipient) = EmailAddress::parse("recipient", &email.recipient) else {
            tracing::warn!(event_id = %envelope.id, template, "no usable address; not sending");
            return Ok(());
        };
        let tenant = crate::senders::of(txn, envelope.tenant.as_deref())
            .await
            .map_err(|e| HandlerError::Retry(e.into()))?;
        let tenant = tenant.as_ref();
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
        let decision = policy::admit(
            txn,
            &recipient.normalised(),
            template,
            email.origin,
            self.unsolicited_per_day,
        )
        .await
        .map_err(|e| HandlerError::Retry(e.into()))?;
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
        delivery::insert_once(
            txn,
            NewDelivery {
                cause_event_id: envelope.id,
                recipient: recipient.normalised(),
                reply_to: reply_to.map(|address| address.as_str().to_owned()),
                sender_name,
                template,
                email: rendered,
                verdict: decision.verdict,
                unsolicited: decision.unsolicited,
            },
        )
        .await
        .map_err(|e| HandlerError::Retry(e.into()))?;
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
        let Some(compose) = self.notices.get(envelope.event_type.as_str()) else {
            return Err(HandlerError::Poison(anyhow::anyhow!(
                "event {} has type {}, which {CONSUMER} does not handle",
                envelope.id,
                envelope.event_type
            )));
        };
        for email in compose(envelope, &self.links)? {
            self.deliver(txn, envelope, email).await?;
        }
        Ok(())
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
