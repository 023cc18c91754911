//! A trust's settings as its admins type them: the awards contact, the sender name and reply-to of
//! its emails, its staff's work-email domains; and a site of the trust.

use valued_platform::domain::{
    EmailAddress, FieldError, FieldErrors, WorkDomain, is_blank, single_line,
};

use super::OdsCode;

/// The longest sender name: what mail clients show of a From name without cutting it.
pub const SENDER_NAME_MAX_CHARS: usize = 70;
/// Work-email domains one trust may list.
pub const MAX_DOMAINS: usize = 20;
/// The longest site name.
pub const SITE_NAME_MAX_CHARS: usize = 100;

/// The settings as typed; an empty field clears it.
#[derive(Debug, Clone, Default)]
pub struct TrustSettingsRequest {
    pub awards_email: String,
    pub sender_name: String,
    pub reply_to: String,
    /// One domain per entry; blank entries are ignored.
    pub work_email_domains: Vec<String>,
}

/// Settings fit to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustSettingsSpec {
    pub awards_email: Option<EmailAddress>,
    /// Empty: the service's own name.
    pub sender_name: String,
    pub reply_to: Option<EmailAddress>,
    /// Each once, in the order typed.
    pub work_email_domains: Vec<WorkDomain>,
}

impl TrustSettingsSpec {
    /// Every bad field named: `awards_email`, `sender_name`, `reply_to`, `work_email_domains[i]`
    /// (by its place among the entries typed), or `work_email_domains` for too many.
    pub fn parse(request: &TrustSettingsRequest) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let address = |field: &str, typed: &str| {
            if is_blank(typed) {
                Ok(None)
            } else {
                EmailAddress::parse(field, typed).map(Some)
            }
        };
        let awards_email = errors
            .check(address("awards_email", &request.awards_email))
            .flatten();
        let sender_name = if is_blank(&request.sender_name) {
            String::new()
        } else {
            errors
                .check(
                    single_line(
                        "sender_name",
                        "Sender name",
                        &request.sender_name,
                        SENDER_NAME_MAX_CHARS,
                    )
                    .and_then(|name| {
                        // A From name that looks like an address would pass for another sender.
                        if name.contains(['@', '<', '>', '"']) {
                            Err(FieldError::new(
                                "sender_name",
                                "Sender name must be a name, without @, < > or quotation marks",
                            ))
                        } else {
                            Ok(name)
                        }
                    }),
                )
                .unwrap_or_default()
        };
        let reply_to = errors
            .check(address("reply_to", &request.reply_to))
            .flatten();
        let mut work_email_domains: Vec<WorkDomain> = Vec::new();
        for (i, typed) in request.work_email_domains.iter().enumerate() {
            if is_blank(typed) {
                continue;
            }
            if let Some(domain) = errors.check(WorkDomain::parse(
                &format!("work_email_domains[{i}]"),
                typed,
            )) && !work_email_domains.contains(&domain)
            {
                work_email_domains.push(domain);
            }
        }
        if work_email_domains.len() > MAX_DOMAINS {
            errors.push(FieldError::new(
                "work_email_domains",
                format!("List at most {MAX_DOMAINS} work email domains"),
            ));
        }
        errors.into_result()?;
        Ok(Self {
            awards_email,
            sender_name,
            reply_to,
            work_email_domains,
        })
    }
}

/// A site as typed.
#[derive(Debug, Clone, Default)]
pub struct SiteRequest {
    pub code: String,
    pub name: String,
}

/// A site fit to store: a 5-character ODS code and a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSite {
    pub code: OdsCode,
    pub name: String,
}

