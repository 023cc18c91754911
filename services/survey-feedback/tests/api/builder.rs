use tonic::Code;
use valued_proto::survey::v1 as pb;

use crate::helpers::{fields, spawn_app};

#[tokio::test]
async fn a_survey_starts_from_the_feeling_valued_set_and_is_built_section_by_section() {
    let app = spawn_app().await;
    let survey = app.draft_survey(pb::Scope::Trust, "rr8").await;
    assert_eq!(survey.scope_code, "RR8");
    assert_eq!(survey.status, pb::SurveyStatus::Draft as i32);
    let texts: Vec<_> = survey.sections[0]
        .questions
        .iter()
        .map(|q| q.text.as_str())
        .collect();
    assert!(texts.contains(&"I feel valued by my organisation"));
    assert!(texts.contains(&"I would recommend my organisation as a place to work"));
    assert!(texts.contains(&"I often think about leaving my organisation"));
    assert!(
        survey.sections[0]
            .questions
            .iter()
            .all(|q| q.standard_key.starts_with("feeling-valued/"))
    );

    let mut client = app.client.clone();
    let added = client
        .add_section(app.signed(pb::AddSectionRequest {
            survey_id: survey.id.clone(),
            title: "Your shifts".into(),
            description: String::new(),
        }))
        .await
        .unwrap()
        .into_inner();
    let question = client
        .add_question(
            app.signed(pb::AddQuestionRequest {
                survey_id: survey.id.clone(),
                section_id: added.section_id.clone(),
                question: Some(pb::QuestionInput {
                    kind: pb::QuestionKind::MultipleChoice as i32,
                    text: "Which shifts do you work?".into(),
                    hint: String::new(),
                    required: false,
                    options: ["Days", "Nights", "Weekends"]
                        .iter()
                        .map(|l| pb::Option {
                            id: String::new(),
                            label: (*l).into(),
                        })
                        .collect(),
                }),
            }),
        )
        .await
        .unwrap()
        .into_inner();
    let moved = client
        .move_section(app.signed(pb::MoveSectionRequest {
            survey_id: survey.id.clone(),
            section_id: added.section_id.clone(),
            position: 0,
        }))
        .await
        .unwrap()
        .into_inner()
        .survey
        .unwrap();
    assert_eq!(moved.sections[0].title, "Your shifts");
    assert_eq!(moved.sections[0].questions[0].id, question.question_id);
    assert_eq!(moved.sections[0].questions[0].options.len(), 3);

    // Every bad field of a question is named.
    let refused = client
        .add_question(app.signed(pb::AddQuestionRequest {
            survey_id: survey.id.clone(),
            section_id: added.section_id.clone(),
            question: Some(pb::QuestionInput {
                kind: pb::QuestionKind::SingleChoice as i32,
                text: String::new(),
                hint: String::new(),
                required: true,
                options: vec![pb::Option {
                    id: String::new(),
                    label: "Only one".into(),
                }],
            }),
        }))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(fields(&refused), ["question.text", "question.options"]);

    // The preview is the survey as respondents will see it.
    let preview = client
        .get_survey(app.signed(pb::GetSurveyRequest {
            survey_id: survey.id.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .survey
        .unwrap();
    assert_eq!(preview.sections.len(), 2);
    let listed = client
        .list_surveys(app.signed(pb::ListSurveysRequest {}))
        .await
        .unwrap()
        .into_inner()
        .surveys;
    assert_eq!(listed.len(), 1);
}

#[tokio::test]
async fn publishing_locks_the_questions_and_the_anonymity_settings() {
    let app = spawn_app().await;
    let survey = app.published_survey(pb::Distribution::OpenLink).await;
    assert_eq!(survey.status, pb::SurveyStatus::Published as i32);
    let mut client = app.client.clone();
    let refused = client
        .remove_question(app.signed(pb::RemoveQuestionRequest {
            survey_id: survey.id.clone(),
            question_id: survey.sections[0].questions[0].id.clone(),
        }))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let refused = client
        .update_survey(app.signed(pb::UpdateSurveyRequest {
            survey_id: survey.id.clone(),
            title: "Changed".into(),
            distribution: pb::Distribution::OpenLink as i32,
            anonymity: Some(pb::Anonymity {
                minimum_group_size: 30,
            }),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    let unchanged = client
        .get_survey(app.signed(pb::GetSurveyRequest {
            survey_id: survey.id.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .survey
        .unwrap();
    assert_eq!(unchanged.sections, survey.sections);
    assert_eq!(unchanged.minimum_group_size, 11);
}

#[tokio::test]
async fn a_survey_cannot_be_published_without_a_closing_date_and_the_minimum_cannot_be_lowered() {
    let app = spawn_app().await;
    let survey = app.draft_survey(pb::Scope::National, "").await;
    let mut client = app.client.clone();
    let refused = client
        .publish_survey(app.signed(pb::PublishSurveyRequest {
            survey_id: survey.id.clone(),
        }))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("closing date"));
    let refused = client
        .update_survey(app.signed(pb::UpdateSurveyRequest {
            survey_id: survey.id.clone(),
            title: "National survey".into(),
            distribution: pb::Distribution::OpenLink as i32,
            anonymity: Some(pb::Anonymity {
                minimum_group_size: 5,
            }),
            demographics: Some(pb::Demographics {
                trusts: vec![pb::Group {
                    code: "RR8".into(),
                    label: "Leeds".into(),
                }],
                sites: vec![pb::SiteGroup {
                    trust_code: "RXX".into(),
                    code: "S1".into(),
                    label: "Somewhere".into(),
                }],
                ask_staff_group: true,
                ask_band: false,
            }),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(
        fields(&refused),
        ["demographics.sites[0]", "anonymity.minimum_group_size"]
    );
}

#[tokio::test]
async fn admins_run_only_their_own_trusts_and_regions_surveys() {
    let app = spawn_app().await;
    let leeds = app
        .admin_with("leeds@nhs.example", ("trust_admin", "RR8"))
        .await;
    let york = app
        .admin_with("york@nhs.example", ("trust_admin", "RCB"))
        .await;
    let region = app
        .admin_with("ne@nhs.example", ("region_admin", "Y63"))
        .await;
    let mut client = app.client.clone();
    let create = |token: &str, scope: pb::Scope, code: &str| {
        valued_testkit::roles::signed(
            token,
            pb::CreateSurveyRequest {
                scope: scope as i32,
                scope_code: code.into(),
                title: "Survey".into(),
                starting_set: pb::StartingSet::Empty as i32,
            },
        )
    };
    let survey = client
        .create_survey(create(&leeds, pb::Scope::Trust, "RR8"))
        .await
        .unwrap()
        .into_inner()
        .survey
        .unwrap();
    for (token, scope, code) in [
        (&york, pb::Scope::Trust, "RR8"),
        (&leeds, pb::Scope::Region, "Y63"),
        (&region, pb::Scope::National, ""),
    ] {
        let refused = client
            .create_survey(create(token, scope, code))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
    }
    client
        .create_survey(create(&region, pb::Scope::Region, "Y63"))
        .await
        .unwrap();
    // York's admin cannot see or change Leeds's survey, nor tell it from one that does not exist.
    let theirs = client
        .get_survey(valued_testkit::roles::signed(
            &york,
            pb::GetSurveyRequest {
                survey_id: survey.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    let missing = client
        .get_survey(valued_testkit::roles::signed(
            &york,
            pb::GetSurveyRequest {
                survey_id: uuid::Uuid::now_v7().to_string(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(theirs.code(), Code::PermissionDenied);
    assert_eq!(theirs.message(), missing.message());
    let listed = client
        .list_surveys(valued_testkit::roles::signed(
            &york,
            pb::ListSurveysRequest {},
        ))
        .await
        .unwrap()
        .into_inner()
        .surveys;
    assert!(listed.is_empty());
    let anonymous = client
        .get_survey(pb::GetSurveyRequest {
            survey_id: survey.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
}
