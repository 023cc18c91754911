//! Learning and career routes through the pages, in front of the real nomination service: a bad
//! route is named in the error summary and adds nothing; a route added on the admin page shows on
//! the campaign's public page under its category; following its link counts one open and sends the
//! visitor to the stored address (only that: a path naming no route of the campaign is not found);
//! the admin page then shows the count, and a removed route leaves the public page.

use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
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