impl NewSite {
    /// Bad fields named `site.code` and `site.name`.
    pub fn parse(request: &SiteRequest) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let code = if is_blank(&request.code) {
            errors.push(FieldError::new(
                "site.code",
                "Enter the site's ODS code, like RJ121",
            ));
            None
        } else {
            match OdsCode::parse("site.code", &request.code) {
                Ok(code) if code.as_str().len() == 5 => Some(code),
                _ => {
                    errors.push(FieldError::new(
                        "site.code",
                        "Enter a site's ODS code: 5 letters and numbers, like RJ121",
                    ));
                    None
                }
            }
        };
        let name = errors.check(single_line(
            "site.name",
            "Site name",
            &request.name,
            SITE_NAME_MAX_CHARS,
        ));
        errors.into_result()?;
        match (code, name) {
            (Some(code), Some(name)) => Ok(Self { code, name }),
            _ => Err(vec![FieldError::new("site", "Enter the site")]),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use proptest::prelude::*;
    use valued_platform::domain::hostile;

    use super::*;

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn settings_are_tidied_and_empty_fields_clear() {
        let spec = TrustSettingsSpec::parse(&TrustSettingsRequest {
            awards_email: " Awards@GSTT.nhs.uk ".into(),
            sender_name: "  Guy's and St Thomas' Staff Awards ".into(),
            reply_to: String::new(),
            work_email_domains: vec![
                "nhs.net".into(),
                String::new(),
                "@GSTT.nhs.uk".into(),
                "nhs.net".into(),
            ],
        })
        .unwrap();
        assert_eq!(spec.sender_name, "Guy's and St Thomas' Staff Awards");
        assert!(spec.reply_to.is_none());
        assert!(spec.awards_email.is_some());
        let domains: Vec<&str> = spec
            .work_email_domains
            .iter()
            .map(WorkDomain::as_str)
            .collect();
        assert_eq!(domains, ["nhs.net", "gstt.nhs.uk"]);
        let cleared = TrustSettingsSpec::parse(&TrustSettingsRequest::default()).unwrap();
        assert_eq!(cleared.sender_name, "");
        assert!(cleared.work_email_domains.is_empty());
    }

    #[test]
    fn every_bad_field_is_named_by_its_place() {
        let errors = TrustSettingsSpec::parse(&TrustSettingsRequest {
            awards_email: "not an address".into(),
            sender_name: "security@nhs.net".into(),
            reply_to: "also@not@right".into(),
            work_email_domains: vec!["nhs.net".into(), "nhs".into(), "a b.net".into()],
        })
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            [
                "awards_email",
                "sender_name",
                "reply_to",
                "work_email_domains[1]",
                "work_email_domains[2]"
            ]
        );
        let long = TrustSettingsSpec::parse(&TrustSettingsRequest {
            sender_name: "x".repeat(SENDER_NAME_MAX_CHARS + 1),
            work_email_domains: (0..=MAX_DOMAINS).map(|i| format!("t{i}.nhs.uk")).collect(),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(fields(&long), ["sender_name", "work_email_domains"]);
    }

    #[test]
    fn a_site_needs_a_five_character_code_and_a_name() {
        let site = NewSite::parse(&SiteRequest {
            code: " rj121 ".into(),
            name: " St Thomas' Hospital ".into(),
        })
        .unwrap();
        assert_eq!(site.code.as_str(), "RJ121");
        assert_eq!(site.name, "St Thomas' Hospital");
        for code in ["", "RJ1", "RJ12!", "1J121"] {
            let errors = NewSite::parse(&SiteRequest {
                code: code.into(),
                name: String::new(),
            })
            .unwrap_err();
            assert_eq!(fields(&errors), ["site.code", "site.name"], "{code:?}");
        }
    }

    proptest! {
        #[test]
        fn hostile_settings_are_clean_or_refused_at_their_field(typed in hostile::TEXT) {
            let request = TrustSettingsRequest {
                awards_email: typed.clone(),
                sender_name: typed.clone(),
                reply_to: typed.clone(),
                work_email_domains: vec![typed.clone()],
            };
            match TrustSettingsSpec::parse(&request) {
                Ok(spec) => {
                    prop_assert!(!spec.sender_name.contains(['\r', '\n', '@', '<', '>']));
                    prop_assert!(spec.sender_name.chars().count() <= SENDER_NAME_MAX_CHARS);
                }
                Err(errors) => {
                    for error in &errors {
                        prop_assert!(
                            ["awards_email", "sender_name", "reply_to", "work_email_domains[0]"]
                                .contains(&error.field.as_str()),
                            "{}", error.field
                        );
                    }
                }
            }
        }
    }
}
