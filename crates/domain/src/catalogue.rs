//! The procedure catalogue (docs/domain.md §Procedure): the procedure record, its validation,
//! and parsing of catalogue files (the national catalogue's CSV export and motcua's own JSON).

use crate::calendar::{TimeLimit, TimeUnit};
use crate::codes::ProcedureCode;
use crate::text::{clean, fold};
use crate::{Error, Errors, Msg};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Level of government that implements a procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImplLevel {
    /// Cấp bộ (central ministry).
    Ministry,
    /// Cấp tỉnh.
    Province,
    /// Cấp xã.
    Commune,
    /// Cơ quan khác.
    Other,
}

/// Online service level (Decree 42/2022).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnlineLevel {
    /// Toàn trình: every step online.
    Full,
    /// Một phần: at least one step in person.
    Partial,
    /// Cung cấp thông tin: only information online.
    Information,
}

/// A channel through which dossiers may be filed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Online,
    Counter,
    Postal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FeeKind {
    /// Lệ phí (a state charge).
    Charge,
    /// Phí (a fee for a service).
    Fee,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Fee {
    pub name: String,
    /// Amount in the currency's minor-less unit (đồng for VND, dollars for USD).
    pub amount: i64,
    #[serde(default = "vnd")]
    pub currency: String,
    #[serde(default = "charge")]
    pub kind: FeeKind,
}

fn vnd() -> String {
    "VND".into()
}

fn charge() -> FeeKind {
    FeeKind::Charge
}

fn one() -> u16 {
    1
}

fn yes() -> bool {
    true
}

/// A required document of a dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Component {
    pub name: String,
    #[serde(default)]
    pub originals: u16,
    #[serde(default = "one")]
    pub copies: u16,
    #[serde(default = "yes")]
    pub required: bool,
    /// Whether a digitised copy from the applicant's data warehouse is accepted instead of paper.
    #[serde(default = "yes")]
    pub warehouse_copy_accepted: bool,
    /// Name or path of a form template, if the component uses one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

/// A procedure of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Procedure {
    #[schema(value_type = String, example = "1.001612")]
    pub code: ProcedureCode,
    pub name: String,
    /// Field (lĩnh vực) name as published.
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_code: Option<String>,
    pub levels: Vec<ImplLevel>,
    pub online_level: OnlineLevel,
    #[serde(default = "all_channels")]
    pub channels: Vec<Channel>,
    #[serde(default)]
    pub time_limit: Option<TimeLimit>,
    /// The time limit as published, when it is more than a number and a unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_limit_text: Option<String>,
    #[serde(default)]
    pub fees: Vec<Fee>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fee_text: Option<String>,
    #[serde(default)]
    pub components: Vec<Component>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deciding_agency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementing_agency: Option<String>,
    /// True when the result is a document (an electronic result is then expected).
    #[serde(default = "yes")]
    pub result_is_document: bool,
    /// Phi địa giới: may be filed at any one-stop point of the province.
    #[serde(default)]
    pub non_territorial: bool,
    #[serde(default = "yes")]
    pub published: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<String>,
    /// The publishing decision (e.g. `2353/QĐ-BTC`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_no: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedure_type: Option<String>,
    /// Where the record's data comes from and what in it is not official.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<String>,
}

fn all_channels() -> Vec<Channel> {
    vec![Channel::Online, Channel::Counter, Channel::Postal]
}

const MAX_TEXT: usize = 4000;

fn opt_clean(s: Option<String>) -> Option<String> {
    s.map(|s| clean(&s)).filter(|s| !s.is_empty())
}

