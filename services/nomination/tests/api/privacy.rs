//! Subject access and erasure over gRPC, for platform admins only: the export is this service's
//! part of the file `valued export-person` writes, and every export and erasure request is audited
//! without the address, which the audit log keeps past an erasure.

use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use valued_nomination::auth::{Actor, Role, grant};
use valued_nomination::db::entities::audit_log;
use valued_platform::outbox::Outbox;
use valued_proto::nomination::v1 as pb;

use crate::helpers::{PLATFORM_ADMIN, signed, spawn_admin_app, verified_token};

const ALEX: &str = "alex@example.org";

#[tokio::test]
async fn a_platform_admin_exports_and_erases_and_both_are_audited() {
    let (mut app, provider) = spawn_admin_app().await;
    app.submit_confirmed(app.valid_request()).await;
    let admin = verified_token(&provider, PLATFORM_ADMIN).await;

    let held = app
        .client
        .export_person(signed(
            &admin,
            pb::ExportPersonRequest {
                email: " Alex@Example.org ".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .json;
    let held: serde_json::Value = serde_json::from_str(&held).unwrap();
    assert_eq!(
        held["nominations_made"].as_array().unwrap().len(),
        1,
        "{held:#}"
    );
    assert_eq!(held["nominations_made"][0]["nominee_name"], "Sam Patel");

    let bad = app
        .client
        .export_person(signed(
            &admin,
            pb::ExportPersonRequest {
                email: "not an address".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    assert_eq!(valued_platform::grpc::field_errors(&bad)[0].field, "email");

    let id = app
        .client
        .request_erasure(signed(
            &admin,
            pb::RequestErasureRequest { email: ALEX.into() },
        ))
        .await
        .unwrap()
        .into_inner()
        .request_id;
    // This service erases its own data and answers; the others, not running here, never do.
    let mut progress = pb::ErasureProgress::default();
    for _ in 0..200 {
        progress = app
            .client
            .get_erasure_progress(signed(
                &admin,
                pb::GetErasureProgressRequest {
                    request_id: id.clone(),
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .progress
            .unwrap();
        if progress.services.iter().any(|s| s.erased) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(progress.requested_by, PLATFORM_ADMIN);
    assert!(!progress.done);
    let states: Vec<(&str, bool)> = progress
        .services
        .iter()
        .map(|s| (s.service.as_str(), s.erased))
        .collect();
    assert_eq!(
        states,
        [
            ("nomination", true),
            ("voting", false),
            ("survey-feedback", false),
            ("notification", false)
        ]
    );
    assert!(progress.services[0].records >= 1);

    let listed = app
        .client
        .list_erasure_requests(signed(&admin, pb::ListErasureRequestsRequest {}))
        .await
        .unwrap()
        .into_inner()
        .requests;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].request_id, id);
    for unknown in ["0193a1b2-0000-7000-8000-000000000001", "not an id"] {
        let status = app
            .client
            .get_erasure_progress(signed(
                &admin,
                pb::GetErasureProgressRequest {
                    request_id: unknown.into(),
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::NotFound, "{unknown}");
    }

    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Actor.eq(PLATFORM_ADMIN))
        .all(&app.db)
        .await
        .unwrap();
    let actions: Vec<&str> = audited
        .iter()
        .map(|e| e.action.as_str())
        .filter(|a| *a != "bind_role")
        .collect();
    assert_eq!(actions, ["export_person", "request_erasure"]);
    for entry in &audited {
        assert!(!entry.detail.contains(ALEX), "{}", entry.detail);
    }
    assert!(audited[1..].iter().any(|e| e.detail.contains(&id)));
}

#[tokio::test]
async fn nobody_but_a_platform_admin_exports_or_erases() {
    let (app, provider) = spawn_admin_app().await;
    let outbox = Outbox::detached("nomination");
    let region = "region@y60.example.org";
    grant(
        &app.db,
        &outbox,
        &Actor::CommandLine,
        region,
        Role::RegionAdmin,
        "Y60",
    )
    .await
    .unwrap();
    let token = verified_token(&provider, region).await;
    let mut client = app.client.clone();
    let email = || ALEX.to_owned();
    let refusals = [
        client
            .export_person(signed(&token, pb::ExportPersonRequest { email: email() }))
            .await
            .map(|_| ()),
        client
            .request_erasure(signed(&token, pb::RequestErasureRequest { email: email() }))
            .await
            .map(|_| ()),
        client
            .get_erasure_progress(signed(
                &token,
                pb::GetErasureProgressRequest {
                    request_id: "0193a1b2-0000-7000-8000-000000000001".into(),
                },
            ))
            .await
            .map(|_| ()),
        client
            .list_erasure_requests(signed(&token, pb::ListErasureRequestsRequest {}))
            .await
            .map(|_| ()),
    ];
    for refused in refusals {
        assert_eq!(refused.unwrap_err().code(), tonic::Code::PermissionDenied);
    }
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Actor.eq(region))
        .all(&app.db)
        .await
        .unwrap();
    assert!(
        audited.iter().all(|e| e.action == "bind_role"),
        "{audited:?}"
    );
}
