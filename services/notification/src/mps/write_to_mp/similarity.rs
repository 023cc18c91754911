//! Whether two letters to an MP are near-identical copies. A supporter may start from a suggested
//! opening, but the letter must be their own: a campaign of pasted copies tells an MP less than one
//! person's words, and WriteToThem refuses them for the same reason.
//!
//! Letters are compared as sets of word triples (shingles) after normalising case, punctuation and
//! spacing; the Jaccard similarity of the two sets is the share of phrasing they have in common.
//!
//! Which letters to compare is found without reading them: each letter has [`BANDS`] band hashes
//! (MinHash locality-sensitive hashing, [`band_hashes`]), and two letters sharing `s` of their
//! phrasing share at least one band with probability `1 - (1 - s^ROWS)^BANDS`: 0.996 at the copy
//! threshold 0.7, 0.9999 at 0.8, 0.15 at 0.3 and about 0.0003 at 0.1. Letters sharing a band are
//! only candidates: [`similarity`] on their shingles decides.

use std::collections::HashSet;

use sha2::{Digest, Sha256};

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

/// How many band hashes a letter has.
pub const BANDS: usize = 20;
/// Minimum hashes per band: more makes a shared band rarer for letters that are not copies.
const ROWS: usize = 4;

/// The letter's band hashes, band by band; each mixes in its band's number, so letters share a
/// value only in the same band. Stable across builds and releases (they are stored): SHA-256 and
/// fixed arithmetic only.
pub fn band_hashes(shingles: &HashSet<String>) -> [i64; BANDS] {
    let mut minima = [u64::MAX; BANDS * ROWS];
    for shingle in shingles {
        let base = first_word(&Sha256::digest(shingle.as_bytes()));
        for (seed, minimum) in (0u64..).zip(minima.iter_mut()) {
            *minimum = (*minimum).min(mix(base ^ mix(seed)));
        }
    }
    let mut bands = [0; BANDS];
    for ((band, rows), hash) in (0u64..).zip(minima.chunks(ROWS)).zip(bands.iter_mut()) {
        let mut hasher = Sha256::new();
        hasher.update(band.to_le_bytes());
        for row in rows {
            hasher.update(row.to_le_bytes());
        }
        *hash = i64::from_le_bytes(first_word(&hasher.finalize()).to_le_bytes());
    }
    bands
}

/// The first eight bytes of a digest, as a number.
fn first_word(digest: &[u8]) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(word)
}

/// SplitMix64's finaliser: one of the MinHash permutations for each seed it is XORed with.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
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

    fn shared_bands(a: &str, b: &str) -> usize {
        let (a, b) = (band_hashes(&shingles(a)), band_hashes(&shingles(b)));
        a.iter().zip(b.iter()).filter(|(x, y)| x == y).count()
    }

    #[test]
    fn copies_share_bands_and_letters_in_their_own_words_do_not() {
        assert_eq!(shared_bands(LETTER, LETTER), BANDS);
        let pasted = LETTER.to_uppercase().replace(',', "");
        assert_eq!(shared_bands(&pasted, LETTER), BANDS, "the same shingles");
        let signed = format!("{LETTER} Yours sincerely, Chris");
        assert!(shared_bands(&signed, LETTER) >= 1);
        let own = "Dear Ms Baker, my mum was on ward 7 last month and a domestic called Sue \
            noticed she was frightened and sat with her. Please back fair pay for people like Sue.";
        assert_eq!(shared_bands(own, LETTER), 0);
    }

    #[test]
    fn band_hashes_are_stable_across_builds() {
        // Stored in the database: a change here makes every stored fingerprint useless. The values
        // were checked against a separate implementation of the same steps.
        let bands = band_hashes(&shingles("the porters at frimley park"));
        assert_eq!(bands[0], 2_219_382_175_012_823_519);
        assert_eq!(bands[BANDS - 1], 1_057_670_095_230_406_779);
    }

    proptest! {
        #[test]
        fn letters_sharing_a_band_are_found_whenever_they_are_copies(
            base in proptest::collection::vec("[a-z]{1,8}", 40..120),
            changes in proptest::collection::vec((any::<proptest::sample::Index>(), "[a-z]{1,8}"), 0..3),
        ) {
            let mut edited = base.clone();
            for (at, word) in changes {
                *at.get_mut(&mut edited) = word;
            }
            let (a, b) = (base.join(" "), edited.join(" "));
            // Not a guarantee (0.996 at the threshold 0.7); at 0.9 a miss has a chance of about
            // one in two billion, so one would mean the hashing is broken.
            if similarity(&shingles(&a), &shingles(&b)) >= 0.9 {
                prop_assert!(shared_bands(&a, &b) >= 1);
            }
        }

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
