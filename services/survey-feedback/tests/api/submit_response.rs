use tonic::Code;
use valued_proto::events::Event;
use valued_proto::events::v1::SurveyResponseRecorded;

use crate::helpers::{ESTATES, fields, spawn_app};

#[tokio::test]
async fn a_score_outside_one_to_five_is_refused_and_not_stored() {
    let app = spawn_app().await;
    let survey = app.create_survey().await;

    for score in [0, 6, 1_000] {
        let refused = app.respond(&survey, ESTATES, score).await.unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{score}");
        assert_eq!(fields(&refused), ["score"]);
    }
    for score in [1, 5] {
        app.respond(&survey, ESTATES, score).await.unwrap();
    }

    assert_eq!(
        app.strings("SELECT CAST(score AS text) FROM survey_response ORDER BY score")
            .await,
        ["1", "5"]
    );
}

#[tokio::test]
async fn a_group_not_on_the_list_is_refused() {
    let app = spawn_app().await;
    let survey = app.create_survey().await;

    let refused = app
        .respond(&survey, "Estates and ancillary", 3)
        .await
        .unwrap_err();

    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(fields(&refused), ["staff_group"]);
}

#[tokio::test]
async fn a_response_to_an_unknown_survey_is_not_found() {
    let app = spawn_app().await;

    let missing = app
        .respond(&uuid::Uuid::now_v7().to_string(), ESTATES, 3)
        .await
        .unwrap_err();

    assert_eq!(missing.code(), Code::NotFound);
    assert!(app.published().await.is_empty());
}

#[tokio::test]
async fn each_response_is_announced_without_anything_that_joins_it_to_the_respondent() {
    let app = spawn_app().await;
    let survey = app.create_survey().await;
    let first = app.respond(&survey, ESTATES, 2).await.unwrap();
    let second = app.respond(&survey, ESTATES, 5).await.unwrap();

    let events = app.published().await;

    assert_eq!(events.len(), 2);
    for envelope in &events {
        assert_eq!(envelope.event_type, SurveyResponseRecorded::TYPE);
        let event = envelope.decode::<SurveyResponseRecorded>().unwrap();
        assert_eq!(
            event,
            SurveyResponseRecorded {
                survey_id: survey.clone()
            }
        );
        let text = format!("{envelope:?}");
        assert!(!text.contains(&first.response_id) && !text.contains(&second.response_id));
    }
}

#[tokio::test]
async fn a_stored_response_has_no_identity_and_only_the_day() {
    let app = spawn_app().await;
    let survey = app.create_survey().await;
    let response = app.respond(&survey, ESTATES, 4).await.unwrap();

    let columns = app
        .strings(
            "SELECT column_name || ':' || data_type FROM information_schema.columns \
             WHERE table_name = 'survey_response' ORDER BY column_name",
        )
        .await;
    assert_eq!(
        columns,
        [
            "id:uuid",
            "score:integer",
            "staff_group:text",
            "submitted_on:date",
            "survey_id:uuid"
        ]
    );
    // A random id: a time-ordered (v7) one would carry the precise moment of the response.
    let id = uuid::Uuid::parse_str(&response.response_id).unwrap();
    assert_eq!(id.get_version_num(), 4);
}
