//! The officers' search box: what was typed or scanned, read as a dossier code, an
//! applicant's identifier or words of a name.

use motcua_domain::dossier::parse_dossier_code;

/// The text of a search box, with a scanned tracking URL reduced to the code it carries
/// (`https://dichvucong.example.vn/tra-cuu?ma=CODE` or `…/ho-so/CODE`).
pub fn scanned(text: &str) -> String {
    let text = text.trim();
    if !(text.contains("://") || text.starts_with('/')) {
        return text.to_owned();
    }
    let text = text.split('#').next().unwrap_or_default();
    let (path, query) = text.split_once('?').unwrap_or((text, ""));
    for pair in query.split('&') {
        if let Some(v) = pair.strip_prefix("ma=") {
            return percent_decode(v).trim().to_owned();
        }
    }
    path.rsplit('/')
        .find(|s| !s.is_empty())
        .map(|s| percent_decode(s).trim().to_owned())
        .unwrap_or_default()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1..i + 3)) {
            (b'%', Some(h)) if h.iter().all(u8::is_ascii_hexdigit) => {
                let hex = std::str::from_utf8(h).unwrap_or("00");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The dossier code `text` is, in the stored letter case, ignoring spaces a scanner or a
/// hurried officer put in.
pub fn as_dossier_code(text: &str) -> Option<String> {
    let code: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    parse_dossier_code(&code).ok().map(|_| code)
}

/// A citizen ID (12 digits), an enterprise or tax code (10 digits) or a branch's (10-3).
pub fn is_applicant_id(text: &str) -> bool {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    match text.split_once('-') {
        Some((a, b)) => digits(a, 10) && digits(b, 3),
        None => digits(text, 12) || digits(text, 10),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_a_scanner_types() {
        let code = "000.01.31.H58-250124-0001";
        assert_eq!(
            scanned("https://dvc.example.vn/tra-cuu?ma=000.01.31.H58-250124-0001"),
            code
        );
        assert_eq!(
            scanned("http://localhost:8080/tra-cuu?x=1&ma=000.01.31.H58-250124-0001#top"),
            code
        );
        assert_eq!(
            scanned("https://dvc.example.vn/ho-so/000.01.31.H58-250124-0001/"),
            code
        );
        assert_eq!(scanned("  Nguyễn Văn An "), "Nguyễn Văn An");
        assert_eq!(
            as_dossier_code(" 000.01.31.h58-250124-0001 ").as_deref(),
            Some(code)
        );
        assert_eq!(as_dossier_code("nguyen van an"), None);
        assert!(is_applicant_id("008190001234"));
        assert!(is_applicant_id("0101234567"));
        assert!(is_applicant_id("0101234567-001"));
        assert!(!is_applicant_id("12345"));
    }
}
