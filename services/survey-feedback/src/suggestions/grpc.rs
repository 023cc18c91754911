//! FeedbackService over gRPC: requests parsed into domain types, the caller checked for every admin
//! call against this service's copy of the grants.

use chrono::NaiveTime;
use sea_orm::DatabaseConnection;
use secrecy::SecretString;
use tonic::{Request, Response, Status};
use valued_platform::auth::roles::{Admin, Admins, Role};
use valued_platform::limits::{self, Named, RateLimits};
use valued_platform::outbox::Outbox;
use valued_proto::survey::v1 as pb;
use valued_proto::survey::v1::feedback_service_server::FeedbackService;

use super::domain::{
    Moderation, NewSuggestion, StatusChange, SuggestionRequest, SupporterKey, TrustCode,
    parse_suggestion_id,
};
use super::entities::suggestion;
use super::queries;
use crate::error::Error;

/// The public calls of FeedbackService (see [`crate::PUBLIC_RPCS`]).
pub const PUBLIC_RPCS: &[(&str, &str)] = &[
    (
        "/valued.survey.v1.FeedbackService/PostSuggestion",
        "staff post suggestions without signing in; bounded and rate-limited per client and address, shown only after moderation",
    ),
    (
        "/valued.survey.v1.FeedbackService/ListBoard",
        "the public board: approved suggestions, their status and reason, never a suggester",
    ),
    (
        "/valued.survey.v1.FeedbackService/SupportSuggestion",
        "anyone may support an approved suggestion once per email address; rate-limited, only a keyed hash is kept",
    ),
];

pub struct FeedbackApi {
    pub db: DatabaseConnection,
    pub outbox: Outbox,
    pub admins: Admins,
    pub rate_limits: RateLimits,
    pub supporter_key_secret: SecretString,
}

/// Whether `admin` looks after the suggestions of `trust`: its trust admins, and platform admins.
pub fn looks_after(admin: &Admin, trust: &str) -> bool {
    admin.is_platform_admin() || admin.holds(Role::TrustAdmin, trust)
}

/// The signed-in caller, if they could look after some trust's suggestions: UNAUTHENTICATED
/// without a valid ID token, PERMISSION_DENIED naming `what` for someone holding no such role
/// (before anything in the request is read).
async fn some_trusts_admin<T>(
    admins: &Admins,
    request: &Request<T>,
    what: &str,
) -> Result<Admin, Status> {
    let admin = admins.admin(request).await?;
    let may = admin.is_platform_admin() || admin.grants.iter().any(|g| g.role == Role::TrustAdmin);
    admin.require(may, what)?;
    Ok(admin)
}

impl FeedbackApi {
    /// The caller and the suggestion `id` names, if they look after its trust: UNAUTHENTICATED
    /// without a valid ID token; PERMISSION_DENIED naming `what` for anyone else, and for a
    /// suggestion that does not exist unless the caller is a platform admin (so that a refusal tells
    /// nobody what exists).
    async fn suggestion_admin<T>(
        &self,
        request: &Request<T>,
        id: &str,
        what: &str,
    ) -> Result<(Admin, suggestion::Model), Status> {
        let admin = some_trusts_admin(&self.admins, request, what).await?;
        let id = parse_suggestion_id("suggestion_id", id).map_err(|e| Error::Invalid(vec![e]))?;
        match queries::find(&self.db, id).await {
            Ok(found) => {
                admin.require(looks_after(&admin, &found.trust_code), what)?;
                Ok((admin, found))
            }
            Err(Error::NotFound(thing)) if admin.is_platform_admin() => {
                Err(Error::NotFound(thing).into())
            }
            Err(Error::NotFound(_)) => {
                admin.require(false, what)?;
                Err(Status::permission_denied(what.to_owned()))
            }
            Err(other) => Err(other.into()),
        }
    }
}

#[tonic::async_trait]
impl FeedbackService for FeedbackApi {
    async fn post_suggestion(
        &self,
        request: Request<pb::PostSuggestionRequest>,
    ) -> Result<Response<pb::PostSuggestionResponse>, Status> {
        let email = request.get_ref().email.clone();
        limits::admit(
            &self.db,
            self.rate_limits,
            &request,
            "suggestion.post",
            &[Named {
                field: "email",
                typed: &email,
            }],
        )
        .await?;
        let r = request.into_inner();
        let new = NewSuggestion::parse(&SuggestionRequest {
            trust_code: r.trust_code,
            text: r.text,
            name: r.name,
            email: r.email,
        })
        .map_err(Error::Invalid)?;
        let id = queries::post(&self.db, &new).await?;
        Ok(Response::new(pb::PostSuggestionResponse {
            suggestion_id: id.to_string(),
        }))
    }

    async fn list_board(
        &self,
        request: Request<pb::ListBoardRequest>,
    ) -> Result<Response<pb::ListBoardResponse>, Status> {
        let trust = TrustCode::parse("trust_code", &request.into_inner().trust_code)
            .map_err(|e| Error::Invalid(vec![e]))?;
        let suggestions = queries::board(&self.db, &trust)
            .await?
            .iter()
            .map(board_entry)
            .collect();
        Ok(Response::new(pb::ListBoardResponse { suggestions }))
    }

