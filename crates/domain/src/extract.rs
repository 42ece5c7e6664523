//! Fields officers retype most, read from the text of a page (OCR or a text layer): each value
//! with a confidence and the box it came from, checked against its domain rule, for an officer
//! to confirm or correct. Kinds: the citizen ID card (front, and the machine-readable zone of
//! the back: ICAO 9303 TD1 with check digits), the business registration certificate, the
//! land-use right certificate.

use crate::text::fold;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What to extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    IdCard,
    BusinessRegistration,
    LandUse,
}

impl DocumentKind {
    pub fn parse(s: &str) -> Option<DocumentKind> {
        match s {
            "id_card" => Some(DocumentKind::IdCard),
            "business_registration" => Some(DocumentKind::BusinessRegistration),
            "land_use" => Some(DocumentKind::LandUse),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::IdCard => "id_card",
            DocumentKind::BusinessRegistration => "business_registration",
            DocumentKind::LandUse => "land_use",
        }
    }
}

/// A recognised word and its box on the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Token {
    pub text: String,
    pub left: u32,
    pub top: u32,
    pub width: u32,
    pub height: u32,
    /// 0–1.
    pub confidence: f32,
}

/// A page to read fields from.
#[derive(Debug, Clone, Default)]
pub struct PageInput {
    pub text: String,
    pub words: Vec<Token>,
    /// The page's confidence, used for values whose words cannot be found (0–1).
    pub confidence: f32,
}

/// A box on a page (pixels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Bounds {
    pub page: u32,
    pub left: u32,
    pub top: u32,
    pub width: u32,
    pub height: u32,
}

/// One extracted value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Field {
    pub value: String,
    /// 0–1: the OCR's confidence in the words, raised to 1 when check digits agree, lowered
    /// when a rule fails.
    pub confidence: f32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounds: Option<Bounds>,
    /// Whether the value passes its domain rule (ID number structure, check digits, tax code).
    pub valid: bool,
    /// Why it does not, or what was corrected (Vietnamese; English after ` / `).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The fields found in a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Extraction {
    pub kind: DocumentKind,
    pub fields: BTreeMap<String, Field>,
}

/// Extracts the fields of `kind` from the pages of one document.
pub fn extract(kind: DocumentKind, pages: &[PageInput]) -> Extraction {
    let mut fields = BTreeMap::new();
    for (i, p) in pages.iter().enumerate() {
        let page = Reader::new(p, i as u32 + 1);
        let found = match kind {
            DocumentKind::IdCard => id_card(&page),
            DocumentKind::BusinessRegistration => business(&page),
            DocumentKind::LandUse => land_use(&page),
        };
        for (k, f) in found {
            // The better reading of a field wins (the MRZ's checked values over the front's).
            match fields.get(&k) {
                Some(old) if better(old, &f) => {}
                _ => {
                    fields.insert(k, f);
                }
            }
        }
    }
    if kind == DocumentKind::IdCard {
        cross_check_id(&mut fields);
    }
    Extraction { kind, fields }
}

fn better(old: &Field, new: &Field) -> bool {
    (old.valid, old.confidence) >= (new.valid, new.confidence)
}

/// Lines of a page with their folded form, and the page's words.
struct Reader<'a> {
    lines: Vec<(String, String)>,
    page: &'a PageInput,
    number: u32,
}

