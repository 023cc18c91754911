//! A real SMTP server the test controls: it speaks SMTP over TCP, keeps every message it accepted,
//! and can be told to answer DATA with a temporary or permanent failure, or to stop listening.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mail_parser::{MessageParser, MimeHeaders};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One message the sink accepted.
#[derive(Debug, Clone)]
pub struct ReceivedEmail {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub raw: Vec<u8>,
    /// When the sink accepted it (the end of DATA).
    pub received_at: std::time::Instant,
}

impl ReceivedEmail {
    fn parsed(&self) -> Option<mail_parser::Message<'_>> {
        MessageParser::default().parse(&self.raw)
    }

    pub fn subject(&self) -> String {
        self.parsed()
            .and_then(|m| m.subject().map(str::to_owned))
            .unwrap_or_default()
    }

    pub fn text_body(&self) -> String {
        self.parsed()
            .and_then(|m| m.body_text(0).map(|b| b.into_owned()))
            .unwrap_or_default()
    }

    pub fn html_body(&self) -> String {
        self.parsed()
            .and_then(|m| m.body_html(0).map(|b| b.into_owned()))
            .unwrap_or_default()
    }

    pub fn message_id(&self) -> String {
        self.parsed()
            .and_then(|m| m.message_id().map(str::to_owned))
            .unwrap_or_default()
    }

    /// The From header as a person reads it: display name decoded, then the address.
    pub fn from(&self) -> (String, String) {
        self.parsed()
            .and_then(|m| {
                m.from().and_then(|from| from.first()).map(|a| {
                    (
                        a.name().unwrap_or_default().to_owned(),
                        a.address().unwrap_or_default().to_owned(),
                    )
                })
            })
            .unwrap_or_default()
    }

    /// Every header name, as sent.
    pub fn header_names(&self) -> Vec<String> {
        self.parsed()
            .map(|m| m.headers().iter().map(|h| h.name().to_owned()).collect())
            .unwrap_or_default()
    }

    /// The raw value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        self.parsed().and_then(|m| {
            m.headers()
                .iter()
                .find(|h| h.name().eq_ignore_ascii_case(name))
                .and_then(|h| {
                    m.raw_message()
                        .get(h.offset_start() as usize..h.offset_end() as usize)
                })
                .map(|raw| String::from_utf8_lossy(raw).trim().to_owned())
        })
    }

    pub fn content_types(&self) -> Vec<String> {
        self.parsed()
            .map(|m| {
                m.parts
                    .iter()
                    .filter_map(|p| {
                        p.content_type()
                            .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[derive(Default)]
struct State {
    received: Vec<ReceivedEmail>,
    /// Replies to the next DATA commands, instead of 250.
    data_faults: VecDeque<String>,
    /// Replies to the next MAIL commands, instead of 250.
    mail_faults: VecDeque<String>,
}

pub struct SmtpSink {
    address: SocketAddr,
    state: Arc<Mutex<State>>,
    server: Mutex<Option<JoinHandle<()>>>,
}

impl SmtpSink {
    pub async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let sink = Self {
            address: listener.local_addr()?,
            state: Arc::default(),
            server: Mutex::default(),
        };
        sink.serve(listener);
        Ok(sink)
    }

    fn serve(&self, listener: TcpListener) {
        let state = self.state.clone();
        let task = tokio::spawn(async move {
            // Sessions belong to the server task: stopping it drops this set, which cuts them.
            let mut sessions = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let state = state.clone();
                sessions.spawn(async move {
                    let _ = session(stream, state).await;
                });
                while sessions.try_join_next().is_some() {}
            }
        });
        if let Ok(mut server) = self.server.lock() {
            *server = Some(task);
        }
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Stops accepting connections (the server is down); existing sessions are cut.
    pub fn stop(&self) {
        if let Some(task) = self.server.lock().ok().and_then(|mut s| s.take()) {
            task.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn restart(&self) -> anyhow::Result<()> {
        let listener = TcpListener::bind(self.address).await?;
        self.serve(listener);
        Ok(())
    }

    /// Answers the next `count` DATA commands with `reply` (e.g. `451 4.3.0 Try again later`).
    pub fn fail_next(&self, count: usize, reply: &str) {
        if let Ok(mut state) = self.state.lock() {
            state
                .data_faults
                .extend(std::iter::repeat_n(reply.to_owned(), count));
        }
    }

    /// Answers the next `count` MAIL FROM commands with `reply` (e.g. `553 5.7.1 Sender rejected`).
    pub fn fail_next_mail_from(&self, count: usize, reply: &str) {
        if let Ok(mut state) = self.state.lock() {
            state
                .mail_faults
                .extend(std::iter::repeat_n(reply.to_owned(), count));
        }
    }

    pub fn received(&self) -> Vec<ReceivedEmail> {
        self.state
            .lock()
            .map(|s| s.received.clone())
            .unwrap_or_default()
    }

    /// The messages that arrived after the first `skip`, in order of arrival.
    pub fn received_after(&self, skip: usize) -> Vec<ReceivedEmail> {
        self.state
            .lock()
            .map(|s| s.received.iter().skip(skip).cloned().collect())
            .unwrap_or_default()
    }

    /// How many messages have arrived.
    pub fn received_count(&self) -> usize {
        self.state
            .lock()
            .map(|s| s.received.len())
            .unwrap_or_default()
    }

    /// Waits until at least `count` messages arrived (or `timeout`), then returns them all. While
    /// it waits it only counts them: copying every message at each look would hold up the
    /// sessions (and, in a benchmark, the sender being measured).
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ReceivedEmail> {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.received_count() < count && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.received()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn session(stream: TcpStream, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
    let mut mail_from = String::new();
    let mut rcpt_to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: String = match verb.as_str() {
            "EHLO" => "250-sink.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 20000000".into(),
            "HELO" => "250 sink.test".into(),
            "MAIL" => {
                let fault = state
                    .lock()
                    .ok()
                    .and_then(|mut s| s.mail_faults.pop_front());
                mail_from = address_in(&command);
                rcpt_to.clear();
                fault.unwrap_or_else(|| "250 2.1.0 OK".into())
            }
            "RCPT" => {
                rcpt_to.push(address_in(&command));
                "250 2.1.5 OK".into()
            }
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let raw = read_data(&mut lines).await?;
                let fault = state
                    .lock()
                    .ok()
                    .and_then(|mut s| s.data_faults.pop_front());
                match fault {
                    Some(reply) => reply,
                    None => {
                        if let Ok(mut state) = state.lock() {
                            state.received.push(ReceivedEmail {
                                mail_from: mail_from.clone(),
                                rcpt_to: std::mem::take(&mut rcpt_to),
                                raw,
                                received_at: std::time::Instant::now(),
                            });
                        }
                        format!("250 2.0.0 OK queued as {}", uuid::Uuid::new_v4().simple())
                    }
                }
            }
            "RSET" => {
                mail_from.clear();
                rcpt_to.clear();
                "250 2.0.0 OK".into()
            }
            "NOOP" => "250 2.0.0 OK".into(),
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => "502 5.5.2 Command not recognised".into(),
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}

fn address_in(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_default()
}

async fn read_data<R: AsyncBufReadExt + Unpin>(lines: &mut R) -> std::io::Result<Vec<u8>> {
    let mut raw = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if lines.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == b".\r\n" {
            return Ok(raw);
        }
        // Undo dot-stuffing.
        let content = if line.starts_with(b"..") {
            &line[1..]
        } else {
            &line[..]
        };
        raw.extend_from_slice(content);
    }
}
