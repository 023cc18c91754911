//! Campaign setup through the pages: the rubric, the judges, and a judge assigned there scoring.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use sea_orm::{ActiveValue, EntityTrait};
use uuid::Uuid;
use valued_nomination::auth::Role;
use valued_nomination::db::entities::campaign;
use valued_proto::nomination::v1::Campaign;

use super::{Admin, PLATFORM_ADMIN, csrf, location, spawn};

impl Admin {
    fn rubric_path(&self) -> String {
        format!("/admin/campaigns/{}/rubric", self.campaign.slug)
    }

    fn judges_path(&self) -> String {
        format!("/admin/campaigns/{}/judges", self.campaign.slug)
    }

    /// POSTs `fields` and the page's CSRF token to `path`.
    pub(super) async fn post(
        &self,
        browser: &reqwest::Client,
        path: &str,
        token: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut form = vec![("csrf_token", token)];
        form.extend_from_slice(fields);
        browser
            .post(self.url(path))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Approves a nomination through the moderation queue's form.
    async fn approve(&self, browser: &reqwest::Client, token: &str, id: &str) {
        let approved = self
            .post(
                browser,
                &format!("{}/{id}", self.queue_path()),
                token,
                &[("action", "approve")],
            )
            .await;
        assert_eq!(approved.status(), StatusCode::SEE_OTHER);
    }

    /// Nominations closed a day ago; judging is open for ten more days.
    async fn open_judging(&self) {
        let now = Utc::now();
        campaign::Entity::update(campaign::ActiveModel {
            id: ActiveValue::Unchanged(self.campaign.id.parse::<Uuid>().unwrap()),
            nominations_open_at: ActiveValue::Set(Some(now - Duration::days(30))),
            nominations_close_at: ActiveValue::Set(Some(now - Duration::days(1))),
            judging_close_at: ActiveValue::Set(Some(now + Duration::days(10))),
            ..Default::default()
        })
        .exec(&self.db)
        .await
        .unwrap();
    }
}

const RUBRIC: &[(&str, &str)] = &[
    ("name-0", "Kindness"),
    ("weight-0", "60"),
    ("name-1", ""),
    ("weight-1", ""),
    ("name-2", "Teamwork"),
    ("weight-2", "40"),
];

#[tokio::test]
async fn the_rubric_is_saved_and_shown_and_a_bad_weight_is_named() {
    let admin = spawn().await;
    let browser = admin.sign_in(PLATFORM_ADMIN).await;
    let home = admin.page(&browser, "/admin", StatusCode::OK).await;
    assert!(home.contains(&admin.rubric_path()), "{home}");
    assert!(home.contains(&admin.judges_path()));

    let page = admin
        .page(&browser, &admin.rubric_path(), StatusCode::OK)
        .await;
    assert!(page.contains("id=\"weight-4\""), "five blank rows: {page}");
    let token = csrf(&page);

    // The blank row between them is dropped; the saved rubric comes back with room for more.
    let saved = admin
        .post(&browser, &admin.rubric_path(), &token, RUBRIC)
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    let body = saved.text().await.unwrap();
    assert!(body.contains("Rubric saved"), "{body}");
    assert!(body.contains(r#"id="name-0" name="name-0" type="text" value="Kindness""#));
    assert!(body.contains(r#"name="weight-0" type="text" inputmode="numeric" value="60""#));
    assert!(body.contains(r#"id="name-1" name="name-1" type="text" value="Teamwork""#));
    assert!(body.contains(r#"inputmode="numeric" value="40""#));
    assert!(body.contains(r#"id="name-4" name="name-4" type="text" value="""#));

    // Coming back later, the page shows the saved rubric to change.
    let again = admin
        .page(&browser, &admin.rubric_path(), StatusCode::OK)
        .await;
    assert!(again.contains(r#"id="name-0" name="name-0" type="text" value="Kindness""#));
    assert!(again.contains(r#"id="name-1" name="name-1" type="text" value="Teamwork""#));

    // "Add more rows" saves nothing and offers three more blank rows.
    let more = admin
        .post(
            &browser,
            &admin.rubric_path(),
            &token,
            &[
                ("name-0", "A"),
                ("weight-0", "1"),
                ("name-1", "B"),
                ("weight-1", "2"),
                ("name-2", "C"),
                ("weight-2", "3"),
                ("action", "add"),
            ],
        )
        .await;
    assert_eq!(more.status(), StatusCode::OK);
    let body = more.text().await.unwrap();
    assert!(body.contains("id=\"name-5\""), "{body}");
    assert!(!body.contains("Rubric saved"));

    // A weight out of range and one that is not a number: each named beside its row.
    let bad = admin
        .post(
            &browser,
            &admin.rubric_path(),
            &token,
            &[
                ("name-0", "Kindness"),
                ("weight-0", "150"),
                ("name-1", "Teamwork"),
                ("weight-1", "lots"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body = bad.text().await.unwrap();
    assert!(body.contains("There is a problem"), "{body}");
    assert!(
        body.contains(r##"<a href="#weight-0">Weight must be a whole number from 1 to 100</a>"##)
    );
    assert!(body.contains(r##"<a href="#weight-1">"##));
    assert!(body.contains(r#"id="weight-0-error""#));
    assert!(body.contains(r#"value="150""#), "what was typed stays");
    assert!(body.contains(r#"value="lots""#));

    // Nothing at all: the service asks for a criterion, linked to the first name.
    let empty = admin
        .post(&browser, &admin.rubric_path(), &token, &[("name-0", "")])
        .await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    assert!(
        empty
            .text()
            .await
            .unwrap()
            .contains(r##"<a href="#name-0">Add at least one criterion</a>"##)
    );

    // A trust admin does not run this national campaign: the service refuses the page before they
    // type anything, and a posted rubric too; the 403 page shows.
    let moderator = "moderator.rj1@valued.example.org";
    admin.grant(moderator, Role::TrustAdmin, "RJ1").await;
    let theirs = admin.sign_in(moderator).await;
    admin
        .page(&theirs, &admin.rubric_path(), StatusCode::FORBIDDEN)
        .await;
    let home = admin.page(&theirs, "/admin", StatusCode::OK).await;
    let refused = admin
        .post(&theirs, &admin.rubric_path(), &csrf(&home), RUBRIC)
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("You do not have permission to see this page")
    );
}

fn shortlist_path(campaign: &Campaign, category: &str) -> String {
    format!(
        "/admin/campaigns/{}/shortlist?category={category}",
        campaign.slug
    )
}

/// The criterion ids of a judging page's score form, in order.
fn criterion_ids(html: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for part in html.split("name=\"score-").skip(1) {
        let id = part[..part.find('"').unwrap()].to_owned();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

#[tokio::test]
async fn a_judge_assigned_on_the_page_scores_and_the_shortlist_shows_the_weighted_score() {
    let mut admin = spawn().await;
    let sam = admin
        .confirmed("RJ1", "Sam Patel", "Sam always helps lost visitors.")
        .await;
    let browser = admin.sign_in(PLATFORM_ADMIN).await;
    let queue = admin
        .page(&browser, &admin.queue_path(), StatusCode::OK)
        .await;
    let token = csrf(&queue);
    admin.approve(&browser, &token, &sam).await;
    let saved = admin
        .post(&browser, &admin.rubric_path(), &token, RUBRIC)
        .await;
    assert_eq!(saved.status(), StatusCode::OK);

    // The judge: a bad address is named; a good one joins the category's panel.
    let category = admin.campaign.categories[0].clone();
    let judges = admin
        .page(&browser, &admin.judges_path(), StatusCode::OK)
        .await;
    assert!(judges.contains("No judges yet."), "{judges}");
    let bad = admin
        .post(
            &browser,
            &admin.judges_path(),
            &token,
            &[
                ("judge_email", "not an address"),
                ("category_id", &category.id),
            ],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body = bad.text().await.unwrap();
    assert!(body.contains(r##"<a href="#judge_email">"##), "{body}");
    assert!(body.contains(r#"value="not an address""#));
    let judge = "new.judge@valued.example.org";
    let assigned = admin
        .post(
            &browser,
            &admin.judges_path(),
            &token,
            &[("judge_email", judge), ("category_id", &category.id)],
        )
        .await;
    assert_eq!(assigned.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&assigned),
        format!("{}?done=assigned", admin.judges_path())
    );
    let judges = admin
        .page(&browser, &location(&assigned), StatusCode::OK)
        .await;
    assert!(judges.contains("Judge assigned"), "{judges}");
    assert!(
        judges.contains(&format!("{judge}: 0 of 1 scored")),
        "{judges}"
    );

    // The judge signs in and scores the approved nomination once judging opens.
    admin.open_judging().await;
    let judging_path = format!("/admin/campaigns/{}/judging", admin.campaign.slug);
    let judge_browser = admin.sign_in(judge).await;
    let work = admin
        .page(&judge_browser, &judging_path, StatusCode::OK)
        .await;
    assert!(work.contains("Sam Patel"), "{work}");
    assert!(work.contains("0 of 1 scored"));
    assert!(work.contains("Kindness (weight 60)"));
    let ids = criterion_ids(&work);
    assert_eq!(ids.len(), 2, "{work}");
    let scored = admin
        .post(
            &judge_browser,
            &format!("{judging_path}/{sam}/score"),
            &csrf(&work),
            &[
                (&format!("score-{}", ids[0]), "4"),
                (&format!("score-{}", ids[1]), "3"),
            ],
        )
        .await;
    assert_eq!(scored.status(), StatusCode::SEE_OTHER);
    let work = admin
        .page(&judge_browser, &location(&scored), StatusCode::OK)
        .await;
    assert!(work.contains("1 of 1 scored"), "{work}");

    // (4 × 60 + 3 × 40) / 100
    let shortlist = admin
        .page(
            &browser,
            &shortlist_path(&admin.campaign, &category.id),
            StatusCode::OK,
        )
        .await;
    assert!(shortlist.contains("Weighted score 3.60"), "{shortlist}");
    assert!(shortlist.contains(&format!("{judge}: 1 of 1 scored")));

    // Once scored, the rubric stays: the service's reason is shown and what was typed is kept.
    let late = admin
        .post(
            &browser,
            &admin.rubric_path(),
            &token,
            &[("name-0", "Courage"), ("weight-0", "10")],
        )
        .await;
    assert_eq!(late.status(), StatusCode::CONFLICT);
    let body = late.text().await.unwrap();
    assert!(
        body.contains("The rubric cannot change once judges have scored"),
        "{body}"
    );
    assert!(body.contains(r#"value="Courage""#));
}

/// A trust campaign of RJ1 taking nominations now, with a category named as the demo campaign's
/// first, so that its winners can go on to the national campaign.
async fn trust_campaign(admin: &mut Admin) -> Campaign {
    use valued_nomination::db::entities::{campaign_trust, category};
    let id = Uuid::now_v7();
    let now = Utc::now();
    campaign::Entity::insert(campaign::ActiveModel {
        id: ActiveValue::Set(id),
        slug: ActiveValue::Set("rj1-stars".into()),
        name: ActiveValue::Set("RJ1 Stars".into()),
        description: ActiveValue::Set("Our own awards.".into()),
        scope: ActiveValue::Set("trust".into()),
        scope_code: ActiveValue::Set(Some("RJ1".into())),
        nominations_open_at: ActiveValue::Set(Some(now - Duration::days(1))),
        nominations_close_at: ActiveValue::Set(Some(now + Duration::days(30))),
        judging_close_at: ActiveValue::Set(Some(now + Duration::days(40))),
        vote_open_at: ActiveValue::Set(None),
        vote_close_at: ActiveValue::Set(None),
        results_at: ActiveValue::Set(None),
        finalists_per_region: ActiveValue::Set(1),
        vote_per_region: ActiveValue::Set(false),
        nominations_per_nominator: ActiveValue::Set(None),
    })
    .exec_without_returning(&admin.db)
    .await
    .unwrap();
    campaign_trust::Entity::insert(campaign_trust::ActiveModel {
        campaign_id: ActiveValue::Set(id),
        trust_code: ActiveValue::Set("RJ1".into()),
    })
    .exec_without_returning(&admin.db)
    .await
    .unwrap();
    category::Entity::insert(category::ActiveModel {
        id: ActiveValue::Set(Uuid::now_v7()),
        campaign_id: ActiveValue::Set(id),
        name: ActiveValue::Set(admin.campaign.categories[0].name.clone()),
        description: ActiveValue::Set(String::new()),
        word_limit: ActiveValue::Set(300),
        position: ActiveValue::Set(0),
        eligible_staff_groups: ActiveValue::Set(String::new()),
        eligible_bands: ActiveValue::Set(String::new()),
    })
    .exec_without_returning(&admin.db)
    .await
    .unwrap();
    admin
        .nomination
        .get_campaign(valued_proto::nomination::v1::GetCampaignRequest {
            slug: "rj1-stars".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .campaign
        .unwrap()
}

#[tokio::test]
async fn an_announced_trust_winner_is_forwarded_to_the_national_campaign() {
    use valued_proto::events::v1::{NomineeClaimed, NomineeThanked};
    use valued_proto::nomination::v1::{ClaimNomineeRequest, Consent, RecordConsentRequest};

    let mut admin = spawn().await;
    let national = admin.campaign.clone();
    admin.campaign = trust_campaign(&mut admin).await;
    let sam = admin
        .confirmed("RJ1", "Sam Patel", "Sam always helps lost visitors.")
        .await;
    // Thanked through the trust's contact: Sam claims it with an address of their own.
    let claim_token = admin
        .platform
        .published(&admin.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event_type == <NomineeThanked as valued_proto::events::Event>::TYPE)
        .map(|e| e.decode::<NomineeThanked>().unwrap())
        .find(|e| e.nomination_id == sam)
        .unwrap()
        .claim_token;
    admin
        .nomination
        .claim_nominee(ClaimNomineeRequest {
            claim_token,
            email: "sam.patel@example.org".into(),
        })
        .await
        .unwrap();
    let consent_token = admin
        .platform
        .published(&admin.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event_type == <NomineeClaimed as valued_proto::events::Event>::TYPE)
        .map(|e| e.decode::<NomineeClaimed>().unwrap())
        .next()
        .unwrap()
        .consent_token;
    admin
        .nomination
        .record_consent(RecordConsentRequest {
            consent_token,
            consent: Some(Consent {
                listed_publicly: true,
                ..Consent::default()
            }),
        })
        .await
        .unwrap();
    let browser = admin.sign_in(PLATFORM_ADMIN).await;
    let token = csrf(&admin.page(&browser, "/admin", StatusCode::OK).await);
    admin.approve(&browser, &token, &sam).await;

    // Judging over: the winner is announced, and only then offered for forwarding.
    let now = Utc::now();
    campaign::Entity::update(campaign::ActiveModel {
        id: ActiveValue::Unchanged(admin.campaign.id.parse::<Uuid>().unwrap()),
        nominations_close_at: ActiveValue::Set(Some(now - Duration::days(2))),
        judging_close_at: ActiveValue::Set(Some(now - Duration::days(1))),
        ..Default::default()
    })
    .exec(&admin.db)
    .await
    .unwrap();
    let category = admin.campaign.categories[0].id.clone();
    let before = admin
        .page(
            &browser,
            &shortlist_path(&admin.campaign, &category),
            StatusCode::OK,
        )
        .await;
    assert!(before.contains("Choose the winner"), "{before}");
    assert!(!before.contains("Forward to a regional or national campaign"));
    let announced = admin
        .post(
            &browser,
            &format!("/admin/campaigns/{}/shortlist/winner", admin.campaign.slug),
            &token,
            &[("category", &category), ("nomination_id", &sam)],
        )
        .await;
    assert_eq!(announced.status(), StatusCode::SEE_OTHER);
    let after = admin
        .page(&browser, &location(&announced), StatusCode::OK)
        .await;
    assert!(
        after.contains("Forward to a regional or national campaign"),
        "{after}"
    );
    assert!(after.contains(&format!(
        "<option value=\"{}\">{}</option>",
        national.id, national.name
    )));

    let forwarded = admin
        .post(
            &browser,
            &format!("/admin/campaigns/{}/shortlist/forward", admin.campaign.slug),
            &token,
            &[
                ("category", &category),
                ("nomination_id", &sam),
                ("to_campaign_id", &national.id),
            ],
        )
        .await;
    assert_eq!(forwarded.status(), StatusCode::SEE_OTHER);
    let done = admin
        .page(&browser, &location(&forwarded), StatusCode::OK)
        .await;
    assert!(done.contains("Winner forwarded"), "{done}");
    let theirs = admin
        .page(
            &browser,
            &shortlist_path(&national, &national.categories[0].id),
            StatusCode::OK,
        )
        .await;
    assert!(theirs.contains("Sam Patel"), "{theirs}");
}
