use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};
use valued_platform::auth::roles::Admins;
use valued_platform::limits::{self, Named, RateLimits};
use valued_proto::notification::v1 as pb;
use valued_proto::notification::v1::notification_service_server::NotificationService;

use crate::db::delivery;
use crate::error::Error;
use crate::mps::write_to_mp::{LetterDesk, NewLetter, campaigns};
use crate::policy::preference;
use crate::redact::LinkTokens;

/// Every RPC an anonymous caller (a member of the public, through the gateway's pages) may make, with
/// why. Reviewed list: every other RPC needs a signed-in platform admin (listing deliveries also
/// the gateway on its own behalf where `developer_outbox` is set), except setting a campaign's
/// suggested letter, which the campaign's own admins may too.
pub const PUBLIC_RPCS: &[(&str, &str)] = &[
    (
        "/valued.notification.v1.NotificationService/GetUnsubscribe",
        "needs the secret unsubscribe token from the recipient's own email; shows a masked address",
    ),
    (
        "/valued.notification.v1.NotificationService/Unsubscribe",
        "needs the secret unsubscribe token from the recipient's own email",
    ),
    (
        "/valued.notification.v1.NotificationService/FindMp",
        "the public directory of MPs by constituency postcode",
    ),
    (
        "/valued.notification.v1.NotificationService/WriteToMp",
        "anyone may write to their MP; nothing is sent until the writer confirms by email",
    ),
    (
        "/valued.notification.v1.NotificationService/ConfirmMpLetter",
        "needs the secret confirm token emailed to the writer",
    ),
    (
        "/valued.notification.v1.NotificationService/GetMpLetterWording",
        "a campaign's suggested letter, which its public page offers every supporter to start from",
    ),
    (
        "/valued.notification.v1.NotificationService/CountMpLetters",
        "how many letters were confirmed, in all and per campaign: a number shown on public pages",
    ),
];

/// The gRPC API. No response carries a live link token: every stored email and letter it returns
/// goes through [`LinkTokens::redact`] on the way out (the stored rows and the emails sent keep
/// them).
pub struct NotificationApi {
    pub db: DatabaseConnection,
    pub letters: LetterDesk,
    /// Every template rendered from sample data, made once at start.
    pub previews: Vec<pb::TemplatePreview>,
    /// The token links under `email.public_url`, whose tokens responses leave out.
    pub link_tokens: LinkTokens,
    /// Checks signed-in callers against this service's copy of the grants.
    pub admins: Admins,
    /// Whether a Valued service (the gateway, for the developer outbox) may list deliveries without
    /// a signed-in admin.
    pub developer_outbox: bool,
    /// The budgets of the public forms (see `valued_platform::limits`).
    pub rate_limits: RateLimits,
}