impl Procedure {
    /// Normalises text to NFC and checks every field; reports all problems at once.
    pub fn validate(mut self) -> Result<Self, Error> {
        let mut errs = Errors::new();
        self.name = clean(&self.name);
        self.field = clean(&self.field);
        if self.name.is_empty() {
            errs.add(
                "name",
                "Tên thủ tục không được để trống",
                "name must not be empty",
            );
        }
        if self.name.chars().count() > MAX_TEXT {
            errs.add("name", "Tên thủ tục quá dài", "name is too long");
        }
        if self.field.is_empty() {
            errs.add(
                "field",
                "Lĩnh vực không được để trống",
                "field must not be empty",
            );
        }
        if self.levels.is_empty() {
            errs.add(
                "levels",
                "Phải có ít nhất một cấp thực hiện",
                "at least one implementing level is required",
            );
        }
        self.levels.dedup();
        self.channels.dedup();
        if self.online_level == OnlineLevel::Full && !self.channels.contains(&Channel::Online) {
            errs.add(
                "channels",
                "Thủ tục toàn trình phải nhận hồ sơ trực tuyến",
                "a full-online procedure must accept online filing",
            );
        }
        if let Some(t) = self.time_limit
            && t.value == 0
            && t.unit != TimeUnit::SameDay
        {
            errs.add(
                "time_limit.value",
                "Thời hạn giải quyết phải lớn hơn 0",
                "time limit must be greater than 0",
            );
        }
        for (i, f) in self.fees.iter_mut().enumerate() {
            f.name = clean(&f.name);
            f.currency = clean(&f.currency).to_uppercase();
            if f.amount < 0 {
                errs.add(
                    format!("fees[{i}].amount"),
                    "Mức phí không được âm",
                    "fee amount must not be negative",
                );
            }
            if f.currency.len() != 3 || !f.currency.bytes().all(|b| b.is_ascii_uppercase()) {
                errs.add(
                    format!("fees[{i}].currency"),
                    "Mã tiền tệ phải gồm 3 chữ cái (VND, USD)",
                    "currency must be a 3-letter code (VND, USD)",
                );
            }
        }
        for (i, c) in self.components.iter_mut().enumerate() {
            c.name = clean(&c.name);
            if c.name.is_empty() {
                errs.add(
                    format!("components[{i}].name"),
                    "Tên thành phần hồ sơ không được để trống",
                    "component name must not be empty",
                );
            }
            if c.originals == 0 && c.copies == 0 {
                errs.add(
                    format!("components[{i}]"),
                    "Thành phần hồ sơ phải có ít nhất một bản chính hoặc bản sao",
                    "a component needs at least one original or copy",
                );
            }
        }
        self.field_code = opt_clean(self.field_code);
        self.time_limit_text = opt_clean(self.time_limit_text);
        self.fee_text = opt_clean(self.fee_text);
        self.deciding_agency = opt_clean(self.deciding_agency);
        self.implementing_agency = opt_clean(self.implementing_agency);
        self.legal_basis = opt_clean(self.legal_basis);
        self.decision_no = opt_clean(self.decision_no);
        self.procedure_type = opt_clean(self.procedure_type);
        self.provenance = opt_clean(self.provenance);
        errs.into_result()?;
        Ok(self)
    }

    /// The folded text that search matches against: code, name and field.
    pub fn search_text(&self) -> String {
        fold(&format!("{} {} {}", self.code, self.name, self.field))
    }

    /// True when some fee is due.
    pub fn has_fees(&self) -> bool {
        self.fees.iter().any(|f| f.amount > 0)
    }
}