impl<'a> Reader<'a> {
    fn new(page: &'a PageInput, number: u32) -> Self {
        let lines = page
            .text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| (l.to_owned(), fold(l)))
            .collect();
        Reader {
            lines,
            page,
            number,
        }
    }

    /// The value after a label: the rest of the label's line after `:` if any, else the next
    /// line. `labels` are folded label texts (any matches).
    fn after(&self, labels: &[&str]) -> Option<String> {
        for (i, (line, folded)) in self.lines.iter().enumerate() {
            let Some(at) = labels
                .iter()
                .find_map(|l| folded.find(l).map(|p| (p, l.len())))
            else {
                continue;
            };
            // The rest of the line after the label's colon.
            let rest = line
                .split_once(':')
                .map(|(_, r)| r.trim())
                .filter(|r| !r.is_empty() && at.0 + at.1 <= fold(line).len());
            if let Some(r) = rest {
                return Some(r.to_owned());
            }
            if let Some((next, _)) = self.lines.get(i + 1) {
                return Some(next.clone());
            }
        }
        None
    }

    /// A field for `value`, with the confidence and box of the words that spell it.
    fn field(&self, value: String) -> Field {
        let wanted: Vec<String> = value.split_whitespace().map(fold).collect();
        let words = &self.page.words;
        let mut best: Option<(usize, usize)> = None;
        if !wanted.is_empty() {
            for start in 0..words.len() {
                let mut i = start;
                let mut ok = true;
                for w in &wanted {
                    match words.get(i) {
                        Some(t) if fold(&t.text) == *w => i += 1,
                        _ => {
                            ok = false;
                            break;
                        }
                    }
                }
                if ok {
                    best = Some((start, i));
                    break;
                }
            }
        }
        let (confidence, bounds) = match best {
            Some((a, b)) => {
                let ws = &words[a..b];
                let conf = ws.iter().map(|w| w.confidence).sum::<f32>() / ws.len() as f32;
                let left = ws.iter().map(|w| w.left).min().unwrap_or(0);
                let top = ws.iter().map(|w| w.top).min().unwrap_or(0);
                let right = ws.iter().map(|w| w.left + w.width).max().unwrap_or(0);
                let bottom = ws.iter().map(|w| w.top + w.height).max().unwrap_or(0);
                (
                    conf,
                    Some(Bounds {
                        page: self.number,
                        left,
                        top,
                        width: right - left,
                        height: bottom - top,
                    }),
                )
            }
            None => (self.page.confidence, None),
        };
        Field {
            value,
            confidence,
            bounds,
            valid: true,
            note: None,
        }
    }
}

fn digits_run(s: &str, n: usize) -> Option<String> {
    let mut run = String::new();
    for c in s.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            if run.len() == n {
                return Some(run);
            }
            run.clear();
        }
    }
    None
}

/// `dd/mm/yyyy` (or with `-` or `.`) in `s`, as a date.
fn date_in(s: &str) -> Option<NaiveDate> {
    let cleaned: String = s
        .chars()
        .map(|c| if matches!(c, '-' | '.') { '/' } else { c })
        .collect();
    cleaned.split_whitespace().find_map(|w| {
        let w = w.trim_matches(|c: char| !c.is_ascii_digit());
        NaiveDate::parse_from_str(w, "%d/%m/%Y").ok()
    })
}

/// Vietnamese family names and the commonest middle names, as printed: a name word OCR read
/// with a wrong or lost mark (`TRẤN` → `TRẦN`) is put back when its folded form is one of them.
const NAME_WORDS: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Đào", "Lương", "Trịnh", "Mai", "Tạ", "Triệu", "Cao",
    "Thị", "Văn", "Đức", "Hữu", "Minh", "Quang", "Thanh", "Ngọc",
];

/// A person's name as printed on a card (upper case), with family and middle names whose marks
/// OCR got wrong put back; the note says what was changed.
fn repair_name(name: &str) -> (String, Option<String>) {
    let upper = name
        .chars()
        .filter(|c| c.is_alphabetic())
        .all(char::is_uppercase);
    let mut changed = Vec::new();
    let words: Vec<String> = name
        .split_whitespace()
        .enumerate()
        .map(|(i, w)| {
            // Only the family name (first) and the middle names (not the given name, last).
            let last = i + 1 == name.split_whitespace().count();
            let fixed = (!last)
                .then(|| NAME_WORDS.iter().find(|k| fold(k) == fold(w)))
                .flatten()
                .map(|k| {
                    if upper {
                        k.to_uppercase()
                    } else {
                        (*k).to_owned()
                    }
                });
            match fixed {
                Some(f) if f != w => {
                    changed.push(format!("{w} → {f}"));
                    f
                }
                _ => w.to_owned(),
            }
        })
        .collect();
    let note = (!changed.is_empty()).then(|| {
        format!(
            "Đã sửa dấu theo danh sách họ, tên đệm: {0} / marks corrected from the list of family and middle names: {0}",
            changed.join(", ")
        )
    });
    (words.join(" "), note)
}

