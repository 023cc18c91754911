//! People and roles through the pages: the grants an admin manages, revoking one with its button,
//! and inviting someone, with the service's field errors beside the inputs.

use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
use valued_nomination::auth::Role;
use valued_nomination::db::entities::role_grant;

use super::{Admin, PLATFORM_ADMIN, csrf, location, spawn};

const PEOPLE: &str = "/admin/people";
const REVOKE: &str = "/admin/people/revoke";
const UHB: &str = "awards@rrk.example.org";
const MIDLANDS: &str = "region@y60.example.org";

impl Admin {
    async fn grant_count(&self) -> u64 {
        role_grant::Entity::find().count(&self.db).await.unwrap()
    }

    /// Sends a form naming a grant (`email`, `role`, `scope`) to `path`: the invitation form to
    /// [`PEOPLE`], a revoke button's to [`REVOKE`].
    async fn send_grant(
        &self,
        browser: &reqwest::Client,
        path: &str,
        token: &str,
        (email, role, scope): (&str, &str, &str),
    ) -> reqwest::Response {
        let fields = [("email", email), ("role", role), ("scope", scope)];
        self.post(browser, path, token, &fields).await
    }
}

/// How many revoke buttons a page has.
fn revoke_buttons(page: &str) -> usize {
    page.matches(&format!("action=\"{REVOKE}\"")).count()
}

#[tokio::test]
async fn an_admin_lists_revokes_and_invites_from_the_people_page() {
    let admin = spawn().await;
    admin.grant(UHB, Role::TrustAdmin, "RRK").await;
    let browser = admin.sign_in(PLATFORM_ADMIN).await;
    let home = admin.page(&browser, "/admin", StatusCode::OK).await;
    assert!(home.contains("href=\"/admin/people\""), "{home}");

    let page = admin.page(&browser, PEOPLE, StatusCode::OK).await;
    assert!(
        page.contains("<span>awards@<wbr>rrk.<wbr>example.<wbr>org<wbr></span>"),
        "{page}"
    );
    assert!(page.contains("University Hospitals Birmingham NHS Foundation Trust (RRK)"));
    assert!(page.contains("Invited"));
    assert!(page.contains("Active"), "the platform admin has signed in");
    assert!(page.contains("org<wbr> (you)"), "their own grant: {page}");
    assert_eq!(revoke_buttons(&page), 1, "none for their own grant");
    assert!(page.contains(&format!(
        "Revoke<span class=\"nhsuk-u-visually-hidden\"> Trust administrator role of {UHB}</span>"
    )));
    let token = csrf(&page);

    // A bad invitation: the summary links each field, each message sits by its input, what was
    // typed stays, and nothing is stored.
    let before = admin.grant_count().await;
    let bad = admin
        .send_grant(&browser, PEOPLE, &token, ("not an email", "", "RJ1"))
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body = bad.text().await.unwrap();
    for shown in [
        "There is a problem",
        "<title>Error: People and roles",
        "href=\"#email\"",
        "href=\"#role\"",
        "id=\"email-error\"",
        "id=\"role-error\"",
        "Select a role",
        "value=\"not an email\"",
    ] {
        assert!(body.contains(shown), "{shown}: {body}");
    }
    let unknown = admin
        .send_grant(
            &browser,
            PEOPLE,
            &token,
            ("new@example.org", "trust_admin", "zzz"),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let body = unknown.text().await.unwrap();
    assert!(body.contains("href=\"#scope\""), "{body}");
    assert!(body.contains("There is no trust with the code ZZZ"));
    assert!(body.contains("<option value=\"trust_admin\" selected>"));
    assert_eq!(admin.grant_count().await, before, "nothing stored");

    // A good one is stored and shown, after a banner.
    let invited = admin
        .send_grant(
            &browser,
            PEOPLE,
            &token,
            ("New@Example.org", "trust_admin", "rj1"),
        )
        .await;
    assert_eq!(invited.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&invited), "/admin/people?done=invited");
    let page = admin
        .page(&browser, &location(&invited), StatusCode::OK)
        .await;
    assert!(page.contains("Invitation saved"), "{page}");
    assert!(page.contains("new@example.org"));
    assert!(page.contains("Guy&#x27;s and St Thomas&#x27; NHS Foundation Trust (RJ1)"));

    // Revoking without the page's CSRF token does nothing; with it, the role is revoked at once.
    let uhb = (UHB, "trust_admin", "RRK");
    let forged = admin
        .send_grant(&browser, REVOKE, &"0".repeat(64), uhb)
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let revoked = admin.send_grant(&browser, REVOKE, &token, uhb).await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&revoked), "/admin/people?done=revoked");
    let page = admin
        .page(&browser, &location(&revoked), StatusCode::OK)
        .await;
    assert!(page.contains("Role revoked"), "{page}");
    assert!(page.contains(&format!("Revoked by {PLATFORM_ADMIN} on ")));
    assert_eq!(revoke_buttons(&page), 1, "no button for a revoked role");
    let stored = role_grant::Entity::find_by_id((
        UHB.to_owned(),
        "trust_admin".to_owned(),
        "RRK".to_owned(),
    ))
    .one(&admin.db)
    .await
    .unwrap()
    .unwrap();
    assert_eq!(stored.revoked_by.as_deref(), Some(PLATFORM_ADMIN));

    // The same button again (another tab, say): already revoked.
    let again = admin.send_grant(&browser, REVOKE, &token, uhb).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let body = again.text().await.unwrap();
    assert!(body.contains("does not hold that role any more"), "{body}");
}