#[tonic::async_trait]
impl NotificationService for NotificationApi {
    /// The most recent deliveries, newest first. Each link token in a subject, body or error is
    /// replaced with `[token removed]`, the link up to its page kept
    /// (`https://…/confirm/[token removed]`): an admin sees which link an email carried but cannot
    /// follow it as its recipient.
    async fn list_deliveries(
        &self,
        request: Request<pb::ListDeliveriesRequest>,
    ) -> Result<Response<pb::ListDeliveriesResponse>, Status> {
        // The service credential was checked before any handler runs.
        let for_developer =
            self.developer_outbox && !request.metadata().contains_key("authorization");
        if !for_developer {
            self.admins
                .platform_admin(&request, "list deliveries")
                .await?;
        }
        let request = request.into_inner();
        let limit = u64::from(request.limit.clamp(1, 500));
        let recipient = Some(request.recipient.as_str()).filter(|r| !r.trim().is_empty());
        let rows = delivery::recent(&self.db, recipient, limit)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(pb::ListDeliveriesResponse {
            deliveries: rows.into_iter().map(|row| self.to_message(row)).collect(),
        }))
    }

    async fn get_unsubscribe(
        &self,
        request: Request<pb::GetUnsubscribeRequest>,
    ) -> Result<Response<pb::GetUnsubscribeResponse>, Status> {
        let found = preference::by_token(&self.db, &request.into_inner().token)
            .await
            .map_err(Error::from)?
            .ok_or_else(unknown_token)?;
        Ok(Response::new(pb::GetUnsubscribeResponse {
            masked_email: mask(&found.email),
            unsubscribed: found.unsubscribed_at.is_some(),
        }))
    }

    async fn unsubscribe(
        &self,
        request: Request<pb::UnsubscribeRequest>,
    ) -> Result<Response<pb::UnsubscribeResponse>, Status> {
        let request = request.into_inner();
        let via = if request.one_click {
            "one_click"
        } else {
            "page"
        };
        let found = preference::unsubscribe(&self.db, &request.token, via)
            .await
            .map_err(Error::from)?
            .ok_or_else(unknown_token)?;
        tracing::info!(via, "unsubscribed from non-transactional email");
        Ok(Response::new(pb::UnsubscribeResponse {
            masked_email: mask(&found.email),
        }))
    }

    /// Everything sent to MPs, newest first, with link tokens removed as in
    /// [`Self::list_deliveries`].
    async fn list_mp_emails(
        &self,
        request: Request<pb::ListDeliveriesRequest>,
    ) -> Result<Response<pb::ListDeliveriesResponse>, Status> {
        self.admins
            .platform_admin(&request, "list emails to MPs")
            .await?;
        let request = request.into_inner();
        let limit = u64::from(request.limit.clamp(1, 500));
        let recipient = Some(request.recipient.as_str()).filter(|r| !r.trim().is_empty());
        let rows = delivery::recent_of(&self.db, recipient, Some(crate::templates::TO_MPS), limit)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(pb::ListDeliveriesResponse {
            deliveries: rows.into_iter().map(|row| self.to_message(row)).collect(),
        }))
    }

    /// Every template rendered from sample events, whose tokens are fixed sample values
    /// (`c0ffee`, `0000`), never a live link: shown as they are, links whole.
    async fn preview_templates(
        &self,
        request: Request<pb::PreviewTemplatesRequest>,
    ) -> Result<Response<pb::PreviewTemplatesResponse>, Status> {
        self.admins
            .platform_admin(&request, "preview email templates")
            .await?;
        Ok(Response::new(pb::PreviewTemplatesResponse {
            templates: self.previews.clone(),
        }))
    }

    /// Letters held for review. A letter is what its supporter wrote, not an email of ours, but
    /// any of our token links pasted into it lose their tokens as in [`Self::list_deliveries`].
    async fn import_mps(
        &self,
        request: Request<pb::ImportMpsRequest>,
    ) -> Result<Response<pb::ImportMpsResponse>, Status> {
        self.admins
            .platform_admin(&request, "import the MP directory")
            .await?;
        let csv = request.into_inner().csv;
        let summary =
            match crate::mps::import(&self.db, csv.as_slice(), &indicatif::ProgressBar::hidden())
                .await
            {
                Ok(summary) => summary,
                Err(refused) => {
                    return Err(match refused.field_errors() {
                        Ok(fields) => Error::Invalid(fields).into(),
                        Err(error) => valued_platform::grpc::database_error(&error),
                    });
                }
            };
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(Response::new(pb::ImportMpsResponse {
            members: count(summary.members),
            added: count(summary.added),
            updated: count(summary.updated),
            unchanged: count(summary.unchanged),
            removed: count(summary.removed),
            needs_check: summary
                .needs_check
                .into_iter()
                .map(|flagged| pb::FlaggedMp {
                    member_id: flagged.member_id,
                    name: flagged.name,
                    constituency: flagged.constituency,
                    reason: flagged.reason,
                })
                .collect(),
        }))
    }

    async fn list_held_letters(
        &self,
        request: Request<pb::ListHeldLettersRequest>,
    ) -> Result<Response<pb::ListHeldLettersResponse>, Status> {
        self.admins
            .platform_admin(&request, "read letters held for review")
            .await?;
        let held = crate::mps::write_to_mp::held(&self.db).await?;
        Ok(Response::new(pb::ListHeldLettersResponse {
            letters: held
                .into_iter()
                .map(|(letter, member)| pb::HeldLetter {
                    id: letter.id.to_string(),
                    mp: Some(mp(member)),
                    supporter_name: letter.supporter_name,
                    supporter_email: letter.supporter_email,
                    supporter_postcode: letter.supporter_postcode,
                    body: self.link_tokens.redact(&letter.body),
                    confirmed_at: letter.confirmed_at.map(|at| prost_types::Timestamp {
                        seconds: at.timestamp(),
                        nanos: 0,
                    }),
                })
                .collect(),
        }))
    }

    async fn review_held_letter(
        &self,
        request: Request<pb::ReviewHeldLetterRequest>,
    ) -> Result<Response<pb::ReviewHeldLetterResponse>, Status> {
        let admin = self
            .admins
            .platform_admin(&request, "send or discard held letters")
            .await?;
        let request = request.into_inner();
        let status = self
            .letters
            .review(&request.letter_id, request.send, &admin.identity)
            .await?;
        Ok(Response::new(pb::ReviewHeldLetterResponse { status }))
    }

    /// What this service holds about an address, link tokens removed as everywhere else.
    async fn export_person(
        &self,
        request: Request<pb::ExportPersonRequest>,
    ) -> Result<Response<pb::ExportPersonResponse>, Status> {
        let (admin, email) = valued_platform::subject_access::exporter(
            &self.admins,
            &request,
            &request.get_ref().email,
        )
        .await?;
        let held = crate::subject_access::export_redacted(
            &self.db,
            &email.normalised(),
            &self.link_tokens,
        )
        .await
        .map_err(Error::Database)?;
        // The nomination service's audit log records the export; this says who asked here too.
        tracing::info!(admin = %admin.identity.email, "emails and letters exported for subject access");
        Ok(Response::new(pb::ExportPersonResponse {
            json: held.to_string(),
        }))
    }

    /// The record of decisions on held letters, newest first.
    async fn list_held_letter_decisions(
        &self,
        request: Request<pb::ListHeldLetterDecisionsRequest>,
    ) -> Result<Response<pb::ListHeldLetterDecisionsResponse>, Status> {
        self.admins
            .platform_admin(&request, "read decisions on held letters")
            .await?;
        let request = request.into_inner();
        let letter_id = match request.letter_id.trim() {
            "" => None,
            id => Some(
                id.parse()
                    .map_err(|_| Error::NotFound("no letter has this id".into()))?,
            ),
        };
        let limit = u64::from(request.limit.clamp(1, 500));
        let decisions = crate::mps::write_to_mp::decisions(&self.db, letter_id, limit).await?;
        Ok(Response::new(pb::ListHeldLetterDecisionsResponse {
            decisions: decisions
                .into_iter()
                .map(|d| pb::HeldLetterDecision {
                    id: d.id.to_string(),
                    letter_id: d.letter_id.to_string(),
                    decision: d.decision,
                    mp_member_id: d.member_id,
                    mp_name: d.mp_name,
                    constituency_code: d.constituency_code,
                    constituency_name: d.constituency_name,
                    admin_email: d.admin_email,
                    admin_issuer: d.admin_issuer,
                    admin_subject: d.admin_subject,
                    decided_at: Some(prost_types::Timestamp {
                        seconds: d.decided_at.timestamp(),
                        nanos: 0,
                    }),
                })
                .collect(),
        }))
    }

    async fn find_mp(
        &self,
        request: Request<pb::FindMpRequest>,
    ) -> Result<Response<pb::FindMpResponse>, Status> {
        let member = self.letters.find_mp(&request.into_inner().postcode).await?;
        Ok(Response::new(pb::FindMpResponse {
            mp: Some(mp(member)),
        }))
    }

    async fn write_to_mp(
        &self,
        request: Request<pb::WriteToMpRequest>,
    ) -> Result<Response<pb::WriteToMpResponse>, Status> {
        let writer = Named {
            field: "email",
            typed: &request.get_ref().email,
        };
        limits::admit(
            &self.db,
            self.rate_limits,
            &request,
            "write to mp",
            &[writer],
        )
        .await?;
        let r = request.into_inner();
        let campaign = match r.campaign_id.trim() {
            "" => None,
            typed => Some(
                campaigns::parse_campaign_id("campaign_id", typed)
                    .map_err(|e| Error::Invalid(vec![e]))?,
            ),
        };
        let drafted = self
            .letters
            .write(&NewLetter {
                name: &r.name,
                email: &r.email,
                postcode: &r.postcode,
                body: &r.body,
                campaign,
            })
            .await?;
        Ok(Response::new(pb::WriteToMpResponse {
            mp: Some(mp(drafted.mp)),
        }))
    }

    async fn confirm_mp_letter(
        &self,
        request: Request<pb::ConfirmMpLetterRequest>,
    ) -> Result<Response<pb::ConfirmMpLetterResponse>, Status> {
        limits::admit(
            &self.db,
            self.rate_limits,
            &request,
            "confirm mp letter",
            &[],
        )
        .await?;
        let confirmed = self.letters.confirm(&request.into_inner().token).await?;
        Ok(Response::new(pb::ConfirmMpLetterResponse {
            mp_name: confirmed.mp_name,
            status: confirmed.status,
        }))
    }

    async fn get_mp_letter_wording(
        &self,
        request: Request<pb::GetMpLetterWordingRequest>,
    ) -> Result<Response<pb::GetMpLetterWordingResponse>, Status> {
        let campaign_id =
            campaigns::parse_campaign_id("campaign_id", &request.into_inner().campaign_id)
                .map_err(|e| Error::Invalid(vec![e]))?;
        let found = campaigns::wording(&self.db, campaign_id).await?;
        Ok(Response::new(match found {
            Some((wording, set_at)) => pb::GetMpLetterWordingResponse {
                wording,
                set_at: Some(prost_types::Timestamp {
                    seconds: set_at.timestamp(),
                    nanos: 0,
                }),
            },
            None => pb::GetMpLetterWordingResponse::default(),
        }))
    }

    async fn set_mp_letter_wording(
        &self,
        request: Request<pb::SetMpLetterWordingRequest>,
    ) -> Result<Response<pb::SetMpLetterWordingResponse>, Status> {
        let admin = self.admins.admin(&request).await?;
        let r = request.into_inner();
        let described = r.campaign.unwrap_or_default();
        let wording = campaigns::set_wording(
            &self.db,
            &admin,
            campaigns::WordingRequest {
                campaign: campaigns::Campaign::parse(
                    &described.campaign_id,
                    &described.slug,
                    &described.scope,
                    &described.scope_code,
                ),
                wording: (!r.clear).then_some(r.wording.as_str()),
            },
        )
        .await?;
        Ok(Response::new(pb::SetMpLetterWordingResponse {
            wording: wording.unwrap_or_default(),
        }))
    }

    async fn count_mp_letters(
        &self,
        request: Request<pb::CountMpLettersRequest>,
    ) -> Result<Response<pb::CountMpLettersResponse>, Status> {
        let campaign = match request.into_inner().campaign_id.trim() {
            "" => None,
            typed => Some(
                campaigns::parse_campaign_id("campaign_id", typed)
                    .map_err(|e| Error::Invalid(vec![e]))?,
            ),
        };
        let (letters, campaign_letters) = campaigns::count(&self.db, campaign)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(pb::CountMpLettersResponse {
            letters,
            campaign_letters,
        }))
    }
}

