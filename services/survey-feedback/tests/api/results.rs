use tonic::Code;
use valued_proto::survey::v1 as pb;

use crate::helpers::{ADMIN, CLINICAL, ESTATES, TestApp, spawn_app};

fn cells(q: &pb::QuestionResult, dimension: pb::Dimension) -> Vec<(&str, bool, u64)> {
    q.cells
        .iter()
        .filter(|c| c.dimension == dimension as i32)
        .map(|c| (c.code.as_str(), c.withheld, c.responses))
        .collect()
}

#[tokio::test]
async fn results_are_refused_until_the_close_and_then_withhold_small_groups_by_subtraction_too() {
    let app = spawn_app().await;
    let survey = app.published_survey(pb::Distribution::OpenLink).await;
    for (group, n, point) in [(ESTATES, 20, 5), (ADMIN, 12, 4), (CLINICAL, 3, 1)] {
        for _ in 0..n {
            app.submit(TestApp::answers(&survey, point, group, "band-2"))
                .await
                .unwrap();
        }
    }
    // Before the close: no figures at all, however asked.
    let refused = app.results(&survey.id).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("when the survey closes"));
    let csv = app
        .client
        .clone()
        .export_results_csv(app.signed(pb::ExportResultsCsvRequest {
            survey_id: survey.id.clone(),
        }))
        .await
        .unwrap_err();
    assert_eq!(csv.code(), Code::FailedPrecondition);

    let closed = app.close(&survey.id).await;
    assert_eq!(closed.status, pb::SurveyStatus::Closed as i32);
    let results = app.results(&survey.id).await.unwrap();
    assert_eq!(results.responses, 35);
    let valued = &results.questions[0];
    assert_eq!(valued.cells[0].responses, 35);
    // 3 healthcare support workers alone would be 35 - 20 - 12: administrative is withheld too,
    // and the empty "another support role" and "not given" groups are no cover.
    assert_eq!(
        cells(valued, pb::Dimension::StaffGroup),
        [
            (ESTATES, false, 20),
            (ADMIN, true, 0),
            (CLINICAL, true, 0),
            ("other", true, 0),
            ("", true, 0)
        ]
    );
    let estates = valued.cells.iter().find(|c| c.code == ESTATES).unwrap();
    assert_eq!(estates.counts[4].count, 20);
    assert!((estates.score - 100.0).abs() < 1e-9);
    // Everyone gave band 2: the band breakdown shows the one group that is the total.
    assert_eq!(cells(valued, pb::Dimension::Band)[1], ("band-2", false, 35));

    let csv = app
        .client
        .clone()
        .export_results_csv(app.signed(pb::ExportResultsCsvRequest {
            survey_id: survey.id.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .csv;
    assert!(csv.contains("staff group,,Healthcare support workers,withheld,withheld"));
    for line in csv
        .lines()
        .filter(|l| l.contains("Healthcare support workers"))
    {
        assert!(line.ends_with("withheld,withheld,,,"), "{line}");
    }

    // Responses were deleted at the close: only the results remain.
    assert!(
        app.strings("SELECT sheet FROM survey_response")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn two_results_either_side_of_one_response_cannot_exist() {
    let app = spawn_app().await;
    let survey = app.published_survey(pb::Distribution::OpenLink).await;
    for _ in 0..15 {
        app.submit(TestApp::answers(&survey, 4, ESTATES, "band-2"))
            .await
            .unwrap();
    }
    // Before: refused. So there is no "before" snapshot to compare with.
    assert_eq!(
        app.results(&survey.id).await.unwrap_err().code(),
        Code::FailedPrecondition
    );
    app.close(&survey.id).await;
    let first = app.results(&survey.id).await.unwrap();
    // After: the one more response is refused, and closing again computes nothing new.
    let late = app
        .submit(TestApp::answers(&survey, 1, ADMIN, "band-3"))
        .await
        .unwrap_err();
    assert_eq!(late.code(), Code::FailedPrecondition);
    app.close(&survey.id).await;
    let second = app.results(&survey.id).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(second.responses, 15);
}

#[tokio::test]
async fn free_text_is_shown_only_after_screening_and_flags_personal_details() {
    let app = spawn_app().await;
    let survey = app.published_survey(pb::Distribution::OpenLink).await;
    let free_text = survey.sections[0]
        .questions
        .iter()
        .find(|q| q.kind == pb::QuestionKind::FreeText as i32)
        .unwrap()
        .id
        .clone();
    for i in 0..12 {
        let mut answer = TestApp::answers(&survey, 4, ESTATES, "band-2");
        let text = match i {
            0 => "My supervisor Janet Hughes never says thanks, ring me on 07700 900123".to_owned(),
            1 => "Email me at sam.taylor@nhs.example".to_owned(),
            _ => format!("More thanks from managers, number {i}"),
        };
        answer.answers.push(pb::Answer {
            question_id: free_text.clone(),
            value: None,
            option_ids: Vec::new(),
            text,
        });
        app.submit(answer).await.unwrap();
    }
    let mut client = app.client.clone();
    let early = client
        .list_free_text_answers(app.signed(pb::ListFreeTextAnswersRequest {
            survey_id: survey.id.clone(),
            question_id: free_text.clone(),
            status: 0,
            flagged_only: false,
        }))
        .await
        .unwrap_err();
    assert_eq!(early.code(), Code::FailedPrecondition);
    app.close(&survey.id).await;

    let flagged = client
        .list_free_text_answers(app.signed(pb::ListFreeTextAnswersRequest {
            survey_id: survey.id.clone(),
            question_id: free_text.clone(),
            status: 0,
            flagged_only: true,
        }))
        .await
        .unwrap()
        .into_inner()
        .answers;
    assert_eq!(flagged.len(), 2);
    let janet = flagged.iter().find(|a| a.text.contains("Janet")).unwrap();
    assert!(janet.flags.contains(&(pb::Flag::Name as i32)));
    assert!(janet.flags.contains(&(pb::Flag::Phone as i32)));
    let email = flagged.iter().find(|a| a.text.contains('@')).unwrap();
    assert_eq!(email.flags, [pb::Flag::Email as i32]);

    // Unscreened answers are not in the results.
    let results = app.results(&survey.id).await.unwrap();
    let question = results
        .questions
        .iter()
        .find(|q| q.question_id == free_text)
        .unwrap();
    assert!(question.cells[0].comments.is_empty());
    assert_eq!(question.cells[0].responses, 12);

    let all = client
        .list_free_text_answers(app.signed(pb::ListFreeTextAnswersRequest {
            survey_id: survey.id.clone(),
            question_id: free_text.clone(),
            status: pb::ScreeningStatus::Unscreened as i32,
            flagged_only: false,
        }))
        .await
        .unwrap()
        .into_inner()
        .answers;
    assert_eq!(all.len(), 12);
    for answer in &all {
        let status = if answer.flags.is_empty() {
            pb::ScreeningStatus::Approved
        } else {
            pb::ScreeningStatus::Hidden
        };
        client
            .screen_free_text_answer(app.signed(pb::ScreenFreeTextAnswerRequest {
                survey_id: survey.id.clone(),
                answer_id: answer.id.clone(),
                status: status as i32,
            }))
            .await
            .unwrap();
    }
    let results = app.results(&survey.id).await.unwrap();
    let question = results
        .questions
        .iter()
        .find(|q| q.question_id == free_text)
        .unwrap();
    assert_eq!(question.cells[0].comments.len(), 10);
    assert!(
        question.cells[0]
            .comments
            .iter()
            .all(|c| c.starts_with("More thanks"))
    );
    // Hidden text is erased, not kept.
    let dump = app
        .strings("SELECT text FROM survey_free_text")
        .await
        .join(" ");
    assert!(!dump.contains("Janet") && !dump.contains("sam.taylor"));
}

#[tokio::test]
async fn a_closed_survey_under_the_minimum_shows_no_figure() {
    let app = spawn_app().await;
    let survey = app.published_survey(pb::Distribution::OpenLink).await;
    for _ in 0..10 {
        app.submit(TestApp::answers(&survey, 2, ESTATES, "band-2"))
            .await
            .unwrap();
    }
    app.close(&survey.id).await;
    let results = app.results(&survey.id).await.unwrap();
    assert!(results.total_withheld);
    assert_eq!(results.responses, 0);
    assert!(
        results
            .questions
            .iter()
            .flat_map(|q| &q.cells)
            .all(|c| c.withheld && c.responses == 0 && c.counts.iter().all(|n| n.count == 0))
    );
}
