//! Digitisation result codes. No public format was found (docs/domain.md §Digitisation): the
//! code is opaque, unique and printable, names the agency and the day, and ends with a check
//! character, so that a mistyped code is caught before any look-up:
//! `KQS-{agency e-ID}-{yyMMdd}-{NNNNNN}{C}`, e.g. `KQS-000.01.31.H58-250124-000001K`. The
//! generator is this one function; another format replaces it without touching the rest.

use crate::codes::AgencyCode;
use chrono::NaiveDate;

const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The check character of `s` by ISO/IEC 7064 MOD 37,36 over its digits and letters (other
/// characters are skipped): every single changed character and nearly every swap of two
/// neighbours changes it.
pub fn check_char(s: &str) -> char {
    let mut p: u32 = 36;
    for b in s.bytes() {
        let Some(v) = ALPHABET.iter().position(|a| *a == b.to_ascii_uppercase()) else {
            continue;
        };
        let mut t = (p + v as u32) % 36;
        if t == 0 {
            t = 36;
        }
        p = (2 * t) % 37;
    }
    char::from(ALPHABET[((37 - p) % 36) as usize])
}

/// The code of the `seq`-th digitisation result of `agency` on `day`.
pub fn result_code(agency: &AgencyCode, day: NaiveDate, seq: i64) -> String {
    let body = format!("KQS-{agency}-{}-{seq:06}", day.format("%y%m%d"));
    let c = check_char(&body);
    format!("{body}{c}")
}

/// Whether `code` is a well-formed digitisation result code with the right check character.
pub fn is_result_code(code: &str) -> bool {
    let code = code.trim();
    let Some(rest) = code.strip_prefix("KQS-") else {
        return false;
    };
    let Some(last) = code.chars().last() else {
        return false;
    };
    let body = &code[..code.len() - last.len_utf8()];
    let parts: Vec<&str> = rest.rsplitn(3, '-').collect();
    parts.len() == 3
        && AgencyCode::parse(parts[2]).is_ok()
        && parts[1].len() == 6
        && parts[1].bytes().all(|b| b.is_ascii_digit())
        && parts[0].len() == 7
        && parts[0][..6].bytes().all(|b| b.is_ascii_digit())
        && check_char(body) == last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_carry_their_check_character() {
        let a = AgencyCode::parse("000.01.31.H58").unwrap();
        let day = NaiveDate::from_ymd_opt(2025, 1, 24).unwrap();
        let c = result_code(&a, day, 1);
        assert!(c.starts_with("KQS-000.01.31.H58-250124-000001"), "{c}");
        assert!(is_result_code(&c));
        // Every single-character change is caught.
        let body: Vec<char> = c.chars().collect();
        for i in 4..body.len() {
            for r in ['0', '7', 'A', 'Z'] {
                if body[i] == r || !body[i].is_ascii_alphanumeric() {
                    continue;
                }
                let mut m = body.clone();
                m[i] = r;
                let m: String = m.into_iter().collect();
                assert!(!is_result_code(&m), "{m} passed");
            }
        }
        assert_ne!(result_code(&a, day, 2), c);
        assert!(!is_result_code("KQS-x"));
        assert!(!is_result_code("000.01.31.H58-250124-0001"));
    }
}