fn mp(member: crate::mps::Mp) -> pb::Mp {
    pb::Mp {
        name: member.display_as,
        constituency_name: member.constituency_name,
        party: member.party,
    }
}

fn unknown_token() -> Error {
    Error::NotFound("no unsubscribe link has this token".into())
}

/// `sam.patel@example.org` → `s***@example.org`.
fn mask(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

impl NotificationApi {
    /// A delivery as the API shows it: its link tokens removed.
    fn to_message(&self, row: delivery::Model) -> pb::Delivery {
        let redact = |text: &str| self.link_tokens.redact(text);
        pb::Delivery {
            id: row.id.to_string(),
            recipient: row.recipient,
            template: row.template,
            subject: redact(&row.subject),
            text_body: redact(&row.text_body),
            status: row.status,
            attempts: u32::try_from(row.attempts).unwrap_or_default(),
            last_error: row.last_error.as_deref().map(redact).unwrap_or_default(),
            created_at: Some(prost_types::Timestamp {
                seconds: row.created_at.timestamp(),
                nanos: 0,
            }),
            cause_event_id: row.cause_event_id.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_the_first_letter_and_the_domain() {
        assert_eq!(mask("sam.patel@example.org"), "s***@example.org");
        assert_eq!(mask("nobody"), "***");
    }
}
