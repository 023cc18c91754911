//! What `valued serve` — how a service runs in production — asks of its settings before it starts:
//! no development secret, every secret its other settings call for, and the developer outbox only
//! where `developer_machine` says this is a developer's machine. `valued up`, the embedded default,
//! asks none of this.

use secrecy::{ExposeSecret, SecretString};
use valued_notification::settings::{TlsMode, Transport};
use valued_platform::BusSettings;
use valued_platform::auth::service::MIN_KEY_BYTES;
use valued_platform::settings::BusKind;

use crate::{Service, Settings};

/// `settings` as `valued serve` runs `service` with them: refused, with every setting to change
/// named by its variable, when a secret is missing or the development one; the gateway's developer
/// outbox turned off unless `developer_machine` is set.
pub(crate) fn for_serve(settings: &Settings, service: Service) -> anyhow::Result<Settings> {
    let refusals = refusals(settings, service);
    anyhow::ensure!(refusals.is_empty(), "{}", refusals.join("\n"));
    let mut settings = settings.clone();
    // On by default for `valued up`, so here its being on says nothing of the operator's intent:
    // it lists every email with personal details to anyone who can reach the gateway.
    if settings.gateway.outbox && !settings.developer_machine {
        if service == Service::Gateway {
            tracing::warn!(
                "the developer outbox (/outbox) is off: valued serve serves it only on a \
                 developer's machine (VALUED__DEVELOPER_MACHINE=true); set \
                 VALUED__GATEWAY__OUTBOX=false to silence this"
            );
        }
        settings.gateway.outbox = false;
    }
    Ok(settings)
}

/// Why `service` must not start with `settings`, each naming what to set; empty when it may.
fn refusals(settings: &Settings, service: Service) -> Vec<String> {
    let mut refusals = Vec::new();
    if service != Service::Gateway {
        refusals.extend(bus(&settings.bus));
    }
    match service {
        Service::Voting => refusals.extend(voting(&settings.voting.settings)),
        Service::Notification => refusals.extend(notification(
            &settings.notification.settings,
            settings.developer_machine,
        )),
        Service::Gateway => refusals.extend(gateway(&settings.gateway)),
        Service::SurveyFeedback => {
            refusals.extend(stories(&settings.survey_feedback.settings.stories))
        }
        Service::Nomination => {}
    }
    refusals
}

fn is_set(secret: &SecretString) -> bool {
    !secret.expose_secret().trim().is_empty()
}

fn bus(bus: &BusSettings) -> Option<String> {
    (bus.kind == BusKind::Amqp && bus.amqp_url() == BusSettings::default().amqp_url()).then(|| {
        "bus.amqp_url is the development broker's guest account: set VALUED__BUS__AMQP_URL".into()
    })
}

fn voting(voting: &valued_voting::Settings) -> Option<String> {
    voting.uses_development_key().then(|| {
        "voting.voter_key_secret is the development key, with which anyone holding the source \
         could test guessed emails against stored votes: set VALUED__VOTING__VOTER_KEY_SECRET \
         to a long random value that stays fixed while any ballot is open"
            .into()
    })
}

fn stories(stories: &valued_survey_feedback::stories::StorySettings) -> Option<String> {
    stories.uses_development_key().then(|| {
        "survey_feedback.stories.sealing holds the development master key, with which anyone \
         holding the source could open stored phone numbers: set \
         VALUED__SURVEY_FEEDBACK__STORIES__SEALING__KEYS__<ID> to 32 random bytes in base64 \
         (openssl rand -base64 32) and VALUED__SURVEY_FEEDBACK__STORIES__SEALING__CURRENT to \
         that id, in lower case"
            .into()
    })
}

fn notification(
    notification: &valued_notification::Settings,
    developer_machine: bool,
) -> Vec<String> {
    let mut refusals = Vec::new();
    if notification.developer_outbox && !developer_machine {
        refusals.push(
            "notification.developer_outbox lets the gateway list every email, with personal \
             details, without a signed-in admin: unset VALUED__NOTIFICATION__DEVELOPER_OUTBOX \
             (on a developer's machine, set VALUED__DEVELOPER_MACHINE=true)"
                .into(),
        );
    }
    let dkim = &notification.dkim;
    // The other way round (a key without selector or domain) the service itself refuses.
    if (!dkim.domain.trim().is_empty() || !dkim.selector.trim().is_empty())
        && !is_set(&dkim.private_key_pem)
    {
        refusals.push(
            "notification.dkim.domain or .selector is set but no key to sign with, so every \
             email would go unsigned: set VALUED__NOTIFICATION__DKIM__PRIVATE_KEY_PEM (or unset \
             VALUED__NOTIFICATION__DKIM__DOMAIN and VALUED__NOTIFICATION__DKIM__SELECTOR)"
                .into(),
        );
    }
    let webhook = notification.webhook.secret.expose_secret();
    // Empty turns the webhook off; there is no compiled-in secret to fall back on.
    if !webhook.is_empty() && webhook.trim().len() < MIN_KEY_BYTES {
        refusals.push(format!(
            "notification.webhook.secret is shorter than {MIN_KEY_BYTES} bytes, so bounce and \
             complaint reports signed with it could be forged, suppressing anyone's email: set \
             VALUED__NOTIFICATION__WEBHOOK__SECRET to at least {MIN_KEY_BYTES} random bytes \
             (or unset it to turn the webhook off)"
        ));
    }
    if notification.email.transport == Transport::Smtp {
        refusals.extend(smtp(&notification.smtp));
    }
    refusals
}

