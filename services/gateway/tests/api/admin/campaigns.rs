//! Creating a campaign through the page, in front of the real nomination service: bad input comes
//! back in the error summary with what was typed and creates nothing; a good form creates the
//! campaign, which its public page then shows with its categories; a judge may not. The form takes
//! a campaign's own limit on nominations per person, shows it, and names a bad one at its field.

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use valued_nomination::auth::Role;
use valued_nomination::db::entities::campaign;

use super::{Admin, PLATFORM_ADMIN, csrf, location, spawn};

const PATH: &str = "/admin/campaigns/new";

/// A trust campaign's name, scope, opening and first category, then `more`.
fn with_basics<'a>(more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("name", "Porters' Awards 2027"),
        ("scope", "trust"),
        ("scope_code", "RJ1"),
        ("nominations_open_at", "2027-03-01T09:00"),
        ("categories[0].name", "Porter of the year"),
    ];
    form.extend_from_slice(more);
    form
}

async fn campaigns(admin: &Admin) -> u64 {
    campaign::Entity::find().count(&admin.db).await.unwrap()
}

#[tokio::test]
async fn a_platform_admin_creates_a_campaign_from_the_page_after_fixing_what_it_names() {
    let admin = spawn().await;
    let browser = admin.sign_in(PLATFORM_ADMIN).await;
    let home = admin.page(&browser, "/admin", StatusCode::OK).await;
    assert!(home.contains(PATH), "the home page links to it: {home}");
    let page = admin.page(&browser, PATH, StatusCode::OK).await;
    assert!(page.contains("Create a campaign"), "{page}");
    assert!(
        page.contains("Estates and ancillary"),
        "staff groups offered"
    );
    let token = csrf(&page);
    let before = campaigns(&admin).await;

    let out_of_order = [
        ("nominations_close_at", "2027-02-01T09:00"),
        ("categories[1].description", "A category without a name"),
    ];
    let refused = admin
        .post(
            &browser,
            PATH,
            &token,
            &with_basics(&[&out_of_order[..], &[("categories[1].word_limit", "lots")]].concat()),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body = refused.text().await.unwrap();
    assert!(body.contains("There is a problem"), "{body}");
    assert!(body.contains("Word limit must be a whole number"), "{body}");
    assert!(
        body.contains(r#"value="Porters&#x27; Awards 2027""#),
        "typed values kept: {body}"
    );
    assert_eq!(campaigns(&admin).await, before, "nothing created");

    // The page's own check passed, the service's names the rest.
    let refused = admin
        .post(&browser, PATH, &token, &with_basics(&out_of_order))
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body = refused.text().await.unwrap();
    assert!(
        body.contains("Nominations closing must be after nominations opening"),
        "{body}"
    );
    assert!(body.contains("href=\"#categories[1].name\""), "{body}");
    assert_eq!(campaigns(&admin).await, before, "nothing created");

    let created = admin
        .post(
            &browser,
            PATH,
            &token,
            &with_basics(&[
                ("description", "Who keeps our wards moving?"),
                ("nominations_close_at", "2027-04-01T09:00"),
                ("categories[1].name", "Domestic of the year"),
                ("categories[1].word_limit", "500"),
                ("categories[1].eligible_bands", "band-1"),
                ("categories[1].eligible_bands", "band-2"),
            ]),
        )
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&created), "/campaigns/porters-awards-2027");
    assert_eq!(campaigns(&admin).await, before + 1);
    let shown = admin
        .page(&browser, "/campaigns/porters-awards-2027", StatusCode::OK)
        .await;
    assert!(shown.contains("Porters&#x27; Awards 2027"), "{shown}");
    assert!(shown.contains("Who keeps our wards moving?"), "{shown}");
    assert!(shown.contains("Porter of the year"), "{shown}");
    assert!(shown.contains("Domestic of the year"), "{shown}");
}

