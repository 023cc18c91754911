use crate::helpers::spawn_app;

#[tokio::test]
async fn the_stylesheet_is_served_as_css_and_cached() {
    let app = spawn_app().await;
    let response = app.get("/assets/nhsuk-frontend.min.css").await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    let cache = headers["cache-control"].to_str().unwrap();
    assert!(cache.contains("max-age=31536000"), "{cache}");
    let css = response.text().await.unwrap();
    assert!(css.contains(".nhsuk-header"));
}

#[tokio::test]
async fn the_scripts_and_icons_are_served() {
    let app = spawn_app().await;
    for (path, content_type) in [
        ("/assets/nhsuk-frontend.min.js", "text/javascript"),
        ("/assets/valued.js", "text/javascript"),
        ("/assets/images/nhsuk-icon-cross.svg", "image/svg+xml"),
        ("/assets/images/favicon.ico", "image/x-icon"),
        ("/assets/manifest.json", "application/manifest+json"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(content_type),
            "{path}"
        );
        assert!(!response.bytes().await.unwrap().is_empty(), "{path}");
    }
}

#[tokio::test]
async fn the_init_script_imports_the_versioned_bundle() {
    let app = spawn_app().await;
    let script = app.get("/assets/valued.js").await.text().await.unwrap();
    assert!(
        script.contains("from '/assets/nhsuk-frontend.min.js?v="),
        "{script}"
    );
    assert!(script.contains("initAll()"));
}

#[tokio::test]
async fn an_unknown_asset_is_a_404() {
    let app = spawn_app().await;
    let response = app.get("/assets/../Cargo.toml").await;
    assert_eq!(response.status(), 404);
    let response = app.get("/assets/nope.css").await;
    assert_eq!(response.status(), 404);
}
