//! The MP directory imported from the House of Commons list (`data/mp_lookup.csv`).

use std::collections::BTreeSet;

use valued_notification::mps::directory::members;
use valued_notification::mps::{self, ImportError};

use crate::mps_support::{MP_LOOKUP_CSV, fresh_database, import_file};

/// The members the README of the data says cannot be emailed as published: four with "No email
/// found", six with addresses outside parliament.uk.
const UNUSABLE: [i32; 10] = [3924, 4382, 4493, 4399, 4263, 54, 4095, 473, 5097, 4697];

fn real_file() -> String {
    std::fs::read_to_string(MP_LOOKUP_CSV).unwrap()
}

async fn import_text(
    db: &sea_orm::DatabaseConnection,
    text: &str,
) -> Result<mps::ImportSummary, ImportError> {
    mps::import(db, text.as_bytes(), &indicatif::ProgressBar::hidden()).await
}

#[tokio::test]
async fn the_house_of_commons_imports_with_exactly_the_unusable_addresses_flagged() {
    let (_, db) = fresh_database().await;
    let summary = import_file(&db, MP_LOOKUP_CSV).await.unwrap();
    assert_eq!((summary.members, summary.added), (650, 650));
    let flagged: BTreeSet<i32> = summary.needs_check.iter().map(|f| f.member_id).collect();
    assert_eq!(flagged, UNUSABLE.into_iter().collect());

    let stored = members(&db).await.unwrap();
    assert_eq!(stored.len(), 650);
    let stored_flagged: BTreeSet<i32> = stored
        .iter()
        .filter(|m| m.needs_check)
        .map(|m| m.member_id)
        .collect();
    assert_eq!(stored_flagged, flagged);
    let lucy = stored.iter().find(|m| m.member_id == 4263).unwrap();
    assert_eq!(lucy.constituency_code, "E14001352");
    assert_eq!(
        lucy.email, "contact@lucypowell.org.uk",
        "kept as given, never guessed"
    );
    assert!(
        lucy.check_reason
            .as_deref()
            .unwrap()
            .contains("parliament.uk")
    );
    let preston = stored.iter().find(|m| m.member_id == 473).unwrap();
    assert_eq!(preston.check_reason.as_deref(), Some("no email address"));
    let aldershot = stored.iter().find(|m| m.member_id == 5173).unwrap();
    assert_eq!(
        (
            aldershot.constituency_code.as_str(),
            aldershot.email.as_str()
        ),
        ("E14001063", "alex.baker.mp@parliament.uk")
    );
    assert!(!aldershot.needs_check);
}

#[tokio::test]
async fn reimporting_changes_nothing_and_a_new_list_replaces_members_who_left() {
    let (_, db) = fresh_database().await;
    import_file(&db, MP_LOOKUP_CSV).await.unwrap();
    let before = members(&db).await.unwrap();

    let again = import_file(&db, MP_LOOKUP_CSV).await.unwrap();
    assert_eq!(
        (again.added, again.updated, again.removed, again.unchanged),
        (0, 0, 0, 650)
    );
    assert_eq!(members(&db).await.unwrap(), before);

    // Aldershot has a new MP, and Amber Valley's MP gave a parliament.uk address.
    let next = real_file()
        .replace(
            "\"5173\",\"Alex Baker MP\",\"Alex Baker\",\"Labour\",\"alex.baker.mp@parliament.uk\"",
            "\"99999\",\"Sam Example MP\",\"Sam Example\",\"Independent\",\"sam.example.mp@parliament.uk\"",
        )
        .replace(
            "linsey.farnsworth.mp@parliament.uk",
            "farnsworthl@parliament.uk",
        );
    let summary = import_text(&db, &next).await.unwrap();
    assert_eq!(
        (
            summary.added,
            summary.updated,
            summary.removed,
            summary.members
        ),
        (1, 1, 1, 650)
    );
    let after = members(&db).await.unwrap();
    assert_eq!(after.len(), 650);
    assert!(after.iter().all(|m| m.member_id != 5173));
    let aldershot = after
        .iter()
        .find(|m| m.constituency_code == "E14001063")
        .unwrap();
    assert_eq!(
        (aldershot.member_id, aldershot.display_as.as_str()),
        (99999, "Sam Example")
    );
    let amber = after.iter().find(|m| m.member_id == 5107).unwrap();
    assert_eq!(amber.email, "farnsworthl@parliament.uk");
    assert_eq!(import_text(&db, &next).await.unwrap().unchanged, 650);
}