/// One bad line of an imported file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RowError {
    /// 1-based line number in the file.
    pub line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub message: Msg,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.code {
            Some(c) => write!(f, "line {} ({c}): {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// Format of a catalogue file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogueFormat {
    /// The national catalogue's CSV export (columns as in crates/motcua/data/procedures_partial.csv).
    Csv,
    /// A JSON array of [`Procedure`] objects, or one object per line (JSON lines).
    Json,
}

impl CatalogueFormat {
    /// Guesses the format from a file name and its first non-blank byte.
    pub fn detect(name: &str, data: &[u8]) -> Self {
        let first = data.iter().find(|b| !b.is_ascii_whitespace()).copied();
        if name.ends_with(".json") || name.ends_with(".jsonl") || matches!(first, Some(b'[' | b'{'))
        {
            CatalogueFormat::Json
        } else {
            CatalogueFormat::Csv
        }
    }
}

/// Parses a whole catalogue file. Either every row is good, or the error lists every bad row.
pub fn parse_catalogue(
    format: CatalogueFormat,
    data: &[u8],
) -> Result<Vec<Procedure>, Vec<RowError>> {
    let (rows, mut errors) = match format {
        CatalogueFormat::Csv => parse_csv(data),
        CatalogueFormat::Json => parse_json(data),
    };
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for (line, p) in rows {
        let code = p.code.to_string();
        if let Some(first) = seen.insert(code.clone(), line) {
            errors.push(RowError {
                line,
                code: Some(code),
                message: Msg::new(
                    format!("Mã thủ tục trùng với dòng {first}"),
                    format!("duplicate procedure code, first seen on line {first}"),
                ),
            });
            continue;
        }
        match p.validate() {
            Ok(p) => out.push(p),
            Err(e) => errors.push(RowError {
                line,
                code: Some(code),
                message: e.message(),
            }),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

/// Rows read from a file, and the lines that could not be read.
type Parsed = (Vec<(u64, Procedure)>, Vec<RowError>);

fn bad_row(line: u64, code: Option<&str>, vi: String, en: String) -> RowError {
    RowError {
        line,
        code: code.filter(|c| !c.is_empty()).map(str::to_owned),
        message: Msg::new(vi, en),
    }
}

fn parse_json(data: &[u8]) -> Parsed {
    let text = match std::str::from_utf8(data) {
        Ok(t) => t,
        Err(e) => {
            return (
                Vec::new(),
                vec![bad_row(
                    1,
                    None,
                    format!("Tệp không phải UTF-8: {e}"),
                    format!("file is not UTF-8: {e}"),
                )],
            );
        }
    };
    let trimmed = text.trim_start();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    if trimmed.starts_with('[') {
        // A JSON array: parse element by element to report the line of each bad one.
        let values: Vec<serde_json::Value> = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                return (
                    Vec::new(),
                    vec![bad_row(
                        e.line() as u64,
                        None,
                        format!("JSON không hợp lệ: {e}"),
                        format!("malformed JSON: {e}"),
                    )],
                );
            }
        };
        let lines = element_lines(text);
        for (i, v) in values.into_iter().enumerate() {
            let line = lines.get(i).copied().unwrap_or(1);
            let code = v.get("code").and_then(|c| c.as_str()).map(str::to_owned);
            match serde_json::from_value::<Procedure>(v) {
                Ok(p) => out.push((line, p)),
                Err(e) => errors.push(bad_row(
                    line,
                    code.as_deref(),
                    format!("Bản ghi không hợp lệ: {e}"),
                    format!("invalid record: {e}"),
                )),
            }
        }
    } else {
        for (i, l) in text.lines().enumerate() {
            let line = i as u64 + 1;
            if l.trim().is_empty() {
                continue;
            }
            let code = serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_owned));
            match serde_json::from_str::<Procedure>(l) {
                Ok(p) => out.push((line, p)),
                Err(e) => errors.push(bad_row(
                    line,
                    code.as_deref(),
                    format!("Bản ghi không hợp lệ: {e}"),
                    format!("invalid record: {e}"),
                )),
            }
        }
    }
    (out, errors)
}

/// Line numbers at which each top-level element of a JSON array starts.
fn element_lines(text: &str) -> Vec<u64> {
    let mut lines = Vec::new();
    let (mut depth, mut line, mut in_str, mut esc) = (0i32, 1u64, false, false);
    for c in text.chars() {
        if c == '\n' {
            line += 1;
        }
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, '\\') => esc = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                if depth == 1 {
                    lines.push(line);
                }
                in_str = true
            }
            '[' | '{' => {
                if depth == 1 {
                    lines.push(line);
                }
                depth += 1
            }
            ']' | '}' => depth -= 1,
            c if depth == 1 && !c.is_whitespace() && c != ',' => lines.push(line),
            _ => {}
        }
    }
    lines.dedup();
    lines
}

