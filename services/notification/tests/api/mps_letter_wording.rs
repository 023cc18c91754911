//! "Email your MP" for a campaign: the starting letter its own admins suggest, read by anyone, and
//! the count of letters confirmed, which retention deleting letters does not lower.

use std::time::Duration;

use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QueryOrder};
use tonic::Code;
use valued_notification::mps::write_to_mp::entity::{wording, wording_change};
use valued_proto::notification::v1::{
    ConfirmMpLetterRequest, CountMpLettersRequest, CountMpLettersResponse,
    GetMpLetterWordingRequest, ListHeldLettersRequest, MpLetterCampaign, ReviewHeldLetterRequest,
    SetMpLetterWordingRequest,
};

use crate::write_to_mp::{LetterApp, OWN_WORDS, letter, spawn};

/// A campaign of a trust, one of the nation, and one of a region.
const TRUST_CAMPAIGN: &str = "0193a1b2-0000-7000-8000-00000000a001";
const NATIONAL_CAMPAIGN: &str = "0193a1b2-0000-7000-8000-00000000a002";
const REGION_CAMPAIGN: &str = "0193a1b2-0000-7000-8000-00000000a003";

const WORDING: &str = "Dear [MP's name], I am writing as your constituent about the porters, \
    cleaners and caterers of our hospital, who keep it running and are rarely thanked.";

fn campaign(id: &str, scope: &str, code: &str) -> MpLetterCampaign {
    MpLetterCampaign {
        campaign_id: id.into(),
        slug: "heroes".into(),
        name: "Heroes".into(),
        scope: scope.into(),
        scope_code: code.into(),
    }
}

fn set(described: MpLetterCampaign, wording: &str) -> SetMpLetterWordingRequest {
    SetMpLetterWordingRequest {
        campaign: Some(described),
        wording: wording.into(),
        clear: false,
    }
}

impl LetterApp {
    /// An ID token for `email`, once the service's copy of the grants holds `role` over `scope`
    /// for them.
    async fn holding(&self, email: &str, role: &str, scope: &str) -> String {
        let app = &self.app;
        app.publish(&[valued_testkit::roles::grant(
            &app.provider,
            email,
            role,
            scope,
        )])
        .await;
        valued_testkit::roles::copied_grant(&app.db, email, role, scope)
            .await
            .unwrap();
        app.provider.verified_id_token(email).await.unwrap()
    }