#[tokio::test]
async fn a_judge_cannot_create_a_campaign() {
    let admin = spawn().await;
    admin
        .grant("judge@example.org", Role::Judge, &admin.campaign.id)
        .await;
    let browser = admin.sign_in("judge@example.org").await;
    let page = admin.page(&browser, PATH, StatusCode::OK).await;
    let before = campaigns(&admin).await;
    let refused = admin
        .post(
            &browser,
            PATH,
            &csrf(&page),
            &[
                ("name", "A judge's awards"),
                ("scope", "national"),
                ("categories[0].name", "Anything"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(campaigns(&admin).await, before);
}

#[tokio::test]
async fn a_campaign_is_changed_from_its_page_and_a_bad_change_changes_nothing() {
    let admin = spawn().await;
    let browser = admin.sign_in(PLATFORM_ADMIN).await;
    let path = format!("/admin/campaigns/{}/edit", admin.campaign.slug);
    let home = admin.page(&browser, "/admin", StatusCode::OK).await;
    assert!(home.contains(&path), "{home}");
    let page = admin.page(&browser, &path, StatusCode::OK).await;
    let first = &admin.campaign.categories[0];
    assert!(
        page.contains(&format!(r#"value="{}""#, first.id)),
        "each category keeps its id: {page}"
    );
    let token = csrf(&page);

    // Every category posted as it is but the first, renamed, and a new one after them.
    let mut fields: Vec<(String, String)> = vec![
        ("name".into(), "Health Heroes 2026 (changed)".into()),
        ("nominations_open_at".into(), "2026-01-01T09:00".into()),
        ("nominations_close_at".into(), "2027-12-01T09:00".into()),
    ];
    let count = admin.campaign.categories.len();
    for (row, category) in admin.campaign.categories.iter().enumerate() {
        let name = if row == 0 {
            "Porter of the decade".to_owned()
        } else {
            category.name.clone()
        };
        fields.push((format!("categories[{row}].id"), category.id.clone()));
        fields.push((format!("categories[{row}].name"), name));
    }
    fields.push((
        format!("categories[{count}].name"),
        "Team of the year".into(),
    ));

    // Out of order first: named, and nothing changes.
    let mut bad = fields.clone();
    bad[2].1 = "2025-12-01T09:00".into();
    let borrowed: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let refused = admin.post(&browser, &path, &token, &borrowed).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body = refused.text().await.unwrap();
    assert!(
        body.contains("Nominations closing must be after nominations opening"),
        "{body}"
    );
    let unchanged = admin
        .page(
            &browser,
            &format!("/campaigns/{}", admin.campaign.slug),
            StatusCode::OK,
        )
        .await;
    assert!(!unchanged.contains("Porter of the decade"));

    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let saved = admin.post(&browser, &path, &token, &borrowed).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&saved), "/admin?done=campaign-changed");
    let shown = admin
        .page(
            &browser,
            &format!("/campaigns/{}", admin.campaign.slug),
            StatusCode::OK,
        )
        .await;
    assert!(shown.contains("Health Heroes 2026 (changed)"), "{shown}");
    assert!(shown.contains("Porter of the decade"), "{shown}");
    assert!(shown.contains("Team of the year"), "{shown}");
}

#[tokio::test]
async fn key_dates_news_and_resources_added_on_the_admin_page_show_on_the_campaigns_page() {
    let admin = spawn().await;
    let browser = admin.sign_in(PLATFORM_ADMIN).await;
    let path = format!("/admin/campaigns/{}/page", admin.campaign.slug);
    let public = format!("/campaigns/{}", admin.campaign.slug);
    let page = admin.page(&browser, &path, StatusCode::OK).await;
    let token = csrf(&page);

    let refused = admin
        .post(
            &browser,
            &path,
            &token,
            &[
                ("kind", "resource"),
                ("title", "Poster"),
                ("url", "javascript:alert(1)"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body = refused.text().await.unwrap();
    assert!(body.contains("Enter the link as a web address"), "{body}");

    for fields in [
        &[
            ("kind", "date"),
            ("title", "Awards ceremony"),
            ("at", "2027-06-01"),
        ][..],
        &[
            ("kind", "news"),
            ("title", "Nominations are open"),
            ("at", "2027-03-01"),
            ("body", "Tell us who keeps the wards moving."),
        ][..],
        &[
            ("kind", "resource"),
            ("title", "Poster (PDF)"),
            ("url", "https://example.org/poster.pdf"),
        ][..],
    ] {
        let added = admin.post(&browser, &path, &token, fields).await;
        assert_eq!(added.status(), StatusCode::SEE_OTHER, "{fields:?}");
    }
    let shown = admin.page(&browser, &public, StatusCode::OK).await;
    assert!(shown.contains("Key dates"), "{shown}");
    assert!(shown.contains("1 June 2027"), "{shown}");
    assert!(shown.contains("Awards ceremony"), "{shown}");
    assert!(
        shown.contains("Tell us who keeps the wards moving."),
        "{shown}"
    );
    assert!(
        shown.contains(
            r#"<a href="https:&#x2f;&#x2f;example.org&#x2f;poster.pdf" rel="noopener">Poster (PDF)</a>"#
        ),
        "{shown}"
    );

    // Removed from the admin page, gone from the public one.
    let page = admin.page(&browser, &path, StatusCode::OK).await;
    let (_, after) = page.split_once("/page/").unwrap();
    let id = after.split('/').next().unwrap();
    let removed = admin
        .post(&browser, &format!("{path}/{id}/remove"), &token, &[])
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    let shown = admin.page(&browser, &public, StatusCode::OK).await;
    assert!(
        !shown.contains("Awards ceremony"),
        "the first listed, a date, is gone"
    );
}

async fn stored_limit(admin: &Admin, slug: &str) -> Option<i32> {
    campaign::Entity::find()
        .filter(campaign::Column::Slug.eq(slug))
        .one(&admin.db)
        .await
        .unwrap()
        .unwrap()
        .nominations_per_nominator
}

#[tokio::test]
async fn the_form_takes_and_shows_a_campaigns_limit_on_nominations_per_person_and_names_a_bad_one()
{
    let admin = spawn().await;
    let browser = admin.sign_in(PLATFORM_ADMIN).await;
    let page = admin.page(&browser, PATH, StatusCode::OK).await;
    assert!(page.contains("Nominations each person can make"), "{page}");
    assert!(
        page.contains("Leave it empty for the usual 20."),
        "the hint says what blank means: {page}"
    );
    let token = csrf(&page);
    let before = campaigns(&admin).await;

    // Not a number: the page's own check. Out of bounds: the service's.
    for (typed, named) in [
        ("lots", "must be a whole number, like 5, or leave it blank"),
        (
            "0",
            "must be a whole number from 1 to 1,000, or leave it blank",
        ),
        (
            "1001",
            "must be a whole number from 1 to 1,000, or leave it blank",
        ),
    ] {
        let refused = admin
            .post(
                &browser,
                PATH,
                &token,
                &with_basics(&[("nominations_per_nominator", typed)]),
            )
            .await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{typed}");
        let body = refused.text().await.unwrap();
        let message = format!("Nominations each person can make {named}");
        assert!(
            body.contains(&format!(
                r##"<a href="#nominations_per_nominator">{message}</a>"##
            )),
            "in the error summary: {body}"
        );
        assert!(
            body.contains(r#"id="nominations_per_nominator-error""#),
            "at the field: {body}"
        );
        assert!(
            body.contains(&format!(r#"value="{typed}""#)),
            "as typed: {body}"
        );
    }
    assert_eq!(campaigns(&admin).await, before, "nothing created");

    let created = admin
        .post(
            &browser,
            PATH,
            &token,
            &with_basics(&[("nominations_per_nominator", "2")]),
        )
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert_eq!(stored_limit(&admin, "porters-awards-2027").await, Some(2));

    // The edit form shows it; emptied, the campaign goes back to the default.
    let path = "/admin/campaigns/porters-awards-2027/edit";
    let page = admin.page(&browser, path, StatusCode::OK).await;
    assert!(
        page.contains(r#"name="nominations_per_nominator" type="text" value="2""#),
        "{page}"
    );
    let (_, after) = page
        .split_once(r#"name="categories[0].id" value=""#)
        .unwrap();
    let category = after.split('"').next().unwrap();
    let saved = admin
        .post(
            &browser,
            path,
            &csrf(&page),
            &[
                ("name", "Porters' Awards 2027"),
                ("nominations_open_at", "2027-03-01T09:00"),
                ("categories[0].id", category),
                ("categories[0].name", "Porter of the year"),
                ("nominations_per_nominator", ""),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(stored_limit(&admin, "porters-awards-2027").await, None);
}
