//! The whole life of a national campaign: two regions, three trusts, trust admins, region admins,
//! judges and a platform admin, every admin call signed in through a real OpenID Connect provider.

use std::collections::HashMap;
use valued_platform::outbox::Outbox;

use chrono::{Duration, Utc};
use sea_orm::{ActiveValue, EntityTrait};
use uuid::Uuid;
use valued_nomination::auth::{Actor, Role, grant};
use valued_nomination::db::entities::campaign;
use valued_proto::events::v1::{FinalistAnnounced, MoreInfoRequested, NomineeThanked};
use valued_proto::nomination::v1::{self as pb, SubmitNominationRequest};

use crate::helpers::{PLATFORM_ADMIN, TestApp, signed, spawn_admin_app, verified_token};

/// Moves the campaign's timetable so that `now` falls in judging (`judging = true`) or after it.
async fn advance(app: &TestApp, judging: bool) {
    let now = Utc::now();
    let close = if judging {
        now + Duration::days(10)
    } else {
        now - Duration::seconds(1)
    };
    campaign::Entity::update(campaign::ActiveModel {
        id: ActiveValue::Unchanged(app.campaign.id.parse::<Uuid>().unwrap()),
        nominations_open_at: ActiveValue::Set(Some(now - Duration::days(30))),
        nominations_close_at: ActiveValue::Set(Some(now - Duration::days(1) - Duration::hours(1))),
        judging_close_at: ActiveValue::Set(Some(close)),
        ..Default::default()
    })
    .exec(&app.db)
    .await
    .unwrap();
}

fn nomination(app: &TestApp, trust: &str, name: &str, nominator: &str) -> SubmitNominationRequest {
    SubmitNominationRequest {
        trust_code: trust.into(),
        nominee_name: name.into(),
        nominator_name: "A Colleague".into(),
        nominator_email: nominator.into(),
        story: format!(
            "{name} keeps the hospital moving, day and night, and always has a kind word."
        ),
        ..app.valid_request()
    }
}

