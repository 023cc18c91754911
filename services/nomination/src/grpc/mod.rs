//! NominationService over gRPC: authenticates admin calls, converts requests into domain commands
//! and results into messages. Authorisation itself is checked next to the data, in the flows.
//!
//! Only the RPCs on [`PUBLIC_RPCS`] answer an anonymous caller; every other handler goes through
//! [`NominationApi::admin`] and so needs a verified ID token. The API tests call every method of the
//! service without credentials, so an RPC that is on neither side fails them.

mod convert;

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};
use valued_platform::limits::{self, Named, RateLimits};
use valued_platform::outbox::Outbox;
use valued_proto::nomination::v1 as pb;
use valued_proto::nomination::v1::nomination_service_server::NominationService;

use self::convert::{timestamp, to_message};
use crate::admin::learning_routes::{Followed, Owner};
use crate::admin::people::{self, GrantKey};
use crate::admin::{
    audit, campaigns, insight, judging, learning_routes, moderation, page_files, page_items,
    privacy, recognition, trusts,
};
use crate::auth::{self, AuthSettings, Principal, Verifier, links};
use crate::db::load;
use crate::domain::{Consent, NewCampaignSpec, NewSite, RecordId, SiteRequest, TrustSettingsSpec};
use crate::public::{claim, confirm, consent, drafts, submit};
use valued_platform::auth::sign_in_link::SigningKey;
use valued_platform::domain::EmailAddress;

/// Every RPC an anonymous caller (a member of the public, through the gateway's pages) may make, with
/// why. Reviewed list: adding to it exposes the RPC to the whole internet.
pub const PUBLIC_RPCS: &[(&str, &str)] = &[
    (
        "/valued.nomination.v1.NominationService/ListCampaigns",
        "the open campaigns are on the public home page",
    ),
    (
        "/valued.nomination.v1.NominationService/GetCampaign",
        "the nomination form shows a campaign's categories and trusts",
    ),
    (
        "/valued.nomination.v1.NominationService/SubmitNomination",
        "anyone may nominate; nothing counts until the nominator confirms by email",
    ),
    (
        "/valued.nomination.v1.NominationService/SaveDraft",
        "a nominator keeps a half-finished form; the answers come back only with the draft token",
    ),
    (
        "/valued.nomination.v1.NominationService/GetDraft",
        "needs the secret draft token from the nominator's own link",
    ),
    (
        "/valued.nomination.v1.NominationService/ConfirmNomination",
        "needs the secret confirm token emailed to the nominator",
    ),
    (
        "/valued.nomination.v1.NominationService/GetConsent",
        "needs the secret consent token emailed to the nominee",
    ),
    (
        "/valued.nomination.v1.NominationService/RecordConsent",
        "needs the secret consent token emailed to the nominee",
    ),
    (
        "/valued.nomination.v1.NominationService/DisownConsentLink",
        "needs the secret consent token; it only turns that link off",
    ),
    (
        "/valued.nomination.v1.NominationService/GetNomineeClaim",
        "needs the secret claim token a manager passes on to the nominee",
    ),
    (
        "/valued.nomination.v1.NominationService/ClaimNominee",
        "needs the secret claim token; the address given gets only a consent link, once",
    ),
    (
        "/valued.nomination.v1.NominationService/ListRecognised",
        "only finalists and winners whose nominees consented to be listed",
    ),
    (
        "/valued.nomination.v1.NominationService/RequestSignInLink",
        "emails a link only to an address that holds an admin role, and answers every address \
         alike; rate limited per client and address",
    ),
    (
        "/valued.nomination.v1.NominationService/RedeemSignInLink",
        "needs the secret single-use token emailed to an admin",
    ),
    (
        "/valued.nomination.v1.NominationService/GetCampaignFile",
        "a visitor downloads a poster or toolkit listed on a campaign's page, which is public like \
         the page itself; it serves only files uploaded as the page's resources, by item id",
    ),
    (
        "/valued.nomination.v1.NominationService/OpenLearningRoute",
        "a visitor follows a campaign's or trust's learning route's link on a public page or in \
         an email: it adds one to a counter (nothing about who) and answers only the address an \
         admin stored",
    ),
];

/// A learning route's id as a request names it; NOT_FOUND when it names none.
fn route_id(typed: &str) -> crate::error::Result<uuid::Uuid> {
    RecordId::parse(typed)
        .id()
        .ok_or_else(|| crate::error::Error::NotFound("that learning route".into()))
}

/// The address a public action names, for its rate limit: the form field and what was typed.
const NOMINATOR: &str = "nominator_email";
/// A public action that names no address.
const NOBODY: (&str, Option<&str>) = ("", None);

pub struct NominationApi {
    pub db: DatabaseConnection,
    pub outbox: Outbox,
    pub limits: submit::Limits,
    pub rate_limits: RateLimits,
    pub draft_lifetime: chrono::Duration,
    pub auth: AuthSettings,
    pub verifier: Arc<Verifier>,
    /// The key emailed sign-in links' ID tokens are signed with; `None`: sign-in by email is off.
    pub sign_in: Option<Arc<SigningKey>>,
}

impl NominationApi {
    /// A campaign as the API shows it, with the service-wide limit its organisers may override.
    fn campaign(&self, view: load::CampaignView) -> pb::Campaign {
        convert::campaign(view, self.limits.per_nominator)
    }