#[tokio::test]
async fn a_region_admin_sees_only_their_trusts_admins_and_cannot_revoke_above() {
    let admin = spawn().await;
    admin.grant(MIDLANDS, Role::RegionAdmin, "Y60").await;
    admin.grant(UHB, Role::TrustAdmin, "RRK").await;
    admin
        .grant("awards@rj1.example.org", Role::TrustAdmin, "RJ1")
        .await;
    let browser = admin.sign_in(MIDLANDS).await;
    let page = admin.page(&browser, PEOPLE, StatusCode::OK).await;
    // The emails as read, without the places they may break.
    let page = page.replace("<wbr>", "");
    assert!(page.contains(&format!("<span>{UHB}</span>")), "{page}");
    assert!(!page.contains("awards@rj1.example.org"), "another region's");
    assert!(!page.contains(PLATFORM_ADMIN));
    assert_eq!(revoke_buttons(&page), 1);
    // The invitation form offers only the role they may grant.
    assert!(page.contains("<option value=\"trust_admin\""));
    assert!(!page.contains("<option value=\"platform_admin\""));

    // Inviting someone to another region's trust is refused beside the field, keeping the form.
    let elsewhere = admin
        .send_grant(
            &browser,
            PEOPLE,
            &csrf(&page),
            ("new@example.org", "trust_admin", "RJ1"),
        )
        .await;
    assert_eq!(elsewhere.status(), StatusCode::BAD_REQUEST);
    let body = elsewhere.text().await.unwrap();
    assert!(body.contains("href=\"#scope\""), "{body}");
    assert!(body.contains("You cannot give anyone this role over RJ1"));
    assert!(body.contains("value=\"new@example.org\""));

    // A forged form revoking the platform admin is refused by the service.
    let refused = admin
        .send_grant(
            &browser,
            REVOKE,
            &csrf(&page),
            (PLATFORM_ADMIN, "platform_admin", ""),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // A judge manages nobody: no link from home, and the page says so.
    admin
        .grant("judge@example.org", Role::Judge, &admin.campaign.id)
        .await;
    let judge = admin.sign_in("judge@example.org").await;
    let home = admin.page(&judge, "/admin", StatusCode::OK).await;
    assert!(!home.contains("href=\"/admin/people\""));
    let page = admin.page(&judge, PEOPLE, StatusCode::OK).await;
    assert!(page.contains("You do not manage anyone"), "{page}");
    assert!(!page.contains("Invite someone"));
}
