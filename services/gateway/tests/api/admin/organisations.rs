//! Importing organisations from the browser, in front of the real nomination service: a platform
//! admin uploads an ODS file; a file with bad lines imports nothing and names every one; a good
//! file is imported and its trust is then found; a trust admin is refused.

use reqwest::StatusCode;
use sea_orm::EntityTrait;
use valued_nomination::auth::Role;
use valued_nomination::db::entities::trust;

use super::{BOUNDARY, PLATFORM_ADMIN, csrf, location, post_multipart, spawn};

const PATH: &str = "/admin/organisations";

/// Posts `csv` as the page's form does: multipart, the CSRF token first, then the file.
async fn upload(
    admin: &super::Admin,
    browser: &reqwest::Client,
    token: &str,
    csv: &str,
) -> reqwest::Response {
    let body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"ods.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{csv}\r\n--{BOUNDARY}--\r\n"
    );
    post_multipart(browser, &admin.url(PATH), body.into_bytes()).await
}

#[tokio::test]
async fn a_platform_admin_imports_a_clean_file_and_a_bad_one_names_every_line() {
    let admin = spawn().await;
    let browser = admin.sign_in(PLATFORM_ADMIN).await;
    let home = admin.page(&browser, "/admin", StatusCode::OK).await;
    assert!(home.contains(PATH), "{home}");
    let page = admin.page(&browser, PATH, StatusCode::OK).await;
    assert!(page.contains(r#"enctype="multipart/form-data""#), "{page}");
    let token = csrf(&page);

    // Two bad lines: both named, nothing imported.
    let bad = "code,name,address,postcode,parent\n\
               Y62,North West,,,\n\
               R0A,Manchester University NHS Foundation Trust,,,NOWHERE\n\
               R0A01,,,,R0A\n";
    let refused = upload(&admin, &browser, &token, bad).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body = refused.text().await.unwrap();
    assert!(body.contains("There is a problem"), "{body}");
    assert!(body.contains("Line 3:"), "{body}");
    assert!(body.contains("Line 4:"), "{body}");
    assert!(
        trust::Entity::find_by_id("R0A".to_owned())
            .one(&admin.db)
            .await
            .unwrap()
            .is_none(),
        "nothing imported from a bad file"
    );

    // An empty upload is named too.
    let empty = upload(&admin, &browser, &token, "").await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    assert!(
        empty
            .text()
            .await
            .unwrap()
            .contains("Select a CSV file to import")
    );

    let good = "code,name,address,postcode,parent\n\
                Y62,North West,,,\n\
                R0A,Manchester University NHS Foundation Trust,Oxford Road,M13 9WL,Y62\n\
                R0A01,Manchester Royal Infirmary,Oxford Road,M13 9WL,R0A\n";
    let imported = upload(&admin, &browser, &token, good).await;
    assert_eq!(imported.status(), StatusCode::SEE_OTHER);
    // The import's own page, which shows how it ended (a file this small ends while it is sent).
    let import_page = location(&imported);
    assert!(
        import_page.starts_with("/admin/organisations/imports/"),
        "{import_page}"
    );
    let shown = admin.page(&browser, &import_page, StatusCode::OK).await;
    assert!(
        shown.contains("Imported 1 region, 1 trust and 1 site"),
        "{shown}"
    );
    assert!(shown.contains(PLATFORM_ADMIN), "who sent it: {shown}");
    // An import nobody started is not found.
    admin
        .page(
            &browser,
            "/admin/organisations/imports/0199c0de-0000-7000-8000-000000000000",
            StatusCode::NOT_FOUND,
        )
        .await;
    let stored = trust::Entity::find_by_id("R0A".to_owned())
        .one(&admin.db)
        .await
        .unwrap()
        .expect("the trust imported");
    assert_eq!(stored.region_code.as_deref(), Some("Y62"));

    // A trust admin may not import.
    admin
        .grant("awards@rj1.example.org", Role::TrustAdmin, "RJ1")
        .await;
    let trust_admin = admin.sign_in("awards@rj1.example.org").await;
    let page = admin.page(&trust_admin, "/admin", StatusCode::OK).await;
    let refused = upload(&admin, &trust_admin, &csrf(&page), good).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // Nor see someone else's import.
    let _ = admin
        .page(&trust_admin, &import_page, StatusCode::FORBIDDEN)
        .await;
}