    async fn principal<T>(&self, request: &Request<T>) -> Result<Principal, Status> {
        auth::principal(&self.verifier, &self.auth, &self.db, &self.outbox, request).await
    }

    /// Counts a public `action` against the rate limits of the caller's client address and of the
    /// address it names (the form field and what was typed there, when it is an address), refusing
    /// it before anything is looked up or stored once either is spent.
    async fn limit<T>(
        &self,
        request: &Request<T>,
        action: &str,
        (field, typed): (&str, Option<&str>),
    ) -> Result<(), Status> {
        let named: Vec<Named<'_>> = typed
            .map(|typed| Named { field, typed })
            .into_iter()
            .collect();
        limits::admit(&self.db, self.rate_limits, request, action, &named).await
    }

    /// Runs an admin call: authenticates it, refuses a caller holding no role at all (before
    /// anything is looked up, so that nobody without a role learns which records exist), then hands
    /// the principal and the message to `call`, which checks the role against what it touches.
    async fn admin<T, R, F>(&self, request: Request<T>, call: F) -> Result<Response<R>, Status>
    where
        F: AsyncFnOnce(Principal, T) -> crate::error::Result<R>,
    {
        let principal = self.principal(&request).await?;
        principal.require(!principal.grants.is_empty(), "use the admin pages")?;
        let response = call(principal, request.into_inner()).await?;
        Ok(Response::new(response))
    }
}

#[tonic::async_trait]
impl NominationService for NominationApi {
    async fn list_campaigns(
        &self,
        _: Request<pb::ListCampaignsRequest>,
    ) -> Result<Response<pb::ListCampaignsResponse>, Status> {
        let campaigns = load::campaign_views(&self.db).await?;
        Ok(Response::new(pb::ListCampaignsResponse {
            campaigns: campaigns
                .into_iter()
                .map(|view| self.campaign(view))
                .collect(),
        }))
    }

    async fn get_campaign(
        &self,
        request: Request<pb::GetCampaignRequest>,
    ) -> Result<Response<pb::GetCampaignResponse>, Status> {
        let view = load::campaign_by_slug(&self.db, &request.into_inner().slug).await?;
        Ok(Response::new(pb::GetCampaignResponse {
            campaign: Some(self.campaign(view)),
        }))
    }

    async fn submit_nomination(
        &self,
        request: Request<pb::SubmitNominationRequest>,
    ) -> Result<Response<pb::SubmitNominationResponse>, Status> {
        let key = convert::keyed_submission(request.get_ref())?;
        // A repeat is answered before the rate limits: it takes nothing more.
        if let Some(keyed) = &key
            && let Some(id) = submit::answered(&self.db, keyed).await?
        {
            return Ok(Response::new(pb::SubmitNominationResponse {
                nomination_id: id.to_string(),
            }));
        }
        let email = request.get_ref().nominator_email.clone();
        self.limit(&request, "submit nomination", (NOMINATOR, Some(&email)))
            .await?;
        let submission = submit::SubmitNomination {
            key,
            ..request.into_inner().into()
        };
        let id = submit::submit(&self.db, &self.outbox, &submission, self.limits).await?;
        Ok(Response::new(pb::SubmitNominationResponse {
            nomination_id: id.to_string(),
        }))
    }

    async fn request_sign_in_link(
        &self,
        request: Request<pb::RequestSignInLinkRequest>,
    ) -> Result<Response<pb::RequestSignInLinkResponse>, Status> {
        let typed = request.get_ref().email.clone();
        self.limit(&request, "request sign-in link", ("email", Some(&typed)))
            .await?;
        let email = EmailAddress::parse("email", &typed)
            .map_err(|e| valued_platform::grpc::invalid_argument(&[e]))?;
        links::request(&self.db, &self.outbox, &self.auth, &email).await?;
        Ok(Response::new(pb::RequestSignInLinkResponse {}))
    }

    async fn redeem_sign_in_link(
        &self,
        request: Request<pb::RedeemSignInLinkRequest>,
    ) -> Result<Response<pb::RedeemSignInLinkResponse>, Status> {
        let Some(key) = &self.sign_in else {
            return Err(Status::failed_precondition(
                "sign-in by email is not configured on this deployment",
            ));
        };
        let id_token =
            links::redeem(&self.db, &self.auth, key, &request.into_inner().token).await?;
        Ok(Response::new(pb::RedeemSignInLinkResponse { id_token }))
    }

    async fn get_nominee(
        &self,
        request: Request<pb::GetNomineeRequest>,
    ) -> Result<Response<pb::GetNomineeResponse>, Status> {
        self.admin(request, async |principal, r: pb::GetNomineeRequest| {
            let (nominee, nomination_count) = moderation::nominee_for_admin(
                &self.db,
                &principal,
                &RecordId::parse(&r.nominee_id),
            )
            .await?;
            Ok(pb::GetNomineeResponse {
                nominee: Some(pb::Nominee {
                    id: nominee.id.to_string(),
                    campaign_id: nominee.campaign_id.to_string(),
                    trust_code: nominee.trust_code,
                    name: nominee.name,
                    nomination_count,
                }),
            })
        })
        .await
    }

