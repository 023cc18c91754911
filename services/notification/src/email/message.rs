use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};

/// What a template produced, stored on the delivery row so a retry sends exactly the same email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Builds the MIME message with lettre's builders only: headers are encoded by lettre, so no user
/// text can add a header. `message_id` is fixed per delivery, so a resend after a crash carries the
/// same Message-ID and receiving systems can recognise it. `reply_to`, when given, is where the
/// recipient's reply goes instead of the From address. `unsubscribe`, when given, is the RFC 8058
/// one-click unsubscribe URL: the message then carries `List-Unsubscribe: <url>` and
/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
pub fn build_message(
    from: &Mailbox,
    to: &str,
    reply_to: Option<&str>,
    message_id: &str,
    unsubscribe: Option<&str>,
    email: &RenderedEmail,
) -> anyhow::Result<lettre::Message> {
    let to: Mailbox = to.parse()?;
    let mut builder = lettre::Message::builder().from(from.clone()).to(to);
    if let Some(reply_to) = reply_to {
        builder = builder.reply_to(reply_to.parse()?);
    }
    if let Some(url) = unsubscribe {
        anyhow::ensure!(
            url.starts_with("https://") || url.starts_with("http://"),
            "the unsubscribe link is not an HTTP(S) URL"
        );
        anyhow::ensure!(
            !url.contains(['<', '>', '\r', '\n', ' ']),
            "the unsubscribe link has characters a header cannot carry"
        );
        builder = builder
            .header(ListUnsubscribe(url.to_owned()))
            .header(ListUnsubscribePost);
    }
    let message = builder
        .subject(email.subject.as_str())
        .message_id(Some(message_id.to_owned()))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(email.text.clone()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(email.html.clone()),
                ),
        )?;
    Ok(message)
}

/// `List-Unsubscribe: <https://…>` (RFC 2369), the URL as one angle-bracketed value.
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(
            s.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned(),
        ))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn from() -> Mailbox {
        "Valued <no-reply@valued.example.org>".parse().unwrap()
    }

    proptest! {
        // Whatever a user typed, the headers of the message are exactly the ones we set.
        #[test]
        fn user_text_never_adds_a_header(subject in "\\PC{0,30}[\r\n]{1,2}(Bcc|To|X-Evil): ?\\PC{0,30}", body in "\\PC*") {
            let email = RenderedEmail { subject, text: body.clone(), html: body };
            let message = build_message(&from(), "sam@example.org", None, "<id@valued>", None, &email).unwrap();
            let raw = String::from_utf8_lossy(&message.formatted()).into_owned();
            let head = raw.split("\r\n\r\n").next().unwrap();
            let names: Vec<&str> = head
                .split("\r\n")
                .filter(|line| !line.starts_with(' ') && !line.starts_with('\t'))
                .filter_map(|line| line.split_once(':').map(|(name, _)| name))
                .collect();
            prop_assert_eq!(names, vec!["From", "To", "Subject", "Message-ID", "MIME-Version", "Date", "Content-Type"]);
        }
    }

    #[test]
    fn reply_to_is_set_only_when_given() {
        let email = RenderedEmail {
            subject: "A question".into(),
            text: "Hello".into(),
            html: "<p>Hello</p>".into(),
        };
        let head = |reply_to| {
            let message = build_message(
                &from(),
                "sam@example.org",
                reply_to,
                "<id@valued>",
                None,
                &email,
            )
            .unwrap();
            let raw = String::from_utf8_lossy(&message.formatted()).into_owned();
            raw.split("\r\n\r\n").next().unwrap().to_owned()
        };
        assert!(
            head(Some("awards@trust.example.org"))
                .contains("\r\nReply-To: awards@trust.example.org\r\n")
        );
        assert!(!head(None).contains("Reply-To"));
        assert!(
            build_message(
                &from(),
                "sam@example.org",
                Some("not an address"),
                "<id@valued>",
                None,
                &email
            )
            .is_err()
        );
    }

    #[test]
    fn a_non_transactional_email_carries_one_click_unsubscribe() {
        let email = RenderedEmail {
            subject: "You are a finalist".into(),
            text: "Hello".into(),
            html: "<p>Hello</p>".into(),
        };
        let url = "https://valued.example.org/unsubscribe/abc123";
        let message = build_message(
            &from(),
            "sam@example.org",
            None,
            "<id@valued>",
            Some(url),
            &email,
        )
        .unwrap();
        let raw = String::from_utf8_lossy(&message.formatted()).into_owned();
        assert!(
            raw.contains(
                "\r\nList-Unsubscribe: <https://valued.example.org/unsubscribe/abc123>\r\n"
            )
        );
        assert!(raw.contains("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
        let bad = build_message(
            &from(),
            "sam@example.org",
            None,
            "<id@valued>",
            Some("https://x.example/>\r\nBcc: a@b.c"),
            &email,
        );
        assert!(bad.is_err());
    }
}
