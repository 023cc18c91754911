use lettre::message::header::ContentType;
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
/// recipient's reply goes instead of the From address.
pub fn build_message(
    from: &Mailbox,
    to: &str,
    reply_to: Option<&str>,
    message_id: &str,
    email: &RenderedEmail,
) -> anyhow::Result<lettre::Message> {
    let to: Mailbox = to.parse()?;
    let mut builder = lettre::Message::builder().from(from.clone()).to(to);
    if let Some(reply_to) = reply_to {
        builder = builder.reply_to(reply_to.parse()?);
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
            let message = build_message(&from(), "sam@example.org", None, "<id@valued>", &email).unwrap();
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
            let message =
                build_message(&from(), "sam@example.org", reply_to, "<id@valued>", &email).unwrap();
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
                &email
            )
            .is_err()
        );
    }
}
