//! A trust's settings page in front of the real nomination service: its admin finds it from the
//! home page, a malformed address is named and changes nothing, a good one is saved and shown;
//! another trust's admin gets the not-found page.

use reqwest::StatusCode;
use valued_nomination::auth::Role;

use super::{csrf, location, spawn};

const PATH: &str = "/admin/trusts/RJ1/settings";

#[tokio::test]
async fn a_trust_admin_sets_the_awards_contact_and_another_trusts_admin_cannot() {
    let admin = spawn().await;
    admin
        .grant("awards@rj1.example.org", Role::TrustAdmin, "RJ1")
        .await;
    admin
        .grant("awards@rrk.example.org", Role::TrustAdmin, "RRK")
        .await;
    let browser = admin.sign_in("awards@rj1.example.org").await;
    let home = admin.page(&browser, "/admin", StatusCode::OK).await;
    assert!(home.contains(PATH), "{home}");
    let page = admin.page(&browser, PATH, StatusCode::OK).await;
    let token = csrf(&page);

    let refused = admin
        .post(
            &browser,
            PATH,
            &token,
            &[("awards_email", "not an address")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body = refused.text().await.unwrap();
    assert!(body.contains("There is a problem"), "{body}");
    assert!(body.contains(r#"value="not an address""#), "{body}");

    let saved = admin
        .post(
            &browser,
            PATH,
            &token,
            &[("awards_email", "stars@rj1.example.org")],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let shown = admin
        .page(&browser, &location(&saved), StatusCode::OK)
        .await;
    assert!(shown.contains("Settings saved"), "{shown}");
    assert!(
        shown.contains(r#"value="stars@rj1.example.org""#),
        "{shown}"
    );

    let other = admin.sign_in("awards@rrk.example.org").await;
    admin.page(&other, PATH, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn the_sender_domains_and_sites_are_kept_from_the_page_with_bad_lines_named() {
    let admin = spawn().await;
    admin
        .grant("awards@rj1.example.org", Role::TrustAdmin, "RJ1")
        .await;
    let browser = admin.sign_in("awards@rj1.example.org").await;
    let page = admin.page(&browser, PATH, StatusCode::OK).await;
    // The demo trust's sites, each with its remove button.
    assert!(page.contains("St Thomas&#x27; Hospital"), "{page}");
    assert!(
        page.contains("/admin/trusts/RJ1/sites/RJ121/remove"),
        "{page}"
    );
    let token = csrf(&page);

    // A bad domain is named by its line; what was typed is kept; nothing is saved.
    let refused = admin
        .post(
            &browser,
            PATH,
            &token,
            &[
                ("awards_email", "awards@rj1.example.org"),
                ("sender_name", "GSTT Staff Awards"),
                ("reply_to", ""),
                ("work_email_domains", "nhs.net\r\nnot a domain"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body = refused.text().await.unwrap();
    assert!(body.contains(r##"href="#work_email_domains""##), "{body}");
    assert!(
        body.contains("Line 2: Enter a domain in the correct format"),
        "{body}"
    );
    assert!(
        body.contains("nhs.net\r\nnot a domain") || body.contains("nhs.net\nnot a domain"),
        "{body}"
    );
    assert!(body.contains(r#"value="GSTT Staff Awards""#), "{body}");
    let unchanged = admin.page(&browser, PATH, StatusCode::OK).await;
    assert!(!unchanged.contains("GSTT Staff Awards"), "{unchanged}");

    let saved = admin
        .post(
            &browser,
            PATH,
            &token,
            &[
                ("awards_email", "awards@rj1.example.org"),
                ("sender_name", "GSTT Staff Awards"),
                ("reply_to", "staff.awards@gstt.example.org"),
                ("work_email_domains", "nhs.net\r\n\r\nGSTT.nhs.uk"),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let shown = admin
        .page(&browser, &location(&saved), StatusCode::OK)
        .await;
    assert!(shown.contains("Settings saved"), "{shown}");
    assert!(shown.contains(r#"value="GSTT Staff Awards""#), "{shown}");
    assert!(shown.contains("gstt.nhs.uk\nnhs.net"), "{shown}");

    // A site: a malformed code named; a good one added, then removed.
    let site = "/admin/trusts/RJ1/sites";
    let refused = admin
        .post(
            &browser,
            site,
            &token,
            &[("site_code", "RJ1"), ("site_name", "Evelina London")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body = refused.text().await.unwrap();
    assert!(body.contains(r##"href="#site_code""##), "{body}");
    assert!(body.contains(r#"value="Evelina London""#), "{body}");
    let added = admin
        .post(
            &browser,
            site,
            &token,
            &[("site_code", "RJ1EV"), ("site_name", "Evelina London")],
        )
        .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let shown = admin
        .page(&browser, &location(&added), StatusCode::OK)
        .await;
    assert!(shown.contains("Evelina London"), "{shown}");
    let removed = admin
        .post(
            &browser,
            "/admin/trusts/RJ1/sites/RJ1EV/remove",
            &token,
            &[],
        )
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    let shown = admin
        .page(&browser, &location(&removed), StatusCode::OK)
        .await;
    assert!(shown.contains("Site removed"), "{shown}");
    assert!(!shown.contains("Evelina London"), "{shown}");
}
