//! A campaign as an organiser types it, parsed at the edge: every bad field named at once, in the
//! form's words. What only the database knows (whether the trusts and region exist, whether the
//! address is free) is checked where the campaign is stored.

use chrono::{DateTime, Utc};
use valued_platform::domain::{FieldError, FieldErrors, is_blank, multi_line, single_line};

use super::{Band, NominationsPerNominator, OdsCode, Scope, StaffGroup, WindowError, Windows};

/// What a category's word limit may be, and what it is when none is given.
pub const WORD_LIMITS: std::ops::RangeInclusive<u32> = 50..=1000;
pub const DEFAULT_WORD_LIMIT: u32 = 300;
/// The most categories one campaign has.
pub const MAX_CATEGORIES: usize = 20;

/// The request's fields, as typed.
#[derive(Debug, Clone, Default)]
pub struct CampaignRequest {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub scope: String,
    pub scope_code: String,
    pub trust_codes: Vec<String>,
    pub windows: Windows,
    pub vote_per_region: bool,
    /// Nominations one person may make to the campaign; `None`: the service-wide default.
    pub nominations_per_nominator: Option<u32>,
    pub categories: Vec<CategoryRequest>,
}

#[derive(Debug, Clone, Default)]
pub struct CategoryRequest {
    /// When editing, the category changed (empty: a new one).
    pub id: String,
    pub name: String,
    pub description: String,
    /// 0: the default.
    pub word_limit: u32,
    pub eligible_staff_groups: Vec<String>,
    pub eligible_bands: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCampaignSpec {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub scope: Scope,
    /// Empty for a regional or national campaign: every trust of its region, or every trust.
    pub trusts: Vec<String>,
    pub windows: Windows,
    pub vote_per_region: bool,
    /// `None`: the service-wide default.
    pub nominations_per_nominator: Option<NominationsPerNominator>,
    pub categories: Vec<NewCategorySpec>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCategorySpec {
    /// When editing, the category changed (`None`: a new one).
    pub id: Option<uuid::Uuid>,
    pub name: String,
    pub description: String,
    pub word_limit: u32,
    pub eligible: Vec<StaffGroup>,
    pub bands: Vec<Band>,
}

impl NewCampaignSpec {
    pub fn parse(request: &CampaignRequest) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let name = errors.check(single_line(
            "name",
            "the campaign's name",
            &request.name,
            120,
        ));
        let slug = match name.as_deref() {
            Some(name) if is_blank(&request.slug) => Some(slug_of(name)),
            _ => errors.check(parse_slug(&request.slug)),
        };
        let description = if is_blank(&request.description) {
            Some(String::new())
        } else {
            errors.check(multi_line(
                "description",
                "the introduction",
                &request.description,
                4000,
            ))
        };
        let scope = errors.check(parse_scope(&request.scope, &request.scope_code));
        let mut trusts = Vec::new();
        for (i, typed) in request.trust_codes.iter().enumerate() {
            if is_blank(typed) {
                continue;
            }
            let field = if request.trust_codes.len() == 1 {
                "trust_codes".to_owned()
            } else {
                format!("trust_codes[{i}]")
            };
            if let Some(code) = errors.check(OdsCode::parse(&field, typed)) {
                let code = code.as_str().to_owned();
                if !trusts.contains(&code) {
                    trusts.push(code);
                }
            }
        }
        if let Some(Scope::Trust(own)) = &scope {
            match trusts.as_slice() {
                [] => trusts.push(own.clone()),
                [only] if only == own => {}
                _ => errors.push(FieldError::new(
                    "trust_codes",
                    "A trust's campaign is for its own staff only: leave the trusts empty or give its own code",
                )),
            }
        }
        if let Err(error) = request.windows.validate() {
            errors.push(window_error(&error));
        }
        let nominations_per_nominator = request
            .nominations_per_nominator
            .and_then(|typed| errors.check(NominationsPerNominator::parse(typed)));
        if request.categories.is_empty() {
            errors.push(FieldError::new("categories", "Add at least one category"));
        }
        if request.categories.len() > MAX_CATEGORIES {
            errors.push(FieldError::new(
                "categories",
                format!("A campaign has at most {MAX_CATEGORIES} categories"),
            ));
        }
        let mut categories = Vec::new();
        for (i, category) in request.categories.iter().enumerate() {
            if let Some(parsed) = parse_category(&mut errors, i, category) {
                categories.push(parsed);
            }
        }
        errors.into_result()?;
        match (slug, name, description, scope) {
            (Some(slug), Some(name), Some(description), Some(scope)) => Ok(Self {
                slug,
                name,
                description,
                scope,
                trusts,
                windows: request.windows.clone(),
                vote_per_region: request.vote_per_region,
                nominations_per_nominator,
                categories,
            }),
            _ => Err(vec![FieldError::new("name", "Enter the campaign's name")]),
        }
    }
}

fn parse_category(
    errors: &mut FieldErrors,
    i: usize,
    category: &CategoryRequest,
) -> Option<NewCategorySpec> {
    let field = |name: &str| format!("categories[{i}].{name}");
    let name = errors.check(single_line(
        &field("name"),
        "the category's name",
        &category.name,
        100,
    ));
    let description = if is_blank(&category.description) {
        Some(String::new())
    } else {
        errors.check(multi_line(
            &field("description"),
            "the category's description",
            &category.description,
            1000,
        ))
    };
    let word_limit = match category.word_limit {
        0 => DEFAULT_WORD_LIMIT,
        limit if WORD_LIMITS.contains(&limit) => limit,
        _ => {
            errors.push(FieldError::new(
                &field("word_limit"),
                format!(
                    "Word limit must be a whole number from {} to {}",
                    WORD_LIMITS.start(),
                    WORD_LIMITS.end()
                ),
            ));
            DEFAULT_WORD_LIMIT
        }
    };
    let mut eligible = Vec::new();
    for typed in &category.eligible_staff_groups {
        match StaffGroup::parse(typed) {
            Ok(group) if !eligible.contains(&group) => eligible.push(group),
            Ok(_) => {}
            Err(_) => errors.push(FieldError::new(
                &field("eligible_staff_groups"),
                "Choose staff groups from the list",
            )),
        }
    }
    let mut bands = Vec::new();
    for typed in &category.eligible_bands {
        match Band::parse(typed) {
            Ok(band) if !bands.contains(&band) => bands.push(band),
            Ok(_) => {}
            Err(_) => errors.push(FieldError::new(
                &field("eligible_bands"),
                "Choose bands from the list",
            )),
        }
    }
    let id = match category.id.trim() {
        "" => None,
        typed => match uuid::Uuid::parse_str(typed) {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(FieldError::new(
                    &field("name"),
                    "This category no longer exists",
                ));
                None
            }
        },
    };
    Some(NewCategorySpec {
        id,
        name: name?,
        description: description?,
        word_limit,
        eligible,
        bands,
    })
}