fn id_card(r: &Reader<'_>) -> Vec<(String, Field)> {
    let mut out = Vec::new();
    if let Some(mrz) = mrz_td1(&r.page.text) {
        out.extend(mrz);
    }
    let number = r
        .after(&["so / no", "so/no", "so:", "so dinh danh"])
        .and_then(|v| digits_run(&v, 12))
        .or_else(|| digits_run(&r.page.text, 12));
    if let Some(n) = number {
        out.push(("id_number".into(), r.field(n)));
    }
    if let Some(v) = r.after(&["ho va ten", "full name", "ho, chu dem va ten"]) {
        let (name, note) = repair_name(v.trim());
        let mut f = r.field(v.trim().to_owned());
        f.value = name;
        f.note = note;
        out.push(("full_name".into(), f));
    }
    for (key, labels) in [
        ("date_of_birth", &["ngay sinh", "date of birth"][..]),
        (
            "expiry",
            &["co gia tri den", "date of expiry", "gia tri den"][..],
        ),
    ] {
        if let Some(d) = r.after(labels).and_then(|v| date_in(&v)) {
            let text = d.format("%d/%m/%Y").to_string();
            let mut f = r.field(text);
            f.value = d.format("%Y-%m-%d").to_string();
            out.push((key.into(), f));
        }
    }
    if let Some(v) = r.after(&["gioi tinh", "sex"]) {
        let folded = fold(&v);
        let sex = if folded.starts_with("nu") {
            Some("Nữ")
        } else if folded.starts_with("nam") {
            Some("Nam")
        } else {
            None
        };
        if let Some(s) = sex {
            let word = v.split_whitespace().next().unwrap_or(s).to_owned();
            let mut f = r.field(word);
            f.value = s.into();
            out.push(("sex".into(), f));
        }
    }
    if let Some(v) = r.after(&["quoc tich", "nationality"]) {
        let v = v.rsplit(':').next().unwrap_or(&v).trim().to_owned();
        out.push(("nationality".into(), r.field(v)));
    }
    for (key, labels) in [
        (
            "place_of_origin",
            &["que quan", "place of origin", "noi sinh"][..],
        ),
        (
            "place_of_residence",
            &["noi thuong tru", "place of residence", "noi cu tru"][..],
        ),
    ] {
        if let Some(v) = r.after(labels) {
            out.push((key.into(), r.field(v.trim().to_owned())));
        }
    }
    out
}

/// The ICAO 9303 check digit of `s` (digits, `A`–`Z` as 10–35, `<` as 0; weights 7, 3, 1).
pub fn check_digit(s: &str) -> u32 {
    s.chars()
        .map(|c| match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
            _ => 0,
        })
        .zip([7, 3, 1].iter().cycle())
        .map(|(v, w)| v * w)
        .sum::<u32>()
        % 10
}

fn mrz_date(yymmdd: &str, future: bool) -> Option<NaiveDate> {
    let yy: i32 = yymmdd.get(0..2)?.parse().ok()?;
    let mm: u32 = yymmdd.get(2..4)?.parse().ok()?;
    let dd: u32 = yymmdd.get(4..6)?.parse().ok()?;
    // Birth dates are in the past century or this one; expiry dates in this century.
    let year = if future || yy <= 40 {
        2000 + yy
    } else {
        1900 + yy
    };
    NaiveDate::from_ymd_opt(year, mm, dd)
}

/// Characters OCR reads in place of digits in the zone's digit positions.
fn as_digit(c: char) -> char {
    match c {
        'O' | 'Q' | 'D' => '0',
        'I' | 'L' => '1',
        'Z' => '2',
        'S' => '5',
        'G' => '6',
        'B' => '8',
        c => c,
    }
}

