use tonic::Code;
use valued_proto::survey::v1 as pb;

use crate::helpers::{
    ADMIN, CLINICAL, ESTATES, OTHER, fields, lines, spawn_app, spawn_app_with_minimum,
    spawn_embedded_app_with_minimum,
};

#[tokio::test]
async fn a_group_under_eleven_is_withheld_and_a_group_of_eleven_reported() {
    let app = spawn_app().await;
    let survey = app.create_survey().await;
    // 11 answers summing to 44: a mean of exactly 4.
    app.respond_all(&survey, ESTATES, &[5, 5, 4, 4, 4, 3, 3, 5, 2, 4, 5])
        .await;
    app.respond_all(&survey, ADMIN, &[1, 1, 2]).await;

    let summary = app.summary(&survey).await;

    assert_eq!(summary.minimum_group_size, 11);
    assert_eq!(
        lines(&summary),
        [
            (ESTATES, false, 11, 4.0),
            (ADMIN, true, 0, 0.0),
            (CLINICAL, true, 0, 0.0),
            (OTHER, true, 0, 0.0)
        ]
    );
}

#[tokio::test]
async fn the_minimum_group_size_is_a_setting() {
    let app = spawn_app_with_minimum(5).await;
    let survey = app.create_survey().await;
    app.respond_all(&survey, CLINICAL, &[5, 4, 4, 3, 2]).await;
    app.respond_all(&survey, OTHER, &[5, 5, 5, 5]).await;

    let summary = app.summary(&survey).await;

    assert_eq!(summary.minimum_group_size, 5);
    assert_eq!(
        lines(&summary),
        [
            (ESTATES, true, 0, 0.0),
            (ADMIN, true, 0, 0.0),
            (CLINICAL, false, 5, 3.6),
            (OTHER, true, 0, 0.0)
        ]
    );
}

#[tokio::test]
async fn a_lone_small_group_cannot_be_worked_out_from_the_total() {
    let app = spawn_app_with_minimum(5).await;
    let survey = app.create_survey().await;
    app.respond_all(&survey, ESTATES, &[4; 12]).await;
    app.respond_all(&survey, ADMIN, &[3; 8]).await;
    app.respond_all(&survey, CLINICAL, &[2; 6]).await;
    // Only this group is under 5: 28 responses in all minus 26 visible would give it away.
    app.respond_all(&survey, OTHER, &[1, 5]).await;

    let summary = app.summary(&survey).await;

    assert_eq!(
        lines(&summary),
        [
            (ESTATES, false, 12, 4.0),
            (ADMIN, false, 8, 3.0),
            (CLINICAL, true, 0, 0.0),
            (OTHER, true, 0, 0.0)
        ]
    );
}

#[tokio::test]
async fn the_embedded_sqlite_default_summarises_the_same_way() {
    let app = spawn_embedded_app_with_minimum(3).await;
    let survey = app.create_survey().await;
    app.respond_all(&survey, ADMIN, &[1, 2, 2, 5]).await;
    app.respond_all(&survey, OTHER, &[3, 3]).await;
    app.respond_all(&survey, ESTATES, &[4, 4, 5]).await;

    let summary = app.summary(&survey).await;

    assert_eq!(
        lines(&summary),
        [
            (ESTATES, false, 3, 13.0 / 3.0),
            (ADMIN, false, 4, 2.5),
            (CLINICAL, true, 0, 0.0),
            (OTHER, true, 0, 0.0)
        ]
    );
    assert_eq!(app.published().await.len(), 9);
}

#[tokio::test]
async fn an_unknown_survey_has_no_summary_and_a_malformed_id_is_named() {
    let app = spawn_app().await;
    let mut client = app.client.clone();

    let unknown = client
        .get_summary(app.signed(pb::GetSummaryRequest {
            survey_id: uuid::Uuid::now_v7().to_string(),
        }))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);

    let malformed = client
        .get_summary(app.signed(pb::GetSummaryRequest {
            survey_id: "staff-survey".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert_eq!(fields(&malformed), ["survey_id"]);
}