#[tokio::test]
async fn a_national_campaign_goes_from_nomination_to_regional_finalists() {
    let (mut app, provider) = spawn_admin_app().await;
    let porter = app.campaign.categories[0].id.clone();

    // Nominations in London (RJ1) and the Midlands (RRK, RX1); Sam twice.
    let sam = app
        .submit_confirmed(nomination(&app, "RJ1", "Sam Patel", "alex@example.org"))
        .await;
    let sam_again = app
        .submit_confirmed(nomination(&app, "RJ1", "sam patel", "chris@example.org"))
        .await;
    let jo = app
        .submit_confirmed(nomination(&app, "RRK", "Jo Bloggs", "dee@example.org"))
        .await;
    let lee = app
        .submit_confirmed(nomination(&app, "RX1", "Lee Chen", "eve@example.org"))
        .await;
    let unconfirmed = app
        .client
        .submit_nomination(nomination(&app, "RX1", "Pat Kay", "fay@example.org"))
        .await
        .unwrap()
        .into_inner()
        .nomination_id;

    // Each nominee consents separately: Sam to everything, Jo to being listed only, Lee to nothing.
    let thanked = app.events::<NomineeThanked>().await;
    assert_eq!(thanked.len(), 3, "one thank-you per person: {thanked:?}");
    let consents = [
        ("Sam Patel", (true, true, true)),
        ("Jo Bloggs", (true, false, false)),
        ("Lee Chen", (false, false, false)),
    ];
    for (name, (listed, story, mp)) in consents {
        let thanks = thanked.iter().find(|t| t.nominee_name == name).unwrap();
        // No work address was given: each claims the thank-you their manager passed on.
        let own = format!("{}@example.org", name.to_lowercase().replace(' ', "."));
        let consent_token = app.claim(thanks, &own).await;
        let asked = app
            .client
            .get_consent(pb::GetConsentRequest {
                consent_token: consent_token.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(!asked.answered);
        app.client
            .record_consent(pb::RecordConsentRequest {
                consent_token,
                consent: Some(pb::Consent {
                    listed_publicly: listed,
                    story_published: story,
                    shared_with_mp: mp,
                }),
            })
            .await
            .unwrap();
    }
    let sam_thanks = thanked
        .iter()
        .find(|t| t.nominee_name == "Sam Patel")
        .unwrap();
    assert_eq!(
        sam_thanks.nomination_count, 1,
        "thanked at the first confirmation"
    );

    // Trust admins moderate their own trust's queue.
    let rj1 = verified_token(&provider, "awards@rj1.example.org").await;
    let rrk = verified_token(&provider, "awards@rrk.example.org").await;
    let rx1 = verified_token(&provider, "awards@rx1.example.org").await;
    for (email, code) in [
        ("awards@rj1.example.org", "RJ1"),
        ("awards@rrk.example.org", "RRK"),
        ("awards@rx1.example.org", "RX1"),
    ] {
        grant(
            &app.db,
            &Outbox::detached("nomination"),
            &Actor::CommandLine,
            email,
            Role::TrustAdmin,
            code,
        )
        .await
        .unwrap();
    }
    let queue = app
        .client
        .list_moderation_queue(signed(
            &rj1,
            pb::ListModerationQueueRequest {
                campaign_id: app.campaign.id.clone(),
                trust_code: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .nominations;
    let mut queued: Vec<&str> = queue.iter().map(|n| n.id.as_str()).collect();
    queued.sort_unstable();
    let mut expected = vec![sam.as_str(), sam_again.as_str()];
    expected.sort_unstable();
    assert_eq!(
        queued, expected,
        "RJ1 sees only its own confirmed nominations"
    );
    let rx1_queue = app
        .client
        .list_moderation_queue(signed(
            &rx1,
            pb::ListModerationQueueRequest {
                campaign_id: app.campaign.id.clone(),
                trust_code: "RX1".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .nominations;
    assert!(
        rx1_queue.iter().all(|n| n.id != unconfirmed),
        "an unconfirmed nomination is not in the queue"
    );

    let decide = |token: &str, id: &str, action: &str, reason: &str| {
        signed(
            token,
            pb::ModerateNominationRequest {
                nomination_id: id.into(),
                action: action.into(),
                reason: reason.into(),
            },
        )
    };
    app.client
        .moderate_nomination(decide(
            &rrk,
            &jo,
            "request_info",
            "Which ward does Jo work on?",
        ))
        .await
        .unwrap();
    let asked = app.events::<MoreInfoRequested>().await;
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].nominator_email, "dee@example.org");
    assert_eq!(asked[0].question, "Which ward does Jo work on?");
    assert_eq!(asked[0].reply_to, "awards@uhb.example.org");
    let refused = app
        .client
        .moderate_nomination(decide(&rrk, &jo, "reject", ""))
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        tonic::Code::InvalidArgument,
        "a rejection needs a reason"
    );
    for (token, id) in [(&rj1, &sam), (&rj1, &sam_again), (&rrk, &jo), (&rx1, &lee)] {
        let decided = app
            .client
            .moderate_nomination(decide(token, id, "approve", ""))
            .await
            .unwrap()
            .into_inner()
            .nomination
            .unwrap();
        assert_eq!(decided.status, "approved");
    }
    let audit = app
        .client
        .list_audit_log(signed(
            &rrk,
            pb::ListAuditLogRequest {
                trust_code: "RRK".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .entries;
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .map(|e| (e.actor.as_str(), e.action.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("awards@rrk.example.org", "approve"),
            ("awards@rrk.example.org", "request_info"),
            ("awards@rrk.example.org", "bind_role"),
            ("command line", "grant_role"),
        ],
        "newest first, with who did it (the admin's own role granted and bound first)"
    );
    assert!(audit.iter().all(|e| e.at.is_some()));

    // The platform admin sets the rubric and the porters' panel.
    let admin = verified_token(&provider, PLATFORM_ADMIN).await;
    let rubric = app
        .client
        .set_rubric(signed(
            &admin,
            pb::SetRubricRequest {
                campaign_id: app.campaign.id.clone(),
                criteria: vec![
                    pb::Criterion {
                        id: String::new(),
                        name: "Impact on patients".into(),
                        weight: 3,
                    },
                    pb::Criterion {
                        id: String::new(),
                        name: "Going the extra mile".into(),
                        weight: 1,
                    },
                ],
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .criteria;
    for judge in ["judge.one@example.org", "judge.two@example.org"] {
        app.client
            .assign_judge(signed(
                &admin,
                pb::AssignJudgeRequest {
                    campaign_id: app.campaign.id.clone(),
                    category_id: porter.clone(),
                    judge_email: judge.into(),
                },
            ))
            .await
            .unwrap();
    }
    let one = verified_token(&provider, "judge.one@example.org").await;
    let two = verified_token(&provider, "judge.two@example.org").await;
    let scores = |impact: u32, extra: u32| -> HashMap<String, u32> {
        HashMap::from([
            (rubric[0].id.clone(), impact),
            (rubric[1].id.clone(), extra),
        ])
    };
    let score = |token: &str, id: &str, given: HashMap<String, u32>| {
        signed(
            token,
            pb::ScoreNominationRequest {
                nomination_id: id.into(),
                scores: given,
            },
        )
    };

    // Judging opens only when nominations close.
    let early = app
        .client
        .score_nomination(score(&one, &sam, scores(5, 5)))
        .await
        .unwrap_err();
    assert_eq!(early.code(), tonic::Code::FailedPrecondition);
    advance(&app, true).await;

    let work = app
        .client
        .list_judging_work(signed(
            &two,
            pb::ListJudgingWorkRequest {
                campaign_id: app.campaign.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((work.scored, work.total), (0, 4));
    app.client
        .declare_conflict(signed(
            &two,
            pb::DeclareConflictRequest {
                nomination_id: sam.clone(),
                reason: "Sam is my brother".into(),
            },
        ))
        .await
        .unwrap();
    let conflicted = app
        .client
        .score_nomination(score(&two, &sam, scores(1, 1)))
        .await
        .unwrap_err();
    assert_eq!(conflicted.code(), tonic::Code::PermissionDenied);

    // Weighted: (3·impact + extra) / 4, averaged over the judges who scored.
    for (id, one_gave, two_gave) in [
        (&sam, scores(5, 5), None),
        (&sam_again, scores(2, 2), Some(scores(2, 2))),
        (&jo, scores(4, 0), Some(scores(4, 4))),
        (&lee, scores(5, 4), Some(scores(5, 4))),
    ] {
        app.client
            .score_nomination(score(&one, id, one_gave))
            .await
            .unwrap();
        if let Some(given) = two_gave {
            app.client
                .score_nomination(score(&two, id, given))
                .await
                .unwrap();
        }
    }
    let incomplete = app
        .client
        .score_nomination(score(&one, &jo, HashMap::from([(rubric[0].id.clone(), 4)])))
        .await
        .unwrap_err();
    assert_eq!(incomplete.code(), tonic::Code::InvalidArgument);

    let shortlist = app
        .client
        .get_shortlist(signed(
            &admin,
            pb::GetShortlistRequest {
                campaign_id: app.campaign.id.clone(),
                category_id: porter.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let ranked: Vec<(&str, f64)> = shortlist
        .entries
        .iter()
        .map(|e| (e.nomination.as_ref().unwrap().id.as_str(), e.weighted_score))
        .collect();
    assert_eq!(
        ranked,
        [
            (sam.as_str(), 5.0),
            (lee.as_str(), 4.75),
            (jo.as_str(), 3.5),
            (sam_again.as_str(), 2.0)
        ]
    );
    let progress: Vec<(&str, u32, u32)> = shortlist
        .progress
        .iter()
        .map(|p| (p.judge_email.as_str(), p.scored, p.total))
        .collect();
    assert_eq!(
        progress,
        [
            ("judge.one@example.org", 4, 4),
            ("judge.two@example.org", 3, 3)
        ],
        "the conflict takes Sam off judge two's list"
    );

    // Finalists are chosen once judging closes, per region, by that region's admin.
    let midlands = verified_token(&provider, "midlands@example.org").await;
    let london = verified_token(&provider, "london@example.org").await;
    grant(
        &app.db,
        &Outbox::detached("nomination"),
        &Actor::CommandLine,
        "midlands@example.org",
        Role::RegionAdmin,
        "Y60",
    )
    .await
    .unwrap();
    grant(
        &app.db,
        &Outbox::detached("nomination"),
        &Actor::CommandLine,
        "london@example.org",
        Role::RegionAdmin,
        "Y56",
    )
    .await
    .unwrap();
    let announce = |token: &str, region: &str, ids: Vec<String>| {
        signed(
            token,
            pb::AnnounceFinalistsRequest {
                campaign_id: app.campaign.id.clone(),
                category_id: porter.clone(),
                region_code: region.into(),
                nomination_ids: ids,
            },
        )
    };
    let too_soon = app
        .client
        .announce_finalists(announce(&midlands, "Y60", vec![jo.clone()]))
        .await
        .unwrap_err();
    assert_eq!(too_soon.code(), tonic::Code::FailedPrecondition);
    advance(&app, false).await;

    let not_theirs = app
        .client
        .announce_finalists(announce(&london, "Y60", vec![jo.clone()]))
        .await
        .unwrap_err();
    assert_eq!(not_theirs.code(), tonic::Code::PermissionDenied);
    let no_consent = app
        .client
        .announce_finalists(announce(&midlands, "Y60", vec![lee.clone()]))
        .await
        .unwrap_err();
    assert_eq!(no_consent.code(), tonic::Code::FailedPrecondition);
    assert!(
        no_consent
            .message()
            .contains("not agreed to be listed publicly")
    );
    app.client
        .announce_finalists(announce(&midlands, "Y60", vec![jo.clone()]))
        .await
        .unwrap();
    // The campaign's public vote goes per region from here: the announcements say so.
    campaign::Entity::update(campaign::ActiveModel {
        id: ActiveValue::Unchanged(app.campaign.id.parse::<Uuid>().unwrap()),
        vote_per_region: ActiveValue::Set(true),
        ..Default::default()
    })
    .exec(&app.db)
    .await
    .unwrap();
    app.client
        .announce_finalists(announce(&london, "Y56", vec![sam.clone()]))
        .await
        .unwrap();
    // Announcing again tells nobody twice.
    app.client
        .announce_finalists(announce(&london, "Y56", vec![sam.clone()]))
        .await
        .unwrap();

    let announced = app.events::<FinalistAnnounced>().await;
    // Each says whose campaign it is (who runs its public vote) and how the vote is divided.
    let campaign = app.campaign.clone();
    let described: Vec<(&str, &str, &str, bool)> = announced
        .iter()
        .map(|e| {
            let finalist = e.finalist.as_ref().unwrap();
            (
                finalist.region_code.as_str(),
                e.campaign_scope.as_str(),
                e.campaign_scope_code.as_str(),
                e.vote_per_region,
            )
        })
        .collect();
    assert_eq!(
        described,
        [
            (
                "Y60",
                campaign.scope.as_str(),
                campaign.scope_code.as_str(),
                false
            ),
            (
                "Y56",
                campaign.scope.as_str(),
                campaign.scope_code.as_str(),
                true
            ),
        ]
    );
    assert_eq!(campaign.scope, "national");
    let finalists: Vec<_> = announced.into_iter().map(|e| e.finalist.unwrap()).collect();
    assert_eq!(finalists.len(), 2);
    let sam_final = finalists.iter().find(|f| f.nomination_id == sam).unwrap();
    assert_eq!(sam_final.region_code, "Y56");
    assert_eq!(sam_final.region_name, "London");
    assert!(sam_final.story_excerpt.starts_with("Sam Patel keeps"));
    assert!(sam_final.share_with_mp);
    assert_eq!(sam_final.workplace_postcode, "SE1 7EH");
    let mut nominators = sam_final.nominator_emails.clone();
    nominators.sort();
    assert_eq!(nominators, ["alex@example.org", "chris@example.org"]);
    let jo_final = finalists.iter().find(|f| f.nomination_id == jo).unwrap();
    assert_eq!(jo_final.nominee_name, "Jo Bloggs");
    assert!(
        jo_final.story_excerpt.is_empty(),
        "Jo did not agree to publication"
    );
    assert!(!jo_final.share_with_mp);
    assert!(jo_final.workplace_postcode.is_empty());

    let public = app
        .client
        .list_recognised(pb::ListRecognisedRequest {
            campaign_id: app.campaign.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    let listed: Vec<(&str, &str, bool)> = public
        .iter()
        .map(|e| {
            (
                e.nominee_name.as_str(),
                e.region_name.as_str(),
                e.story.is_empty(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("Sam Patel", "London", false),
            ("Jo Bloggs", "Midlands", true)
        ]
    );
}
