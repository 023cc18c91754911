//! Conversions between gRPC messages and the service's own types.

use valued_platform::domain::EmailAddress;
use valued_platform::idempotency::{IdempotencyKey, Keyed};
use valued_proto::nomination::v1 as pb;

use crate::admin::moderation::{MatchReview, MatchVerdict, Moderation};
use crate::admin::people::{GrantKey, Listed};
use crate::admin::recognition::Finalists;
use crate::db::entities::nomination;
use crate::db::load::CampaignView;
use crate::domain::{
    Band, CampaignRequest, CategoryRequest, Decision, NominationRequest, RecordId, Relationship,
    StaffGroup, Windows, time_of,
};
use crate::erasure::Progress;
use crate::error::Error;
use crate::public::claim::{self, Claim};
use crate::public::drafts::SaveDraft;
use crate::public::submit::SubmitNomination;

/// Moves a nomination form's answers between the message and `NominationRequest`, which name them
/// alike: one list of fields for both directions.
macro_rules! answers {
    ($from:expr => $to:path { $($extra:tt)* }) => {{
        let r = $from;
        $to {
            campaign_id: r.campaign_id,
            category_id: r.category_id,
            trust_code: r.trust_code,
            nominee_name: r.nominee_name,
            nominee_job_title: r.nominee_job_title,
            staff_group: r.staff_group,
            story: r.story,
            nominator_name: r.nominator_name,
            nominator_email: r.nominator_email,
            relationship: r.relationship,
            band: r.band,
            nominee_email: r.nominee_email,
            site_code: r.site_code,
            nominee_description: r.nominee_description,
            team: r.team,
            $($extra)*
        }
    }};
}

impl From<pb::SubmitNominationRequest> for SubmitNomination {
    /// The answers and the draft; the key, which needs checking, is [`keyed_submission`]'s.
    fn from(mut r: pb::SubmitNominationRequest) -> Self {
        let draft_token = given(std::mem::take(&mut r.draft_token));
        Self {
            answers: answers!(r => NominationRequest {}),
            draft_token,
            key: None,
        }
    }
}

/// The submission's idempotency key with a digest of everything else it says; `None` without a
/// key.
pub fn keyed_submission(r: &pb::SubmitNominationRequest) -> Result<Option<Keyed>, Error> {
    let key = IdempotencyKey::parse(&r.idempotency_key).map_err(|e| Error::Invalid(vec![e]))?;
    Ok(key.map(|key| {
        let answers = pb::SubmitNominationRequest {
            idempotency_key: String::new(),
            ..r.clone()
        };
        Keyed::new("SubmitNomination", key, &answers)
    }))
}

impl From<pb::SaveDraftRequest> for SaveDraft {
    fn from(r: pb::SaveDraftRequest) -> Self {
        Self {
            token: given(r.draft_token),
            answers: SubmitNomination::from(r.answers.unwrap_or_default()).answers,
            email_link: r.email_resume_link,
        }
    }
}

impl TryFrom<pb::ClaimNomineeRequest> for Claim {
    type Error = Error;

    fn try_from(r: pb::ClaimNomineeRequest) -> Result<Self, Error> {
        Ok(Self {
            email: EmailAddress::parse(claim::EMAIL, &r.email)
                .map_err(|e| Error::Invalid(vec![e]))?,
            token: r.claim_token,
        })
    }
}

/// A link token the caller may leave blank: `None` when they did.
fn given(token: String) -> Option<String> {
    (!token.trim().is_empty()).then_some(token)
}

impl TryFrom<pb::ModerateNominationRequest> for Moderation {
    type Error = Error;

    fn try_from(r: pb::ModerateNominationRequest) -> Result<Self, Error> {
        Ok(Self {
            decision: Decision::parse(&r.action, &r.reason).map_err(|e| Error::Invalid(vec![e]))?,
            nomination: RecordId::parse(&r.nomination_id),
        })
    }
}

impl From<pb::ReviewNomineeMatchRequest> for MatchReview {
    fn from(r: pb::ReviewNomineeMatchRequest) -> Self {
        let verdict = if !r.nominee_name.trim().is_empty() {
            MatchVerdict::Identify {
                name: r.nominee_name,
                job_title: r.nominee_job_title,
            }
        } else if r.same_person {
            MatchVerdict::SamePerson
        } else {
            MatchVerdict::DifferentPerson
        };
        Self {
            nomination: RecordId::parse(&r.nomination_id),
            verdict,
        }
    }
}