    async fn get_nomination(
        &self,
        request: Request<pb::GetNominationRequest>,
    ) -> Result<Response<pb::GetNominationResponse>, Status> {
        self.admin(request, async |principal, r: pb::GetNominationRequest| {
            let model = moderation::nomination_for(
                &self.db,
                &principal,
                &RecordId::parse(&r.nomination_id),
            )
            .await?;
            Ok(pb::GetNominationResponse {
                nomination: Some(to_message(model)),
            })
        })
        .await
    }

    async fn save_draft(
        &self,
        request: Request<pb::SaveDraftRequest>,
    ) -> Result<Response<pb::SaveDraftResponse>, Status> {
        let email = request
            .get_ref()
            .answers
            .as_ref()
            .filter(|_| request.get_ref().email_resume_link)
            .map(|a| a.nominator_email.clone());
        self.limit(&request, "save draft", (NOMINATOR, email.as_deref()))
            .await?;
        let save = request.into_inner().into();
        let saved = drafts::save(&self.db, &self.outbox, &save, self.draft_lifetime).await?;
        Ok(Response::new(pb::SaveDraftResponse {
            draft_token: saved.token,
            expires_at: timestamp(Some(saved.expires_at)),
        }))
    }

    async fn get_draft(
        &self,
        request: Request<pb::GetDraftRequest>,
    ) -> Result<Response<pb::GetDraftResponse>, Status> {
        let (answers, campaign, expires_at) =
            drafts::load(&self.db, &request.into_inner().draft_token).await?;
        Ok(Response::new(pb::GetDraftResponse {
            answers: Some(answers.into()),
            campaign_slug: campaign.slug,
            expires_at: timestamp(Some(expires_at)),
        }))
    }

    async fn confirm_nomination(
        &self,
        request: Request<pb::ConfirmNominationRequest>,
    ) -> Result<Response<pb::ConfirmNominationResponse>, Status> {
        self.limit(&request, "confirm nomination", NOBODY).await?;
        let confirmed =
            confirm::confirm(&self.db, &self.outbox, &request.into_inner().confirm_token).await?;
        Ok(Response::new(pb::ConfirmNominationResponse {
            nominee_name: confirmed.nomination.display_name(),
            nomination_id: confirmed.nomination.id.to_string(),
            campaign_slug: confirmed.campaign.slug,
            newly_confirmed: confirmed.newly,
        }))
    }

    async fn get_consent(
        &self,
        request: Request<pb::GetConsentRequest>,
    ) -> Result<Response<pb::GetConsentResponse>, Status> {
        let found = consent::find(&self.db, &request.into_inner().consent_token).await?;
        // What was answered through this link, not through another of the nominee's addresses.
        let given = found.given.unwrap_or_default();
        Ok(Response::new(pb::GetConsentResponse {
            answered: found.address.verified_at.is_some(),
            nominee_name: found.nominee.name,
            campaign_name: found.campaign.name,
            nomination_count: found.confirmed_nominations,
            consent: Some(pb::Consent {
                listed_publicly: given.listed_publicly,
                story_published: given.story_published,
                shared_with_mp: given.shared_with_mp,
            }),
        }))
    }

    async fn record_consent(
        &self,
        request: Request<pb::RecordConsentRequest>,
    ) -> Result<Response<pb::RecordConsentResponse>, Status> {
        self.limit(&request, "record consent", NOBODY).await?;
        let request = request.into_inner();
        let given = request.consent.unwrap_or_default();
        consent::record(
            &self.db,
            &self.outbox,
            &request.consent_token,
            Consent {
                listed_publicly: given.listed_publicly,
                story_published: given.story_published,
                shared_with_mp: given.shared_with_mp,
            },
        )
        .await?;
        Ok(Response::new(pb::RecordConsentResponse {}))
    }

    async fn disown_consent_link(
        &self,
        request: Request<pb::DisownConsentLinkRequest>,
    ) -> Result<Response<pb::DisownConsentLinkResponse>, Status> {
        self.limit(&request, "disown consent link", NOBODY).await?;
        consent::disown(&self.db, &self.outbox, &request.into_inner().consent_token).await?;
        Ok(Response::new(pb::DisownConsentLinkResponse {}))
    }

    async fn get_nominee_claim(
        &self,
        request: Request<pb::GetNomineeClaimRequest>,
    ) -> Result<Response<pb::GetNomineeClaimResponse>, Status> {
        let found = claim::find(&self.db, &request.into_inner().claim_token).await?;
        Ok(Response::new(pb::GetNomineeClaimResponse {
            nominee_name: found.nominee.name,
            campaign_name: found.campaign.name,
            trust_name: found.trust.name,
        }))
    }

    async fn claim_nominee(
        &self,
        request: Request<pb::ClaimNomineeRequest>,
    ) -> Result<Response<pb::ClaimNomineeResponse>, Status> {
        let email = request.get_ref().email.clone();
        self.limit(&request, "claim nominee", ("email", Some(&email)))
            .await?;
        let claim = claim::Claim::try_from(request.into_inner())?;
        claim::claim(&self.db, &self.outbox, &claim).await?;
        Ok(Response::new(pb::ClaimNomineeResponse {}))
    }

    async fn list_recognised(
        &self,
        request: Request<pb::ListRecognisedRequest>,
    ) -> Result<Response<pb::ListRecognisedResponse>, Status> {
        let campaign = RecordId::parse(&request.into_inner().campaign_id);
        let listed = recognition::public_list(&self.db, &campaign).await?;
        Ok(Response::new(pb::ListRecognisedResponse {
            entries: listed
                .into_iter()
                .map(|(kind, r)| pb::RecognisedEntry {
                    kind,
                    category_name: r.category_name,
                    region_name: r.region_name,
                    trust_name: r.trust_name,
                    nominee_name: r.nominee_name,
                    nominee_job_title: r.nominee_job_title,
                    story: r.story_excerpt,
                    nomination_id: r.nomination_id,
                })
                .collect(),
        }))
    }