/// Columns of the national catalogue export.
const CSV_COLUMNS: [&str; 10] = [
    "code",
    "name",
    "field",
    "level",
    "implementing_agency",
    "decision_no",
    "procedure_type",
    "submission_modes",
    "processing_time_parsed",
    "fee_parsed",
];

fn parse_csv(data: &[u8]) -> Parsed {
    let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(data);
    let headers = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return (
                Vec::new(),
                vec![bad_row(
                    1,
                    None,
                    format!("Không đọc được dòng tiêu đề: {e}"),
                    format!("cannot read the header line: {e}"),
                )],
            );
        }
    };
    let idx: HashMap<&str, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.trim(), i))
        .collect();
    let missing: Vec<&str> = CSV_COLUMNS
        .iter()
        .copied()
        .filter(|c| !idx.contains_key(c))
        .take(3)
        .collect();
    if missing.contains(&"code") || missing.contains(&"name") {
        return (
            Vec::new(),
            vec![bad_row(
                1,
                None,
                format!("Thiếu cột bắt buộc: {}", missing.join(", ")),
                format!("missing required columns: {}", missing.join(", ")),
            )],
        );
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(bad_row(
                    line,
                    None,
                    format!("Dòng CSV không hợp lệ: {e}"),
                    format!("malformed CSV line: {e}"),
                ));
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line());
        let get = |c: &str| -> String {
            idx.get(c)
                .and_then(|&i| rec.get(i))
                .unwrap_or("")
                .trim()
                .to_owned()
        };
        match csv_row(&get) {
            Ok(p) => out.push((line, p)),
            Err(e) => errors.push(RowError {
                line,
                code: Some(get("code")).filter(|c| !c.is_empty()),
                message: e.message(),
            }),
        }
    }
    (out, errors)
}

fn csv_row(get: &dyn Fn(&str) -> String) -> Result<Procedure, Error> {
    let mut errs = Errors::new();
    let code = errs.take(ProcedureCode::parse(&get("code")));
    let levels = errs.take(parse_levels(&get("level")));
    let channels = errs.take(parse_channels(&get("submission_modes")));
    let time = errs.take(parse_time_limit(&get("processing_time_parsed")));
    let fees = errs.take(parse_fees(&get("fee_parsed")));
    errs.into_result()?;
    let (Some(code), Some(levels), Some(channels), Some(time), Some(fees)) =
        (code, levels, channels, time, fees)
    else {
        return Err(Error::field("row", "Dòng không hợp lệ", "invalid row"));
    };
    let nonempty = |s: String| Some(s).filter(|s| !s.is_empty());
    let online_level = if channels.contains(&Channel::Online) {
        OnlineLevel::Partial
    } else {
        OnlineLevel::Information
    };
    let agency = nonempty(get("implementing_agency")).filter(|a| a != "Không có thông tin");
    Ok(Procedure {
        code,
        name: get("name"),
        field: get("field"),
        field_code: None,
        levels,
        online_level,
        channels,
        time_limit: time,
        time_limit_text: nonempty(get("processing_time_parsed")),
        fees,
        fee_text: nonempty(get("fee_parsed")),
        components: Vec::new(),
        deciding_agency: agency.clone(),
        implementing_agency: agency,
        result_is_document: true,
        non_territorial: false,
        published: true,
        legal_basis: None,
        decision_no: nonempty(get("decision_no")),
        procedure_type: nonempty(get("procedure_type")),
        provenance: Some(
            "Danh mục TTHC quốc gia (bản xuất CSV); mức độ trực tuyến suy từ cách thức nộp, thời hạn và phí là giá trị trích xuất cần kiểm tra / national catalogue export; online level inferred from submission modes, time limit and fee are extracted hints to verify".into(),
        ),
    })
}