impl From<pb::AnnounceFinalistsRequest> for Finalists {
    fn from(r: pb::AnnounceFinalistsRequest) -> Self {
        Self {
            campaign: RecordId::parse(&r.campaign_id),
            category: RecordId::parse(&r.category_id),
            region_code: r.region_code.trim().to_uppercase(),
            nominations: r
                .nomination_ids
                .iter()
                .map(|id| RecordId::parse(id))
                .collect(),
        }
    }
}

impl TryFrom<pb::GrantRoleRequest> for GrantKey {
    type Error = Error;

    fn try_from(r: pb::GrantRoleRequest) -> Result<Self, Error> {
        Self::parse(&r.email, &r.role, &r.scope).map_err(Error::Invalid)
    }
}

impl TryFrom<pb::RevokeRoleRequest> for GrantKey {
    type Error = Error;

    fn try_from(r: pb::RevokeRoleRequest) -> Result<Self, Error> {
        Self::parse(&r.email, &r.role, &r.scope).map_err(Error::Invalid)
    }
}

pub fn role_grant(listed: Listed) -> pb::RoleGrant {
    let grant = listed.grant;
    pb::RoleGrant {
        bound: grant.issuer.is_some(),
        revoked: grant.revoked_at.is_some(),
        revoked_at: timestamp(grant.revoked_at),
        revoked_by: grant.revoked_by.unwrap_or_default(),
        email: grant.email,
        role: grant.role,
        scope: grant.scope,
        scope_name: listed.scope_name,
        yours: listed.yours,
    }
}

/// An erasure request: the services that answered, in the order they did, then those waiting.
pub fn erasure_progress(progress: Progress) -> pb::ErasureProgress {
    let answered = progress
        .answered
        .into_iter()
        .map(|(service, records, at)| pb::ServiceErasure {
            service,
            erased: true,
            records: u64::try_from(records).unwrap_or_default(),
            erased_at: timestamp(Some(at)),
        });
    let waiting = progress.waiting.iter().map(|service| pb::ServiceErasure {
        service: (*service).to_owned(),
        ..pb::ServiceErasure::default()
    });
    pb::ErasureProgress {
        request_id: progress.id.to_string(),
        requested_at: timestamp(Some(progress.requested_at)),
        requested_by: progress.requested_by,
        done: progress.waiting.is_empty(),
        services: answered.chain(waiting).collect(),
    }
}

fn choice(value: &str, label: &str) -> pb::Choice {
    pb::Choice {
        value: value.to_owned(),
        label: label.to_owned(),
    }
}

pub fn timestamp(at: Option<chrono::DateTime<chrono::Utc>>) -> Option<prost_types::Timestamp> {
    at.map(|at| prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    })
}

/// `campaign` as the API shows it; `default_per_nominator`: the service-wide limit of nominations
/// per person, for campaigns that set none.
pub fn campaign(view: CampaignView, default_per_nominator: u64) -> pb::Campaign {
    pb::Campaign {
        nominations_per_nominator: view
            .campaign
            .nominations_per_nominator
            .and_then(|limit| u32::try_from(limit).ok()),
        default_nominations_per_nominator: u32::try_from(default_per_nominator).unwrap_or(u32::MAX),
        staff_groups: staff_groups(),
        relationships: Relationship::ALL
            .iter()
            .map(|r| choice(r.slug(), r.label()))
            .collect(),
        bands: Band::ALL
            .iter()
            .map(|b| choice(b.slug(), b.label()))
            .collect(),
        scope: view.campaign.scope.clone(),
        scope_code: view.campaign.scope_code.clone().unwrap_or_default(),
        nominations_open_at: timestamp(view.campaign.nominations_open_at),
        nominations_close_at: timestamp(view.campaign.nominations_close_at),
        judging_close_at: timestamp(view.campaign.judging_close_at),
        vote_open_at: timestamp(view.campaign.vote_open_at),
        vote_close_at: timestamp(view.campaign.vote_close_at),
        results_at: timestamp(view.campaign.results_at),
        vote_per_region: view.campaign.vote_per_region,
        items: view
            .items
            .into_iter()
            .map(|item| {
                let file = view.files.get(&item.id).cloned();
                campaign_item(item, file)
            })
            .collect(),
        // The counts are for the campaign's admins (ListLearningRoutes), not the public page.
        learning_routes: view
            .learning_routes
            .into_iter()
            .map(|route| pb::LearningRoute {
                opens: 0,
                ..learning_route(route)
            })
            .collect(),
        id: view.campaign.id.to_string(),
        slug: view.campaign.slug,
        name: view.campaign.name,
        description: view.campaign.description,
        trusts: view
            .trusts
            .into_iter()
            .map(|t| pb::Trust {
                sites: view
                    .sites
                    .iter()
                    .filter(|s| s.trust_code == t.code)
                    .map(trust_site)
                    .collect(),
                code: t.code,
                name: t.name,
                region: t.region,
            })
            .collect(),
        categories: view
            .categories
            .into_iter()
            .map(|c| pb::Category {
                id: c.id.to_string(),
                name: c.name,
                description: c.description,
                word_limit: u32::try_from(c.word_limit).unwrap_or_default(),
                eligible_bands: c
                    .eligible_bands
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                eligible_staff_groups: c
                    .eligible_staff_groups
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            })
            .collect(),
    }
}