    async fn who_am_i(
        &self,
        request: Request<pb::WhoAmIRequest>,
    ) -> Result<Response<pb::WhoAmIResponse>, Status> {
        let principal = self.principal(&request).await?;
        Ok(Response::new(pb::WhoAmIResponse {
            email: principal.email,
            name: principal.name,
            grants: principal
                .grants
                .into_iter()
                .map(|g| pb::Grant {
                    role: g.role.slug().to_owned(),
                    scope: g.scope,
                })
                .collect(),
        }))
    }

    async fn list_moderation_queue(
        &self,
        request: Request<pb::ListModerationQueueRequest>,
    ) -> Result<Response<pb::ListModerationQueueResponse>, Status> {
        self.admin(
            request,
            async |principal, r: pb::ListModerationQueueRequest| {
                let campaign = RecordId::parse(&r.campaign_id);
                let queue =
                    moderation::queue(&self.db, &principal, &campaign, &r.trust_code).await?;
                Ok(pb::ListModerationQueueResponse {
                    nominations: queue.into_iter().map(to_message).collect(),
                })
            },
        )
        .await
    }

    async fn moderate_nomination(
        &self,
        request: Request<pb::ModerateNominationRequest>,
    ) -> Result<Response<pb::ModerateNominationResponse>, Status> {
        self.admin(
            request,
            async |principal, r: pb::ModerateNominationRequest| {
                let moderation = r.try_into()?;
                let updated =
                    moderation::decide(&self.db, &self.outbox, &principal, &moderation).await?;
                Ok(pb::ModerateNominationResponse {
                    nomination: Some(to_message(updated)),
                })
            },
        )
        .await
    }

    async fn list_audit_log(
        &self,
        request: Request<pb::ListAuditLogRequest>,
    ) -> Result<Response<pb::ListAuditLogResponse>, Status> {
        self.admin(request, async |principal, r: pb::ListAuditLogRequest| {
            let entries = audit::audit_log(&self.db, &principal, &r.trust_code).await?;
            Ok(pb::ListAuditLogResponse {
                entries: entries
                    .into_iter()
                    .map(|e| pb::AuditEntry {
                        id: e.id.to_string(),
                        at: timestamp(Some(e.at)),
                        actor: e.actor,
                        action: e.action,
                        nomination_id: e.nomination_id.map(|id| id.to_string()).unwrap_or_default(),
                        trust_code: e.trust_code,
                        detail: e.detail,
                    })
                    .collect(),
            })
        })
        .await
    }

    async fn list_nominations(
        &self,
        request: Request<pb::ListNominationsRequest>,
    ) -> Result<Response<pb::ListNominationsResponse>, Status> {
        self.admin(request, async |principal, r: pb::ListNominationsRequest| {
            let all =
                moderation::list(&self.db, &principal, &RecordId::parse(&r.campaign_id)).await?;
            Ok(pb::ListNominationsResponse {
                nominations: all.into_iter().map(to_message).collect(),
            })
        })
        .await
    }

    async fn review_nominee_match(
        &self,
        request: Request<pb::ReviewNomineeMatchRequest>,
    ) -> Result<Response<pb::ReviewNomineeMatchResponse>, Status> {
        self.admin(
            request,
            async |principal, r: pb::ReviewNomineeMatchRequest| {
                let updated =
                    moderation::review_match(&self.db, &self.outbox, &principal, &r.into()).await?;
                Ok(pb::ReviewNomineeMatchResponse {
                    nomination: Some(to_message(updated)),
                })
            },
        )
        .await
    }

    async fn create_campaign(
        &self,
        request: Request<pb::CreateCampaignRequest>,
    ) -> Result<Response<pb::CreateCampaignResponse>, Status> {
        self.admin(request, async |principal, r: pb::CreateCampaignRequest| {
            let spec = NewCampaignSpec::parse(&convert::campaign_request(r))
                .map_err(crate::error::Error::Invalid)?;
            campaigns::create_for(&self.db, &principal, &spec).await?;
            let view = load::campaign_by_slug(&self.db, &spec.slug).await?;
            Ok(pb::CreateCampaignResponse {
                campaign: Some(self.campaign(view)),
            })
        })
        .await
    }

    async fn update_campaign(
        &self,
        request: Request<pb::UpdateCampaignRequest>,
    ) -> Result<Response<pb::UpdateCampaignResponse>, Status> {
        self.admin(request, async |principal, r: pb::UpdateCampaignRequest| {
            let found = load::campaign(&self.db, &RecordId::parse(&r.campaign_id)).await?;
            principal.require(
                principal.administers_campaign(&found),
                &format!("change {}", found.name),
            )?;
            let stored = load::campaign_by_slug(&self.db, &found.slug).await?;
            let spec = NewCampaignSpec::parse(&convert::campaign_edit(r, &stored))
                .map_err(crate::error::Error::Invalid)?;
            campaigns::update_for(&self.db, &principal, &found, &spec).await?;
            let view = load::campaign_by_slug(&self.db, &found.slug).await?;
            Ok(pb::UpdateCampaignResponse {
                campaign: Some(self.campaign(view)),
            })
        })
        .await
    }

