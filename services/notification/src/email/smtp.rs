//! Production email: a pool of SMTP connections made with lettre's connection API.
//!
//! Why not lettre's pooled `AsyncSmtpTransport`: its sockets keep Nagle's algorithm on, and every
//! message then stalls ~44 ms on a delayed ACK (about 23 emails a second per connection, measured
//! here). Plain-text connections are made on our own socket with TCP_NODELAY; TLS and STARTTLS
//! connections use lettre's own connect.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use lettre::Address;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::response::Response;
use secrecy::ExposeSecret;
use tokio::sync::Semaphore;

use super::{EmailSender, SendError};
use crate::settings::{SmtpSettings, TlsMode};

/// A connection idle for longer than this is checked with NOOP before it is used again.
const IDLE_CHECK: Duration = Duration::from_secs(30);

pub struct SmtpSender {
    settings: SmtpSettings,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
    connections: Semaphore,
}

impl SmtpSender {
    pub fn new(settings: &SmtpSettings) -> anyhow::Result<Self> {
        Ok(Self {
            settings: settings.clone(),
            idle: Mutex::default(),
            connections: Semaphore::new(usize::try_from(settings.pool_size.max(1)).unwrap_or(1)),
        })
    }

    async fn checkout(&self) -> Result<AsyncSmtpConnection, SendError> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        if let Some((mut connection, last_used)) = idle
            && !connection.has_broken()
            && (last_used.elapsed() < IDLE_CHECK || connection.test_connected().await)
        {
            return Ok(connection);
        }
        connect(&self.settings).await
    }
}

#[async_trait]
impl EmailSender for SmtpSender {
    async fn send(&self, message: lettre::Message) -> Result<String, SendError> {
        let _slot = self
            .connections
            .acquire()
            .await
            .map_err(|_| SendError::Transient("sender closed".into()))?;
        let mut connection = self.checkout().await.map_err(|error| match error {
            SendError::Transient(error) => SendError::Unavailable(error),
            other => other,
        })?;
        match transact(&mut connection, &message).await {
            Ok(response) => {
                if let Ok(mut idle) = self.idle.lock() {
                    idle.push((connection, Instant::now()));
                }
                Ok(response.message().collect::<Vec<_>>().join(" "))
            }
            Err(error) => {
                connection.abort().await;
                Err(error)
            }
        }
    }
}

async fn connect(settings: &SmtpSettings) -> Result<AsyncSmtpConnection, SendError> {
    let hello = ClientId::default();
    let timeout = Duration::from_secs(settings.timeout_seconds);
    let tls = || {
        TlsParameters::new(settings.host.clone())
            .map_err(|e| SendError::Permanent(format!("TLS settings: {e}")))
    };
    let address = (settings.host.as_str(), settings.port);
    let mut connection = match settings.tls {
        TlsMode::None => {
            let stream = tokio::time::timeout(timeout, tokio::net::TcpStream::connect(address))
                .await
                .map_err(|_| {
                    SendError::Transient("connecting to the SMTP server timed out".into())
                })?
                .map_err(|e| SendError::Transient(format!("connecting to the SMTP server: {e}")))?;
            stream
                .set_nodelay(true)
                .map_err(|e| SendError::Transient(e.to_string()))?;
            AsyncSmtpConnection::connect_with_transport(Box::new(stream), &hello)
                .await
                .map_err(classify)?
        }
        TlsMode::Tls => {
            AsyncSmtpConnection::connect_tokio1(address, Some(timeout), &hello, Some(tls()?), None)
                .await
                .map_err(classify)?
        }
        TlsMode::Starttls => {
            let mut connection =
                AsyncSmtpConnection::connect_tokio1(address, Some(timeout), &hello, None, None)
                    .await
                    .map_err(classify)?;
            connection
                .starttls(tls()?, &hello)
                .await
                .map_err(classify)?;
            connection
        }
    };
    if !settings.username.is_empty() {
        let credentials = Credentials::new(
            settings.username.clone(),
            settings.password.expose_secret().to_owned(),
        );
        connection
            .auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
            .await
            .map_err(classify)?;
    }
    Ok(connection)
}

/// One mail transaction, step by step as lettre's `send` takes it (MAIL, RCPT, DATA, the message),
/// so that a refusal says whose it is. A 5xx to MAIL FROM is about us — the sender address, a
/// relay that wants authentication — and suppresses no one ([`SendError::Permanent`]); a 5xx to
/// RCPT, DATA or the message is the recipient's hard bounce ([`SendError::Rejected`]). Otherwise a
/// misconfigured sender would put every recipient on the suppression list, one email at a time.
async fn transact(
    connection: &mut AsyncSmtpConnection,
    message: &lettre::Message,
) -> Result<Response, SendError> {
    let envelope = message.envelope();
    let body = message.formatted();
    let supports = |extension| connection.server_info().supports_feature(extension);
    let mut options = Vec::new();
    let non_ascii = |address: &Address| !AsRef::<str>::as_ref(address).is_ascii();
    if envelope.from().is_some_and(non_ascii) || envelope.to().iter().any(non_ascii) {
        if !supports(Extension::SmtpUtfEight) {
            return Err(SendError::Permanent(
                "a non-ASCII address, and the server does not support SMTPUTF8".into(),
            ));
        }
        options.push(MailParameter::SmtpUtfEight);
    }
    if !body.is_ascii() {
        if !supports(Extension::EightBitMime) {
            return Err(SendError::Permanent(
                "non-ASCII content, and the server does not support 8BITMIME".into(),
            ));
        }
        options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    connection
        .command(Mail::new(envelope.from().cloned(), options))
        .await
        .map_err(classify)?;
    for to in envelope.to() {
        connection
            .command(Rcpt::new(to.clone(), Vec::new()))
            .await
            .map_err(rejected)?;
    }
    connection.command(Data).await.map_err(rejected)?;
    connection.message(&body).await.map_err(rejected)
}

/// As [`classify`], with a permanent failure counted as the recipient's hard bounce.
fn rejected(error: lettre::transport::smtp::Error) -> SendError {
    match classify(error) {
        SendError::Permanent(error) => SendError::Rejected(error),
        other => other,
    }
}

fn classify(error: lettre::transport::smtp::Error) -> SendError {
    if error.is_permanent() {
        SendError::Permanent(error.to_string())
    } else {
        SendError::Transient(error.to_string())
    }
}
