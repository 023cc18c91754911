//! Learning and career routes through the pages, in front of the real nomination service: a bad
//! route is named in the error summary and adds nothing; a route added on the admin page shows on
//! the campaign's public page under its category; following its link counts one open and sends the
//! visitor to the stored address (only that: a path naming no route of the campaign is not found);
//! the admin page then shows the count, and a removed route leaves the public page.
//!
//! A trust's own routes the same way, from its admin's page (found from the admin home and the
//! trust's settings), on its own campaign's page and through its own counting link; another
//! trust's admin finds no such page.

use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
use valued_nomination::auth::Role;
use valued_nomination::db::entities::learning_route;

use super::{Admin, PLATFORM_ADMIN, browser, csrf, location, spawn};

async fn routes(admin: &Admin) -> u64 {
    learning_route::Entity::find()
        .count(&admin.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_route_added_by_the_admin_is_linked_from_the_campaigns_page_and_its_opens_counted() {
    let admin = spawn().await;
    let signed_in = admin.sign_in(PLATFORM_ADMIN).await;
    let slug = &admin.campaign.slug;
    let path = format!("/admin/campaigns/{slug}/routes");
    let public = format!("/campaigns/{slug}");
    let editor = admin
        .page(
            &signed_in,
            &format!("/admin/campaigns/{slug}/page"),
            StatusCode::OK,
        )
        .await;
    assert!(editor.contains(&path), "the page editor links to it");
    let page = admin.page(&signed_in, &path, StatusCode::OK).await;
    assert!(page.contains("None yet."), "{page}");
    let token = csrf(&page);

    let refused = admin
        .post(
            &signed_in,
            &path,
            &token,
            &[
                ("title", "Apprenticeships"),
                ("url", "http://www.apprenticeships.gov.uk/"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body = refused.text().await.unwrap();
    assert!(body.contains("There is a problem"), "{body}");
    assert!(
        body.contains(r##"href="#url""##),
        "the summary links the field: {body}"
    );
    assert!(
        body.contains("Enter the link as a web address starting with https:&#x2f;&#x2f;"),
        "{body}"
    );
    assert!(body.contains("value=\"Apprenticeships\""), "kept: {body}");
    assert_eq!(routes(&admin).await, 0);

    let category = &admin.campaign.categories[0];
    let added = admin
        .post(
            &signed_in,
            &path,
            &token,
            &[
                ("title", "Support workforce framework"),
                ("url", "https://example.org/framework?band=1-4"),
                ("description", "Training for Bands 1 to 4."),
                ("category_id", &category.id),
                ("staff_group", "estates-and-ancillary"),
            ],
        )
        .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&added), format!("{path}?done=added"));

    // On the public page, under its category, through the counting link.
    let visitor = browser();
    let shown = admin.page(&visitor, &public, StatusCode::OK).await;
    assert!(shown.contains("Learning and career routes"), "{shown}");
    assert!(
        shown.contains(&format!("For {}", category.name)),
        "grouped by category: {shown}"
    );
    let marker = format!("href=\"/campaigns/{slug}/routes/");
    let start = shown.find(&marker).expect("a route link") + "href=\"".len();
    let link = &shown[start..start + shown[start..].find('"').unwrap()];
    assert!(shown.contains("Support workforce framework</a>"), "{shown}");
    assert!(
        !shown.contains("example.org/framework"),
        "the public page links through the counter only: {shown}"
    );

    // Following it: 303 to the stored address, counted once.
    let followed = visitor.get(admin.url(link)).send().await.unwrap();
    assert_eq!(followed.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&followed),
        "https://example.org/framework?band=1-4"
    );
    // A path naming no route of the campaign goes nowhere, whatever it carries.
    for stray in [
        format!("/campaigns/{slug}/routes/https%3A%2F%2Fevil.example"),
        format!("{link}x"),
        format!(
            "/campaigns/no-such-campaign/{}",
            &link[link.find("routes/").unwrap()..]
        ),
    ] {
        let response = visitor.get(admin.url(&stray)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{stray}");
    }

    let page = admin.page(&signed_in, &path, StatusCode::OK).await;
    assert!(page.contains("Support workforce framework"), "{page}");
    assert!(
        page.contains(r#"aria-hidden="true">Times opened </span>1</td>"#),
        "one open: {page}"
    );
    assert!(page.contains(&category.name), "what it fits: {page}");

    // Removed on the admin page, gone from the public one.
    let (_, after) = page.split_once("/routes/").unwrap();
    let id = after.split('/').next().unwrap();
    let removed = admin
        .post(&signed_in, &format!("{path}/{id}/remove"), &token, &[])
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    let shown = admin.page(&visitor, &public, StatusCode::OK).await;
    assert!(!shown.contains("Learning and career routes"), "{shown}");
    assert_eq!(routes(&admin).await, 0);
}

/// A trust's own campaign, for RJ1's staff, whose page shows the trust's routes.
async fn rj1_campaign(admin: &Admin) -> String {
    use sea_orm::TransactionTrait;
    use valued_nomination::admin::campaigns::{NewCampaign, NewCategory, create};
    use valued_nomination::domain::{Scope, Windows};

    let slug = "rj1-staff-awards".to_owned();
    let txn = admin.db.begin().await.unwrap();
    create(
        &txn,
        NewCampaign {
            slug: &slug,
            name: "RJ1 staff awards",
            description: "",
            scope: Scope::Trust("RJ1".into()),
            windows: Windows {
                nominations_open_at: Some(chrono::Utc::now() - chrono::Duration::days(1)),
                nominations_close_at: Some(chrono::Utc::now() + chrono::Duration::days(1)),
                ..Windows::default()
            },
            trusts: &["RJ1"],
            vote_per_region: false,
            nominations_per_nominator: None,
        },
        &[NewCategory {
            name: "Porter of the year",
            description: "",
            word_limit: 300,
            eligible: &[],
            bands: &[],
        }],
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    slug
}

#[tokio::test]
async fn a_trusts_admin_adds_its_own_routes_which_its_campaigns_page_links_through_the_counter() {
    let admin = spawn().await;
    admin
        .grant("awards@rj1.example.org", Role::TrustAdmin, "RJ1")
        .await;
    admin
        .grant("awards@rrk.example.org", Role::TrustAdmin, "RRK")
        .await;
    let slug = rj1_campaign(&admin).await;
    let signed_in = admin.sign_in("awards@rj1.example.org").await;
    let path = "/admin/trusts/RJ1/routes";
    let home = admin.page(&signed_in, "/admin", StatusCode::OK).await;
    assert!(
        home.contains(path),
        "the admin home page links to it: {home}"
    );
    let settings = admin
        .page(&signed_in, "/admin/trusts/RJ1/settings", StatusCode::OK)
        .await;
    assert!(
        settings.contains(path),
        "so does the settings page: {settings}"
    );
    let page = admin.page(&signed_in, path, StatusCode::OK).await;
    assert!(page.contains("None yet."), "{page}");
    assert!(
        !page.contains(r#"name="category_id""#),
        "a trust's route fits every category: {page}"
    );
    let token = csrf(&page);

    // Bad input: named in the error summary, kept in the form, nothing stored.
    let refused = admin
        .post(
            &signed_in,
            path,
            &token,
            &[
                ("title", "Careers at RJ1"),
                ("url", "http://rj1.example.nhs.uk/careers"),
                ("staff_group", "surgeons"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body = refused.text().await.unwrap();
    assert!(body.contains("There is a problem"), "{body}");
    for field in ["url", "staff_group"] {
        assert!(
            body.contains(&format!(r##"href="#{field}""##)),
            "the summary links {field}: {body}"
        );
    }
    assert!(body.contains("value=\"Careers at RJ1\""), "kept: {body}");
    assert_eq!(routes(&admin).await, 0);

    let added = admin
        .post(
            &signed_in,
            path,
            &token,
            &[
                ("title", "Careers at RJ1"),
                ("url", "https://rj1.example.nhs.uk/careers?for=porters"),
                (
                    "description",
                    "Apprenticeships and training at our hospitals.",
                ),
                ("staff_group", "estates-and-ancillary"),
            ],
        )
        .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&added), format!("{path}?done=added"));
    let page = admin
        .page(&signed_in, &location(&added), StatusCode::OK)
        .await;
    assert!(
        page.contains("Route added to the trust&#x27;s routes"),
        "{page}"
    );
    assert!(page.contains("Careers at RJ1"), "{page}");
    assert!(
        page.contains("Estates and ancillary"),
        "what it fits: {page}"
    );

    // Another trust's admin is told there is no such page, and adds nothing.
    let other = admin.sign_in("awards@rrk.example.org").await;
    admin.page(&other, path, StatusCode::NOT_FOUND).await;
    let other_page = admin
        .page(&other, "/admin/trusts/RRK/routes", StatusCode::OK)
        .await;
    let taken = admin
        .post(
            &other,
            path,
            &csrf(&other_page),
            &[("title", "Taken over"), ("url", "https://example.org/")],
        )
        .await;
    assert_eq!(taken.status(), StatusCode::NOT_FOUND);
    assert_eq!(routes(&admin).await, 1);

    // The trust's campaign's page links it through the trust's counter; following it counts one
    // open and goes to the stored address, and a path naming no route of that trust goes nowhere.
    let visitor = browser();
    let shown = admin
        .page(&visitor, &format!("/campaigns/{slug}"), StatusCode::OK)
        .await;
    assert!(shown.contains("Careers at RJ1</a>"), "{shown}");
    let marker = "href=\"/trusts/RJ1/routes/";
    let start = shown.find(marker).expect("the trust's route link") + "href=\"".len();
    let link = &shown[start..start + shown[start..].find('"').unwrap()];
    assert!(
        !shown.contains("rj1.example.nhs.uk"),
        "the public page links through the counter only: {shown}"
    );
    let followed = visitor.get(admin.url(link)).send().await.unwrap();
    assert_eq!(followed.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&followed),
        "https://rj1.example.nhs.uk/careers?for=porters"
    );
    let id = link.rsplit('/').next().unwrap();
    for stray in [
        format!("/trusts/RRK/routes/{id}"),
        format!("/campaigns/{slug}/routes/{id}"),
        "/trusts/RJ1/routes/https%3A%2F%2Fevil.example".to_owned(),
    ] {
        let response = visitor.get(admin.url(&stray)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{stray}");
    }
    let demo = admin
        .page(
            &visitor,
            &format!("/campaigns/{}", admin.campaign.slug),
            StatusCode::OK,
        )
        .await;
    assert!(
        !demo.contains("Careers at RJ1"),
        "a national campaign's page shows no trust's routes"
    );

    let page = admin.page(&signed_in, path, StatusCode::OK).await;
    assert!(
        page.contains(r#"aria-hidden="true">Times opened </span>1</td>"#),
        "one open: {page}"
    );

    // Removed on the admin page, gone from the campaign's.
    let removed = admin
        .post(
            &signed_in,
            &format!("{path}/{id}/remove"),
            &csrf(&page),
            &[],
        )
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&removed), format!("{path}?done=removed"));
    let shown = admin
        .page(&visitor, &format!("/campaigns/{slug}"), StatusCode::OK)
        .await;
    assert!(!shown.contains("Careers at RJ1"), "{shown}");
    assert_eq!(routes(&admin).await, 0);
}