    async fn add_campaign_item(
        &self,
        request: Request<pb::AddCampaignItemRequest>,
    ) -> Result<Response<pb::AddCampaignItemResponse>, Status> {
        self.admin(request, async |principal, r: pb::AddCampaignItemRequest| {
            let found = load::campaign(&self.db, &RecordId::parse(&r.campaign_id)).await?;
            principal.require(
                principal.administers_campaign(&found),
                &format!("change the page of {}", found.name),
            )?;
            let typed =
                convert::item_request(r.item.unwrap_or_default(), r.file_name, r.file_content);
            let item = page_items::NewItem::parse(&typed).map_err(crate::error::Error::Invalid)?;
            let (stored, file) = page_items::add(&self.db, &principal, &found, &item).await?;
            Ok(pb::AddCampaignItemResponse {
                item: Some(convert::campaign_item(stored, file)),
            })
        })
        .await
    }

    async fn remove_campaign_item(
        &self,
        request: Request<pb::RemoveCampaignItemRequest>,
    ) -> Result<Response<pb::RemoveCampaignItemResponse>, Status> {
        self.admin(
            request,
            async |principal, r: pb::RemoveCampaignItemRequest| {
                let found = load::campaign(&self.db, &RecordId::parse(&r.campaign_id)).await?;
                let id = RecordId::parse(&r.item_id)
                    .id()
                    .ok_or_else(|| crate::error::Error::NotFound("that item".into()))?;
                page_items::remove(&self.db, &principal, &found, id).await?;
                Ok(pb::RemoveCampaignItemResponse {})
            },
        )
        .await
    }

    async fn get_campaign_file(
        &self,
        request: Request<pb::GetCampaignFileRequest>,
    ) -> Result<Response<pb::GetCampaignFileResponse>, Status> {
        let r = request.into_inner();
        let id = RecordId::parse(&r.item_id)
            .id()
            .ok_or_else(|| crate::error::Error::NotFound("that file".into()))?;
        let (file, content) = page_files::download(&self.db, &r.campaign_slug, id).await?;
        Ok(Response::new(pb::GetCampaignFileResponse {
            file: Some(convert::campaign_file(file)),
            content,
        }))
    }

    async fn add_learning_route(
        &self,
        request: Request<pb::AddLearningRouteRequest>,
    ) -> Result<Response<pb::AddLearningRouteResponse>, Status> {
        self.admin(
            request,
            async |principal, r: pb::AddLearningRouteRequest| {
                let found = load::campaign(&self.db, &RecordId::parse(&r.campaign_id)).await?;
                let typed = convert::route_request(r.route.unwrap_or_default());
                let stored =
                    learning_routes::add(&self.db, &principal, Owner::Campaign(&found), &typed)
                        .await?;
                Ok(pb::AddLearningRouteResponse {
                    route: Some(convert::learning_route(stored)),
                })
            },
        )
        .await
    }

    async fn remove_learning_route(
        &self,
        request: Request<pb::RemoveLearningRouteRequest>,
    ) -> Result<Response<pb::RemoveLearningRouteResponse>, Status> {
        self.admin(
            request,
            async |principal, r: pb::RemoveLearningRouteRequest| {
                let found = load::campaign(&self.db, &RecordId::parse(&r.campaign_id)).await?;
                let id = route_id(&r.route_id)?;
                learning_routes::remove(&self.db, &principal, Owner::Campaign(&found), id).await?;
                Ok(pb::RemoveLearningRouteResponse {})
            },
        )
        .await
    }

    async fn list_learning_routes(
        &self,
        request: Request<pb::ListLearningRoutesRequest>,
    ) -> Result<Response<pb::ListLearningRoutesResponse>, Status> {
        self.admin(
            request,
            async |principal, r: pb::ListLearningRoutesRequest| {
                let found = load::campaign(&self.db, &RecordId::parse(&r.campaign_id)).await?;
                let routes =
                    learning_routes::list(&self.db, &principal, Owner::Campaign(&found)).await?;
                Ok(pb::ListLearningRoutesResponse {
                    routes: routes.into_iter().map(convert::learning_route).collect(),
                })
            },
        )
        .await
    }

    async fn open_learning_route(
        &self,
        request: Request<pb::OpenLearningRouteRequest>,
    ) -> Result<Response<pb::OpenLearningRouteResponse>, Status> {
        let r = request.into_inner();
        let id = route_id(&r.route_id)?;
        let followed = match (r.campaign_slug.as_str(), r.trust_code.as_str()) {
            (slug, "") => Followed::Campaign(slug),
            ("", code) => Followed::Trust(code),
            _ => return Err(crate::error::Error::NotFound("that learning route".into()).into()),
        };
        let url = learning_routes::open(&self.db, followed, id).await?;
        Ok(Response::new(pb::OpenLearningRouteResponse { url }))
    }

    async fn add_trust_learning_route(
        &self,
        request: Request<pb::AddTrustLearningRouteRequest>,
    ) -> Result<Response<pb::AddTrustLearningRouteResponse>, Status> {
        self.admin(
            request,
            async |principal, r: pb::AddTrustLearningRouteRequest| {
                let found = trusts::administered(&self.db, &principal, &r.trust_code).await?;
                let typed = convert::route_request(r.route.unwrap_or_default());
                let stored =
                    learning_routes::add(&self.db, &principal, Owner::Trust(&found), &typed)
                        .await?;
                Ok(pb::AddTrustLearningRouteResponse {
                    route: Some(convert::learning_route(stored)),
                })
            },
        )
        .await
    }

