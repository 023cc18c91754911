//! Reading and checking the rows of an organisations file.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use valued_platform::domain::single_line;
use valued_platform::import::RowError;

use crate::domain::{OdsCode, Postcode};

const HEADER: [&str; 5] = ["code", "name", "address", "postcode", "parent"];

/// One well-formed row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub line: u64,
    pub code: OdsCode,
    pub name: String,
    pub address: Option<String>,
    pub postcode: Option<Postcode>,
    pub parent: Option<OdsCode>,
}

/// The rows of a file, sorted into what they are.
#[derive(Debug, Default)]
pub struct Plan {
    pub regions: Vec<Organisation>,
    pub trusts: Vec<Organisation>,
    pub sites: Vec<Organisation>,
}

/// Parses every row; reports every malformed one.
pub fn read(csv: impl Read) -> Result<Vec<Result<Organisation, RowError>>, csv::Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(csv);
    let header: Vec<String> = reader
        .headers()?
        .iter()
        .map(str::to_ascii_lowercase)
        .collect();
    if header != HEADER {
        return Ok(vec![Err(RowError {
            line: 1,
            message: format!("the header must be {}", HEADER.join(",")),
        })]);
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        let line = record.position().map_or(0, csv::Position::line);
        rows.push(parse(line, &record));
    }
    Ok(rows)
}

fn parse(line: u64, record: &csv::StringRecord) -> Result<Organisation, RowError> {
    let fail = |message: String| RowError { line, message };
    if record.len() != HEADER.len() {
        return Err(fail(format!(
            "expected {} columns, found {}",
            HEADER.len(),
            record.len()
        )));
    }
    let field = |i: usize| record.get(i).unwrap_or_default();
    let optional = |value: &str| Some(value.to_owned()).filter(|v| !v.is_empty());
    let code = OdsCode::parse("code", field(0))
        .map_err(|_| fail(format!("{:?} is not an ODS code", field(0))))?;
    let name = single_line("name", "a name", field(1), 200).map_err(|e| fail(e.message))?;
    let address = optional(field(2))
        .map(|a| single_line("address", "an address", &a, 300).map_err(|e| fail(e.message)))
        .transpose()?;
    let postcode = optional(field(3))
        .map(|p| Postcode::parse("postcode", &p).map_err(|e| fail(e.message)))
        .transpose()?;
    let parent = optional(field(4))
        .map(|p| {
            OdsCode::parse("parent", &p)
                .map_err(|_| fail(format!("parent {p:?} is not an ODS code")))
        })
        .transpose()?;
    Ok(Organisation {
        line,
        code,
        name,
        address,
        postcode,
        parent,
    })
}

/// Sorts rows into regions, trusts and sites, checking that each parent exists and is of the
/// right kind, and that no code appears twice.
pub fn classify(
    rows: Vec<Result<Organisation, RowError>>,
    known_regions: &HashMap<String, String>,
    known_trusts: &HashSet<String>,
) -> Result<Plan, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut organisations = Vec::new();
    for row in rows {
        match row {
            Ok(organisation) => organisations.push(organisation),
            Err(error) => errors.push(error),
        }
    }
    let mut seen = HashSet::new();
    for organisation in &organisations {
        if !seen.insert(organisation.code.to_string()) {
            errors.push(RowError {
                line: organisation.line,
                message: format!("{} appears more than once", organisation.code),
            });
        }
    }
    let file_regions: HashSet<String> = organisations
        .iter()
        .filter(|o| o.parent.is_none())
        .map(|o| o.code.to_string())
        .collect();
    let file_trusts: HashSet<String> = organisations
        .iter()
        .filter(|o| o.code.as_str().len() == 3 && o.parent.is_some())
        .map(|o| o.code.to_string())
        .collect();
    let mut plan = Plan::default();
    for organisation in organisations {
        let fail = |message: String| RowError {
            line: organisation.line,
            message,
        };
        match (&organisation.parent, organisation.code.as_str().len()) {
            (None, _) => plan.regions.push(organisation),
            (Some(parent), 3) => {
                if file_regions.contains(parent.as_str())
                    || known_regions.contains_key(parent.as_str())
                {
                    plan.trusts.push(organisation);
                } else {
                    errors.push(fail(format!(
                        "trust {} names {parent} as its region, which is not a known region",
                        organisation.code
                    )));
                }
            }
            (Some(parent), _) => {
                if file_trusts.contains(parent.as_str()) || known_trusts.contains(parent.as_str()) {
                    plan.sites.push(organisation);
                } else {
                    errors.push(fail(format!(
                        "site {} names {parent} as its trust, which is not a known trust",
                        organisation.code
                    )));
                }
            }
        }
    }
    errors.sort_by_key(|e| e.line);
    if errors.is_empty() {
        Ok(plan)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "code,name,address,postcode,parent\n\
        Y56,London,,,\n\
        RJ1,Guy's and St Thomas' NHS Foundation Trust,Westminster Bridge Road,SE1 7EH,Y56\n\
        RJ121,St Thomas' Hospital,Westminster Bridge Road,se17eh,RJ1\n";

    fn plan(file: &str) -> Result<Plan, Vec<RowError>> {
        classify(
            read(file.as_bytes()).unwrap(),
            &HashMap::new(),
            &HashSet::new(),
        )
    }

    #[test]
    fn sorts_regions_trusts_and_sites() {
        let plan = plan(FILE).unwrap();
        assert_eq!(plan.regions.len(), 1);
        assert_eq!(plan.trusts[0].code.as_str(), "RJ1");
        assert_eq!(plan.sites[0].postcode.as_ref().unwrap().as_str(), "SE1 7EH");
    }

    #[test]
    fn reports_every_problem_with_its_line() {
        let file = format!(
            "{FILE}RJ1,Again,,,Y56\nRRK,Birmingham,,B15 2GW,Y99\nRX1CC,City Hospital,,NOT A CODE,RX1\nBAD-CODE,Name,,,\n"
        );
        let errors = plan(&file).unwrap_err();
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [5, 6, 7, 8], "{errors:?}");
        assert!(errors[0].message.contains("more than once"));
        assert!(errors[1].message.contains("not a known region"));
        assert!(errors[2].message.contains("postcode"));
        assert!(errors[3].message.contains("not an ODS code"));
    }

    #[test]
    fn parents_may_already_be_stored() {
        let file =
            "code,name,address,postcode,parent\nRJ122,Guy's Hospital,Great Maze Pond,SE1 9RT,RJ1\n";
        let known = HashSet::from(["RJ1".to_owned()]);
        let plan = classify(read(file.as_bytes()).unwrap(), &HashMap::new(), &known).unwrap();
        assert_eq!(plan.sites.len(), 1);
    }

    #[test]
    fn a_wrong_header_is_refused() {
        let errors = plan("ods,name\nRJ1,Guy's\n").unwrap_err();
        assert_eq!(errors[0].line, 1);
        assert!(
            errors[0]
                .message
                .contains("code,name,address,postcode,parent")
        );
    }
}