/// Line 2 of a TD1 zone (30 characters) with its digit positions read as digits.
fn td1_line2(l: &str) -> String {
    l.chars()
        .enumerate()
        .map(|(i, c)| {
            if matches!(i, 0..=6 | 8..=14 | 29) {
                as_digit(c)
            } else {
                c
            }
        })
        .collect()
}

/// Whether a line 2's birth-date and expiry check digits agree.
fn td1_line2_checks(l: &str) -> (bool, bool) {
    let ok = |a: usize, b: usize| {
        l.get(b..b + 1).and_then(|d| d.parse::<u32>().ok()) == l.get(a..b).map(check_digit)
    };
    (ok(0, 6), ok(8, 14))
}

/// The fields of a TD1 machine-readable zone (three lines of 30 characters) found in `text`.
/// When a check digit agrees, its value is certain (confidence 1). A line OCR read with one
/// stray character too many is mended when removing one character makes its check digits
/// agree.
pub fn mrz_td1(text: &str) -> Option<Vec<(String, Field)>> {
    let lines: Vec<String> = text
        .lines()
        .map(|l| {
            l.chars()
                .filter(|c| !c.is_whitespace())
                .map(|c| match c {
                    '«' | '‹' | '(' | '[' | '{' => '<',
                    c => c.to_ascii_uppercase(),
                })
                .collect::<String>()
        })
        .filter(|l| {
            (30..=32).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '<')
        })
        .collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("ID") || l.starts_with('I'))?;
    let l1 = lines.get(start)?.get(..30)?.to_owned();
    let raw2 = lines.get(start + 1)?;
    let l2 = if raw2.len() == 30 {
        td1_line2(raw2)
    } else {
        (0..raw2.len())
            .map(|i| {
                let mut t = raw2.clone();
                t.remove(i);
                t.truncate(30);
                td1_line2(&t)
            })
            .find(|t| {
                td1_line2_checks(t) == (true, true)
                    && matches!(&t[7..8], "M" | "F" | "<")
                    && t[15..18].chars().all(|c| c.is_ascii_uppercase())
            })
            .unwrap_or_else(|| td1_line2(&raw2[..30]))
    };
    let l3 = lines
        .get(start + 2)
        .map(|l| l.chars().take(30).collect::<String>())
        .unwrap_or_default();
    let (l1, l2, l3) = (&l1, &l2, &l3);
    let mut out = Vec::new();
    let certain = |value: String, ok: bool| Field {
        value,
        confidence: if ok { 1.0 } else { 0.3 },
        bounds: None,
        valid: ok,
        note: (!ok).then(|| {
            "Chữ số kiểm tra của vùng MRZ không khớp / the MRZ check digit does not agree"
                .to_owned()
        }),
    };
    // Line 1: document code (2), issuing state (3), document number (9) and its check digit,
    // optional data (15): on Vietnamese cards the 12-digit ID number.
    let doc = &l1[5..14];
    let doc_ok = check_digit(doc) == l1[14..15].parse::<u32>().unwrap_or(99);
    if let Some(id) = digits_run(&l1[15..30], 12) {
        out.push(("id_number".into(), certain(id, doc_ok)));
    }
    // Line 2: birth date + check, sex, expiry + check, nationality.
    let (birth_ok, expiry_ok) = td1_line2_checks(l2);
    if let Some(d) = mrz_date(&l2[0..6], false) {
        out.push((
            "date_of_birth".into(),
            certain(d.format("%Y-%m-%d").to_string(), birth_ok),
        ));
    }
    let sex = match &l2[7..8] {
        "M" => Some("Nam"),
        "F" => Some("Nữ"),
        _ => None,
    };
    if let Some(s) = sex {
        out.push((
            "sex".into(),
            Field {
                confidence: 0.9,
                ..certain(s.into(), true)
            },
        ));
    }
    if let Some(d) = mrz_date(&l2[8..14], true) {
        out.push((
            "expiry".into(),
            certain(d.format("%Y-%m-%d").to_string(), expiry_ok),
        ));
    }
    if &l2[15..18] == "VNM" {
        out.push((
            "nationality".into(),
            Field {
                confidence: 0.9,
                ..certain("Việt Nam".into(), true)
            },
        ));
    }
    // Line 3: the name without marks (the front gives it with them).
    let name = l3
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .split("<<")
        .filter(|p| !p.is_empty())
        .map(|p| p.replace('<', " "))
        .collect::<Vec<_>>()
        .join(" ");
    if !name.trim().is_empty() {
        out.push((
            "mrz_name".into(),
            Field {
                confidence: 0.9,
                ..certain(name.trim().to_owned(), true)
            },
        ));
    }
    Some(out)
}

