//! Single-use invitation codes: 80 random bits in Crockford base32, shown as four groups of four
//! ("K7QM-3XWP-9DHT-R2VC") so they can be typed from paper, and read forgivingly (any case, with or
//! without dashes or spaces; O as 0, I and L as 1). Only a hash of the normalised code is stored.

use rand::RngCore;
use valued_platform::domain::FieldError;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const LENGTH: usize = 16;

/// A new code, formatted for printing.
pub fn new_code() -> String {
    let mut bytes = [0u8; 10];
    rand::rng().fill_bytes(&mut bytes);
    let mut bits: u128 = 0;
    for b in bytes {
        bits = (bits << 8) | u128::from(b);
    }
    let mut chars = Vec::with_capacity(LENGTH);
    for i in (0..LENGTH).rev() {
        chars.push(ALPHABET[((bits >> (i * 5)) & 31) as usize] as char);
    }
    let plain: String = chars.into_iter().collect();
    format(&plain)
}

fn format(plain: &str) -> String {
    plain
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// A code as typed, normalised; INVALID_ARGUMENT (field `field`) unless it could be a code.
pub fn normalise(field: &str, typed: &str) -> Result<String, FieldError> {
    let mut plain = String::with_capacity(LENGTH);
    for c in typed.chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !ALPHABET.contains(&(c as u8)) || !c.is_ascii() {
            return Err(invalid(field));
        }
        plain.push(c);
    }
    if plain.len() != LENGTH {
        return Err(invalid(field));
    }
    Ok(plain)
}

fn invalid(field: &str) -> FieldError {
    FieldError::new(
        field,
        "Enter the invitation code as it is printed, like K7QM-3XWP-9DHT-R2VC",
    )
}

/// What is stored for a code (normalised first).
pub fn hash(normalised: &str) -> String {
    valued_platform::link_token::hash_token(normalised)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_however_they_are_typed() {
        let code = new_code();
        assert_eq!(code.len(), 19);
        let plain = normalise("c", &code).unwrap();
        assert_eq!(
            normalise("c", &code.to_lowercase().replace('-', " ")).unwrap(),
            plain
        );
        assert_eq!(hash(&plain), hash(&normalise("c", &code).unwrap()));
        assert_ne!(new_code(), code);
    }

    #[test]
    fn confusable_letters_are_read_as_digits_and_junk_is_refused() {
        assert_eq!(
            normalise("c", "oooo-iiii-llll-0000").unwrap(),
            "0000111111110000"
        );
        assert!(normalise("c", "K7QM-3XWP-9DHT").is_err());
        assert!(normalise("c", "K7QM-3XWP-9DHT-R2VU").is_err());
        assert!(normalise("c", "K7QM-3XWP-9DHT-R2VÇ").is_err());
    }
}
