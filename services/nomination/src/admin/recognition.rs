//! Finalists and winners, what others may see of them, and the roll-up of trust winners into
//! regional and national rounds.

use chrono::Utc;
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, SqlErr, TransactionTrait,
};
use uuid::Uuid;
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::{
    FinalistAnnounced, RecognisedNominee, VoteTimetable, WinnerAnnounced,
};

use crate::admin::audit::{record, record_as};
use crate::auth::Principal;
use crate::db::entities::{
    campaign, campaign_trust, category, nomination, nominee, recognition, region, site, trust,
};
use crate::db::load::{campaign, category_of, nomination_and_trust};
use crate::domain::{Consent, RecordId, Status, StoryText};
use crate::error::{Error, Result};
use crate::nominees::nominee_for;

pub const FINALIST: &str = "finalist";
pub const WINNER: &str = "winner";

/// Everything known about a recognised nomination, before consent decides what leaves the service.
pub struct Recognised<'a> {
    pub nomination: &'a nomination::Model,
    pub consent: Consent,
    pub nominee_email: &'a str,
    pub campaign: &'a campaign::Model,
    pub category: &'a category::Model,
    pub trust: &'a trust::Model,
    pub region_name: &'a str,
    pub workplace_postcode: &'a str,
    pub nominator_emails: Vec<String>,
}

impl Recognised<'_> {
    /// The nominee as events and public pages carry them. The one place consent gates what leaves:
    /// no listing consent → nothing at all; the story only with publication consent; the workplace
    /// (which finds their MP) only with MP consent.
    pub fn public(&self) -> Option<RecognisedNominee> {
        if !self.consent.listed_publicly {
            return None;
        }
        let n = self.nomination;
        Some(RecognisedNominee {
            nominee_id: n.nominee_id.map(|id| id.to_string()).unwrap_or_default(),
            nomination_id: n.id.to_string(),
            campaign_id: self.campaign.id.to_string(),
            campaign_name: self.campaign.name.clone(),
            category_id: self.category.id.to_string(),
            category_name: self.category.name.clone(),
            region_code: self.trust.region_code.clone().unwrap_or_default(),
            region_name: self.region_name.to_owned(),
            trust_code: self.trust.code.clone(),
            trust_name: self.trust.name.clone(),
            nominee_name: n.nominee_name.clone(),
            nominee_job_title: n.nominee_job_title.clone(),
            story_excerpt: if self.consent.story_published {
                StoryText::excerpt_of(&n.story, StoryText::EXCERPT_WORDS)
            } else {
                String::new()
            },
            share_with_mp: self.consent.shared_with_mp,
            workplace_postcode: if self.consent.shared_with_mp {
                self.workplace_postcode.to_owned()
            } else {
                String::new()
            },
            nominee_email: if self.nominee_email.is_empty() {
                self.trust.admin_email.clone()
            } else {
                self.nominee_email.to_owned()
            },
            nominator_emails: self.nominator_emails.clone(),
        })
    }
}

/// Finalists chosen from the shortlist of one category in one region.
pub struct Finalists {
    pub campaign: RecordId,
    pub category: RecordId,
    /// The region's code, upper case.
    pub region_code: String,
    pub nominations: Vec<RecordId>,
}