/// The campaign's address on the site (`/campaigns/{slug}`): lower-case letters, digits and
/// hyphens, 3 to 60 characters, starting with a letter.
pub fn parse_slug(typed: &str) -> Result<String, FieldError> {
    let slug = typed.trim().to_ascii_lowercase();
    let well_formed = (3..=60).contains(&slug.len())
        && slug.starts_with(|c: char| c.is_ascii_lowercase())
        && !slug.ends_with('-')
        && !slug.contains("--")
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if well_formed {
        Ok(slug)
    } else {
        Err(FieldError::new(
            "slug",
            "Web address must be 3 to 60 lower-case letters, digits and single hyphens, starting with a letter, like health-heroes-2027",
        ))
    }
}

/// A web address made from the name: "Porters' Awards 2027" → `porters-awards-2027`.
pub fn slug_of(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if (c.is_whitespace() || c == '-' || c == '_' || c == '/')
            && !slug.is_empty()
            && !slug.ends_with('-')
        {
            slug.push('-');
        }
    }
    let mut slug: String = slug.trim_end_matches('-').chars().take(60).collect();
    slug = slug.trim_end_matches('-').to_owned();
    if !slug.starts_with(|c: char| c.is_ascii_lowercase()) {
        slug.insert_str(0, "campaign-");
    }
    if slug.len() < 3 {
        slug.push_str("-awards");
    }
    slug.trim_end_matches('-').to_owned()
}

fn parse_scope(scope: &str, code: &str) -> Result<Scope, FieldError> {
    match scope.trim() {
        "national" => Ok(Scope::National),
        "trust" => Ok(Scope::Trust(
            OdsCode::parse("scope_code", code)?.as_str().to_owned(),
        )),
        "region" => {
            let code = code.trim().to_ascii_uppercase();
            if code.len() == 3 && code.chars().all(|c| c.is_ascii_alphanumeric()) {
                Ok(Scope::Region(code))
            } else {
                Err(FieldError::new(
                    "scope_code",
                    "Enter the region's code, like Y56",
                ))
            }
        }
        "" => Err(FieldError::new(
            "scope",
            "Select who the campaign is for: one trust, a region or the whole country",
        )),
        _ => Err(FieldError::new("scope", "Select trust, region or national")),
    }
}

