//! The Insight dashboard in front of the real nomination service: a trust's admin finds it from
//! the home page, reads the trust's counts in a table beside a chart (small counts withheld) and
//! downloads them as CSV; another trust's admin gets the not-found page, and only platform admins
//! the country's figures. The survey-feedback service is out of reach here: the counts are shown
//! all the same.

use reqwest::StatusCode;
use valued_nomination::auth::Role;

use super::spawn;

const PAGE: &str = "/admin/insight/trusts/RJ1";
const CSV: &str = "/admin/insight/trusts/RJ1/figures.csv";

#[tokio::test]
async fn a_trust_admin_reads_the_trusts_figures_and_downloads_them() {
    let mut admin = spawn().await;
    for i in 0..12 {
        admin
            .confirmed("RJ1", &format!("Sam Patel {i}"), "Always there for us.")
            .await;
    }
    admin
        .grant("awards@rj1.example.org", Role::TrustAdmin, "RJ1")
        .await;
    let browser = admin.sign_in("awards@rj1.example.org").await;
    let home = admin.page(&browser, "/admin", StatusCode::OK).await;
    assert!(home.contains("href=\"/admin/insight\""), "{home}");
    let index = admin.page(&browser, "/admin/insight", StatusCode::OK).await;
    assert!(index.contains(PAGE), "{index}");

    let page = admin.page(&browser, PAGE, StatusCode::OK).await;
    assert!(
        page.contains("Guy&#x27;s and St Thomas&#x27;") || page.contains("Guy's and St Thomas'"),
        "{page}"
    );
    assert!(page.contains("<caption class=\"nhsuk-table__caption nhsuk-table__caption--s\">All nominations</caption>"), "{page}");
    assert!(
        page.contains(">12</td>"),
        "12 received and confirmed: {page}"
    );
    assert!(
        page.contains("Withheld (fewer than 11)"),
        "no finalists yet: {page}"
    );
    assert!(
        page.contains("By staff group")
            && page.contains("By pay band")
            && page.contains("By month")
    );
    assert!(page.contains("<svg class=\"valued-chart\""), "{page}");
    assert!(page.contains("role=\"img\""), "{page}");
    assert!(
        page.contains("Survey results cannot be shown just now"),
        "{page}"
    );
    assert!(page.contains(CSV), "{page}");

    let csv = browser.get(admin.url(CSV)).send().await.unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let body = csv.text().await.unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(
        lines[0],
        "breakdown,code,group,received,confirmed,finalists,winners"
    );
    assert_eq!(lines[1], "total,,All nominations,12,12,withheld,withheld");
    assert!(
        lines.contains(&"staff group,estates-and-ancillary,\"Estates and ancillary (porters, domestics, catering, maintenance)\",12,12,withheld,withheld"),
        "{body}"
    );
    assert!(lines.iter().any(|l| l.starts_with("month,")), "{body}");
}

#[tokio::test]
async fn another_trusts_admin_is_refused_the_trusts_figures_and_the_countrys() {
    let admin = spawn().await;
    admin
        .grant("awards@rrk.example.org", Role::TrustAdmin, "RRK")
        .await;
    let other = admin.sign_in("awards@rrk.example.org").await;
    admin.page(&other, PAGE, StatusCode::NOT_FOUND).await;
    admin.page(&other, CSV, StatusCode::NOT_FOUND).await;
    admin
        .page(&other, "/admin/insight/national", StatusCode::FORBIDDEN)
        .await;
    let own = admin
        .page(&other, "/admin/insight/trusts/RRK", StatusCode::OK)
        .await;
    assert!(own.contains("University Hospitals Birmingham"), "{own}");
}

#[tokio::test]
async fn a_region_links_to_its_trusts_and_the_country_to_its_regions() {
    let admin = spawn().await;
    admin
        .grant("awards@y60.example.org", Role::RegionAdmin, "Y60")
        .await;
    let region = admin.sign_in("awards@y60.example.org").await;
    let index = admin.page(&region, "/admin/insight", StatusCode::OK).await;
    assert!(index.contains("/admin/insight/regions/Y60"), "{index}");
    let midlands = admin
        .page(&region, "/admin/insight/regions/Y60", StatusCode::OK)
        .await;
    assert!(midlands.contains("By trust"), "{midlands}");
    for trust in ["RRK", "RX1"] {
        assert!(
            midlands.contains(&format!("href=\"/admin/insight/trusts/{trust}\"")),
            "{midlands}"
        );
    }
    admin
        .page(&region, "/admin/insight/regions/Y56", StatusCode::NOT_FOUND)
        .await;

    let platform = admin.sign_in(super::PLATFORM_ADMIN).await;
    let england = admin
        .page(&platform, "/admin/insight/national", StatusCode::OK)
        .await;
    assert!(england.contains("By region"), "{england}");
    assert!(
        england.contains("href=\"/admin/insight/regions/Y56\""),
        "{england}"
    );
    let csv = platform
        .get(admin.url("/admin/insight/national/figures.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    let body = csv.text().await.unwrap();
    assert!(body.contains("\nregion,Y56,London,withheld,"), "{body}");
}
