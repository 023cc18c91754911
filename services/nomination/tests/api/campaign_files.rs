//! Files uploaded as resources of a campaign's page, over gRPC, on PostgreSQL and on the embedded
//! default's SQLite: only the campaign's own admins upload; the type is the content's (an
//! executable named `.pdf` is refused), an empty or oversized file and a missing title are named
//! and store nothing; the page lists the file with its safe name, type and size; anyone downloads
//! its exact bytes through the public call, only from its own campaign; adding and removing are
//! audited, and removing the item deletes the bytes.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tonic::Code;
use uuid::Uuid;
use valued_nomination::auth::Role;
use valued_nomination::db::entities::{audit_log, campaign_file, campaign_item};
use valued_platform::DatabaseSettings;
use valued_platform::grpc::CAMPAIGN_FILE_MAX_BYTES;
use valued_proto::nomination::v1 as pb;
use valued_testkit::oidc::OidcProvider;

use crate::helpers::{
    TestApp, cli_grant, signed, spawn_admin_app, spawn_admin_app_on, trust_campaign, verified_token,
};

const SLUG: &str = "rj1-staff-awards";

/// A small PDF: what the service takes it for is its first bytes.
fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n".to_vec()
}

async fn upload(
    app: &TestApp,
    token: &str,
    campaign_id: &str,
    (title, name, content): (&str, &str, Vec<u8>),
) -> Result<pb::CampaignItem, tonic::Status> {
    app.client
        .clone()
        .add_campaign_item(signed(
            token,
            pb::AddCampaignItemRequest {
                campaign_id: campaign_id.to_owned(),
                item: Some(pb::CampaignItem {
                    kind: "resource".into(),
                    title: title.into(),
                    ..pb::CampaignItem::default()
                }),
                file_content: content,
                file_name: name.into(),
            },
        ))
        .await
        .map(|r| r.into_inner().item.unwrap())
}

