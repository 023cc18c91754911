//! Subject access (UK GDPR Article 15): the one document gathering what every service holds about
//! an email address, each service answering for its own data. `valued export-person` writes it and
//! the admin page downloads it, in this one shape.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::auth::roles::{Admin, Admins};
use crate::domain::EmailAddress;

/// What the survey service says about a person's survey answers: it holds nothing that identifies
/// anyone. (Its suggestion box answers for itself.)
pub const SURVEY_FEEDBACK_NOTE: &str =
    "survey answers are stored without anything that identifies who gave them";

/// Each service's own answer: a JSON object, one array of rows per kind of record.
#[derive(Debug, Clone, Default)]
pub struct Answers {
    pub nomination: Value,
    pub voting: Value,
    pub notification: Value,
    /// The suggestion box's answer: a JSON object (empty when not asked).
    pub survey_feedback: Value,
}

/// Checks an `ExportPerson` call asking about `email`: the caller must be a platform admin (by the
/// service's copy of the grants in `admins`) and `email` an address (else INVALID_ARGUMENT naming
/// the field `email`). The admin, and the address.
pub async fn exporter<T>(
    admins: &Admins,
    request: &tonic::Request<T>,
    email: &str,
) -> Result<(Admin, EmailAddress), tonic::Status> {
    let admin = admins
        .platform_admin(request, "export what Valued holds about a person")
        .await?;
    let email = EmailAddress::parse("email", email)
        .map_err(|error| crate::grpc::invalid_argument(&[error]))?;
    Ok((admin, email))
}

/// The document about `email` (normalised), exported at `exported_at`.
pub fn document(email: &str, exported_at: DateTime<Utc>, answers: Answers) -> Value {
    json!({
        "email": email,
        "exported_at": exported_at,
        "nomination": answers.nomination,
        "voting": answers.voting,
        "survey_feedback": survey_feedback(answers.survey_feedback),
        "notification": answers.notification,
    })
}

/// The survey service's part: the note about survey answers beside whatever its suggestion box
/// holds.
fn survey_feedback(suggestions: Value) -> Value {
    let mut part = json!({ "note": SURVEY_FEEDBACK_NOTE });
    if let (Some(fields), Value::Object(held)) = (part.as_object_mut(), suggestions) {
        fields.extend(held);
    }
    part
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_has_its_place() {
        let answers = Answers {
            nomination: json!({ "nominations_made": [1] }),
            voting: json!({ "votes": [] }),
            notification: json!({ "emails_to_them": [2, 3] }),
            survey_feedback: json!({ "suggestions_posted": [4] }),
        };
        let document = document("sam@example.org", DateTime::UNIX_EPOCH, answers);
        assert_eq!(document["email"], "sam@example.org");
        assert_eq!(document["exported_at"], "1970-01-01T00:00:00Z");
        assert_eq!(document["nomination"]["nominations_made"], json!([1]));
        assert_eq!(document["voting"]["votes"], json!([]));
        assert_eq!(document["survey_feedback"]["note"], SURVEY_FEEDBACK_NOTE);
        assert_eq!(
            document["survey_feedback"]["suggestions_posted"],
            json!([4])
        );
        assert_eq!(document["notification"]["emails_to_them"], json!([2, 3]));
    }
}