    async fn remove_trust_learning_route(
        &self,
        request: Request<pb::RemoveTrustLearningRouteRequest>,
    ) -> Result<Response<pb::RemoveTrustLearningRouteResponse>, Status> {
        self.admin(
            request,
            async |principal, r: pb::RemoveTrustLearningRouteRequest| {
                let found = trusts::administered(&self.db, &principal, &r.trust_code).await?;
                let id = route_id(&r.route_id)?;
                learning_routes::remove(&self.db, &principal, Owner::Trust(&found), id).await?;
                Ok(pb::RemoveTrustLearningRouteResponse {})
            },
        )
        .await
    }

    async fn list_trust_learning_routes(
        &self,
        request: Request<pb::ListTrustLearningRoutesRequest>,
    ) -> Result<Response<pb::ListTrustLearningRoutesResponse>, Status> {
        self.admin(
            request,
            async |principal, r: pb::ListTrustLearningRoutesRequest| {
                let found = trusts::administered(&self.db, &principal, &r.trust_code).await?;
                let routes =
                    learning_routes::list(&self.db, &principal, Owner::Trust(&found)).await?;
                Ok(pb::ListTrustLearningRoutesResponse {
                    routes: routes.into_iter().map(convert::learning_route).collect(),
                    trust_name: found.name,
                    staff_groups: convert::staff_groups(),
                })
            },
        )
        .await
    }

    async fn get_trust_settings(
        &self,
        request: Request<pb::GetTrustSettingsRequest>,
    ) -> Result<Response<pb::GetTrustSettingsResponse>, Status> {
        self.admin(
            request,
            async |principal, r: pb::GetTrustSettingsRequest| {
                let found = trusts::settings(&self.db, &principal, &r.trust_code).await?;
                Ok(pb::GetTrustSettingsResponse {
                    settings: Some(convert::trust_settings(found)),
                })
            },
        )
        .await
    }

    async fn set_trust_settings(
        &self,
        request: Request<pb::SetTrustSettingsRequest>,
    ) -> Result<Response<pb::SetTrustSettingsResponse>, Status> {
        self.admin(
            request,
            async |principal, r: pb::SetTrustSettingsRequest| {
                let asked = r.settings.unwrap_or_default();
                let code = asked.trust_code.clone();
                // Whose trust it is first: an outsider learns nothing from the fields' errors.
                trusts::administered(&self.db, &principal, &code).await?;
                let spec = TrustSettingsSpec::parse(&convert::trust_settings_request(asked))
                    .map_err(crate::error::Error::Invalid)?;
                let stored = trusts::set(&self.db, &self.outbox, &principal, &code, &spec).await?;
                Ok(pb::SetTrustSettingsResponse {
                    settings: Some(convert::trust_settings(stored)),
                })
            },
        )
        .await
    }

    async fn add_trust_site(
        &self,
        request: Request<pb::AddTrustSiteRequest>,
    ) -> Result<Response<pb::AddTrustSiteResponse>, Status> {
        self.admin(request, async |principal, r: pb::AddTrustSiteRequest| {
            trusts::administered(&self.db, &principal, &r.trust_code).await?;
            let typed = r.site.unwrap_or_default();
            let site = NewSite::parse(&SiteRequest {
                code: typed.code,
                name: typed.name,
            })
            .map_err(crate::error::Error::Invalid)?;
            let stored = trusts::add_site(&self.db, &principal, &r.trust_code, &site).await?;
            Ok(pb::AddTrustSiteResponse {
                settings: Some(convert::trust_settings(stored)),
            })
        })
        .await
    }

    async fn remove_trust_site(
        &self,
        request: Request<pb::RemoveTrustSiteRequest>,
    ) -> Result<Response<pb::RemoveTrustSiteResponse>, Status> {
        self.admin(request, async |principal, r: pb::RemoveTrustSiteRequest| {
            let stored =
                trusts::remove_site(&self.db, &principal, &r.trust_code, &r.site_code).await?;
            Ok(pb::RemoveTrustSiteResponse {
                settings: Some(convert::trust_settings(stored)),
            })
        })
        .await
    }

    async fn start_organisations_import(
        &self,
        request: Request<pb::StartOrganisationsImportRequest>,
    ) -> Result<Response<pb::StartOrganisationsImportResponse>, Status> {
        self.admin(
            request,
            async |principal, r: pb::StartOrganisationsImportRequest| {
                let started = crate::organisations::start(&self.db, &principal, &r.csv).await?;
                // Written at once by this replica; the scheduled round takes over if it stops.
                let db = self.db.clone();
                tokio::spawn(async move {
                    if let Err(error) = crate::organisations::run_pending(&db).await {
                        tracing::warn!(%error, "organisations import stopped; it is taken up again");
                    }
                });
                Ok(pb::StartOrganisationsImportResponse {
                    import: Some(convert::organisations_import(started)),
                })
            },
        )
        .await
    }

