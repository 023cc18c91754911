//! Whether two letters to an MP are near-identical copies. A supporter may start from a suggested
//! opening, but the letter must be their own: a campaign of pasted copies tells an MP less than one
//! person's words, and WriteToThem refuses them for the same reason.
//!
//! Letters are compared as sets of word triples (shingles) after normalising case, punctuation and
//! spacing; the Jaccard similarity of the two sets is the share of phrasing they have in common.

use std::collections::HashSet;

/// Letters sharing at least this much phrasing are copies.
pub const COPY_THRESHOLD: f64 = 0.7;
const SHINGLE_WORDS: usize = 3;

/// The normalised word triples of `text`.
pub fn shingles(text: &str) -> HashSet<String> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    if words.len() < SHINGLE_WORDS {
        return std::iter::once(words.join(" ")).collect();
    }
    words
        .windows(SHINGLE_WORDS)
        .map(|window| window.join(" "))
        .collect()
}

/// Share of phrasing two letters have in common, 0 (nothing) to 1 (the same words).
pub fn similarity(a: &HashSet<String>, b: &HashSet<String>) -> f64 {
    let union = a.union(b).count();
    if union == 0 {
        return 1.0;
    }
    #[allow(clippy::cast_precision_loss)] // counts of a letter's words
    let ratio = a.intersection(b).count() as f64 / union as f64;
    ratio
}

/// Whether `letter` is a near-identical copy of `other`.
pub fn is_copy(letter: &str, other: &str) -> bool {
    similarity(&shingles(letter), &shingles(other)) >= COPY_THRESHOLD
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const LETTER: &str = "Dear Ms Baker, the porters at Frimley Park kept our ward running through \
        the winter. Please recognise support staff in the next pay review, because they are the \
        people who make the hospital work for every patient.";

    #[test]
    fn a_pasted_copy_with_cosmetic_changes_is_a_copy() {
        let pasted = LETTER.to_uppercase().replace(',', "").replace("  ", " ");
        assert!(is_copy(&pasted, LETTER));
        let signed_differently = format!("{LETTER} Yours sincerely, Chris");
        assert!(is_copy(&signed_differently, LETTER));
    }

    #[test]
    fn a_letter_in_someone_s_own_words_is_not() {
        let own = "Dear Ms Baker, my mum was on ward 7 last month and a domestic called Sue \
            noticed she was frightened and sat with her. Please back fair pay for people like Sue.";
        assert!(!is_copy(own, LETTER));
    }

    #[test]
    fn sharing_the_suggested_opening_alone_is_fine() {
        let opening = "Dear Ms Baker, I am writing about NHS support staff.";
        let a = format!(
            "{opening} The cleaners on my dad's ward were kind and thorough every single day he was there."
        );
        let b = format!(
            "{opening} Our hospital porters walk miles each shift and nobody ever thanks them for it."
        );
        assert!(!is_copy(&a, &b));
    }

    proptest! {
        #[test]
        fn similarity_is_symmetric_bounded_and_one_for_itself(a in "[a-z ]{0,200}", b in "[a-z ]{0,200}") {
            let (sa, sb) = (shingles(&a), shingles(&b));
            let s = similarity(&sa, &sb);
            prop_assert!((0.0..=1.0).contains(&s));
            prop_assert!((s - similarity(&sb, &sa)).abs() < 1e-12);
            prop_assert!((similarity(&sa, &sa) - 1.0).abs() < 1e-12);
        }
    }
}
