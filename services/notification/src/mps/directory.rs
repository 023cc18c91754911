//! The House of Commons directory, imported from a CSV in the layout of the public `mp_lookup.csv`
//! (one quoted row per 2024 constituency: `pcon_name`, `pcon_code`, `member_id`, `full_title`,
//! `display_as`, `party_text`, `member_email`, and columns we do not use).
//!
//! All or nothing: every row is checked first and every problem reported with its line; a clean
//! file replaces the directory in one transaction. Re-importing the same file changes nothing; an
//! MP missing from a new file (they left) is removed and their successor added. An MP whose address
//! is missing or outside parliament.uk is stored flagged `needs_check`: never emailed, never
//! guessed.

use std::collections::HashMap;
use std::io::Read;

use chrono::Utc;
use indicatif::ProgressBar;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
};
use valued_platform::domain::{EmailAddress, single_line};

use super::entity::mp;

/// The columns used, by name (a file may carry more, in any order).
const COLUMNS: [&str; 7] = [
    "pcon_name",
    "pcon_code",
    "member_id",
    "full_title",
    "display_as",
    "party_text",
    "member_email",
];

const BATCH: usize = 200;

pub use valued_platform::import::{ImportError, RowError};

/// An MP a person must check before they can be emailed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flagged {
    pub member_id: i32,
    pub name: String,
    pub constituency: String,
    pub reason: String,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// MPs in the file.
    pub members: usize,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// MPs no longer in the file (they left, or moved seat and were re-added).
    pub removed: usize,
    pub needs_check: Vec<Flagged>,
}

/// One well-formed row.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Member {
    member_id: i32,
    constituency_code: String,
    constituency_name: String,
    display_as: String,
    full_title: String,
    party: String,
    email: String,
    check_reason: Option<String>,
}

impl Member {
    /// Whether the stored row already says what this one does.
    fn same_as(&self, stored: &mp::Model) -> bool {
        self.constituency_code == stored.constituency_code
            && self.constituency_name == stored.constituency_name
            && self.display_as == stored.display_as
            && self.full_title == stored.full_title
            && self.party == stored.party
            && self.email == stored.email
            && self.check_reason == stored.check_reason
    }

    fn active_model(&self, now: chrono::DateTime<Utc>) -> mp::ActiveModel {
        mp::ActiveModel {
            member_id: ActiveValue::Set(self.member_id),
            constituency_code: ActiveValue::Set(self.constituency_code.clone()),
            constituency_name: ActiveValue::Set(self.constituency_name.clone()),
            display_as: ActiveValue::Set(self.display_as.clone()),
            full_title: ActiveValue::Set(self.full_title.clone()),
            party: ActiveValue::Set(self.party.clone()),
            email: ActiveValue::Set(self.email.clone()),
            needs_check: ActiveValue::Set(self.check_reason.is_some()),
            check_reason: ActiveValue::Set(self.check_reason.clone()),
            imported_at: ActiveValue::Set(now),
        }
    }
}

