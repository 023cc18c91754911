//! Against someone who can read every table, hidden column, outbox and broker message: after a
//! run with invitations, no response can be joined to the invitation (or so the person) that
//! sent it.

use valued_proto::events::Event;
use valued_proto::events::v1::SurveyInvitationRequested;
use valued_proto::survey::v1 as pb;

use crate::helpers::{ESTATES, TestApp, spawn_app};

const BANDS: [&str; 6] = ["band-1", "band-2", "band-3", "band-4", "band-5", "band-6"];

/// The i-th respondent's answers: unique to them, so the test can tell responses apart.
fn answer_of(survey: &pb::Survey, i: usize, code: &str) -> pb::SubmitResponseRequest {
    let mut answer = TestApp::answers(survey, (i % 5) as u32 + 1, ESTATES, BANDS[i / 5]);
    answer.slug = String::new();
    answer.invitation_code = code.to_owned();
    answer
}

/// The i of a stored sheet (see [`answer_of`]).
fn respondent(sheet: &str) -> usize {
    let sheet: serde_json::Value = serde_json::from_str(sheet).unwrap();
    let band = BANDS.iter().position(|b| sheet["band"] == *b).unwrap();
    let point = sheet["answers"]
        .as_object()
        .unwrap()
        .values()
        .find_map(serde_json::Value::as_u64)
        .unwrap() as usize;
    band * 5 + point - 1
}

#[tokio::test]
async fn with_full_database_access_no_response_joins_to_its_invitation() {
    let app = spawn_app().await;
    let survey = app.published_survey(pb::Distribution::Invitation).await;
    let mut codes = app.codes(&survey.id, 25).await;
    app.client
        .clone()
        .invite_by_email(app.signed(pb::InviteByEmailRequest {
            survey_id: survey.id.clone(),
            emails: (0..5).map(|i| format!("person{i}@nhs.example")).collect(),
        }))
        .await
        .unwrap();
    let invitations: Vec<SurveyInvitationRequested> = app
        .published()
        .await
        .iter()
        .filter(|e| e.event_type == SurveyInvitationRequested::TYPE)
        .map(|e| e.decode().unwrap())
        .collect();
    codes.extend(invitations.iter().map(|e| e.code.clone()));
    assert_eq!(codes.len(), 30);
    let events_before = app.published().await.len();
    let survey_xmin = app.strings("SELECT xmin::text FROM survey").await;
    let invitation_xmins = app
        .strings("SELECT xmin::text FROM survey_invitation ORDER BY code_hash")
        .await;
    let pending_file = app
        .strings("SELECT pg_relation_filenode('survey_pending_response')::text")
        .await;

    // Respondent i uses code i, in order.
    for (i, code) in codes.iter().enumerate() {
        app.submit(answer_of(&survey, i, code)).await.unwrap();
    }
    assert_eq!(app.mix().await, 30);

    // Nothing was published, and nothing is waiting to be, for any response.
    let published = app.published().await;
    assert_eq!(published.len(), events_before);
    assert!(
        published
            .iter()
            .all(|e| e.event_type == SurveyInvitationRequested::TYPE)
    );
    assert!(
        app.strings("SELECT event_type FROM outbox")
            .await
            .is_empty()
    );

    // Neither the survey row nor the invitations were written by answering.
    assert_eq!(
        app.strings("SELECT xmin::text FROM survey").await,
        survey_xmin
    );
    assert_eq!(
        app.strings("SELECT xmin::text FROM survey_invitation ORDER BY code_hash")
            .await,
        invitation_xmins
    );

    // No time on anything a response or a use of a code left behind.
    let timed = app
        .strings(
            "SELECT table_name || '.' || column_name FROM information_schema.columns \
             WHERE table_name IN ('survey_response', 'survey_pending_response', \
             'survey_used_code', 'survey_invitation') \
             AND (data_type LIKE 'timestamp%' OR data_type IN ('date', 'time', 'interval'))",
        )
        .await;
    assert!(timed.is_empty(), "{timed:?}");

    // The waiting rooms are empty and were truncated (a new file: their dead rows are gone).
    assert!(
        app.strings("SELECT sheet FROM survey_pending_response")
            .await
            .is_empty()
    );
    assert_ne!(
        app.strings("SELECT pg_relation_filenode('survey_pending_response')::text")
            .await,
        pending_file
    );

    // Every mixed response and every used code carry the same transaction id: the mix's.
    let mut xmins = app.strings("SELECT xmin::text FROM survey_response").await;
    xmins.extend(app.strings("SELECT xmin::text FROM survey_used_code").await);
    xmins.dedup();
    assert_eq!(xmins.len(), 1, "{xmins:?}");

    // No shared ids: a response's id appears nowhere else, its sheet holds no code or hash.
    let ids = app.strings("SELECT id::text FROM survey_response").await;
    let hashes = app.strings("SELECT code_hash FROM survey_used_code").await;
    assert_eq!((ids.len(), hashes.len()), (30, 30));
    let sheets = app
        .strings("SELECT sheet FROM survey_response ORDER BY ctid")
        .await;
    for sheet in &sheets {
        for code in &codes {
            assert!(!sheet.contains(code.as_str()));
        }
        for hash in &hashes {
            assert!(!sheet.contains(hash.as_str()));
        }
    }
    let everything_else = app
        .strings(
            "SELECT CAST(t.* AS text) FROM survey_used_code t \
             UNION ALL SELECT CAST(t.* AS text) FROM survey_invitation t \
             UNION ALL SELECT CAST(t.* AS text) FROM survey t",
        )
        .await
        .join(" ");
    for id in &ids {
        assert!(!everything_else.contains(id.as_str()));
    }

    // Row order says nothing about who answered when: neither table is in answering order, nor
    // in the same order as the other.
    let answer_order: Vec<usize> = sheets.iter().map(|s| respondent(s)).collect();
    let mut sorted = answer_order.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..30).collect::<Vec<_>>());
    let in_order: Vec<usize> = (0..30).collect();
    let reversed: Vec<usize> = (0..30).rev().collect();
    assert_ne!(answer_order, in_order);
    assert_ne!(answer_order, reversed);
    let code_order: Vec<usize> = app
        .strings("SELECT code_hash FROM survey_used_code ORDER BY ctid")
        .await
        .iter()
        .map(|h| {
            codes
                .iter()
                .position(|c| {
                    valued_survey_feedback::domain::codes::hash(
                        &valued_survey_feedback::domain::codes::normalise("c", c).unwrap(),
                    ) == *h
                })
                .unwrap()
        })
        .collect();
    assert_ne!(code_order, in_order);
    assert_ne!(code_order, reversed);
    assert_ne!(code_order, answer_order);

    // At the close the responses go; what remains is the results and free text with new ids.
    app.close(&survey.id).await;
    assert!(
        app.strings("SELECT sheet FROM survey_response")
            .await
            .is_empty()
    );
    assert!(
        app.strings("SELECT code_hash FROM survey_used_code")
            .await
            .is_empty()
    );
    assert!(
        app.strings("SELECT code_hash FROM survey_invitation")
            .await
            .is_empty()
    );
    let results = app.results(&survey.id).await.unwrap();
    assert_eq!(results.responses, 30);
}
