use valued_platform::domain::{FieldError, allowed_in_multi_line, is_blank, tidy};

/// Why someone deserves recognition, in their nominator's words: not empty, within the category's
/// word limit, and within a hard character ceiling whatever the word count. It is shown to
/// moderators, judges and (with consent) the public, so it is [tidied](tidy) like every text
/// people type: hidden controls removed, line breaks as LF, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoryText(String);

impl StoryText {
    pub const MAX_CHARS: usize = 10_000;
    /// Words of a story that events and public pages carry.
    pub const EXCERPT_WORDS: usize = 60;

    pub fn parse(field: &str, value: &str, word_limit: u32) -> Result<Self, FieldError> {
        let text = tidy(value);
        if is_blank(&text) {
            return Err(FieldError::new(
                field,
                "Tell us why they deserve to be recognised",
            ));
        }
        let words = word_count(&text);
        if words > word_limit as usize {
            return Err(FieldError::new(
                field,
                format!("Your story must be {word_limit} words or fewer (it has {words})"),
            ));
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new(
                field,
                format!("Your story must be {} characters or fewer", Self::MAX_CHARS),
            ));
        }
        if !text.chars().all(allowed_in_multi_line) {
            return Err(FieldError::new(
                field,
                "Your story contains characters we cannot accept",
            ));
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first `words` words, with an ellipsis when cut.
    pub fn excerpt(&self, words: usize) -> String {
        Self::excerpt_of(&self.0, words)
    }

    /// The excerpt of a story already stored (and so already checked).
    pub fn excerpt_of(story: &str, words: usize) -> String {
        let mut parts = story.split_whitespace();
        let head: Vec<&str> = parts.by_ref().take(words).collect();
        let mut excerpt = head.join(" ");
        if parts.next().is_some() {
            excerpt.push('…');
        }
        excerpt
    }
}

pub fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use valued_platform::domain::hostile;

    use super::*;

    #[test]
    fn enforces_the_word_limit() {
        let ok = "word ".repeat(300);
        assert!(StoryText::parse("story", &ok, 300).is_ok());
        let long = "word ".repeat(301);
        let error = StoryText::parse("story", &long, 300).unwrap_err();
        assert_eq!(
            error.message,
            "Your story must be 300 words or fewer (it has 301)"
        );
        assert!(StoryText::parse("story", "   \n ", 300).is_err());
    }

    #[test]
    fn refuses_huge_text_even_in_few_words() {
        let one_giant_word = "a".repeat(StoryText::MAX_CHARS + 1);
        assert!(StoryText::parse("story", &one_giant_word, 300).is_err());
    }

    #[test]
    fn excerpts_cut_at_a_word() {
        let story = StoryText::parse(
            "story",
            "Sam always stops to help lost visitors find their way",
            300,
        )
        .unwrap();
        assert_eq!(story.excerpt(4), "Sam always stops to…");
        assert_eq!(story.excerpt(100), story.as_str());
    }

    #[test]
    fn stories_lose_hidden_controls_and_keep_their_lines() {
        let story =
            |text: &str| StoryText::parse("story", text, 300).map(|s| s.as_str().to_owned());
        assert_eq!(
            story("\u{FEFF}Sam \u{202E}always\u{202C} helps.\r\nEvery day.\rThanks\u{200B}!"),
            Ok("Sam always helps.\nEvery day.\nThanks!".into())
        );
        for kept in [
            "שרה תמיד עוזרת.\nתודה!",
            "فاطمة تساعد دائما 👩\u{200D}⚕\u{FE0F}",
        ] {
            assert_eq!(story(kept), Ok(kept.into()));
        }
        assert_eq!(
            story("\u{202E}\u{3164} \u{200B}").unwrap_err().message,
            "Tell us why they deserve to be recognised"
        );
        assert!(story("Sam\0").is_err());
    }

    proptest! {
        #[test]
        fn stories_are_clean_or_refused_with_a_reason(
            text in prop_oneof![hostile::TEXT, hostile::LONG_TEXT],
            limit in 1u32..400,
        ) {
            match StoryText::parse("story", &text, limit) {
                Ok(story) => {
                    prop_assert!(hostile::clean(story.as_str(), StoryText::MAX_CHARS));
                    prop_assert!(word_count(story.as_str()) <= limit as usize);
                    let again = StoryText::parse("story", story.as_str(), limit);
                    prop_assert_eq!(again, Ok(story.clone()));
                }
                Err(error) => prop_assert!(hostile::readable(&error, "story"), "{error:?}"),
            }
        }

        #[test]
        fn excerpts_are_the_first_words(text in hostile::LONG_TEXT, words in 0usize..100) {
            let excerpt = StoryText::excerpt_of(&text, words);
            let kept = excerpt.strip_suffix('…').filter(|_| word_count(&text) > words);
            let head: Vec<&str> = text.split_whitespace().take(words).collect();
            prop_assert_eq!(kept.unwrap_or(&excerpt), head.join(" "));
        }

        #[test]
        fn accepted_stories_respect_the_limit(text in "\\PC{0,400}", limit in 1u32..50) {
            if let Ok(story) = StoryText::parse("story", &text, limit) {
                prop_assert!(word_count(story.as_str()) <= limit as usize);
                prop_assert!(!story.as_str().is_empty());
            }
        }
    }
}