fn smtp(smtp: &valued_notification::settings::SmtpSettings) -> Vec<String> {
    let mut refusals = Vec::new();
    let username = !smtp.username.trim().is_empty();
    match (username, is_set(&smtp.password)) {
        (true, false) => refusals.push(
            "notification.smtp.username is set but no password: set \
             VALUED__NOTIFICATION__SMTP__PASSWORD"
                .into(),
        ),
        (false, true) => refusals.push(
            "notification.smtp.password is set but no username, so it would never be used: set \
             VALUED__NOTIFICATION__SMTP__USERNAME"
                .into(),
        ),
        _ => {}
    }
    if username && smtp.tls == TlsMode::None && !is_loopback(&smtp.host) {
        refusals.push(format!(
            "notification.smtp.tls is none, so the SMTP password would cross the network to {} \
             in clear: set VALUED__NOTIFICATION__SMTP__TLS to starttls or tls",
            smtp.host
        ));
    }
    refusals
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn gateway(gateway: &valued_gateway::Settings) -> Vec<String> {
    let auth = &gateway.auth;
    let mut refusals = Vec::new();
    if !auth.enabled() {
        return refusals;
    }
    if auth.client_id.trim().is_empty() {
        refusals.push(
            "gateway.auth.issuer is set but not the gateway's client id at it: set \
             VALUED__GATEWAY__AUTH__CLIENT_ID"
                .into(),
        );
    }
    if !auth.client_secret.as_ref().is_some_and(is_set) {
        refusals.push(
            "gateway.auth.issuer is set but not the gateway's client secret at it: set \
             VALUED__GATEWAY__AUTH__CLIENT_SECRET"
                .into(),
        );
    }
    refusals
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use valued_platform::Shutdown;

    use super::*;

    const LONG: &str = "0123456789abcdef0123456789abcdef";

    /// The compiled-in defaults, with the one development secret they hold replaced.
    fn production() -> Settings {
        let mut settings = Settings::load_from(None, []).unwrap();
        settings.voting.settings.voter_key_secret = LONG.to_owned().into();
        let sealing = &mut settings.survey_feedback.settings.stories.sealing;
        sealing.keys = [(
            "k1".to_owned(),
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".into(),
        )]
        .into_iter()
        .collect();
        sealing.current = "k1".to_owned();
        settings
    }

    fn refused(settings: &Settings, service: Service) -> String {
        for_serve(settings, service).unwrap_err().to_string()
    }

    #[test]
    fn the_compiled_in_defaults_hold_no_secret_but_the_refused_voter_and_sealing_keys() {
        let defaults = Settings::load_from(None, []).unwrap();
        let notification = &defaults.notification.settings;
        assert!(!is_set(&notification.webhook.secret));
        assert!(!is_set(&notification.dkim.private_key_pem));
        assert!(!is_set(&notification.smtp.password));
        assert!(defaults.gateway.auth.client_secret.is_none());
        assert!(!defaults.developer_machine);
        for grpc in [
            &defaults.nomination.settings.grpc,
            &defaults.voting.settings.grpc,
            &defaults.survey_feedback.settings.grpc,
            &notification.grpc,
        ] {
            assert!(grpc.service_key.is_none());
        }
        assert!(refused(&defaults, Service::Voting).contains("VALUED__VOTING__VOTER_KEY_SECRET"),);
        assert!(
            refused(&defaults, Service::SurveyFeedback)
                .contains("VALUED__SURVEY_FEEDBACK__STORIES__SEALING__KEYS__<ID>")
        );
        for service in [
            Service::Nomination,
            Service::Voting,
            Service::SurveyFeedback,
            Service::Notification,
            Service::Gateway,
        ] {
            assert!(for_serve(&production(), service).is_ok(), "{service:?}");
        }
    }

    #[test]
    fn the_guest_broker_account_is_refused_except_by_the_gateway() {
        let mut settings = production();
        settings.bus = BusSettings {
            kind: BusKind::Amqp,
            ..BusSettings::default()
        };
        assert!(refused(&settings, Service::Nomination).contains("VALUED__BUS__AMQP_URL"));
        assert!(for_serve(&settings, Service::Gateway).is_ok());
        settings.bus = BusSettings::amqp("amqp://valued:s3cret@rabbitmq:5672/%2f", "valued");
        assert!(for_serve(&settings, Service::Nomination).is_ok());
    }

    #[test]
    fn a_dkim_domain_without_its_key_is_refused() {
        let mut settings = production();
        let dkim = &mut settings.notification.settings.dkim;
        dkim.selector = "valued".into();
        dkim.domain = "valued.example.org".into();
        assert!(
            refused(&settings, Service::Notification)
                .contains("set VALUED__NOTIFICATION__DKIM__PRIVATE_KEY_PEM")
        );
        settings.notification.settings.dkim.private_key_pem = "-----BEGIN RSA…".to_owned().into();
        assert!(for_serve(&settings, Service::Notification).is_ok());
    }

    #[test]
    fn a_short_webhook_secret_is_refused_and_none_turns_the_webhook_off() {
        let mut settings = production();
        settings.notification.settings.webhook.secret = "webhook-secret".to_owned().into();
        assert!(
            refused(&settings, Service::Notification)
                .contains("set VALUED__NOTIFICATION__WEBHOOK__SECRET to at least 32 random bytes")
        );
        settings.notification.settings.webhook.secret = LONG.to_owned().into();
        assert!(for_serve(&settings, Service::Notification).is_ok());
        settings.notification.settings.webhook.secret = String::new().into();
        assert!(for_serve(&settings, Service::Notification).is_ok());
    }

    #[test]
    fn smtp_credentials_come_in_pairs_and_never_in_clear_over_the_network() {
        let mut settings = production();
        let notification = &mut settings.notification.settings;
        notification.email.transport = Transport::Smtp;
        notification.smtp.host = "smtp-relay".into();
        notification.smtp.username = "valued".into();
        assert!(
            refused(&settings, Service::Notification)
                .contains("set VALUED__NOTIFICATION__SMTP__PASSWORD")
        );
        let smtp = &mut settings.notification.settings.smtp;
        smtp.username = String::new();
        smtp.password = "hunter2".to_owned().into();
        assert!(
            refused(&settings, Service::Notification)
                .contains("set VALUED__NOTIFICATION__SMTP__USERNAME")
        );
        let smtp = &mut settings.notification.settings.smtp;
        smtp.username = "valued".into();
        smtp.tls = TlsMode::None;
        let refusal = refused(&settings, Service::Notification);
        assert!(
            refusal.contains("set VALUED__NOTIFICATION__SMTP__TLS to starttls or tls"),
            "{refusal}"
        );
        assert!(!refusal.contains("hunter2"), "{refusal}");
        // To a relay on this machine, or over TLS, it may.
        settings.notification.settings.smtp.host = "127.0.0.1".into();
        assert!(for_serve(&settings, Service::Notification).is_ok());
        let smtp = &mut settings.notification.settings.smtp;
        smtp.host = "smtp-relay".into();
        smtp.tls = TlsMode::Starttls;
        assert!(for_serve(&settings, Service::Notification).is_ok());
        // The file transport never uses them.
        let notification = &mut settings.notification.settings;
        notification.smtp.password = String::new().into();
        notification.email.transport = Transport::File;
        assert!(for_serve(&settings, Service::Notification).is_ok());
    }

    #[test]
    fn admin_sign_in_at_the_gateway_needs_its_client_id_and_secret() {
        let mut settings = production();
        settings.gateway.auth.issuer = "https://login.example.org".into();
        let refusal = refused(&settings, Service::Gateway);
        assert!(
            refusal.contains("set VALUED__GATEWAY__AUTH__CLIENT_ID")
                && refusal.contains("set VALUED__GATEWAY__AUTH__CLIENT_SECRET"),
            "{refusal}"
        );
        settings.gateway.auth.client_id = "valued".into();
        settings.gateway.auth.client_secret = Some(String::new().into());
        assert!(refused(&settings, Service::Gateway).contains("CLIENT_SECRET"));
        settings.gateway.auth.client_secret = Some("issued by the provider".to_owned().into());
        assert!(for_serve(&settings, Service::Gateway).is_ok());
    }

    #[test]
    fn the_developer_outbox_is_served_only_on_a_developers_machine() {
        let mut settings = production();
        assert!(settings.gateway.outbox, "on by default for valued up");
        let served = for_serve(&settings, Service::Gateway).unwrap();
        assert!(!served.gateway.outbox);
        settings.notification.settings.developer_outbox = true;
        assert!(
            refused(&settings, Service::Notification)
                .contains("unset VALUED__NOTIFICATION__DEVELOPER_OUTBOX")
        );

        settings.developer_machine = true;
        assert!(
            for_serve(&settings, Service::Gateway)
                .unwrap()
                .gateway
                .outbox
        );
        assert!(for_serve(&settings, Service::Notification).is_ok());
    }

    #[tokio::test]
    async fn serve_refuses_before_it_connects_to_anything() {
        let mut settings = production();
        settings.voting.settings.voter_key_secret =
            valued_voting::Settings::default().voter_key_secret;
        settings.bus.kind = BusKind::Amqp;
        let refused = crate::serve(&settings, Service::Voting, Shutdown::new())
            .await
            .unwrap_err()
            .to_string();
        // Every refusal at once, one a line.
        assert_eq!(refused.lines().count(), 2, "{refused}");
        assert!(refused.contains("VALUED__BUS__AMQP_URL"), "{refused}");
        assert!(
            refused.contains("VALUED__VOTING__VOTER_KEY_SECRET"),
            "{refused}"
        );
    }
}
