/// A nominee's consent, given separately for being listed, their story, and their MP. Nothing about
/// a nominee is public or sent to an MP until they say yes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Consent {
    pub listed_publicly: bool,
    pub story_published: bool,
    pub shared_with_mp: bool,
}