/// Announces finalists for one region and category from the shortlist.
pub async fn announce_finalists(
    db: &DatabaseConnection,
    outbox: &Outbox,
    principal: &Principal,
    finalists: &Finalists,
) -> Result<()> {
    let campaign = campaign(db, &finalists.campaign).await?;
    let region_code = &finalists.region_code;
    principal.require(
        principal.administers_campaign(&campaign) || principal.administers_region(region_code),
        &format!("announce finalists for {region_code}"),
    )?;
    if campaign.scope == "trust" {
        return Err(Error::Closed(
            "A trust campaign announces winners, not regional finalists".into(),
        ));
    }
    let category = category_of(db, &campaign, &finalists.category).await?;
    announcements_open(&campaign)?;
    let already = recognition::Entity::find()
        .filter(recognition::Column::CampaignId.eq(campaign.id))
        .filter(recognition::Column::CategoryId.eq(category.id))
        .filter(recognition::Column::RegionCode.eq(region_code.clone()))
        .filter(recognition::Column::Kind.eq(FINALIST))
        .count(db)
        .await?;
    let limit = u64::try_from(campaign.finalists_per_region).unwrap_or(0);
    let mut chosen = Vec::new();
    for id in &finalists.nominations {
        let (found, trust) = nomination_and_trust(db, id).await?;
        if found.campaign_id != campaign.id || found.category_id != category.id {
            return Err(Error::Closed(format!(
                "{} is not in {}",
                found.nominee_name, category.name
            )));
        }
        if trust.region_code.as_deref() != Some(region_code.as_str()) {
            return Err(Error::Forbidden(format!(
                "announce {} as a finalist for {region_code}",
                found.nominee_name
            )));
        }
        chosen.push((found, trust));
    }
    if already + u64::try_from(chosen.len()).unwrap_or(u64::MAX) > limit {
        return Err(Error::Closed(format!(
            "{} has at most {limit} finalists per region in each category",
            campaign.name
        )));
    }
    let txn = db.begin().await?;
    for (found, trust) in &chosen {
        let Some(public) =
            recognise(&txn, &principal.email, found, trust, &campaign, FINALIST).await?
        else {
            continue;
        };
        let learning_routes = crate::admin::learning_routes::links_fitting(
            &txn,
            &campaign,
            trust,
            found.category_id,
            &found.staff_group,
        )
        .await?;
        let event = FinalistAnnounced {
            finalist: Some(public),
            announced_at: Some(now_timestamp()),
            vote: Some(vote_timetable(&campaign)),
            campaign_scope: campaign.scope.clone(),
            campaign_scope_code: campaign.scope_code.clone().unwrap_or_default(),
            vote_per_region: campaign.vote_per_region,
            learning_routes,
        };
        outbox.enqueue(&txn, Some(&trust.code), &event).await?;
    }
    outbox.commit(txn).await?;
    Ok(())
}

/// Announces a nomination as its category's winner.
pub async fn announce_winner(
    db: &DatabaseConnection,
    outbox: &Outbox,
    principal: &Principal,
    nomination_id: &RecordId,
) -> Result<()> {
    let (found, trust) = nomination_and_trust(db, nomination_id).await?;
    let campaign = campaign(db, &found.campaign_id.into()).await?;
    principal.require(
        principal.administers_campaign(&campaign),
        &format!("announce the winners of {}", campaign.name),
    )?;
    let txn = db.begin().await?;
    winner(&txn, outbox, &principal.email, &found, &trust, &campaign).await?;
    outbox.commit(txn).await?;
    Ok(())
}

/// Who announces a public vote's winners: the vote itself, recorded as this actor in the audit log
/// and on the recognition.
pub const PUBLIC_VOTE: &str = "system:public-vote-results";

/// Announces the nomination as its category's winner, as the public vote's results decided
/// ([`PUBLIC_VOTE`] is the actor), in `txn`: the same recognition, audit entry and
/// `winner.announced.v1` as [`announce_winner`], without a signed-in admin. `Ok(false)` when it
/// was announced before.
pub async fn announce_vote_winner(
    txn: &DatabaseTransaction,
    outbox: &Outbox,
    found: &nomination::Model,
) -> Result<bool> {
    let trust = crate::db::load::trust(txn, &found.trust_code).await?;
    let campaign = campaign(txn, &found.campaign_id.into()).await?;
    winner(txn, outbox, PUBLIC_VOTE, found, &trust, &campaign).await
}

/// Records `found` as a winner (by `actor`) and enqueues its `winner.announced.v1`, once; the
/// nominee must have agreed to be listed, and the campaign's judging must have closed.
async fn winner(
    txn: &DatabaseTransaction,
    outbox: &Outbox,
    actor: &str,
    found: &nomination::Model,
    trust: &trust::Model,
    campaign: &campaign::Model,
) -> Result<bool> {
    announcements_open(campaign)?;
    let Some(public) = recognise(txn, actor, found, trust, campaign, WINNER).await? else {
        return Ok(false);
    };
    let event = WinnerAnnounced {
        winner: Some(public),
        announced_at: Some(now_timestamp()),
    };
    outbox.enqueue(txn, Some(&trust.code), &event).await?;
    Ok(true)
}

fn announcements_open(campaign: &campaign::Model) -> Result<()> {
    campaign
        .windows()
        .accepts_announcements_at(Utc::now())
        .map_err(|reason| Error::Closed(format!("{}: {reason}", campaign.name)))
}

/// The campaign's public vote as its timetable says.
fn vote_timetable(campaign: &campaign::Model) -> VoteTimetable {
    let at = |time: Option<chrono::DateTime<Utc>>| {
        time.map(|t| prost_types::Timestamp {
            seconds: t.timestamp(),
            nanos: 0,
        })
    };
    VoteTimetable {
        opens_at: at(campaign.vote_open_at),
        closes_at: at(campaign.vote_close_at),
        results_at: at(campaign.results_at),
    }
}