async fn download(
    app: &TestApp,
    slug: &str,
    item_id: &str,
) -> Result<pb::GetCampaignFileResponse, tonic::Status> {
    // As the gateway's client: a file may be larger than tonic's default 4 MB message.
    app.client
        .clone()
        .max_decoding_message_size(valued_platform::grpc::FILE_MESSAGE_MAX_BYTES)
        .get_campaign_file(pb::GetCampaignFileRequest {
            campaign_slug: slug.into(),
            item_id: item_id.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn files(app: &TestApp) -> u64 {
    campaign_file::Entity::find().count(&app.db).await.unwrap()
}

fn refused_field(status: &tonic::Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    valued_platform::grpc::field_errors(status)
        .into_iter()
        .map(|e| e.field)
        .collect()
}

async fn uploads_are_checked_listed_served_and_removed(mut app: TestApp, provider: &OidcProvider) {
    let (campaign_id, _) = trust_campaign(&mut app, "RJ1").await;
    cli_grant(&app, "awards@rj1.example.org", Role::TrustAdmin, "RJ1").await;
    let admin = verified_token(provider, "awards@rj1.example.org").await;
    cli_grant(&app, "awards@rrk.example.org", Role::TrustAdmin, "RRK").await;
    let other = verified_token(provider, "awards@rrk.example.org").await;

    // Another trust's admin may not; bad files and a missing title are named; nothing is stored.
    let poster = ("Poster for staff rooms", "Poster A3 (final).pdf", pdf());
    let refused = upload(&app, &other, &campaign_id, poster.clone())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let mut program = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".to_vec();
    program.resize(4096, 0);
    let renamed = upload(
        &app,
        &admin,
        &campaign_id,
        ("Poster", "poster.pdf", program),
    )
    .await
    .unwrap_err();
    assert_eq!(refused_field(&renamed), ["file"]);
    assert!(renamed.message().contains("PDF, PNG, JPEG"), "{renamed:?}");
    let mut oversized = pdf();
    oversized.resize(CAMPAIGN_FILE_MAX_BYTES + 1, b' ');
    let big = upload(
        &app,
        &admin,
        &campaign_id,
        ("Poster", "poster.pdf", oversized),
    )
    .await
    .unwrap_err();
    assert_eq!(refused_field(&big), ["file"]);
    let empty = upload(
        &app,
        &admin,
        &campaign_id,
        ("Poster", "poster.pdf", Vec::new()),
    )
    .await
    .unwrap_err();
    assert_eq!(refused_field(&empty), ["file"]);
    let untitled = upload(&app, &admin, &campaign_id, ("", "poster.pdf", pdf()))
        .await
        .unwrap_err();
    assert_eq!(refused_field(&untitled), ["title"]);
    assert_eq!(files(&app).await, 0);
    assert_eq!(
        campaign_item::Entity::find().count(&app.db).await.unwrap(),
        0
    );

    // A PDF as large as is taken goes through the service's raised message limit.
    let mut largest = pdf();
    largest.resize(CAMPAIGN_FILE_MAX_BYTES, b' ');
    let toolkit = upload(
        &app,
        &admin,
        &campaign_id,
        ("Toolkit", "toolkit.pdf", largest),
    )
    .await
    .unwrap();
    let added = upload(&app, &admin, &campaign_id, poster).await.unwrap();
    let file = added.file.clone().unwrap();
    assert_eq!(added.url, "");
    assert_eq!(file.name, "Poster-A3-final.pdf");
    assert_eq!(file.content_type, "application/pdf");
    assert_eq!(file.label, "PDF");
    assert_eq!(file.size, pdf().len() as u64);

    // The public campaign lists it; anyone downloads its exact bytes, but not through another
    // campaign's address, nor a link resource's id.
    let shown = app
        .client
        .clone()
        .get_campaign(pb::GetCampaignRequest { slug: SLUG.into() })
        .await
        .unwrap()
        .into_inner()
        .campaign
        .unwrap();
    let listed = shown.items.iter().find(|i| i.id == added.id).unwrap();
    assert_eq!(listed.file.as_ref(), Some(&file));
    let got = download(&app, SLUG, &added.id).await.unwrap();
    assert_eq!(got.content, pdf());
    assert_eq!(got.file.as_ref(), Some(&file));
    let demo = valued_nomination::DEMO_CAMPAIGN_SLUG;
    assert_eq!(
        download(&app, demo, &added.id).await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(
        download(&app, SLUG, &Uuid::now_v7().to_string())
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    assert_eq!(
        download(&app, SLUG, "not-an-id").await.unwrap_err().code(),
        Code::NotFound
    );

    // Removing the item deletes its bytes; both are in the audit log with the file named.
    app.client
        .clone()
        .remove_campaign_item(signed(
            &admin,
            pb::RemoveCampaignItemRequest {
                campaign_id: campaign_id.clone(),
                item_id: added.id.clone(),
            },
        ))
        .await
        .unwrap();
    assert_eq!(files(&app).await, 1, "the toolkit's stays");
    assert!(
        campaign_file::Entity::find_by_id(Uuid::parse_str(&added.id).unwrap())
            .one(&app.db)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        download(&app, SLUG, &added.id).await.unwrap_err().code(),
        Code::NotFound
    );
    assert_eq!(
        download(&app, SLUG, &toolkit.id)
            .await
            .unwrap()
            .content
            .len(),
        CAMPAIGN_FILE_MAX_BYTES
    );
    let audited: Vec<String> = audit_log::Entity::find()
        .filter(
            audit_log::Column::Action
                .is_in(["campaign page item added", "campaign page item removed"]),
        )
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|row| format!("{}: {}", row.action, row.detail))
        .collect();
    assert_eq!(audited.len(), 3, "{audited:?}");
    assert!(
        audited
            .iter()
            .any(|line| line.starts_with("campaign page item removed")
                && line.contains("Poster-A3-final.pdf, PDF")),
        "{audited:?}"
    );
}

#[tokio::test]
async fn campaign_files_are_checked_listed_served_and_removed_on_postgresql() {
    let (app, provider) = spawn_admin_app().await;
    uploads_are_checked_listed_served_and_removed(app, &provider).await;
}

#[tokio::test]
async fn campaign_files_are_checked_listed_served_and_removed_on_sqlite() {
    let file = std::env::temp_dir().join(format!("valued-files-{}.db", Uuid::now_v7()));
    let database = DatabaseSettings::postgres(format!("sqlite://{}?mode=rwc", file.display()));
    let (app, provider) = spawn_admin_app_on(database).await;
    uploads_are_checked_listed_served_and_removed(app, &provider).await;
    let _ = std::fs::remove_file(file);
}