pub fn to_message(n: nomination::Model) -> pb::Nomination {
    pb::Nomination {
        id: n.id.to_string(),
        campaign_id: n.campaign_id.to_string(),
        category_id: n.category_id.to_string(),
        trust_code: n.trust_code,
        nominee_name: n.nominee_name,
        nominee_job_title: n.nominee_job_title,
        staff_group: n.staff_group,
        story: n.story,
        nominator_name: n.nominator_name,
        nominator_email: n.nominator_email,
        relationship: n.relationship,
        status: n.status,
        nominee_id: n.nominee_id.map(|id| id.to_string()).unwrap_or_default(),
        band: n.band,
        nominee_email: n.nominee_email,
        site_code: n.site_code,
        nominee_description: n.nominee_description,
        team: n.team,
        submitted_at: timestamp(Some(n.submitted_at)),
        match_reviewed_by: n.match_reviewed_by,
        moderation_reason: n.moderation_reason,
    }
}

/// A draft's answers as the form sent them.
impl From<NominationRequest> for pb::SubmitNominationRequest {
    fn from(r: NominationRequest) -> Self {
        answers!(r => pb::SubmitNominationRequest { draft_token: String::new(), idempotency_key: String::new() })
    }
}

pub fn criterion(c: crate::db::entities::criterion::Model) -> pb::Criterion {
    pb::Criterion {
        id: c.id.to_string(),
        name: c.name,
        weight: u32::try_from(c.weight).unwrap_or_default(),
    }
}

/// An UpdateCampaign request as the domain reads it, with what cannot change from `stored`.
pub fn campaign_edit(r: pb::UpdateCampaignRequest, stored: &CampaignView) -> CampaignRequest {
    let campaign = &stored.campaign;
    CampaignRequest {
        slug: campaign.slug.clone(),
        name: r.name,
        description: r.description,
        scope: campaign.scope.clone(),
        scope_code: campaign.scope_code.clone().unwrap_or_default(),
        trust_codes: stored.trusts.iter().map(|t| t.code.clone()).collect(),
        windows: windows([
            r.nominations_open_at,
            r.nominations_close_at,
            r.judging_close_at,
            r.vote_open_at,
            r.vote_close_at,
            r.results_at,
        ]),
        vote_per_region: r.vote_per_region,
        nominations_per_nominator: r.nominations_per_nominator,
        categories: r.categories.into_iter().map(category_request).collect(),
    }
}

/// A timetable from its six times, in stage order.
fn windows(
    [open, close, judging, vote_open, vote_close, results]: [Option<prost_types::Timestamp>; 6],
) -> Windows {
    Windows {
        nominations_open_at: time_of(open.as_ref()),
        nominations_close_at: time_of(close.as_ref()),
        judging_close_at: time_of(judging.as_ref()),
        vote_open_at: time_of(vote_open.as_ref()),
        vote_close_at: time_of(vote_close.as_ref()),
        results_at: time_of(results.as_ref()),
    }
}

fn category_request(c: pb::NewCategory) -> CategoryRequest {
    CategoryRequest {
        id: c.id,
        name: c.name,
        description: c.description,
        word_limit: c.word_limit,
        eligible_staff_groups: c.eligible_staff_groups,
        eligible_bands: c.eligible_bands,
    }
}

/// A CreateCampaign request as the domain reads it.
pub fn campaign_request(r: pb::CreateCampaignRequest) -> CampaignRequest {
    CampaignRequest {
        slug: r.slug,
        name: r.name,
        description: r.description,
        scope: r.scope,
        scope_code: r.scope_code,
        trust_codes: r.trust_codes,
        windows: windows([
            r.nominations_open_at,
            r.nominations_close_at,
            r.judging_close_at,
            r.vote_open_at,
            r.vote_close_at,
            r.results_at,
        ]),
        vote_per_region: r.vote_per_region,
        nominations_per_nominator: r.nominations_per_nominator,
        categories: r
            .categories
            .into_iter()
            .map(|c| CategoryRequest {
                // A new campaign's categories are all new.
                id: String::new(),
                ..category_request(c)
            })
            .collect(),
    }
}