/// The timetable's first stage out of order, at the later stage's field.
fn window_error(error: &WindowError) -> FieldError {
    let field = |stage: &str| match stage {
        "nominations closing" => "nominations_close_at",
        "judging closing" => "judging_close_at",
        "the public vote opening" => "vote_open_at",
        "the public vote closing" => "vote_close_at",
        "results" => "results_at",
        _ => "nominations_open_at",
    };
    match error {
        WindowError::OutOfOrder { earlier, later } => FieldError::new(
            field(later),
            format!("{} must be after {earlier}", capitalised(later)),
        ),
        other => FieldError::new("nominations_open_at", other.to_string()),
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A time as the request carries it.
pub fn time_of(at: Option<&prost_types::Timestamp>) -> Option<DateTime<Utc>> {
    at.and_then(|t| DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn request() -> CampaignRequest {
        let now = Utc::now();
        CampaignRequest {
            name: "Porters' Awards 2027".into(),
            scope: "trust".into(),
            scope_code: "rj1".into(),
            windows: Windows {
                nominations_open_at: Some(now),
                nominations_close_at: Some(now + Duration::days(30)),
                ..Windows::default()
            },
            categories: vec![
                CategoryRequest {
                    name: "Porter of the year".into(),
                    ..CategoryRequest::default()
                },
                CategoryRequest {
                    name: "Domestic of the year".into(),
                    word_limit: 500,
                    eligible_staff_groups: vec!["estates-and-ancillary".into()],
                    eligible_bands: vec!["band-2".into()],
                    ..CategoryRequest::default()
                },
            ],
            ..CampaignRequest::default()
        }
    }

    #[test]
    fn a_trust_campaign_is_read_with_its_address_made_from_its_name() {
        let spec = NewCampaignSpec::parse(&request()).unwrap();
        assert_eq!(spec.slug, "porters-awards-2027");
        assert_eq!(spec.scope, Scope::Trust("RJ1".into()));
        assert_eq!(spec.trusts, ["RJ1"]);
        assert_eq!(spec.categories[0].word_limit, DEFAULT_WORD_LIMIT);
        assert_eq!(spec.categories[1].word_limit, 500);
        assert_eq!(spec.categories[1].bands, [Band::Band2]);
        assert_eq!(
            spec.nominations_per_nominator, None,
            "the service's default"
        );
        let limited = NewCampaignSpec::parse(&CampaignRequest {
            nominations_per_nominator: Some(2),
            ..request()
        })
        .unwrap();
        assert_eq!(limited.nominations_per_nominator.map(|l| l.get()), Some(2));
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let mut bad = request();
        bad.slug = "Not a slug!".into();
        bad.trust_codes = vec!["RJ1".into(), "RRK".into(), "R?".into()];
        bad.windows.nominations_close_at = bad.windows.nominations_open_at;
        bad.categories[0].name = String::new();
        bad.categories[1].word_limit = 5000;
        bad.categories[1].eligible_bands = vec!["band-99".into()];
        bad.nominations_per_nominator = Some(0);
        let errors = NewCampaignSpec::parse(&bad).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for expected in [
            "slug",
            "trust_codes",
            "trust_codes[2]",
            "nominations_close_at",
            "categories[0].name",
            "categories[1].word_limit",
            "categories[1].eligible_bands",
            "nominations_per_nominator",
        ] {
            assert!(fields.contains(&expected), "{expected} in {fields:?}");
        }
        let windows = errors
            .iter()
            .find(|e| e.field == "nominations_close_at")
            .unwrap();
        assert_eq!(
            windows.message,
            "Nominations closing must be after nominations opening"
        );
    }

    #[test]
    fn a_campaign_needs_a_category_and_a_scope() {
        let mut bad = request();
        bad.categories.clear();
        bad.scope = String::new();
        let errors = NewCampaignSpec::parse(&bad).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"categories"), "{fields:?}");
        assert!(fields.contains(&"scope"), "{fields:?}");
        bad.scope = "trust".into();
        bad.scope_code = "??".into();
        let errors = NewCampaignSpec::parse(&bad).unwrap_err();
        assert!(errors.iter().any(|e| e.field == "scope_code"), "{errors:?}");
    }

    #[test]
    fn addresses_are_made_from_names_people_type() {
        assert_eq!(slug_of("Health Heroes 2027"), "health-heroes-2027");
        assert_eq!(slug_of("  A&E -- Unsung / Heroes "), "ae-unsung-heroes");
        assert_eq!(slug_of("2027 awards"), "campaign-2027-awards");
        assert_eq!(slug_of("A&E"), "ae-awards");
        for made in ["Health Heroes 2027", "A&E", "2027 awards", "Ünïcode Nämes"] {
            let slug = slug_of(made);
            assert_eq!(parse_slug(&slug).as_deref(), Ok(slug.as_str()), "{made}");
        }
    }
}