fn now_timestamp() -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: Utc::now().timestamp(),
        nanos: 0,
    }
}

/// Records the recognition and returns what its event may carry; `None` when it was recorded before
/// (announcing twice tells nobody twice).
async fn recognise(
    txn: &impl ConnectionTrait,
    actor: &str,
    found: &nomination::Model,
    trust: &trust::Model,
    campaign: &campaign::Model,
    kind: &str,
) -> Result<Option<RecognisedNominee>> {
    if found.status != Status::Approved.slug() {
        return Err(Error::Closed(format!(
            "{} has not been approved",
            found.nominee_name
        )));
    }
    let details = details(txn, found, trust, campaign).await?;
    let public = details.recognised().public().ok_or_else(|| {
        Error::Closed(format!(
            "{} has not agreed to be listed publicly, so cannot be a {kind}",
            found.nominee_name
        ))
    })?;
    let inserted = recognition::Entity::insert(recognition::ActiveModel {
        nomination_id: ActiveValue::Set(found.id),
        kind: ActiveValue::Set(kind.to_owned()),
        campaign_id: ActiveValue::Set(campaign.id),
        category_id: ActiveValue::Set(found.category_id),
        region_code: ActiveValue::Set(trust.region_code.clone().unwrap_or_default()),
        announced_by: ActiveValue::Set(actor.to_owned()),
        announced_at: ActiveValue::Set(Utc::now()),
    })
    .exec_without_returning(txn)
    .await;
    match inserted {
        Ok(_) => {}
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Ok(None);
        }
        Err(e) => return Err(e.into()),
    }
    record_as(
        txn,
        actor,
        &format!("announce_{kind}"),
        Some(found.id),
        &trust.code,
        "",
    )
    .await?;
    Ok(Some(public))
}

/// What events may carry of `found` (`None` without consent to be listed): the one consent gate,
/// [`Recognised::public`].
pub async fn public_of(
    db: &impl ConnectionTrait,
    found: &nomination::Model,
) -> Result<Option<(trust::Model, RecognisedNominee)>> {
    let trust = crate::db::load::trust(db, &found.trust_code).await?;
    let campaign = campaign(db, &found.campaign_id.into()).await?;
    let details = details(db, found, &trust, &campaign).await?;
    Ok(details.recognised().public().map(|public| (trust, public)))
}

/// The rows a recognised nomination is described from.
pub struct Details {
    nomination: nomination::Model,
    nominee: Option<nominee::Model>,
    campaign: campaign::Model,
    category: category::Model,
    trust: trust::Model,
    region_name: String,
    workplace_postcode: String,
    nominator_emails: Vec<String>,
}

impl Details {
    pub fn recognised(&self) -> Recognised<'_> {
        Recognised {
            nomination: &self.nomination,
            consent: self
                .nominee
                .as_ref()
                .map(nominee::Model::consent)
                .unwrap_or_default(),
            nominee_email: self.nominee.as_ref().map_or("", |n| n.email.as_str()),
            campaign: &self.campaign,
            category: &self.category,
            trust: &self.trust,
            region_name: &self.region_name,
            workplace_postcode: &self.workplace_postcode,
            nominator_emails: self.nominator_emails.clone(),
        }
    }
}