/// Reads and checks every MP in `csv`, then replaces the directory with them, advancing
/// `progress` as rows are written.
pub async fn import(
    db: &DatabaseConnection,
    csv: impl Read,
    progress: &ProgressBar,
) -> Result<ImportSummary, ImportError> {
    let members = read(csv)?.map_err(ImportError::Invalid)?;
    progress.set_length(members.len() as u64);
    let stored: HashMap<i32, mp::Model> = mp::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.member_id, m))
        .collect();
    let mut summary = ImportSummary {
        members: members.len(),
        ..ImportSummary::default()
    };
    let mut changed = Vec::new();
    for member in &members {
        match stored.get(&member.member_id).map(|old| member.same_as(old)) {
            Some(true) => summary.unchanged += 1,
            Some(false) => {
                summary.updated += 1;
                changed.push(member);
            }
            None => {
                summary.added += 1;
                changed.push(member);
            }
        }
        if let Some(reason) = &member.check_reason {
            summary.needs_check.push(Flagged {
                member_id: member.member_id,
                name: member.display_as.clone(),
                constituency: member.constituency_name.clone(),
                reason: reason.clone(),
            });
        }
    }
    // Rows to clear first: MPs who left, and MPs whose seat changed (so that no two rows ever hold
    // one constituency while the rest are written).
    let in_file: HashMap<i32, &Member> = members.iter().map(|m| (m.member_id, m)).collect();
    let clear: Vec<i32> = stored
        .values()
        .filter(|old| {
            in_file
                .get(&old.member_id)
                .is_none_or(|new| new.constituency_code != old.constituency_code)
        })
        .map(|old| old.member_id)
        .collect();
    summary.removed = stored.keys().filter(|id| !in_file.contains_key(id)).count();

    let now = Utc::now();
    let txn = db.begin().await?;
    if !clear.is_empty() {
        mp::Entity::delete_many()
            .filter(mp::Column::MemberId.is_in(clear))
            .exec(&txn)
            .await?;
    }
    progress.inc((members.len() - changed.len()) as u64);
    for chunk in changed.chunks(BATCH) {
        mp::Entity::insert_many(chunk.iter().map(|m| m.active_model(now)))
            .on_conflict(
                OnConflict::column(mp::Column::MemberId)
                    .update_columns([
                        mp::Column::ConstituencyCode,
                        mp::Column::ConstituencyName,
                        mp::Column::DisplayAs,
                        mp::Column::FullTitle,
                        mp::Column::Party,
                        mp::Column::Email,
                        mp::Column::NeedsCheck,
                        mp::Column::CheckReason,
                        mp::Column::ImportedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
        progress.inc(chunk.len() as u64);
    }
    txn.commit().await?;
    progress.finish();
    Ok(summary)
}

/// The directory, by constituency name; `needs_check` marks the MPs a person must look at.
pub async fn members(db: &impl ConnectionTrait) -> Result<Vec<mp::Model>, DbErr> {
    mp::Entity::find()
        .order_by_asc(mp::Column::ConstituencyName)
        .all(db)
        .await
}

/// Parses and checks every row: the members, or every problem found.
fn read(mut csv: impl Read) -> Result<Result<Vec<Member>, Vec<RowError>>, csv::Error> {
    // Read whole (the House has 650 rows) so a row's line is counted from its byte offset: in a
    // file with CRLF endings, as the published one has, the csv crate's line count falls one
    // behind and a record's offset is that of the LF ending the line before it.
    let mut text = Vec::new();
    csv.read_to_end(&mut text).map_err(csv::Error::from)?;
    let line_at = |byte: u64| {
        let end = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .saturating_add(1)
            .min(text.len());
        1 + text[..end].iter().filter(|b| **b == b'\n').count() as u64
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_slice());
    let header: Vec<String> = reader
        .headers()?
        .iter()
        .map(str::to_ascii_lowercase)
        .collect();
    let mut index = [0usize; COLUMNS.len()];
    let mut missing = Vec::new();
    for (slot, column) in index.iter_mut().zip(COLUMNS) {
        match header.iter().position(|h| h == column) {
            Some(i) => *slot = i,
            None => missing.push(column),
        }
    }
    if !missing.is_empty() {
        return Ok(Err(vec![RowError {
            line: 1,
            message: format!("the header lacks the column(s) {}", missing.join(", ")),
        }]));
    }
    let mut members = Vec::new();
    let mut errors = Vec::new();
    let mut member_lines: HashMap<i32, u64> = HashMap::new();
    let mut seat_lines: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = record?;
        let line = record.position().map_or(0, |p| line_at(p.byte()));
        let fields: Vec<&str> = index
            .iter()
            .map(|&i| record.get(i).unwrap_or_default())
            .collect();
        let member = match parse(&fields) {
            Ok(member) => member,
            Err(message) => {
                errors.push(RowError { line, message });
                continue;
            }
        };
        if let Some(first) = member_lines.insert(member.member_id, line) {
            errors.push(RowError {
                line,
                message: format!("member {} is also on line {first}", member.member_id),
            });
        }
        if let Some(first) = seat_lines.insert(member.constituency_code.clone(), line) {
            errors.push(RowError {
                line,
                message: format!(
                    "constituency {} is also on line {first}",
                    member.constituency_code
                ),
            });
        }
        members.push(member);
    }
    if members.is_empty() && errors.is_empty() {
        errors.push(RowError {
            line: 1,
            message: "the file lists no MPs".into(),
        });
    }
    Ok(if errors.is_empty() {
        Ok(members)
    } else {
        Err(errors)
    })
}

/// One row's fields, in [`COLUMNS`] order.
fn parse(fields: &[&str]) -> Result<Member, String> {
    let [name, code, member_id, full_title, display_as, party, email] = fields else {
        return Err(format!("expected the columns {}", COLUMNS.join(", ")));
    };
    let text = |column: &str, value: &str| {
        single_line(column, column, value, 200).map_err(|e| format!("{column}: {}", e.message))
    };
    let member_id = member_id
        .parse::<i32>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| format!("member_id {member_id:?} is not a Parliament member id"))?;
    if !is_constituency_code(code) {
        return Err(format!(
            "pcon_code {code:?} is not a constituency's GSS code (like E14001063)"
        ));
    }
    let email = email.trim().to_owned();
    Ok(Member {
        member_id,
        constituency_code: (*code).to_owned(),
        constituency_name: text("pcon_name", name)?,
        display_as: text("display_as", display_as)?,
        full_title: text("full_title", full_title)?,
        party: if party.is_empty() {
            String::new()
        } else {
            text("party_text", party)?
        },
        check_reason: usable_address(&email).err(),
        email,
    })
}