/// Parses a separated list of published names (`Cấp bộ, Cấp xã`), each looked up by its
/// folded form; duplicates are dropped, an unknown or empty list is an error on `field`.
fn parse_list<T: PartialEq>(
    s: &str,
    field: &str,
    what: (&str, &str),
    lookup: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, Error> {
    let mut out = Vec::new();
    for part in s.split([',', ';']).map(str::trim).filter(|p| !p.is_empty()) {
        let v = lookup(&fold(part)).ok_or_else(|| {
            Error::field(
                field,
                format!("{} «{part}» không hợp lệ", what.0),
                format!("unknown {} «{part}»", what.1),
            )
        })?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    if out.is_empty() {
        return Err(Error::field(
            field,
            format!("Thiếu {}", what.0.to_lowercase()),
            format!("{} is missing", what.1),
        ));
    }
    Ok(out)
}

/// Parses `Cấp bộ, Cấp tỉnh, Cấp xã, Cơ quan khác`.
pub fn parse_levels(s: &str) -> Result<Vec<ImplLevel>, Error> {
    parse_list(
        s,
        "level",
        ("Cấp thực hiện", "implementing level"),
        |f| match f {
            "cap bo" | "ministry" => Some(ImplLevel::Ministry),
            "cap tinh" | "province" => Some(ImplLevel::Province),
            "cap xa" | "commune" => Some(ImplLevel::Commune),
            "co quan khac" | "other" => Some(ImplLevel::Other),
            _ => None,
        },
    )
}

/// Parses `Dịch vụ bưu chính;Trực tiếp;Trực tuyến`.
pub fn parse_channels(s: &str) -> Result<Vec<Channel>, Error> {
    parse_list(
        s,
        "submission_modes",
        ("Cách thức nộp", "submission mode"),
        |f| match f {
            "truc tuyen" | "online" => Some(Channel::Online),
            "truc tiep" | "counter" => Some(Channel::Counter),
            "dich vu buu chinh" | "buu chinh" | "postal" => Some(Channel::Postal),
            _ => None,
        },
    )
}

/// Office hours in a standard working day, used to turn fractional working days into hours.
const HOURS_PER_WORKING_DAY: f64 = 8.0;

/// Parses `15 Ngày làm việc`, `7 Ngày`, `24 Giờ`, `6 Tháng`, `1.5 Ngày làm việc`; blank → none.
pub fn parse_time_limit(s: &str) -> Result<Option<TimeLimit>, Error> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let bad = || {
        Error::field(
            "processing_time",
            format!("Thời hạn giải quyết «{s}» không đọc được"),
            format!("cannot read time limit «{s}»"),
        )
    };
    let (num, unit) = s.split_once(' ').ok_or_else(bad)?;
    let value: f64 = num.replace(',', ".").parse().map_err(|_| bad())?;
    if !(value.is_finite() && (0.0..=100_000.0).contains(&value)) {
        return Err(bad());
    }
    let unit = match fold(unit).as_str() {
        "ngay lam viec" | "working days" | "working_days" => TimeUnit::WorkingDays,
        "ngay" | "days" | "calendar_days" => TimeUnit::CalendarDays,
        "gio" | "gio lam viec" | "working hours" | "working_hours" => TimeUnit::WorkingHours,
        "thang" | "months" => TimeUnit::Months,
        _ => return Err(bad()),
    };
    if value.fract() == 0.0 {
        return Ok(Some(TimeLimit {
            value: value as u32,
            unit,
        }));
    }
    match unit {
        TimeUnit::WorkingDays => Ok(Some(TimeLimit {
            value: (value * HOURS_PER_WORKING_DAY).round() as u32,
            unit: TimeUnit::WorkingHours,
        })),
        _ => Err(bad()),
    }
}

/// Parses `Miễn phí`, `10,000 Việt Nam Đồng`, `10 USD`; blank → none.
pub fn parse_fees(s: &str) -> Result<Vec<Fee>, Error> {
    let s = s.trim();
    let folded = fold(s);
    if s.is_empty() || folded == "mien phi" {
        return Ok(Vec::new());
    }
    let bad = || {
        Error::field(
            "fee",
            format!("Mức phí «{s}» không đọc được"),
            format!("cannot read fee «{s}»"),
        )
    };
    let (num, cur) = s.split_once(' ').ok_or_else(bad)?;
    let amount: i64 = num.replace([',', '.'], "").parse().map_err(|_| bad())?;
    let currency = match fold(cur).as_str() {
        "viet nam dong" | "vnd" | "dong" => "VND",
        "usd" => "USD",
        _ => return Err(bad()),
    };
    Ok(vec![Fee {
        name: "Lệ phí".into(),
        amount,
        currency: currency.into(),
        kind: FeeKind::Charge,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "code,name,field,level,implementing_agency,decision_no,procedure_type,submission_modes,processing_time_parsed,fee_parsed\n";

    #[test]
    fn parses_national_csv_rows() {
        let csv = format!(
            "{HEADER}1.004222,Đăng ký thường trú,\"Đăng ký, quản lý cư trú\",Cấp xã,Công an cấp Xã,1523/QĐ-BCA-C06,TTHC được giao luật quy định chi tiết,Trực tiếp;Trực tuyến,7 Ngày làm việc,\"10,000 Việt Nam Đồng\"\n"
        );
        let ps = parse_catalogue(CatalogueFormat::Csv, csv.as_bytes()).unwrap();
        assert_eq!(ps.len(), 1);
        let p = &ps[0];
        assert_eq!(p.code.as_str(), "1.004222");
        assert_eq!(p.time_limit, Some(TimeLimit::working_days(7)));
        assert_eq!(p.fees[0].amount, 10_000);
        assert_eq!(p.levels, vec![ImplLevel::Commune]);
        assert_eq!(p.online_level, OnlineLevel::Partial);
    }

    #[test]
    fn reports_every_bad_row_with_its_line() {
        let csv = format!(
            "{HEADER}1.000001,Tốt,Hộ tịch,Cấp xã,,,,Trực tiếp,5 Ngày làm việc,Miễn phí\n\
             1.00002,Mã sai,Hộ tịch,Cấp xã,,,,Trực tiếp,5 Ngày làm việc,\n\
             1.000003,,Hộ tịch,Cấp huyện,,,,Trực tiếp,năm ngày,\n\
             1.000001,Trùng,Hộ tịch,Cấp xã,,,,Trực tiếp,,\n"
        );
        let errs = parse_catalogue(CatalogueFormat::Csv, csv.as_bytes()).unwrap_err();
        let lines: Vec<u64> = errs.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5], "{errs:?}");
        assert!(errs[0].message.en.contains("procedure code"));
        assert!(errs[1].message.en.contains("implementing level"));
        assert!(errs[1].message.en.contains("time limit"));
        assert!(errs[2].message.en.contains("duplicate"));
    }

    #[test]
    fn json_formats() {
        let one = r#"{"code":"1.001193","name":"Đăng ký khai sinh","field":"Hộ tịch","levels":["commune"],"online_level":"full","time_limit":{"value":1,"unit":"working_days"}}"#;
        let arr = format!("[\n{one},\n{{\"code\":\"1.001194\",\"nam\":\"x\"}}\n]");
        let errs = parse_catalogue(CatalogueFormat::Json, arr.as_bytes()).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, 3);
        assert!(
            errs[0].message.en.contains("unknown field"),
            "{:?}",
            errs[0]
        );
        let lines = format!("{one}\n\n{}\n", one.replace("1.001193", "1.001195"));
        assert_eq!(
            parse_catalogue(CatalogueFormat::Json, lines.as_bytes())
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn time_limits() {
        assert_eq!(
            parse_time_limit("1.5 Ngày làm việc").unwrap(),
            Some(TimeLimit {
                value: 12,
                unit: TimeUnit::WorkingHours
            })
        );
        assert_eq!(
            parse_time_limit("6 Tháng").unwrap(),
            Some(TimeLimit {
                value: 6,
                unit: TimeUnit::Months
            })
        );
        assert!(parse_time_limit("abc").is_err());
        assert_eq!(parse_time_limit("").unwrap(), None);
    }

    #[test]
    fn full_online_needs_online_channel() {
        let p: Procedure = serde_json::from_str(
            r#"{"code":"1.001193","name":"x","field":"y","levels":["commune"],"online_level":"full","channels":["counter"]}"#,
        )
        .unwrap();
        assert!(p.validate().is_err());
    }
}