async fn details(
    db: &impl ConnectionTrait,
    found: &nomination::Model,
    trust: &trust::Model,
    campaign: &campaign::Model,
) -> Result<Details> {
    let nominee = match found.nominee_id {
        Some(id) => nominee::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    let category = category::Entity::find_by_id(found.category_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("category {}", found.category_id)))?;
    let region_name = match &trust.region_code {
        Some(code) => region::Entity::find_by_id(code.clone())
            .one(db)
            .await?
            .map(|r| r.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let site_postcode = if found.site_code.is_empty() {
        None
    } else {
        site::Entity::find_by_id(found.site_code.clone())
            .one(db)
            .await?
            .and_then(|s| s.postcode)
    };
    let mut nominator_emails: Vec<String> = match found.nominee_id {
        Some(id) => nomination::Entity::find()
            .filter(nomination::Column::NomineeId.eq(id))
            .filter(nomination::Column::ConfirmedAt.is_not_null())
            .all(db)
            .await?
            .into_iter()
            .map(|n| n.nominator_email.to_lowercase())
            .collect(),
        None => vec![found.nominator_email.to_lowercase()],
    };
    nominator_emails.sort();
    nominator_emails.dedup();
    Ok(Details {
        nomination: found.clone(),
        nominee,
        campaign: campaign.clone(),
        category,
        trust: trust.clone(),
        region_name,
        workplace_postcode: site_postcode
            .or_else(|| trust.postcode.clone())
            .unwrap_or_default(),
        nominator_emails,
    })
}

/// A campaign's finalists and winners as the public may see them: consented nominees only.
pub async fn public_list(
    db: &impl ConnectionTrait,
    campaign_id: &RecordId,
) -> Result<Vec<(String, RecognisedNominee)>> {
    let campaign = campaign(db, campaign_id).await?;
    let recognitions = recognition::Entity::find()
        .filter(recognition::Column::CampaignId.eq(campaign.id))
        .order_by_asc(recognition::Column::RegionCode)
        .order_by_asc(recognition::Column::AnnouncedAt)
        .all(db)
        .await?;
    let mut listed = Vec::new();
    for r in recognitions {
        let (found, trust) = nomination_and_trust(db, &r.nomination_id.into()).await?;
        let details = details(db, &found, &trust, &campaign).await?;
        if let Some(mut public) = details.recognised().public() {
            // Contact addresses are for notifications, never for the public page.
            public.nominee_email.clear();
            public.nominator_emails.clear();
            listed.push((r.kind, public));
        }
    }
    Ok(listed)
}

/// Enters a trust winner into a regional or national campaign, copying the nomination and the
/// nominee's consent, already approved.
pub async fn forward_winner(
    db: &DatabaseConnection,
    principal: &Principal,
    nomination_id: &RecordId,
    to_campaign_id: &RecordId,
) -> Result<Uuid> {
    let (found, trust) = nomination_and_trust(db, nomination_id).await?;
    principal.require(
        principal.administers_trust(&trust),
        &format!("forward winners of {}", trust.name),
    )?;
    let won = recognition::Entity::find_by_id((found.id, WINNER.to_owned()))
        .one(db)
        .await?
        .is_some();
    if !won {
        return Err(Error::Closed(format!(
            "{} has not been announced as a winner",
            found.nominee_name
        )));
    }
    let target = campaign(db, to_campaign_id).await?;
    if target.id == found.campaign_id {
        return Err(Error::Closed(
            "Choose a different campaign to forward to".into(),
        ));
    }
    let open_to_trust = campaign_trust::Entity::find_by_id((target.id, trust.code.clone()))
        .one(db)
        .await?
        .is_some();
    if !open_to_trust {
        return Err(Error::Closed(format!(
            "{} is not open to {}",
            target.name, trust.name
        )));
    }
    let source_category = category::Entity::find_by_id(found.category_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound("category".into()))?;
    let target_category = category::Entity::find()
        .filter(category::Column::CampaignId.eq(target.id))
        .filter(category::Column::Name.eq(source_category.name.clone()))
        .one(db)
        .await?
        .ok_or_else(|| {
            Error::Closed(format!(
                "{} has no category called {}",
                target.name, source_category.name
            ))
        })?;
    let source_nominee = match found.nominee_id {
        Some(id) => nominee::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    let person = valued_platform::domain::PersonName::parse(
        "nominee_name",
        "their full name",
        &found.nominee_name,
    )
    .map_err(|e| Error::Invalid(vec![e]))?;

    let txn = db.begin().await?;
    let nominee_id = nominee_for(
        &txn,
        target.id,
        &trust.code,
        &person,
        &found.nominee_job_title,
    )
    .await?;
    if let Some(source) = source_nominee {
        // Same person, same answers: consent and the thank-you carry over.
        nominee::Entity::update(nominee::ActiveModel {
            id: ActiveValue::Unchanged(nominee_id),
            email: ActiveValue::Set(source.email),
            listed_publicly: ActiveValue::Set(source.listed_publicly),
            story_published: ActiveValue::Set(source.story_published),
            shared_with_mp: ActiveValue::Set(source.shared_with_mp),
            consent_answered_at: ActiveValue::Set(source.consent_answered_at),
            thanked_at: ActiveValue::Set(source.thanked_at),
            ..Default::default()
        })
        .exec(&txn)
        .await?;
    }
    let id = Uuid::now_v7();
    let now = Utc::now();
    nomination::Entity::insert(nomination::ActiveModel {
        id: ActiveValue::Set(id),
        campaign_id: ActiveValue::Set(target.id),
        category_id: ActiveValue::Set(target_category.id),
        nominee_id: ActiveValue::Set(Some(nominee_id)),
        status: ActiveValue::Set(Status::Approved.slug().to_owned()),
        submitted_at: ActiveValue::Set(now),
        confirmed_at: ActiveValue::Set(Some(now)),
        confirm_token_hash: ActiveValue::Set(None),
        forwarded_from: ActiveValue::Set(Some(found.id)),
        match_reviewed_by: ActiveValue::Set(principal.email.clone()),
        moderation_reason: ActiveValue::Set(String::new()),
        ..nomination::ActiveModel::from(found.clone())
    })
    .exec_without_returning(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => Error::Duplicate(format!(
            "{} is already in {}",
            found.nominee_name, target.name
        )),
        _ => Error::Database(e),
    })?;
    record(
        &txn,
        principal,
        "forward_winner",
        Some(found.id),
        &trust.code,
        &format!("entered into {} as {id}", target.name),
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn nomination(story: &str) -> nomination::Model {
        nomination::Model {
            id: Uuid::now_v7(),
            campaign_id: Uuid::now_v7(),
            category_id: Uuid::now_v7(),
            trust_code: "RJ1".into(),
            nominee_name: "Sam Patel".into(),
            nominee_job_title: "Porter".into(),
            staff_group: "estates-and-ancillary".into(),
            story: story.into(),
            nominator_name: "Alex Jones".into(),
            nominator_email: "alex@example.org".into(),
            relationship: "colleague".into(),
            status: "approved".into(),
            submitted_at: Utc::now(),
            nominee_key: "sam patel".into(),
            nominee_id: Some(Uuid::now_v7()),
            band: String::new(),
            nominee_email: String::new(),
            site_code: String::new(),
            nominee_description: String::new(),
            team: false,
            confirm_token_hash: None,
            confirmed_at: Some(Utc::now()),
            match_reviewed_by: String::new(),
            moderation_reason: String::new(),
            forwarded_from: None,
        }
    }

    fn campaign() -> campaign::Model {
        campaign::Model {
            id: Uuid::now_v7(),
            slug: "c".into(),
            name: "Health Heroes".into(),
            description: String::new(),
            scope: "national".into(),
            scope_code: None,
            nominations_open_at: None,
            nominations_close_at: None,
            judging_close_at: None,
            vote_open_at: None,
            vote_close_at: None,
            results_at: None,
            finalists_per_region: 3,
            vote_per_region: false,
            nominations_per_nominator: None,
        }
    }

    fn trust() -> trust::Model {
        trust::Model {
            code: "RJ1".into(),
            name: "Guy's and St Thomas'".into(),
            region: "London".into(),
            admin_email: "awards@example.org".into(),
            region_code: Some("Y56".into()),
            address: None,
            postcode: Some("SE1 7EH".into()),
            sender_name: String::new(),
            reply_to: String::new(),
        }
    }

    fn category() -> category::Model {
        category::Model {
            id: Uuid::now_v7(),
            campaign_id: Uuid::now_v7(),
            name: "Porter of the year".into(),
            description: String::new(),
            word_limit: 300,
            position: 0,
            eligible_staff_groups: String::new(),
            eligible_bands: String::new(),
        }
    }

    proptest! {
        /// Consent gates everything that leaves the service: without listing consent nothing is
        /// public; a story only with publication consent; the workplace that finds an MP only with
        /// MP consent.
        #[test]
        fn nothing_leaves_without_the_matching_consent(
            listed in any::<bool>(),
            story_ok in any::<bool>(),
            mp_ok in any::<bool>(),
            story in "[a-zA-Z ]{1,200}",
        ) {
            let (n, c, t, k) = (nomination(&story), campaign(), trust(), category());
            let recognised = Recognised {
                nomination: &n,
                consent: Consent { listed_publicly: listed, story_published: story_ok, shared_with_mp: mp_ok },
                nominee_email: "",
                campaign: &c,
                category: &k,
                trust: &t,
                region_name: "London",
                workplace_postcode: "SE1 7EH",
                nominator_emails: vec!["alex@example.org".into()],
            };
            match recognised.public() {
                None => prop_assert!(!listed),
                Some(public) => {
                    prop_assert!(listed);
                    prop_assert_eq!(public.story_excerpt.is_empty(), !story_ok || story.trim().is_empty());
                    prop_assert_eq!(public.share_with_mp, mp_ok);
                    prop_assert_eq!(public.workplace_postcode.is_empty(), !mp_ok);
                }
            }
        }
    }
}