    async fn get_organisations_import(
        &self,
        request: Request<pb::GetOrganisationsImportRequest>,
    ) -> Result<Response<pb::GetOrganisationsImportResponse>, Status> {
        self.admin(
            request,
            async |principal, r: pb::GetOrganisationsImportRequest| {
                let progress = crate::organisations::progress(&self.db, &principal, &r.id).await?;
                Ok(pb::GetOrganisationsImportResponse {
                    import: Some(convert::organisations_import(progress)),
                })
            },
        )
        .await
    }

    async fn set_rubric(
        &self,
        request: Request<pb::SetRubricRequest>,
    ) -> Result<Response<pb::SetRubricResponse>, Status> {
        self.admin(request, async |principal, r: pb::SetRubricRequest| {
            let criteria: Vec<judging::NewCriterion> = r
                .criteria
                .into_iter()
                .map(|c| judging::NewCriterion {
                    name: c.name,
                    weight: c.weight,
                })
                .collect();
            let stored = judging::set_rubric(
                &self.db,
                &principal,
                &RecordId::parse(&r.campaign_id),
                &criteria,
            )
            .await?;
            Ok(pb::SetRubricResponse {
                criteria: stored.into_iter().map(convert::criterion).collect(),
            })
        })
        .await
    }

    async fn get_rubric(
        &self,
        request: Request<pb::GetRubricRequest>,
    ) -> Result<Response<pb::GetRubricResponse>, Status> {
        self.admin(request, async |principal, r: pb::GetRubricRequest| {
            let criteria =
                judging::rubric_for(&self.db, &principal, &RecordId::parse(&r.campaign_id)).await?;
            Ok(pb::GetRubricResponse {
                criteria: criteria.into_iter().map(convert::criterion).collect(),
            })
        })
        .await
    }

    async fn assign_judge(
        &self,
        request: Request<pb::AssignJudgeRequest>,
    ) -> Result<Response<pb::AssignJudgeResponse>, Status> {
        self.admin(request, async |principal, r: pb::AssignJudgeRequest| {
            judging::assign_judge(
                &self.db,
                &self.outbox,
                &principal,
                &RecordId::parse(&r.campaign_id),
                &RecordId::parse(&r.category_id),
                &r.judge_email,
            )
            .await?;
            Ok(pb::AssignJudgeResponse {})
        })
        .await
    }

    async fn list_judging_work(
        &self,
        request: Request<pb::ListJudgingWorkRequest>,
    ) -> Result<Response<pb::ListJudgingWorkResponse>, Status> {
        self.admin(request, async |principal, r: pb::ListJudgingWorkRequest| {
            let work =
                judging::work(&self.db, &principal, &RecordId::parse(&r.campaign_id)).await?;
            let total = u32::try_from(work.items.len()).unwrap_or(u32::MAX);
            let scored = u32::try_from(work.items.iter().filter(|(_, s)| !s.is_empty()).count())
                .unwrap_or(u32::MAX);
            Ok(pb::ListJudgingWorkResponse {
                criteria: work.criteria.into_iter().map(convert::criterion).collect(),
                items: work
                    .items
                    .into_iter()
                    .map(|(n, scores)| pb::JudgingItem {
                        nomination: Some(to_message(n)),
                        scores: scores.into_iter().collect(),
                    })
                    .collect(),
                scored,
                total,
            })
        })
        .await
    }

    async fn score_nomination(
        &self,
        request: Request<pb::ScoreNominationRequest>,
    ) -> Result<Response<pb::ScoreNominationResponse>, Status> {
        self.admin(request, async |principal, r: pb::ScoreNominationRequest| {
            let scores = r.scores.into_iter().collect();
            judging::score(
                &self.db,
                &principal,
                &RecordId::parse(&r.nomination_id),
                &scores,
            )
            .await?;
            Ok(pb::ScoreNominationResponse {})
        })
        .await
    }

    async fn declare_conflict(
        &self,
        request: Request<pb::DeclareConflictRequest>,
    ) -> Result<Response<pb::DeclareConflictResponse>, Status> {
        self.admin(request, async |principal, r: pb::DeclareConflictRequest| {
            judging::declare_conflict(
                &self.db,
                &principal,
                &RecordId::parse(&r.nomination_id),
                &r.reason,
            )
            .await?;
            Ok(pb::DeclareConflictResponse {})
        })
        .await
    }

    async fn get_shortlist(
        &self,
        request: Request<pb::GetShortlistRequest>,
    ) -> Result<Response<pb::GetShortlistResponse>, Status> {
        self.admin(request, async |principal, r: pb::GetShortlistRequest| {
            let (entries, progress) = judging::shortlist(
                &self.db,
                &principal,
                &RecordId::parse(&r.campaign_id),
                &RecordId::parse(&r.category_id),
            )
            .await?;
            Ok(pb::GetShortlistResponse {
                entries: entries
                    .into_iter()
                    .map(|e| pb::ShortlistEntry {
                        nomination: Some(to_message(e.nomination)),
                        weighted_score: e.weighted_score,
                        judges_scored: e.judges_scored,
                        region_code: e.region_code,
                    })
                    .collect(),
                progress: progress
                    .into_iter()
                    .map(|p| pb::JudgeProgress {
                        judge_email: p.judge_email,
                        scored: p.scored,
                        total: p.total,
                    })
                    .collect(),
            })
        })
        .await
    }

