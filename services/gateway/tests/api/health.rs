use crate::helpers::spawn_app;

#[tokio::test]
async fn liveness_answers_ok() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn readiness_is_the_gateway_s_own_and_reports_the_services_it_sees_down() {
    let app = spawn_app().await;
    let started = std::time::Instant::now();
    let response = app.get("/readyz").await;
    // A service restarting must not take every gateway out of service.
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(body.contains("gateway: serving"), "{body}");
    assert!(body.contains("nomination: not serving"), "{body}");
    assert!(body.contains("notification: not serving"), "{body}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
