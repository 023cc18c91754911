//! Erasing a person from the nomination service: what they nominated stays counted without naming
//! them, what is about them loses them, what never counted goes, and the request's progress shows
//! this service's answer.

use std::time::Duration;

use sea_orm::{EntityTrait, PaginatorTrait};
use valued_nomination::auth::Actor;
use valued_nomination::db::entities::{draft, nomination};
use valued_nomination::erasure::{ERASED, progress, request};
use valued_platform::outbox::Outbox;
use valued_proto::events::v1::{ErasureRequested, PersonErased};
use valued_proto::nomination::v1 as pb;

use crate::helpers::spawn_app;

#[tokio::test]
async fn an_erased_nominator_and_nominee_leave_the_counts_but_not_their_names() {
    let mut app = spawn_app().await;
    // Alex nominates Sam (confirmed) and Jo (never confirmed); Chris nominates Alex by work address.
    let of_sam = app.submit_confirmed(app.valid_request()).await;
    let of_jo = app
        .client
        .submit_nomination(pb::SubmitNominationRequest {
            nominee_name: "Jo Bloggs".into(),
            ..app.valid_request()
        })
        .await
        .unwrap()
        .into_inner()
        .nomination_id;
    let of_alex = app
        .submit_confirmed(pb::SubmitNominationRequest {
            nominee_name: "Alex Jones".into(),
            nominee_email: "Alex@Example.org".into(),
            nominator_name: "Chris Day".into(),
            nominator_email: "chris@example.org".into(),
            story: "Alex keeps the whole ward laughing through night shifts.".into(),
            ..app.valid_request()
        })
        .await;
    app.client
        .save_draft(pb::SaveDraftRequest {
            draft_token: String::new(),
            answers: Some(pb::SubmitNominationRequest {
                nominator_email: "ALEX@example.org".into(),
                ..app.valid_request()
            }),
            email_resume_link: false,
        })
        .await
        .unwrap();
    let before = app.nomination_count().await;

    let outbox = Outbox::detached("nomination");
    let id = request(&app.db, &outbox, "alex@example.org", &Actor::CommandLine)
        .await
        .unwrap();

    // The service's own consumer erases and answers.
    let mut answered = None;
    for _ in 0..200 {
        let now = progress(&app.db, id).await.unwrap();
        if !now.answered.is_empty() {
            answered = Some(now);
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let answered = answered.expect("the nomination service answers its own request");
    assert_eq!(answered.answered[0].0, "nomination");
    assert_eq!(
        answered.waiting,
        ["voting", "survey-feedback", "notification"]
    );

    let sam = app.stored(&of_sam).await;
    assert_eq!(sam.nominator_name, ERASED);
    assert_eq!(sam.nominator_email, "");
    assert_eq!(sam.status, "pending", "what they nominated still counts");
    let alex = app.stored(&of_alex).await;
    assert_eq!(
        (
            alex.nominee_name.as_str(),
            alex.story.as_str(),
            alex.nominee_email.as_str()
        ),
        (ERASED, ERASED, "")
    );
    assert_eq!(
        alex.nominator_name, "Chris Day",
        "the other nominator is kept"
    );
    assert!(
        nomination::Entity::find_by_id(uuid::Uuid::parse_str(&of_jo).unwrap())
            .one(&app.db)
            .await
            .unwrap()
            .is_none(),
        "the unconfirmed nomination never counted and is gone"
    );
    assert_eq!(app.nomination_count().await, before - 1);
    assert_eq!(draft::Entity::find().count(&app.db).await.unwrap(), 0);
    let (nominee, _) = app.nominee(&app.nominee_of(&of_alex).await).await;
    assert_eq!(
        (nominee.name.as_str(), nominee.email.as_str()),
        (ERASED, "")
    );

    // The request went out to every service, and the answer names only the request.
    let requested = app.events::<ErasureRequested>().await;
    assert_eq!(requested.len(), 1);
    assert_eq!(requested[0].request_id, id.to_string());
    let answers = app.events::<PersonErased>().await;
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].service, "nomination");
}