/// A 2024 Westminster constituency's GSS code: E14, W07, S14 or N05 and six digits.
pub fn is_constituency_code(code: &str) -> bool {
    code.len() == 9
        && ["E14", "W07", "S14", "N05"].contains(&&code[..3.min(code.len())])
        && code[3..].bytes().all(|b| b.is_ascii_digit())
}

/// The address an MP may be emailed at: a well-formed address at parliament.uk. Anything else is
/// the reason a person must check it.
pub fn usable_address(email: &str) -> Result<EmailAddress, String> {
    if email.is_empty() || email.eq_ignore_ascii_case("No email found") {
        return Err("no email address".into());
    }
    let address = EmailAddress::parse("member_email", email)
        .map_err(|_| format!("{email:?} is not an email address"))?;
    let domain = address
        .as_str()
        .rsplit_once('@')
        .map(|(_, domain)| domain)
        .unwrap_or_default();
    if domain == "parliament.uk" || domain.ends_with(".parliament.uk") {
        Ok(address)
    } else {
        Err(format!("{email} is not a parliament.uk address"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "\"pcon_name\",\"pcon_code\",\"member_id\",\"full_title\",\"display_as\",\"party_text\",\"member_email\",\"region_name\"\n";

    #[test]
    fn only_parliament_uk_addresses_are_usable() {
        assert!(usable_address("alex.baker.mp@parliament.uk").is_ok());
        assert!(usable_address("Someone@Parliament.UK").is_ok());
        for bad in [
            "",
            "No email found",
            "contact@lucypowell.org.uk",
            "x@notparliament.uk",
            "parliament.uk",
        ] {
            assert!(usable_address(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn constituency_codes() {
        assert!(is_constituency_code("E14001063"));
        assert!(is_constituency_code("N05000018"));
        for bad in [
            "",
            "E1400106",
            "E07000089",
            "E14001063 ",
            "e14001063",
            "E14ÅÅÅÅ",
        ] {
            assert!(!is_constituency_code(bad), "{bad:?}");
        }
    }

    #[test]
    fn every_bad_line_is_reported() {
        let file = format!(
            "{HEADER}\
             \"Aldershot\",\"E14001063\",\"5173\",\"Alex Baker MP\",\"Alex Baker\",\"Labour\",\"alex.baker.mp@parliament.uk\",\"South East\"\n\
             \"Nowhere\",\"X1\",\"1\",\"A\",\"A\",\"\",\"a@parliament.uk\",\"\"\n\
             \"Aldershot again\",\"E14001063\",\"abc\",\"B\",\"B\",\"\",\"b@parliament.uk\",\"\"\n\
             \"Twice\",\"E14001064\",\"5173\",\"C\",\"C\",\"\",\"c@parliament.uk\",\"\"\n"
        );
        let errors = read(file.as_bytes()).unwrap().unwrap_err();
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5], "{errors:?}");
        assert!(errors[2].message.contains("line 2"), "{errors:?}");
    }

    #[test]
    fn lines_are_counted_in_a_file_with_crlf_endings() {
        let file = format!(
            "{}\r\n\"Aldershot\",\"E14001063\",\"5173\",\"A\",\"A\",\"\",\"a@parliament.uk\",\"\"\r\n\"X\",\"Y\",\"1\",\"B\",\"B\",\"\",\"b@parliament.uk\",\"\"\r\n\"X\",\"Z\",\"2\",\"B\",\"B\",\"\",\"b@parliament.uk\",\"\"\r\n",
            HEADER.trim_end()
        );
        let errors = read(file.as_bytes()).unwrap().unwrap_err();
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4], "{errors:?}");
    }

    #[test]
    fn a_missing_column_is_named() {
        let errors = read("\"pcon_name\",\"pcon_code\"\n\"A\",\"E14001063\"\n".as_bytes())
            .unwrap()
            .unwrap_err();
        assert_eq!(errors[0].line, 1);
        assert!(errors[0].message.contains("member_email"));
    }
}
