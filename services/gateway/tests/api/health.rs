use crate::helpers::spawn_app;

#[tokio::test]
async fn liveness_answers_ok() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn readiness_is_503_while_the_services_are_down() {
    let app = spawn_app().await;
    let started = std::time::Instant::now();
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    let body = response.text().await.unwrap();
    assert!(body.contains("nomination: not serving"), "{body}");
    assert!(body.contains("notification: not serving"), "{body}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
