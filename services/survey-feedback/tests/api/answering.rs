use std::collections::HashSet;

use tonic::Code;
use valued_proto::survey::v1 as pb;

use crate::helpers::{ESTATES, TestApp, fields, spawn_app, spawn_embedded_app_with_minimum};

#[tokio::test]
async fn staff_answer_an_open_survey_by_its_link_and_every_bad_answer_is_named() {
    let app = spawn_app().await;
    let survey = app.published_survey(pb::Distribution::OpenLink).await;
    let mut client = app.client.clone();
    let to_answer = client
        .get_survey_to_answer(pb::GetSurveyToAnswerRequest {
            by: Some(pb::get_survey_to_answer_request::By::Slug(
                survey.slug.clone(),
            )),
        })
        .await
        .unwrap()
        .into_inner()
        .survey
        .unwrap();
    assert_eq!(to_answer.sections, survey.sections);
    assert_eq!(to_answer.fixed_trust.unwrap().code, "RR8");
    assert_eq!(to_answer.staff_groups.len(), 4);
    assert_eq!(to_answer.minimum_group_size, 11);

    let mut bad = TestApp::answers(&survey, 7, "porters", "band-2");
    bad.answers.remove(1);
    let refused = app.submit(bad).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    let questions: Vec<_> = survey.sections[0]
        .questions
        .iter()
        .map(|q| q.id.clone())
        .collect();
    let named = fields(&refused);
    assert!(named.contains(&format!("answers.{}", questions[0])));
    assert!(named.contains(&format!("answers.{}", questions[1])));
    assert!(named.contains(&"staff_group".to_owned()));

    let accepted = app
        .submit(TestApp::answers(&survey, 4, ESTATES, "band-2"))
        .await;
    assert!(accepted.is_ok(), "{accepted:?}");
    assert_eq!(
        app.strings("SELECT sheet FROM survey_pending_response")
            .await
            .len(),
        1
    );
    // Nothing is published for a response.
    assert!(app.published().await.is_empty());
}