/// The rules a citizen ID number and the card's other fields must agree on: 12 digits; a
/// province-of-registration code 001–096; the sex/century digit and the two birth-year digits
/// agree with the birth date and sex.
fn cross_check_id(fields: &mut BTreeMap<String, Field>) {
    let dob = fields
        .get("date_of_birth")
        .and_then(|f| NaiveDate::parse_from_str(&f.value, "%Y-%m-%d").ok());
    let sex = fields.get("sex").map(|f| f.value.clone());
    let Some(id) = fields.get_mut("id_number") else {
        return;
    };
    let mut problems = Vec::new();
    let v = id.value.clone();
    if crate::codes::CitizenId::parse(&v).is_err() {
        problems.push("không phải số định danh 12 chữ số hợp lệ / not a valid 12-digit ID number");
    } else {
        let digit = v.as_bytes()[3] - b'0';
        if let Some(d) = dob {
            let century = match d.year() / 100 {
                19 => Some(0),
                20 => Some(2),
                21 => Some(4),
                _ => None,
            };
            if century.is_some_and(|c| digit / 2 * 2 != c) {
                problems.push("chữ số thế kỷ không khớp năm sinh / the century digit does not match the birth year");
            }
            if v[4..6] != format!("{:02}", d.year() % 100) {
                problems.push("hai chữ số năm sinh không khớp ngày sinh / the birth-year digits do not match the birth date");
            }
        }
        if let Some(s) = sex {
            let female = digit % 2 == 1;
            if (s == "Nữ") != female {
                problems.push("chữ số giới tính không khớp / the sex digit does not match");
            }
        }
    }
    if problems.is_empty() {
        if dob.is_some() {
            id.confidence = id.confidence.max(0.95);
        }
    } else {
        id.valid = false;
        id.confidence = id.confidence.min(0.3);
        id.note = Some(problems.join("; "));
    }
}

fn business(r: &Reader<'_>) -> Vec<(String, Field)> {
    let mut out = Vec::new();
    if let Some(v) = r.after(&["ma so doanh nghiep", "ma so thue"]) {
        let code = digits_run(&v, 10).map(|c| {
            // A branch: NNNNNNNNNN-NNN.
            match v.split_once(&c[..]).and_then(|(_, rest)| {
                rest.trim_start()
                    .strip_prefix('-')
                    .and_then(|b| digits_run(b.trim_start(), 3))
            }) {
                Some(b) => format!("{c}-{b}"),
                None => c,
            }
        });
        if let Some(c) = code {
            let mut f = r.field(c.clone());
            if crate::codes::TaxCode::parse(&c).is_err() {
                f.valid = false;
                f.note =
                    Some("không phải mã số 10 hoặc 13 chữ số / not a 10- or 13-digit code".into());
            }
            out.push(("enterprise_code".into(), f));
        }
    }
    for (key, labels) in [
        (
            "name",
            &[
                "ten doanh nghiep viet bang tieng viet",
                "ten doanh nghiep",
                "ten cong ty",
            ][..],
        ),
        ("address", &["dia chi tru so chinh", "dia chi tru so"][..]),
        (
            "legal_representative",
            &["nguoi dai dien theo phap luat", "ho va ten"][..],
        ),
    ] {
        if let Some(v) = r.after(labels) {
            out.push((key.into(), r.field(v.trim().to_owned())));
        }
    }
    out
}

