//! Who may vote in a campaign's public vote, as an admin sets it: anyone with a verified address,
//! or staff only, by work-email domain (`nhs.net`, a trust's own domains) and/or an uploaded list
//! of addresses.

use std::collections::HashSet;

use valued_platform::domain::{EmailAddress, FieldError, FieldErrors, WorkDomain, is_blank, tidy};

/// The setting as the caller sent it, before anything is known to be valid.
#[derive(Debug, Clone, Default)]
pub struct EligibilityRequest {
    /// `Some(true)` staff only, `Some(false)` public, `None` not chosen.
    pub staff: Option<bool>,
    pub domains: Vec<String>,
    pub addresses: Vec<String>,
    pub keep_addresses: bool,
    /// Also accept the domains the trusts taking part have set.
    pub trust_domains: bool,
}

/// A well-formed setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewEligibility {
    /// Any verified address.
    Public,
    /// Addresses at `domains` (or their subdomains), at the domains the trusts taking part have
    /// set when `trust_domains`, and those on the list.
    Staff {
        domains: Vec<WorkDomain>,
        list: StaffList,
        trust_domains: bool,
    },
}

/// What becomes of a campaign's uploaded list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffList {
    /// Keep the list held.
    Keep,
    /// Replace it with these addresses (none: no list).
    Replace(Vec<EmailAddress>),
}

impl NewEligibility {
    pub const MAX_DOMAINS: usize = 100;
    /// The most addresses one upload may hold (about 3 MB of addresses, under gRPC's 4 MB).
    pub const MAX_ADDRESSES: usize = 100_000;

    /// Parses the whole setting, naming every bad domain and every bad line of the upload at once.
    pub fn parse(request: &EligibilityRequest) -> Result<Self, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let lines = || {
            request
                .addresses
                .iter()
                .filter(|line| !is_blank(&tidy(line)))
        };
        match request.staff {
            None => {
                return Err(vec![FieldError::new(
                    "eligibility",
                    "Choose who may vote: anyone with a verified email address, or staff only",
                )]);
            }
            Some(false) => {
                if !request.domains.is_empty() {
                    errors.push(FieldError::new(
                        "domains",
                        "A public vote takes any verified address: remove the domains, or choose \
                         staff only",
                    ));
                }
                if lines().next().is_some() {
                    errors.push(FieldError::new(
                        "addresses",
                        "A public vote takes any verified address: remove the list, or choose \
                         staff only",
                    ));
                }
                if request.trust_domains {
                    errors.push(FieldError::new(
                        "trust_domains",
                        "A public vote takes any verified address: untick the trusts' domains, or \
                         choose staff only",
                    ));
                }
                return errors.into_result().map(|()| Self::Public);
            }
            Some(true) => {}
        }
        if request.domains.len() > Self::MAX_DOMAINS {
            errors.push(FieldError::new(
                "domains",
                format!("Give at most {} domains", Self::MAX_DOMAINS),
            ));
        }
        let mut seen = HashSet::new();
        let mut domains = Vec::new();
        for (index, typed) in request.domains.iter().enumerate() {
            let field = format!("domains[{index}]");
            if let Some(domain) = errors.check(WorkDomain::parse(&field, typed))
                && seen.insert(domain.clone())
            {
                domains.push(domain);
            }
        }
        let list = if request.keep_addresses {
            if lines().next().is_some() {
                errors.push(FieldError::new(
                    "addresses",
                    "Upload a new list or keep the one held, not both",
                ));
            }
            StaffList::Keep
        } else {
            if request.addresses.len() > Self::MAX_ADDRESSES {
                errors.push(FieldError::new(
                    "addresses",
                    format!("Upload at most {} addresses at a time", Self::MAX_ADDRESSES),
                ));
            }
            let mut addresses = Vec::new();
            for (index, line) in request.addresses.iter().enumerate() {
                if is_blank(&tidy(line)) {
                    continue;
                }
                let field = format!("addresses[{index}]");
                match EmailAddress::parse(&field, line) {
                    Ok(address) => addresses.push(address),
                    Err(error) => errors.push(FieldError::new(
                        &field,
                        format!("Line {}: {}", index + 1, error.message),
                    )),
                }
            }
            if request.domains.is_empty() && lines().next().is_none() && !request.trust_domains {
                errors.push(FieldError::new(
                    "domains",
                    "Give at least one work-email domain, take the trusts' own, or upload a list \
                     of staff addresses",
                ));
            }
            StaffList::Replace(addresses)
        };
        errors.into_result()?;
        Ok(Self::Staff {
            domains,
            list,
            trust_domains: request.trust_domains,
        })
    }
}

