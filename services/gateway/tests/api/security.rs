use crate::helpers::spawn_app;

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'";

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in [
        "/healthz",
        "/readyz",
        "/no/such/page",
        "/campaigns/x",
        "/assets/nhsuk-frontend.min.css",
    ] {
        let response = app.get(path).await;
        let headers = response.headers();
        assert_eq!(headers["content-security-policy"], CSP, "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
    }
}

#[tokio::test]
async fn pages_are_not_stored_but_assets_are_cached() {
    let app = spawn_app().await;
    let page = app.get("/no/such/page").await;
    assert_eq!(page.headers()["cache-control"], "no-store");
    let asset = app.get("/assets/images/nhsuk-icon-cross.svg").await;
    assert_ne!(asset.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn the_outbox_can_be_switched_off() {
    let settings = valued_gateway::Settings {
        outbox: false,
        ..valued_gateway::Settings::default()
    };
    let app = crate::helpers::spawn_app_with(settings).await;
    assert_eq!(app.get("/outbox").await.status(), 404);
    assert_eq!(
        app.get("/outbox/01a20140-79a5-7624-84f5-2c0982e40570")
            .await
            .status(),
        404
    );
}