    async fn wording_of(&mut self, campaign_id: &str) -> String {
        self.client
            .get_mp_letter_wording(GetMpLetterWordingRequest {
                campaign_id: campaign_id.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .wording
    }

    async fn count(&mut self, campaign_id: &str) -> (u64, u64) {
        let CountMpLettersResponse {
            letters,
            campaign_letters,
        } = self
            .client
            .count_mp_letters(CountMpLettersRequest {
                campaign_id: campaign_id.into(),
            })
            .await
            .unwrap()
            .into_inner();
        (letters, campaign_letters)
    }

    async fn changes(&self) -> Vec<wording_change::Model> {
        wording_change::Entity::find()
            .order_by_asc(wording_change::Column::Id)
            .all(&self.app.db)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_campaigns_admin_sets_and_clears_its_wording_and_anyone_reads_it() {
    let mut app = spawn(50).await;
    assert_eq!(app.wording_of(TRUST_CAMPAIGN).await, "", "none yet");
    let ours = app
        .holding("awards@rj1.example.org", "trust_admin", "RJ1")
        .await;

    let stored = app
        .client
        .set_mp_letter_wording(valued_testkit::roles::signed(
            &ours,
            set(
                campaign(TRUST_CAMPAIGN, "trust", "RJ1"),
                &format!("  {WORDING}\n"),
            ),
        ))
        .await
        .unwrap()
        .into_inner()
        .wording;
    assert_eq!(stored, WORDING, "trimmed");
    // Public: read without anyone signed in.
    assert_eq!(app.wording_of(TRUST_CAMPAIGN).await, WORDING);
    assert_eq!(app.wording_of(NATIONAL_CAMPAIGN).await, "");

    // A region's admins set their region campaign's.
    let region = app
        .holding("lead@y56.example.org", "region_admin", "Y56")
        .await;
    app.client
        .set_mp_letter_wording(valued_testkit::roles::signed(
            &region,
            set(campaign(REGION_CAMPAIGN, "region", "Y56"), WORDING),
        ))
        .await
        .unwrap();
    assert_eq!(app.wording_of(REGION_CAMPAIGN).await, WORDING);

    // A platform admin clears it.
    let cleared = app
        .client
        .set_mp_letter_wording(app.app.signed(SetMpLetterWordingRequest {
            campaign: Some(campaign(TRUST_CAMPAIGN, "trust", "RJ1")),
            wording: String::new(),
            clear: true,
        }))
        .await
        .unwrap()
        .into_inner()
        .wording;
    assert_eq!(cleared, "");
    assert_eq!(app.wording_of(TRUST_CAMPAIGN).await, "");

    // Both changes are on record with who made them, and the record cannot be rewritten.
    let changes: Vec<(String, Option<String>, String)> = app
        .changes()
        .await
        .into_iter()
        .map(|c| (c.change, c.wording, c.admin_email))
        .collect();
    assert_eq!(
        changes,
        [
            (
                "set".to_owned(),
                Some(WORDING.to_owned()),
                "awards@rj1.example.org".to_owned()
            ),
            (
                "set".to_owned(),
                Some(WORDING.to_owned()),
                "lead@y56.example.org".to_owned()
            ),
            (
                "clear".to_owned(),
                None,
                crate::mps_support::PLATFORM_ADMIN.to_owned()
            ),
        ]
    );
    let refused = app
        .app
        .db
        .execute_unprepared("DELETE FROM mp_letter_wording_change")
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("append-only"), "{refused}");
}

#[tokio::test]
async fn anyone_but_the_campaigns_admins_is_refused_and_nothing_is_stored() {
    let mut app = spawn(50).await;
    let other_trust = app
        .holding("awards@rj2.example.org", "trust_admin", "RJ2")
        .await;
    let other_region = app
        .holding("lead@y60.example.org", "region_admin", "Y60")
        .await;
    let nobody = app
        .app
        .provider
        .verified_id_token("nobody@example.org")
        .await
        .unwrap();
    let ours = app
        .holding("awards@rj1.example.org", "trust_admin", "RJ1")
        .await;

    let anonymous = app
        .client
        .set_mp_letter_wording(set(campaign(TRUST_CAMPAIGN, "trust", "RJ1"), WORDING))
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    for (token, described, who) in [
        (&nobody, campaign(TRUST_CAMPAIGN, "trust", "RJ1"), "no role"),
        (
            &other_trust,
            campaign(TRUST_CAMPAIGN, "trust", "RJ1"),
            "another trust's admin",
        ),
        (
            &other_region,
            campaign(TRUST_CAMPAIGN, "trust", "RJ1"),
            "another region's admin",
        ),
        (
            &ours,
            campaign(NATIONAL_CAMPAIGN, "national", ""),
            "a trust admin, for a national campaign",
        ),
        // Refused before anything typed is looked at.
        (
            &ours,
            MpLetterCampaign::default(),
            "a trust admin, no campaign",
        ),
    ] {
        let refused = app
            .client
            .set_mp_letter_wording(valued_testkit::roles::signed(
                token,
                set(described, "short"),
            ))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "{who}");
    }
    assert_eq!(wording::Entity::find().count(&app.app.db).await.unwrap(), 0);
    assert!(app.changes().await.is_empty());

    // Once set, the campaign's scope is the one first described: describing it as another
    // trust's campaign does not let that trust's admins change it.
    app.client
        .set_mp_letter_wording(valued_testkit::roles::signed(
            &ours,
            set(campaign(TRUST_CAMPAIGN, "trust", "RJ1"), WORDING),
        ))
        .await
        .unwrap();
    let retold = app
        .client
        .set_mp_letter_wording(valued_testkit::roles::signed(
            &other_trust,
            set(
                campaign(TRUST_CAMPAIGN, "trust", "RJ2"),
                &format!("{WORDING} Changed."),
            ),
        ))
        .await
        .unwrap_err();
    assert_eq!(retold.code(), Code::PermissionDenied);
    assert_eq!(app.wording_of(TRUST_CAMPAIGN).await, WORDING);
    assert_eq!(app.changes().await.len(), 1);
}

#[tokio::test]
async fn bad_input_is_named_field_by_field_and_changes_nothing() {
    let mut app = spawn(50).await;
    let fields = async |app: &mut LetterApp, request: SetMpLetterWordingRequest| {
        let refused = app
            .client
            .set_mp_letter_wording(app.app.signed(request))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument);
        valued_platform::grpc::field_errors(&refused)
            .into_iter()
            .map(|e| (e.field, e.message))
            .collect::<Vec<_>>()
    };
    let short = fields(
        &mut app,
        set(
            campaign(TRUST_CAMPAIGN, "trust", "RJ1"),
            "  Dear MP, please help.  ",
        ),
    )
    .await;
    assert_eq!(
        short,
        [(
            "wording".to_owned(),
            "Write the suggested letter (50 characters or more)".to_owned()
        )]
    );
    let long = fields(
        &mut app,
        set(campaign(TRUST_CAMPAIGN, "trust", "RJ1"), &"a".repeat(5001)),
    )
    .await;
    assert_eq!(
        long,
        [(
            "wording".to_owned(),
            "The suggested letter must be 5000 characters or fewer".to_owned()
        )]
    );
    let no_campaign = fields(&mut app, set(MpLetterCampaign::default(), WORDING)).await;
    assert_eq!(no_campaign[0].0, "campaign");
    let malformed = app
        .client
        .get_mp_letter_wording(GetMpLetterWordingRequest {
            campaign_id: "not-an-id".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert_eq!(wording::Entity::find().count(&app.app.db).await.unwrap(), 0);
    assert!(app.changes().await.is_empty());
}

/// Each letter counts once, when confirmed (a second click adds nothing), in all and for its
/// campaign; and the count stays when retention deletes a letter it counted.
#[tokio::test]
async fn the_count_grows_once_per_confirmed_letter_and_survives_retention() {
    let mut app = spawn(1).await;
    assert_eq!(app.count(TRUST_CAMPAIGN).await, (0, 0));
    let for_campaign = |email: &str, body: &str| {
        let mut request = letter("A Supporter", email, body);
        request.campaign_id = TRUST_CAMPAIGN.into();
        request
    };
    app.client
        .write_to_mp(for_campaign("one@example.org", OWN_WORDS[0]))
        .await
        .unwrap();
    assert_eq!(app.count(TRUST_CAMPAIGN).await, (0, 0), "not yet confirmed");
    // The link followed twice at once: one confirmation, counted once.
    let token = app.confirm_token("one@example.org").await;
    let click = || {
        let mut client = app.client.clone();
        let request = ConfirmMpLetterRequest {
            token: token.clone(),
        };
        async move {
            client
                .confirm_mp_letter(request)
                .await
                .unwrap()
                .into_inner()
        }
    };
    let (first, second) = tokio::join!(click(), click());
    assert_eq!(
        (first.status.as_str(), second.status.as_str()),
        ("sent", "sent")
    );
    assert_eq!(app.count(TRUST_CAMPAIGN).await, (1, 1));
    assert_eq!(app.confirm("one@example.org").await, "sent");
    assert_eq!(app.count(TRUST_CAMPAIGN).await, (1, 1), "the link again");

    // A letter for no campaign counts in all only; over the day's threshold of one, it is held.
    app.write("Two Supporter", "two@example.org", OWN_WORDS[1])
        .await;
    assert_eq!(app.confirm("two@example.org").await, "held");
    assert_eq!(app.count(TRUST_CAMPAIGN).await, (2, 1));
    assert_eq!(app.count("").await, (2, 0));

    // A malformed campaign is named.
    let mut bad = for_campaign("three@example.org", OWN_WORDS[2]);
    bad.campaign_id = "heroes".into();
    let refused = app.client.write_to_mp(bad).await.unwrap_err();
    let fields: Vec<String> = valued_platform::grpc::field_errors(&refused)
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(fields, ["campaign_id"]);

    // The held letter is discarded; five weeks on, retention deletes it and pseudonymises the
    // sent one. The count is what it was.
    let held = app
        .client
        .list_held_letters(app.app.signed(ListHeldLettersRequest {}))
        .await
        .unwrap()
        .into_inner()
        .letters;
    app.client
        .review_held_letter(app.app.signed(ReviewHeldLetterRequest {
            letter_id: held[0].id.clone(),
            send: false,
        }))
        .await
        .unwrap();
    for _ in 0..100 {
        if !app.to_mp().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.app
        .db
        .execute_unprepared(
            "UPDATE mp_letter SET created_at = created_at - INTERVAL '35 days', \
             confirmed_at = confirmed_at - INTERVAL '35 days'",
        )
        .await
        .unwrap();
    let report = app.app.retention.run(chrono::Utc::now()).await.unwrap();
    assert_eq!((report.discarded_letters, report.sent_letters), (1, 1));
    assert_eq!(
        valued_notification::mps::write_to_mp::entity::Entity::find()
            .count(&app.app.db)
            .await
            .unwrap(),
        1
    );
    assert_eq!(app.count(TRUST_CAMPAIGN).await, (2, 1));
}
