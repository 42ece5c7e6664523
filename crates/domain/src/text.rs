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

/// Headings and labels of Vietnamese administrative papers that OCR often reads with their
/// diacritics lost or wrong; a line that folds to one of them is replaced by it, in the line's
/// letter case.
const KNOWN_LINES: &[&str] = &[
    "Cộng hòa xã hội chủ nghĩa Việt Nam",
    "Độc lập - Tự do - Hạnh phúc",
    "Căn cước công dân",
    "Căn cước",
    "Giấy chứng nhận đăng ký doanh nghiệp",
    "Giấy chứng nhận quyền sử dụng đất",
    "Giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền với đất",
];

/// Text as OCR gives it, made fit to keep: NFC; letters OCR confuses with Vietnamese ones put
/// back (`ð` → `đ`); a combining mark cut off by a space joined to its letter; stray marks and
/// invisible characters removed; runs of spaces folded; and known headings and labels with
/// lost diacritics restored (see `KNOWN_LINES`). Line breaks are kept.
pub fn repair_ocr(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&repair_line(line));
    }
    out
}

fn repair_line(line: &str) -> String {
    let mut s = String::with_capacity(line.len());
    let mut space = false;
    for c in line.nfd() {
        let c = match c {
            'ð' => 'đ',
            'Ð' => 'Đ',
            '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{feff}' | '\u{00ad}' => continue,
            '‘' | '’' | '`' | '´' if s.is_empty() => continue,
            c => c,
        };
        if is_combining_mark(c) {
            // A mark after a space belongs to the letter before the space.
            if space {
                s.pop();
                space = false;
            }
            if s.is_empty() {
                continue;
            }
            s.push(c);
            continue;
        }
        if c == ' ' || c == '\t' {
            if !space && !s.is_empty() {
                s.push(' ');
            }
            space = true;
            continue;
        }
        space = false;
        s.push(c);
    }
    let s: String = s.trim_end().nfc().collect();
    let folded = fold(&s);
    if !folded.is_empty()
        && let Some(known) = KNOWN_LINES.iter().find(|k| fold(k) == folded)
    {
        let letters: Vec<char> = s.chars().filter(|c| c.is_alphabetic()).collect();
        let upper = letters.iter().filter(|c| c.is_uppercase()).count();
        return if upper * 2 > letters.len() {
            known.to_uppercase()
        } else {
            (*known).to_owned()
        };
    }
    s
}

/// The character error rate of `hypothesis` against `reference`: the edit distance between
/// the two (NFC, white space folded to single spaces) over the reference's length.
pub fn char_error_rate(reference: &str, hypothesis: &str) -> f64 {
    let norm = |s: &str| -> Vec<char> {
        s.nfc()
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .collect()
    };
    let (r, h) = (norm(reference), norm(hypothesis));
    if r.is_empty() {
        return if h.is_empty() { 0.0 } else { 1.0 };
    }
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    let mut cur = vec![0; h.len() + 1];
    for (i, rc) in r.iter().enumerate() {
        cur[0] = i + 1;
        for (j, hc) in h.iter().enumerate() {
            let sub = prev[j] + usize::from(rc != hc);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[h.len()] as f64 / r.len() as f64
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
    fn character_error_rate() {
        assert_eq!(char_error_rate("Việt Nam", "Việt  Nam"), 0.0);
        assert!((char_error_rate("abcd", "abxd") - 0.25).abs() < 1e-9);
        assert!((char_error_rate("Trần", "Trấn") - 0.25).abs() < 1e-9);
        assert_eq!(char_error_rate("", ""), 0.0);
    }

    #[test]
    fn repairs_what_ocr_breaks() {
        assert_eq!(repair_ocr("CAN CƯỚC CONG DAN"), "CĂN CƯỚC CÔNG DÂN");
        assert_eq!(
            repair_ocr("‘CONG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"),
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"
        );
        assert_eq!(repair_ocr("Họ  tên:\tðinh Văn A"), "Họ tên: đinh Văn A");
        // Decomposed input comes out composed, a mark split off by a space rejoined.
        assert_eq!(repair_ocr("Vie\u{0302}\u{0323}t"), "Việt");
        assert_eq!(repair_ocr("Vie \u{0302}\u{0323}t"), "Việt");
        assert_eq!(repair_ocr("a\u{200b}b"), "ab");
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