/// A trust's settings as its admins see them.
pub fn trust_settings(found: crate::admin::trusts::TrustSettings) -> pb::TrustSettings {
    pb::TrustSettings {
        sites: found.sites.iter().map(trust_site).collect(),
        work_email_domains: found.work_email_domains,
        trust_code: found.trust.code,
        name: found.trust.name,
        awards_email: found.trust.admin_email,
        sender_name: found.trust.sender_name,
        reply_to: found.trust.reply_to,
    }
}

pub fn trust_site(site: &crate::db::entities::site::Model) -> pb::TrustSite {
    pb::TrustSite {
        code: site.code.clone(),
        name: site.name.clone(),
    }
}

/// Trust settings as typed.
pub fn trust_settings_request(asked: pb::TrustSettings) -> crate::domain::TrustSettingsRequest {
    crate::domain::TrustSettingsRequest {
        awards_email: asked.awards_email,
        sender_name: asked.sender_name,
        reply_to: asked.reply_to,
        work_email_domains: asked.work_email_domains,
    }
}

/// A campaign page's item as the page shows it, with its file when it is an uploaded resource.
pub fn campaign_item(
    item: crate::db::entities::campaign_item::Model,
    file: Option<crate::admin::page_files::FileMeta>,
) -> pb::CampaignItem {
    pb::CampaignItem {
        id: item.id.to_string(),
        kind: item.kind,
        title: item.title,
        at: timestamp(item.at),
        url: item.url,
        body: item.body,
        file: file.map(campaign_file),
    }
}

/// A stored file as a page lists it.
pub fn campaign_file(file: crate::admin::page_files::FileMeta) -> pb::CampaignFile {
    pb::CampaignFile {
        label: file.label().to_owned(),
        name: file.name,
        content_type: file.content_type,
        size: file.size,
    }
}

/// A page item as typed, with the file uploaded with it (if any).
pub fn item_request(
    item: pb::CampaignItem,
    file_name: String,
    file_content: Vec<u8>,
) -> crate::admin::page_items::ItemRequest {
    crate::admin::page_items::ItemRequest {
        kind: item.kind,
        title: item.title,
        at: time_of(item.at.as_ref()),
        url: item.url,
        body: item.body,
        file_name,
        file_content,
    }
}

/// Every staff group, as a form offers them.
pub fn staff_groups() -> Vec<pb::Choice> {
    StaffGroup::ALL
        .iter()
        .map(|g| choice(g.slug(), g.label()))
        .collect()
}

/// A learning route with how often it was opened.
pub fn learning_route(route: crate::db::entities::learning_route::Model) -> pb::LearningRoute {
    pb::LearningRoute {
        id: route.id.to_string(),
        title: route.title,
        url: route.url,
        description: route.description,
        category_id: route
            .category_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        staff_group: route.staff_group,
        opens: u64::try_from(route.opens).unwrap_or_default(),
        trust_code: route.trust_code.unwrap_or_default(),
    }
}

/// A learning route as typed.
pub fn route_request(route: pb::LearningRoute) -> crate::admin::learning_routes::RouteRequest {
    crate::admin::learning_routes::RouteRequest {
        title: route.title,
        url: route.url,
        description: route.description,
        category_id: route.category_id,
        staff_group: route.staff_group,
    }
}

pub fn organisations_import(
    progress: crate::organisations::ImportProgress,
) -> pb::OrganisationsImport {
    use crate::organisations::ImportState;
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let (state, failure) = match progress.state {
        ImportState::Importing => (pb::OrganisationsImportState::Importing, String::new()),
        ImportState::Imported => (pb::OrganisationsImportState::Imported, String::new()),
        ImportState::Failed(why) => (pb::OrganisationsImportState::Failed, why),
    };
    pb::OrganisationsImport {
        id: progress.id.to_string(),
        state: state.into(),
        written: progress.written,
        total: progress.total,
        regions: count(progress.summary.regions),
        trusts: count(progress.summary.trusts),
        sites: count(progress.summary.sites),
        failure,
        started_by: progress.started_by,
        started_at: timestamp(Some(progress.started_at)),
        finished_at: timestamp(progress.finished_at),
    }
}