    async fn support_suggestion(
        &self,
        request: Request<pb::SupportSuggestionRequest>,
    ) -> Result<Response<pb::SupportSuggestionResponse>, Status> {
        let email = request.get_ref().email.clone();
        limits::admit(
            &self.db,
            self.rate_limits,
            &request,
            "suggestion.support",
            &[Named {
                field: "email",
                typed: &email,
            }],
        )
        .await?;
        let r = request.into_inner();
        let mut errors = valued_platform::domain::FieldErrors::new();
        let id = errors.check(parse_suggestion_id("suggestion_id", &r.suggestion_id));
        let email = errors.check(valued_platform::domain::EmailAddress::parse(
            "email", &r.email,
        ));
        errors.into_result().map_err(Error::Invalid)?;
        let (Some(id), Some(email)) = (id, email) else {
            return Err(Status::invalid_argument("the request could not be read"));
        };
        let key = SupporterKey::derive(&self.supporter_key_secret, id, &email);
        let (supported, supporters) = queries::support(&self.db, id, &key).await?;
        Ok(Response::new(pb::SupportSuggestionResponse {
            supported,
            supporters,
        }))
    }

    async fn list_trust_suggestions(
        &self,
        request: Request<pb::ListTrustSuggestionsRequest>,
    ) -> Result<Response<pb::ListTrustSuggestionsResponse>, Status> {
        let what = "read this trust's suggestions";
        let admin = some_trusts_admin(&self.admins, &request, what).await?;
        let trust = TrustCode::parse("trust_code", &request.get_ref().trust_code)
            .map_err(|e| Error::Invalid(vec![e]))?;
        admin.require(looks_after(&admin, trust.as_str()), what)?;
        let suggestions = queries::of_trust(&self.db, &trust)
            .await?
            .iter()
            .map(|s| pb::TrustSuggestion {
                suggestion: Some(board_entry(s)),
                moderation: Moderation::from_stored(&s.moderation).slug().into(),
                suggester_name: s.suggester_name.clone().unwrap_or_default(),
                named: s.suggester_name.is_some(),
                trust_code: s.trust_code.clone(),
            })
            .collect();
        Ok(Response::new(pb::ListTrustSuggestionsResponse {
            suggestions,
        }))
    }

    async fn moderate_suggestion(
        &self,
        request: Request<pb::ModerateSuggestionRequest>,
    ) -> Result<Response<pb::ModerateSuggestionResponse>, Status> {
        let (admin, found) = self
            .suggestion_admin(
                &request,
                &request.get_ref().suggestion_id,
                "moderate this trust's suggestions",
            )
            .await?;
        queries::moderate(
            &self.db,
            &found,
            request.get_ref().approve,
            &admin.identity.email,
        )
        .await?;
        Ok(Response::new(pb::ModerateSuggestionResponse {}))
    }

    async fn set_suggestion_status(
        &self,
        request: Request<pb::SetSuggestionStatusRequest>,
    ) -> Result<Response<pb::SetSuggestionStatusResponse>, Status> {
        let (admin, found) = self
            .suggestion_admin(
                &request,
                &request.get_ref().suggestion_id,
                "set the status of this trust's suggestions",
            )
            .await?;
        let r = request.into_inner();
        let change = StatusChange::parse(&r.status, &r.public_reason).map_err(Error::Invalid)?;
        queries::set_status(
            &self.db,
            &self.outbox,
            &found,
            &change,
            &admin.identity.email,
        )
        .await?;
        Ok(Response::new(pb::SetSuggestionStatusResponse {}))
    }

    async fn export_person(
        &self,
        request: Request<pb::FeedbackExportPersonRequest>,
    ) -> Result<Response<pb::FeedbackExportPersonResponse>, Status> {
        let (_, email) = valued_platform::subject_access::exporter(
            &self.admins,
            &request,
            &request.get_ref().email,
        )
        .await?;
        let email = email.normalised();
        let mut json = super::erasure::export(&self.db, &self.supporter_key_secret, &email)
            .await
            .map_err(Error::Database)?;
        let stories = crate::stories::erasure::export(&self.db, &email)
            .await
            .map_err(Error::Database)?;
        json["stories_told"] = serde_json::Value::Array(stories);
        Ok(Response::new(pb::FeedbackExportPersonResponse {
            json: json.to_string(),
        }))
    }
}

/// A suggestion as the board shows it: never its suggester.
fn board_entry(s: &suggestion::Model) -> pb::BoardSuggestion {
    let posted_on = s.posted_on.and_time(NaiveTime::MIN).and_utc();
    pb::BoardSuggestion {
        suggestion_id: s.id.to_string(),
        text: s.text.clone(),
        status: s.status.clone(),
        public_reason: s.public_reason.clone().unwrap_or_default(),
        supporters: u64::try_from(s.supporters).unwrap_or(0),
        posted_on: Some(prost_types::Timestamp {
            seconds: posted_on.timestamp(),
            nanos: 0,
        }),
    }
}
