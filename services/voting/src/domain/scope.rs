//! Whose campaign a public vote belongs to, which says who runs it (see [`crate::organisers`]).

/// A campaign's scope as the nomination service announces it with each finalist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CampaignScope {
    /// A national campaign: run by platform admins. Also a scope this service cannot read (an
    /// older announcement's, a trust or region without its code), so that nobody gains a vote by
    /// a gap in what was announced.
    National,
    /// A region's campaign: its region admins run it. The region code as announced (`Y56`).
    Region(String),
    /// A trust's own campaign: its trust admins run it. The trust code as announced (`RJ1`).
    Trust(String),
}

impl CampaignScope {
    /// From the announced (or stored) scope and code.
    pub fn parse(scope: &str, code: &str) -> Self {
        let code = code.trim();
        match scope.trim() {
            _ if code.is_empty() => Self::National,
            "trust" => Self::Trust(code.to_owned()),
            "region" => Self::Region(code.to_owned()),
            _ => Self::National,
        }
    }

    /// The scope and its code as stored on a ballot.
    pub fn columns(&self) -> (&'static str, &str) {
        match self {
            Self::National => ("national", ""),
            Self::Region(code) => ("region", code),
            Self::Trust(code) => ("trust", code),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CampaignScope;

    #[test]
    fn a_scope_is_read_as_announced_and_anything_unclear_is_national() {
        assert_eq!(
            CampaignScope::parse("trust", " RJ1 "),
            CampaignScope::Trust("RJ1".into())
        );
        assert_eq!(
            CampaignScope::parse("region", "Y56"),
            CampaignScope::Region("Y56".into())
        );
        for (scope, code) in [
            ("national", ""),
            ("", ""),
            ("trust", ""),
            ("region", "  "),
            ("national", "RJ1"),
            ("campaign", "RJ1"),
        ] {
            assert_eq!(
                CampaignScope::parse(scope, code),
                CampaignScope::National,
                "{scope:?} {code:?}"
            );
        }
        for scope in [
            CampaignScope::National,
            CampaignScope::Region("Y56".into()),
            CampaignScope::Trust("RJ1".into()),
        ] {
            let (kind, code) = scope.columns();
            assert_eq!(CampaignScope::parse(kind, code), scope);
        }
    }
}
