//! Text at the edge: NFC normalisation and the diacritics-insensitive folding used by search.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// NFC-normalises and trims `s`, and folds runs of white space into one space.
pub fn clean(s: &str) -> String {
    let nfc: String = s.nfc().collect();
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Folds `s` for search: lower case, no diacritics, `đ` → `d`, punctuation as spaces,
/// white space folded. `Đăng ký khai sinh` → `dang ky khai sinh`.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = true;
    for c in s.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        let c = match c {
            'đ' | 'Đ' => 'd',
            c => c,
        };
        if c.is_alphanumeric() || c == '.' {
            for l in c.to_lowercase() {
                out.push(l);
            }
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// The folded search terms of a query: each must appear in the folded text.
pub fn terms(query: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in fold(query).split(' ').filter(|t| !t.is_empty()) {
        if out.len() == MAX_TERMS {
            break;
        }
        let t: String = t.chars().take(MAX_TERM_CHARS).collect();
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// A search uses at most this many distinct words (the rest are ignored), so that no query
/// can build a statement larger than the database accepts.
pub const MAX_TERMS: usize = 10;
/// A search word longer than this is cut.
pub const MAX_TERM_CHARS: usize = 50;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_bounded() {
        let long = "a b c d e f g h i j k l m n o p ".repeat(60);
        assert_eq!(terms(&long).len(), MAX_TERMS);
        assert_eq!(terms("khai khai sinh").len(), 2);
    }

    #[test]
    fn folds_vietnamese() {
        assert_eq!(fold("Đăng ký khai sinh"), "dang ky khai sinh");
        assert_eq!(fold("  ĐĂNG   KÝ, kết hôn!"), "dang ky ket hon");
        assert_eq!(fold("Thủ tục 1.001612"), "thu tuc 1.001612");
        // Decomposed input folds the same as precomposed.
        assert_eq!(fold("Hoa\u{300}"), fold("Hoà"));
        assert_eq!(fold("Hòa"), "hoa");
    }

    #[test]
    fn cleans_to_nfc() {
        assert_eq!(clean(" Ho\u{300}a  Bi\u{300}nh "), "Hòa Bình");
    }

    #[test]
    fn splits_terms() {
        assert_eq!(terms("Khai  SINH"), vec!["khai", "sinh"]);
        assert!(terms(" , ; ").is_empty());
    }
}