fn land_use(r: &Reader<'_>) -> Vec<(String, Field)> {
    let mut out = Vec::new();
    for (key, labels) in [
        (
            "certificate_number",
            &[
                "so vao so cap giay",
                "so phat hanh",
                "so giay chung nhan",
                "so seri",
            ][..],
        ),
        ("parcel_number", &["thua dat so", "so thua"][..]),
        ("map_sheet", &["to ban do so", "to ban do"][..]),
        ("address", &["dia chi"][..]),
    ] {
        if let Some(v) = r.after(labels) {
            let v = v.trim().to_owned();
            let v = match key {
                "parcel_number" | "map_sheet" => v
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .find(|w| w.chars().any(|c| c.is_ascii_digit()))
                    .unwrap_or(&v)
                    .to_owned(),
                _ => v,
            };
            out.push((key.into(), r.field(v)));
        }
    }
    if let Some(v) = r.after(&["dien tich"]) {
        // "125,5 m²" or "125.5 m2": the number in square metres.
        let num: String = v
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(|c| c.is_ascii_digit() || matches!(c, ',' | '.'))
            .collect();
        let normalised = num.replace('.', "").replacen(',', ".", 1);
        let value = if num.contains(',') {
            normalised
        } else {
            num.clone()
        };
        if value.parse::<f64>().is_ok() {
            let mut f = r.field(num);
            f.value = value;
            out.push(("area_m2".into(), f));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(text: &str) -> PageInput {
        let words = text
            .split_whitespace()
            .enumerate()
            .map(|(i, w)| Token {
                text: w.to_owned(),
                left: i as u32 * 10,
                top: 0,
                width: 9,
                height: 10,
                confidence: 0.9,
            })
            .collect();
        PageInput {
            text: text.to_owned(),
            words,
            confidence: 0.8,
        }
    }

    const FRONT: &str = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nCĂN CƯỚC CÔNG DÂN\nSố/No.:\n008195009999\nHọ và tên / Full name:\nTRẤN THỊ BÍCH NGỌC\nNgày sinh / Date of birth:\n21/03/1995\nGiới tính / Sex:\nNữ Quốc tịch / Nationality: Việt Nam\nQuê quán / Place of origin:\nXã Tân Trào, Tuyên Quang\nNơi thường trú / Place of residence:\nPhường Minh Xuân, Tuyên Quang\nCó giá trị đến / Date of expiry:\n21/03/2035";

    #[test]
    fn the_front_of_an_id_card() {
        let e = extract(DocumentKind::IdCard, &[page(FRONT)]);
        let v = |k: &str| e.fields[k].value.clone();
        assert_eq!(v("id_number"), "008195009999");
        assert_eq!(v("full_name"), "TRẦN THỊ BÍCH NGỌC");
        assert!(
            e.fields["full_name"]
                .note
                .as_deref()
                .unwrap()
                .contains("TRẤN → TRẦN")
        );
        assert_eq!(v("date_of_birth"), "1995-03-21");
        assert_eq!(v("sex"), "Nữ");
        assert_eq!(v("nationality"), "Việt Nam");
        assert_eq!(v("place_of_origin"), "Xã Tân Trào, Tuyên Quang");
        assert_eq!(v("place_of_residence"), "Phường Minh Xuân, Tuyên Quang");
        assert_eq!(v("expiry"), "2035-03-21");
        assert!(e.fields["id_number"].valid);
        assert!(e.fields["id_number"].bounds.is_some());
        // A number whose century or sex digit disagrees with the card is flagged.
        let wrong = FRONT.replace("008195009999", "008095009999");
        let e = extract(DocumentKind::IdCard, &[page(&wrong)]);
        assert!(!e.fields["id_number"].valid, "{:?}", e.fields["id_number"]);
    }

    /// An MRZ built with its check digits, as ICAO 9303 defines them.
    fn mrz(id: &str, birth: &str, sex: char, expiry: &str) -> String {
        let doc = &id[3..12];
        let l1 = format!("IDVNM{doc}{}{id}<<<", check_digit(doc));
        let l2 = format!(
            "{birth}{}{sex}{expiry}{}VNM<<<<<<<<<<<",
            check_digit(birth),
            check_digit(expiry)
        );
        let l2 = format!("{l2}{}", check_digit(&l2));
        format!("{l1}\n{}\n{:<<30}", &l2[..30], "TRAN<<THI<BICH<NGOC")
    }

    #[test]
    fn the_machine_readable_zone() {
        assert_eq!(check_digit("L898902C3"), 6); // ICAO 9303 part 11's example
        let back = mrz("008195009999", "950321", 'F', "350321");
        let e = extract(DocumentKind::IdCard, &[page(&back)]);
        let f = &e.fields["id_number"];
        assert_eq!(
            (f.value.as_str(), f.confidence, f.valid),
            ("008195009999", 1.0, true)
        );
        assert_eq!(e.fields["date_of_birth"].value, "1995-03-21");
        assert_eq!(e.fields["date_of_birth"].confidence, 1.0);
        assert_eq!(e.fields["expiry"].value, "2035-03-21");
        assert_eq!(e.fields["sex"].value, "Nữ");
        assert_eq!(e.fields["mrz_name"].value, "TRAN THI BICH NGOC");
        // OCR's stray character in line 2 (seen on the rendered card: `<<<l1`) is mended by
        // the check digits; an `O` read in a digit position too.
        let mut lines: Vec<String> = back.lines().map(str::to_owned).collect();
        lines[1].insert(29, 'l');
        lines[1] = lines[1].replacen('0', "O", 1);
        let e = extract(DocumentKind::IdCard, &[page(&lines.join("\n"))]);
        assert_eq!(e.fields["expiry"].value, "2035-03-21");
        assert_eq!(e.fields["nationality"].value, "Việt Nam");
        assert!(e.fields["expiry"].valid && e.fields["date_of_birth"].valid);
        // A misread digit breaks the check: not certain.
        let bad = back.replacen("950321", "950327", 1);
        let e = extract(DocumentKind::IdCard, &[page(&bad)]);
        assert!(!e.fields["date_of_birth"].valid);
        // Front and back together: the front's name with marks, the back's certain dates.
        let e = extract(DocumentKind::IdCard, &[page(FRONT), page(&back)]);
        assert_eq!(e.fields["full_name"].value, "TRẦN THỊ BÍCH NGỌC");
        assert_eq!(e.fields["date_of_birth"].confidence, 1.0);
    }

    #[test]
    fn certificates() {
        let gcn = "GIẤY CHỨNG NHẬN ĐĂNG KÝ DOANH NGHIỆP\nMã số doanh nghiệp: 0101234567\nTên doanh nghiệp viết bằng tiếng Việt: CÔNG TY TNHH MINH XUÂN\nĐịa chỉ trụ sở chính: Số 5 Tân Trào, phường Minh Xuân, tỉnh Tuyên Quang\nNgười đại diện theo pháp luật: NGUYỄN VĂN AN";
        let e = extract(DocumentKind::BusinessRegistration, &[page(gcn)]);
        assert_eq!(e.fields["enterprise_code"].value, "0101234567");
        assert!(e.fields["enterprise_code"].valid);
        assert_eq!(e.fields["name"].value, "CÔNG TY TNHH MINH XUÂN");
        assert!(e.fields["address"].value.starts_with("Số 5 Tân Trào"));
        assert_eq!(e.fields["legal_representative"].value, "NGUYỄN VĂN AN");
        let land = "GIẤY CHỨNG NHẬN QUYỀN SỬ DỤNG ĐẤT\nSố vào sổ cấp giấy: CS 01234\nThửa đất số: 125\nTờ bản đồ số: 17\nĐịa chỉ: phường Minh Xuân, tỉnh Tuyên Quang\nDiện tích: 125,5 m²";
        let e = extract(DocumentKind::LandUse, &[page(land)]);
        assert_eq!(e.fields["certificate_number"].value, "CS 01234");
        assert_eq!(e.fields["parcel_number"].value, "125");
        assert_eq!(e.fields["map_sheet"].value, "17");
        assert_eq!(e.fields["area_m2"].value, "125.5");
        assert!(e.fields["address"].value.contains("Minh Xuân"));
    }
}