/// The domain of `address` and each parent domain of at least two labels, most specific first:
/// `a.gstt.nhs.uk`, `gstt.nhs.uk`, `nhs.uk`. An address qualifies under a listed domain when the
/// domain is one of these.
pub fn domain_and_parents(address: &EmailAddress) -> Vec<String> {
    let domain = address
        .as_str()
        .rsplit_once('@')
        .map_or("", |(_, domain)| domain)
        .to_ascii_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    (0..labels.len().saturating_sub(1))
        .map(|from| labels[from..].join("."))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use proptest::prelude::*;
    use valued_platform::domain::hostile;

    use super::*;

    fn staff(domains: &[&str], addresses: &[&str]) -> EligibilityRequest {
        EligibilityRequest {
            staff: Some(true),
            domains: domains.iter().map(|d| (*d).to_owned()).collect(),
            addresses: addresses.iter().map(|a| (*a).to_owned()).collect(),
            keep_addresses: false,
            trust_domains: false,
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn an_address_is_under_its_domain_and_every_parent() {
        let address = EmailAddress::parse("email", "Sam@Ward.GSTT.nhs.uk").unwrap();
        assert_eq!(
            domain_and_parents(&address),
            ["ward.gstt.nhs.uk", "gstt.nhs.uk", "nhs.uk"]
        );
        let address = EmailAddress::parse("email", "sam@nhs.net").unwrap();
        assert_eq!(domain_and_parents(&address), ["nhs.net"]);
    }

    #[test]
    fn a_staff_vote_needs_a_domain_or_a_list_and_names_every_bad_line() {
        let parsed = NewEligibility::parse(&staff(
            &["nhs.net", "@NHS.net", "gstt.nhs.uk"],
            &["sam@gstt.nhs.uk", "", "  "],
        ))
        .unwrap();
        let NewEligibility::Staff { domains, list, .. } = parsed else {
            panic!("staff");
        };
        assert_eq!(domains.len(), 2);
        assert!(matches!(list, StaffList::Replace(a) if a.len() == 1));

        let errors = NewEligibility::parse(&staff(
            &["nhs.net", "not a domain"],
            &["sam@gstt.nhs.uk", "jo at gstt", "", "ali@"],
        ))
        .unwrap_err();
        assert_eq!(
            fields(&errors),
            ["domains[1]", "addresses[1]", "addresses[3]"]
        );
        assert!(errors[1].message.starts_with("Line 2: "), "{errors:?}");
        assert!(errors[2].message.starts_with("Line 4: "), "{errors:?}");

        assert_eq!(
            fields(&NewEligibility::parse(&staff(&[], &[""])).unwrap_err()),
            ["domains"]
        );
        // The trusts' own domains are enough without any typed here.
        let trusts = EligibilityRequest {
            trust_domains: true,
            ..staff(&[], &[""])
        };
        assert!(matches!(
            NewEligibility::parse(&trusts),
            Ok(NewEligibility::Staff {
                trust_domains: true,
                ..
            })
        ));
        let unchosen = EligibilityRequest::default();
        assert_eq!(
            fields(&NewEligibility::parse(&unchosen).unwrap_err()),
            ["eligibility"]
        );
    }

    #[test]
    fn a_public_vote_takes_no_domains_and_keeping_a_list_takes_no_upload() {
        let public = EligibilityRequest {
            staff: Some(false),
            ..Default::default()
        };
        assert_eq!(NewEligibility::parse(&public), Ok(NewEligibility::Public));
        let errors = NewEligibility::parse(&EligibilityRequest {
            staff: Some(false),
            ..staff(&["nhs.net"], &["sam@nhs.net"])
        })
        .unwrap_err();
        assert_eq!(fields(&errors), ["domains", "addresses"]);
        let with_trusts = EligibilityRequest {
            staff: Some(false),
            trust_domains: true,
            ..Default::default()
        };
        assert_eq!(
            fields(&NewEligibility::parse(&with_trusts).unwrap_err()),
            ["trust_domains"]
        );
        let keep = EligibilityRequest {
            keep_addresses: true,
            ..staff(&[], &[])
        };
        assert!(matches!(
            NewEligibility::parse(&keep),
            Ok(NewEligibility::Staff {
                list: StaffList::Keep,
                ..
            })
        ));
        let both = EligibilityRequest {
            keep_addresses: true,
            ..staff(&["nhs.net"], &["sam@nhs.net"])
        };
        assert_eq!(
            fields(&NewEligibility::parse(&both).unwrap_err()),
            ["addresses"]
        );
    }

    proptest! {
        #[test]
        fn hostile_domains_are_clean_or_refused_at_their_field(typed in hostile::TEXT) {
            match WorkDomain::parse("domains[0]", &typed) {
                Ok(domain) => {
                    prop_assert!(domain.as_str().chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
                    prop_assert_eq!(WorkDomain::parse("d", domain.as_str()), Ok(domain.clone()));
                }
                Err(error) => prop_assert!(hostile::readable(&error, "domains[0]"), "{error:?}"),
            }
        }
    }
}
