use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "delivery")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The event this email is a consequence of.
    pub cause_event_id: Uuid,
    pub recipient: String,
    /// The Reply-To address, when replies go somewhere other than the From address.
    pub reply_to: Option<String>,
    /// The From display name of the email's trust, when it has one.
    pub sender_name: Option<String>,
    pub template: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    /// The Message-ID header, fixed when the row is created so a resend reuses it.
    pub message_id: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub claimed_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub smtp_response: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    /// When a non-transactional email took one of its recipient's daily slots (the throttle).
    pub counted_at: Option<DateTimeUtc>,
    /// When an email caused by what someone typed into a public form took one of its recipient's
    /// daily slots (`crate::policy::unsolicited`).
    pub unsolicited_at: Option<DateTimeUtc>,
    /// With `unsolicited_at`: a digest of the recipient's mailbox, which the cap counts by
    /// (`crate::policy::unsolicited::key`).
    pub unsolicited_key: Option<String>,
    /// When retention replaced its subject and bodies with a marker and its recipient with a
    /// pseudonym (`crate::retention`).
    pub pseudonymised_at: Option<DateTimeUtc>,
    /// The W3C `traceparent` of the span that recorded it (the event's handling), which its send
    /// continues.
    pub traceparent: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
