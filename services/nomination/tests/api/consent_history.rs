//! Consent history: every answer a nominee gives is kept, dated, and announced; the latest is what
//! counts.

use valued_proto::events::v1::{ConsentChanged, NomineeThanked};

use crate::helpers::{consent_answer, spawn_app};

#[tokio::test]
async fn every_answer_is_kept_dated_and_announced_and_the_latest_counts() {
    let mut app = spawn_app().await;
    let id = app.submit_confirmed(app.valid_request()).await;
    let thanks = app.events::<NomineeThanked>().await;
    let token = app.claim(&thanks[0], "sam@example.org").await;

    app.client
        .record_consent(consent_answer(&token, true, true, true))
        .await
        .unwrap();
    // They change their mind: still listed, but no story and nothing to their MP.
    app.client
        .record_consent(consent_answer(&token, true, false, false))
        .await
        .unwrap();
    let refused = app
        .client
        .record_consent(consent_answer("not-a-token", false, false, false))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::NotFound);

    let history = app.consent_history().await;
    let sam = Some("sam@example.org".to_owned());
    assert_eq!(
        history,
        [(true, true, true, sam.clone()), (true, false, false, sam)]
    );

    let nominee_id = app.nominee_of(&id).await;
    let announced: Vec<(String, bool, bool, bool)> = app
        .events::<ConsentChanged>()
        .await
        .into_iter()
        .map(|c| {
            (
                c.nominee_id,
                c.listed_publicly,
                c.story_published,
                c.shared_with_mp,
            )
        })
        .collect();
    assert_eq!(
        announced,
        [
            (nominee_id.clone(), true, true, true),
            (nominee_id.clone(), true, false, false)
        ]
    );
    let (nominee, _) = app.nominee(&nominee_id).await;
    assert!(nominee.listed_publicly && !nominee.story_published && !nominee.shared_with_mp);
}
