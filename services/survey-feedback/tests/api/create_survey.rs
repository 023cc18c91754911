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
        .create_survey(app.signed(pb::CreateSurveyRequest {
            title: " ".into(),
            question: String::new(),
        }))
        .await
        .unwrap_err();

    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(fields(&refused), ["title", "question"]);
    assert!(app.strings("SELECT title FROM survey").await.is_empty());
}

#[tokio::test]
async fn only_a_platform_admin_creates_surveys_and_reads_results() {
    let app = spawn_app().await;
    let survey = app.create_survey().await;
    let someone = app
        .provider
        .verified_id_token("someone@example.org")
        .await
        .unwrap();
    let mut client = app.client.clone();
    let new_survey = || pb::CreateSurveyRequest {
        title: "Another survey".into(),
        question: "Do you feel valued?".into(),
    };
    let summary = || pb::GetSummaryRequest {
        survey_id: survey.clone(),
    };

    let anonymous = client.create_survey(new_survey()).await.unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    let not_an_admin = client
        .create_survey(valued_testkit::roles::signed(&someone, new_survey()))
        .await
        .unwrap_err();
    assert_eq!(not_an_admin.code(), Code::PermissionDenied);
    assert_eq!(
        client.get_summary(summary()).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    assert_eq!(
        client
            .get_summary(valued_testkit::roles::signed(&someone, summary()))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    assert_eq!(app.strings("SELECT title FROM survey").await.len(), 1);
}
