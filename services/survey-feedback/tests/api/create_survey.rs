use tonic::Code;
use valued_proto::survey::v1 as pb;

use crate::helpers::{ADMIN, CLINICAL, ESTATES, OTHER, fields, lines, spawn_app};

#[tokio::test]
async fn a_new_survey_summarises_every_group_as_withheld() {
    let app = spawn_app().await;

    let survey = app.create_survey().await;

    let summary = app.summary(&survey).await;
    assert_eq!(summary.survey_id, survey);
    assert_eq!(summary.question, "Do you feel valued at work?");
    assert_eq!(
        lines(&summary),
        [
            (ESTATES, true, 0, 0.0),
            (ADMIN, true, 0, 0.0),
            (CLINICAL, true, 0, 0.0),
            (OTHER, true, 0, 0.0)
        ]
    );
    assert_eq!(summary.groups[2].label, "Healthcare support workers");
}

#[tokio::test]
async fn a_survey_needs_a_title_and_a_question() {
    let app = spawn_app().await;

    let refused = app
        .client
        .clone()
        .create_survey(pb::CreateSurveyRequest {
            title: " ".into(),
            question: String::new(),
        })
        .await
        .unwrap_err();

    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(fields(&refused), ["title", "question"]);
    assert!(app.strings("SELECT title FROM survey").await.is_empty());
}