#[tokio::test]
async fn a_closed_survey_takes_no_more_responses() {
    let app = spawn_app().await;
    let survey = app.published_survey(pb::Distribution::OpenLink).await;
    app.submit(TestApp::answers(&survey, 4, ESTATES, "band-2"))
        .await
        .unwrap();
    app.close(&survey.id).await;
    let refused = app
        .submit(TestApp::answers(&survey, 4, ESTATES, "band-2"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("closed"));
}

#[tokio::test]
async fn an_invitation_only_survey_needs_a_code_and_each_code_answers_once() {
    let app = spawn_app().await;
    let survey = app.published_survey(pb::Distribution::Invitation).await;
    let codes = app.codes(&survey.id, 3).await;
    assert_eq!(codes.len(), 3);
    assert_eq!(codes.iter().collect::<HashSet<_>>().len(), 3);
    // Only hashes are stored.
    let stored = app.strings("SELECT code_hash FROM survey_invitation").await;
    assert_eq!(stored.len(), 3);
    for code in &codes {
        assert!(!stored.iter().any(|s| s.contains(&code.replace('-', ""))));
    }

    let without = app
        .submit(TestApp::answers(&survey, 4, ESTATES, "band-2"))
        .await
        .unwrap_err();
    assert_eq!(fields(&without), ["invitation_code"]);

    let mut client = app.client.clone();
    let opened = client
        .get_survey_to_answer(pb::GetSurveyToAnswerRequest {
            by: Some(pb::get_survey_to_answer_request::By::InvitationCode(
                codes[0].to_lowercase(),
            )),
        })
        .await
        .unwrap()
        .into_inner()
        .survey
        .unwrap();
    assert_eq!(opened.title, survey.title);
    // The invitation-only survey's slug is not handed out.
    assert!(opened.slug.is_empty());

    let mut answer = TestApp::answers(&survey, 4, ESTATES, "band-2");
    answer.slug = String::new();
    answer.invitation_code = codes[0].clone();
    app.submit(answer.clone()).await.unwrap();
    let again = app.submit(answer.clone()).await.unwrap_err();
    assert_eq!(again.code(), Code::NotFound);
    let gone = client
        .get_survey_to_answer(pb::GetSurveyToAnswerRequest {
            by: Some(pb::get_survey_to_answer_request::By::InvitationCode(
                codes[0].clone(),
            )),
        })
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    // A bad answer does not use the code up.
    let mut bad = answer.clone();
    bad.invitation_code = codes[1].clone();
    bad.answers.clear();
    app.submit(bad).await.unwrap_err();
    answer.invitation_code = codes[1].clone();
    app.submit(answer).await.unwrap();
}

/// An invitation answers once under 100 concurrent attempts.
#[tokio::test]
async fn an_invitation_answers_once_under_a_hundred_concurrent_attempts() {
    let app = spawn_app().await;
    let survey = app.published_survey(pb::Distribution::Invitation).await;
    let code = app.codes(&survey.id, 1).await.remove(0);
    let mut answer = TestApp::answers(&survey, 4, ESTATES, "band-2");
    answer.slug = String::new();
    answer.invitation_code = code;
    let attempts = (0..100).map(|_| {
        let app = &app;
        let answer = answer.clone();
        async move { app.submit(answer).await }
    });
    let outcomes = futures::future::join_all(attempts).await;
    let accepted = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(
        accepted,
        1,
        "{:?}",
        outcomes
            .iter()
            .filter_map(|o| o.as_ref().err())
            .map(|e| e.code())
            .collect::<HashSet<_>>()
    );
    for refused in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert!(
            matches!(refused.code(), Code::AlreadyExists | Code::NotFound),
            "{refused:?}"
        );
    }
    app.mix().await;
    assert_eq!(
        app.strings("SELECT sheet FROM survey_response").await.len(),
        1
    );
    assert_eq!(
        app.strings("SELECT code_hash FROM survey_used_code")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn the_embedded_default_takes_answers_and_invitations_the_same_way() {
    let app = spawn_embedded_app_with_minimum(11).await;
    let survey = app.published_survey(pb::Distribution::Invitation).await;
    let codes = app.codes(&survey.id, 12).await;
    for code in &codes {
        let mut answer = TestApp::answers(&survey, 5, ESTATES, "band-2");
        answer.slug = String::new();
        answer.invitation_code = code.clone();
        app.submit(answer.clone()).await.unwrap();
        assert!(app.submit(answer).await.is_err());
    }
    assert_eq!(app.mix().await, 12);
    assert_eq!(
        app.strings("SELECT sheet FROM survey_response").await.len(),
        12
    );
    assert!(
        app.strings("SELECT sheet FROM survey_pending_response")
            .await
            .is_empty()
    );
    app.close(&survey.id).await;
    let results = app.results(&survey.id).await.unwrap();
    assert_eq!(results.responses, 12);
    assert!(
        app.strings("SELECT code_hash FROM survey_used_code")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn invitations_are_emailed_through_an_event_and_the_addresses_are_not_kept() {
    let app = spawn_app().await;
    let survey = app.published_survey(pb::Distribution::Invitation).await;
    let mut client = app.client.clone();
    let refused = client
        .invite_by_email(app.signed(pb::InviteByEmailRequest {
            survey_id: survey.id.clone(),
            emails: vec!["sam@nhs.example".into(), "not an address".into()],
        }))
        .await
        .unwrap_err();
    assert_eq!(fields(&refused), ["emails[1]"]);
    assert!(app.published().await.is_empty());
    let invited = client
        .invite_by_email(app.signed(pb::InviteByEmailRequest {
            survey_id: survey.id.clone(),
            emails: vec![
                "sam@nhs.example".into(),
                "alex@nhs.example".into(),
                "Sam@NHS.example".into(),
            ],
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(invited.invited, 2);
    let events: Vec<pb_events::SurveyInvitationRequested> = app
        .published()
        .await
        .iter()
        .map(|e| e.decode().unwrap())
        .collect();
    assert_eq!(events.len(), 2);
    // Each emailed code opens the survey.
    let opened = client
        .get_survey_to_answer(pb::GetSurveyToAnswerRequest {
            by: Some(pb::get_survey_to_answer_request::By::InvitationCode(
                events[0].code.clone(),
            )),
        })
        .await;
    assert!(opened.is_ok());
    for table in ["survey", "survey_invitation"] {
        let dump = app
            .strings(&format!("SELECT CAST(t.* AS text) FROM {table} t"))
            .await
            .join(" ");
        assert!(!dump.contains("nhs.example"), "{table} keeps an address");
    }
}

use valued_proto::events::v1 as pb_events;