#[tokio::test]
async fn a_bad_file_imports_nothing_and_names_every_bad_line() {
    let (_, db) = fresh_database().await;
    import_file(&db, MP_LOOKUP_CSV).await.unwrap();
    let before = members(&db).await.unwrap();

    let mut lines: Vec<String> = real_file().lines().map(str::to_owned).collect();
    // Line 3 (Aldridge-Brownhills): no constituency code; line 10: a member id that is not one;
    // a last line repeating Aldershot's member; and Aldershot's MP renamed, which must not stick.
    lines[2] = lines[2].replace("\"E14001064\"", "\"\"");
    lines[9] = lines[9].replacen(",\"", ",\"x", 2);
    lines[1] = lines[1].replace("Alex Baker MP", "Someone Else MP");
    let repeated = lines[1].replace("\"Aldershot\",\"E14001063\"", "\"Elsewhere\",\"E14009999\"");
    lines.push(repeated);
    let file = lines.join("\n");

    let Err(ImportError::Invalid(errors)) = import_text(&db, &file).await else {
        panic!("a bad file must be refused");
    };
    let bad_lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
    assert_eq!(bad_lines, [3, 10, 652], "{errors:?}");
    assert!(errors[0].message.contains("pcon_code"), "{}", errors[0]);
    assert!(errors[2].message.contains("line 2"), "{}", errors[2]);
    let message = ImportError::Invalid(errors).to_string();
    assert!(message.contains("nothing was imported"), "{message}");
    assert_eq!(members(&db).await.unwrap(), before, "nothing changed");

    // The published file's own CRLF endings: the line is still the line.
    let crlf = real_file().replacen("\"E14001064\"", "\"\"", 1);
    let Err(ImportError::Invalid(errors)) = import_text(&db, &crlf).await else {
        panic!("a bad file must be refused");
    };
    assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [3]);

    let (_, empty) = fresh_database().await;
    assert!(import_text(&empty, &file).await.is_err());
    assert!(members(&empty).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_platform_admin_imports_the_directory_over_grpc_and_a_bad_file_names_its_lines() {
    use valued_proto::notification::v1::ImportMpsRequest;

    let app =
        crate::mps_support::spawn_mp_app(crate::mps_support::FakePostcodes::start(&[]).await).await;
    let mut client = app.client().await;
    let before = members(&app.db).await.unwrap().len();

    // Two bad lines: both named by number, nothing changed.
    let mut bad = real_file();
    let mut lines: Vec<String> = bad.lines().map(str::to_owned).collect();
    lines[2] = "not,a,row".into();
    lines[5] = String::from(",,,,,");
    bad = lines.join("\n");
    let refused = client
        .import_mps(app.signed(ImportMpsRequest {
            csv: bad.into_bytes(),
        }))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    let fields: Vec<String> = valued_platform::grpc::field_errors(&refused)
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert!(fields.contains(&"line 3".to_owned()), "{fields:?}");
    assert!(fields.contains(&"line 6".to_owned()), "{fields:?}");
    assert_eq!(members(&app.db).await.unwrap().len(), before);

    // The real file: imported, with the unusable addresses listed to check.
    let imported = client
        .import_mps(app.signed(ImportMpsRequest {
            csv: real_file().into_bytes(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(imported.members, 650);
    let flagged: BTreeSet<i32> = imported.needs_check.iter().map(|f| f.member_id).collect();
    assert_eq!(flagged, UNUSABLE.into_iter().collect());

    // Someone who is not a platform admin may not.
    let token = app
        .provider
        .verified_id_token("someone@example.org")
        .await
        .unwrap();
    let refused = client
        .import_mps(valued_testkit::roles::signed(
            &token,
            ImportMpsRequest {
                csv: real_file().into_bytes(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
}