    async fn announce_finalists(
        &self,
        request: Request<pb::AnnounceFinalistsRequest>,
    ) -> Result<Response<pb::AnnounceFinalistsResponse>, Status> {
        self.admin(
            request,
            async |principal, r: pb::AnnounceFinalistsRequest| {
                recognition::announce_finalists(&self.db, &self.outbox, &principal, &r.into())
                    .await?;
                Ok(pb::AnnounceFinalistsResponse {})
            },
        )
        .await
    }

    async fn announce_winner(
        &self,
        request: Request<pb::AnnounceWinnerRequest>,
    ) -> Result<Response<pb::AnnounceWinnerResponse>, Status> {
        self.admin(request, async |principal, r: pb::AnnounceWinnerRequest| {
            recognition::announce_winner(
                &self.db,
                &self.outbox,
                &principal,
                &RecordId::parse(&r.nomination_id),
            )
            .await?;
            Ok(pb::AnnounceWinnerResponse {})
        })
        .await
    }

    async fn forward_winner(
        &self,
        request: Request<pb::ForwardWinnerRequest>,
    ) -> Result<Response<pb::ForwardWinnerResponse>, Status> {
        self.admin(request, async |principal, r: pb::ForwardWinnerRequest| {
            let id = recognition::forward_winner(
                &self.db,
                &principal,
                &RecordId::parse(&r.nomination_id),
                &RecordId::parse(&r.to_campaign_id),
            )
            .await?;
            Ok(pb::ForwardWinnerResponse {
                nomination_id: id.to_string(),
            })
        })
        .await
    }

    async fn list_role_grants(
        &self,
        request: Request<pb::ListRoleGrantsRequest>,
    ) -> Result<Response<pb::ListRoleGrantsResponse>, Status> {
        self.admin(request, async |principal, _: pb::ListRoleGrantsRequest| {
            let listed = people::list(&self.db, &principal).await?;
            Ok(pb::ListRoleGrantsResponse {
                grants: listed.grants.into_iter().map(convert::role_grant).collect(),
                grantable_roles: listed
                    .grantable
                    .into_iter()
                    .map(|role| role.slug().to_owned())
                    .collect(),
            })
        })
        .await
    }

    async fn grant_role(
        &self,
        request: Request<pb::GrantRoleRequest>,
    ) -> Result<Response<pb::GrantRoleResponse>, Status> {
        self.admin(request, async |principal, r: pb::GrantRoleRequest| {
            let key = GrantKey::try_from(r)?;
            let stored = people::invite(&self.db, &self.outbox, &principal, &key).await?;
            Ok(pb::GrantRoleResponse {
                grant: Some(convert::role_grant(stored)),
            })
        })
        .await
    }

    async fn revoke_role(
        &self,
        request: Request<pb::RevokeRoleRequest>,
    ) -> Result<Response<pb::RevokeRoleResponse>, Status> {
        self.admin(request, async |principal, r: pb::RevokeRoleRequest| {
            let key = GrantKey::try_from(r)?;
            auth::revoke(
                &self.db,
                &self.outbox,
                &auth::Actor::Admin(&principal),
                &key.email.normalised(),
                key.role,
                &key.scope,
            )
            .await?;
            Ok(pb::RevokeRoleResponse {})
        })
        .await
    }

    async fn export_person(
        &self,
        request: Request<pb::ExportPersonRequest>,
    ) -> Result<Response<pb::ExportPersonResponse>, Status> {
        self.admin(request, async |principal, r: pb::ExportPersonRequest| {
            let json = privacy::export(&self.db, &principal, &r.email).await?;
            Ok(pb::ExportPersonResponse { json })
        })
        .await
    }

    async fn request_erasure(
        &self,
        request: Request<pb::RequestErasureRequest>,
    ) -> Result<Response<pb::RequestErasureResponse>, Status> {
        self.admin(request, async |principal, r: pb::RequestErasureRequest| {
            let id = privacy::request_erasure(&self.db, &self.outbox, &principal, &r.email).await?;
            Ok(pb::RequestErasureResponse {
                request_id: id.to_string(),
            })
        })
        .await
    }

    async fn get_erasure_progress(
        &self,
        request: Request<pb::GetErasureProgressRequest>,
    ) -> Result<Response<pb::GetErasureProgressResponse>, Status> {
        self.admin(
            request,
            async |principal, r: pb::GetErasureProgressRequest| {
                let progress =
                    privacy::erasure_progress(&self.db, &principal, &r.request_id).await?;
                Ok(pb::GetErasureProgressResponse {
                    progress: Some(convert::erasure_progress(progress)),
                })
            },
        )
        .await
    }

    async fn list_erasure_requests(
        &self,
        request: Request<pb::ListErasureRequestsRequest>,
    ) -> Result<Response<pb::ListErasureRequestsResponse>, Status> {
        self.admin(
            request,
            async |principal, _: pb::ListErasureRequestsRequest| {
                let requests = privacy::erasure_requests(&self.db, &principal).await?;
                Ok(pb::ListErasureRequestsResponse {
                    requests: requests
                        .into_iter()
                        .map(convert::erasure_progress)
                        .collect(),
                })
            },
        )
        .await
    }

    async fn get_insight(
        &self,
        request: Request<pb::GetInsightRequest>,
    ) -> Result<Response<pb::GetInsightResponse>, Status> {
        self.admin(request, async |principal, r: pb::GetInsightRequest| {
            insight::dashboard(&self.db, &principal, &r.scope, &r.scope_code).await
        })
        .await
    }
}
