//! Administrative units (province, commune; district for history only) and agencies,
//! and parsing of the official reference data on the 2025 reorganisation.

use crate::codes::AgencyCode;
use crate::text::clean;
use crate::{Error, Errors};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum UnitLevel {
    Province,
    /// Abolished on 1 July 2025; kept for history.
    District,
    Commune,
}

impl UnitLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            UnitLevel::Province => "province",
            UnitLevel::District => "district",
            UnitLevel::Commune => "commune",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "province" => Some(UnitLevel::Province),
            "district" => Some(UnitLevel::District),
            "commune" => Some(UnitLevel::Commune),
            _ => None,
        }
    }

    fn code_ok(self, code: &str) -> bool {
        match self {
            UnitLevel::Province => crate::codes::is_province_code(code),
            UnitLevel::District => crate::codes::is_district_code(code),
            UnitLevel::Commune => crate::codes::is_commune_code(code),
        }
    }
}

/// The first day of the two-level local government (no districts).
pub fn reorganisation_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 7, 1).unwrap_or(NaiveDate::MIN)
}

fn last_day_before_reorganisation() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 30).unwrap_or(NaiveDate::MIN)
}

/// Identifies one unit across time: the same code can name an old and a new unit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UnitKey {
    pub level: UnitLevel,
    pub code: String,
    pub valid_from: Option<NaiveDate>,
}

impl UnitKey {
    /// A stable text form, unique per unit version: `commune/00004/2025-07-01`.
    pub fn as_text(&self) -> String {
        format!(
            "{}/{}/{}",
            self.level.as_str(),
            self.code,
            self.valid_from
                .map_or_else(|| "_".to_owned(), |d| d.to_string())
        )
    }
}

/// A unit to be stored, with its parent named by key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnit {
    pub level: UnitLevel,
    /// Province 2 digits, district 3, commune 5.
    #[schema(pattern = r"^(\d{2}|\d{3}|\d{5})$")]
    pub code: String,
    #[schema(min_length = 1, max_length = 300, pattern = r"\S")]
    pub name: String,
    /// `tỉnh`, `thành phố trung ương`, `xã`, `phường`, `đặc khu`, `huyện`, `quận`…
    pub kind: String,
    #[serde(default)]
    pub parent_code: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_from: Option<NaiveDate>,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub valid_to: Option<NaiveDate>,
}

impl NewUnit {
    pub fn key(&self) -> UnitKey {
        UnitKey {
            level: self.level,
            code: self.code.clone(),
            valid_from: self.valid_from,
        }
    }

    pub fn validate(mut self) -> Result<Self, Error> {
        let mut errs = Errors::new();
        self.code = self.code.trim().to_owned();
        self.name = clean(&self.name);
        self.kind = clean(&self.kind);
        if !self.level.code_ok(&self.code) {
            errs.add(
                "code",
                format!(
                    "Mã đơn vị «{}» không đúng dạng (tỉnh 2 số, huyện 3 số, xã 5 số)",
                    self.code
                ),
                format!(
                    "unit code «{}» has the wrong form (province 2 digits, district 3, commune 5)",
                    self.code
                ),
            );
        }
        if self.name.is_empty() {
            errs.add(
                "name",
                "Tên đơn vị không được để trống",
                "name must not be empty",
            );
        }
        if let (Some(f), Some(t)) = (self.valid_from, self.valid_to)
            && t < f
        {
            errs.add(
                "valid_to",
                "Ngày hết hiệu lực phải sau ngày có hiệu lực",
                "valid_to must not be before valid_from",
            );
        }
        if self.level != UnitLevel::Province && self.parent_code.is_none() {
            errs.add(
                "parent_code",
                "Đơn vị cấp dưới phải có đơn vị cấp trên",
                "a district or commune needs a parent unit",
            );
        }
        errs.into_result()?;
        Ok(self)
    }
}

/// A link from an old unit to the unit that took over (all or part of) it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitLink {
    pub from: UnitKey,
    pub to: UnitKey,
    /// The merge note as published (`Nhập toàn bộ`, `Nhập một phần`, `Giữ nguyên`…).
    pub note: String,
}

/// Units and links parsed from the reference data, parents before children.
#[derive(Debug, Clone, Default)]
pub struct UnitGraph {
    /// (unit, parent key)
    pub units: Vec<(NewUnit, Option<UnitKey>)>,
    pub links: Vec<UnitLink>,
}

/// The four reference files of crates/motcua/data (2025 reorganisation).
pub struct ReferenceFiles<'a> {
    pub provinces: &'a str,
    pub communes: &'a str,
    pub province_mapping: &'a str,
    pub commune_mapping: &'a str,
}

fn kind_from_name(name: &str) -> String {
    let lower = name.to_lowercase();
    for k in [
        "thành phố",
        "thị trấn",
        "thị xã",
        "phường",
        "huyện",
        "quận",
        "tỉnh",
        "xã",
        "đặc khu",
    ] {
        if lower.starts_with(k) {
            return k.to_owned();
        }
    }
    String::new()
}

fn csv_rows(name: &str, data: &str) -> Result<Vec<BTreeMap<String, String>>, Error> {
    let mut rdr = csv::Reader::from_reader(data.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| {
            Error::field(
                name,
                format!("Lỗi đọc tệp: {e}"),
                format!("cannot read: {e}"),
            )
        })?
        .clone();
    let mut out = Vec::new();
    for r in rdr.records() {
        let r = r.map_err(|e| {
            Error::field(
                name,
                format!("Lỗi đọc tệp: {e}"),
                format!("cannot read: {e}"),
            )
        })?;
        out.push(
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_owned(), clean(v)))
                .collect(),
        );
    }
    Ok(out)
}

impl UnitGraph {
    /// Builds the graph of current units (valid from 1 July 2025) and their predecessors
    /// (provinces, districts and communes valid until 30 June 2025) with old→new links.
    pub fn from_reference(files: &ReferenceFiles<'_>) -> Result<Self, Error> {
        let new_from = Some(reorganisation_day());
        let old_to = Some(last_day_before_reorganisation());
        let mut g = UnitGraph::default();
        let mut seen = std::collections::HashSet::new();
        let get = |r: &BTreeMap<String, String>, k: &str| r.get(k).cloned().unwrap_or_default();
        let mut push =
            |g: &mut UnitGraph, u: NewUnit, parent: Option<UnitKey>| -> Result<(), Error> {
                let u = u.validate()?;
                if seen.insert(u.key()) {
                    g.units.push((u, parent));
                }
                Ok(())
            };
        let key = |level, code: String, valid_from| UnitKey {
            level,
            code,
            valid_from,
        };
        for r in csv_rows("provinces", files.provinces)? {
            push(
                &mut g,
                NewUnit {
                    level: UnitLevel::Province,
                    code: get(&r, "code"),
                    name: get(&r, "name"),
                    kind: get(&r, "type"),
                    parent_code: None,
                    valid_from: new_from,
                    valid_to: None,
                },
                None,
            )?;
        }
        for r in csv_rows("communes", files.communes)? {
            let parent = get(&r, "province_code");
            push(
                &mut g,
                NewUnit {
                    level: UnitLevel::Commune,
                    code: get(&r, "code"),
                    name: get(&r, "name"),
                    kind: get(&r, "type"),
                    parent_code: Some(parent.clone()),
                    valid_from: new_from,
                    valid_to: None,
                },
                Some(key(UnitLevel::Province, parent, new_from)),
            )?;
        }
        for r in csv_rows("province_mapping", files.province_mapping)? {
            let new_code = get(&r, "new_code");
            let codes = get(&r, "old_codes");
            let names = get(&r, "old_names");
            for (code, name) in codes.split(';').zip(names.split(';')) {
                let (code, name) = (code.trim().to_owned(), name.trim().to_owned());
                push(
                    &mut g,
                    NewUnit {
                        level: UnitLevel::Province,
                        code: code.clone(),
                        kind: kind_from_name(&name),
                        name,
                        parent_code: None,
                        valid_from: None,
                        valid_to: old_to,
                    },
                    None,
                )?;
                g.links.push(UnitLink {
                    from: key(UnitLevel::Province, code.clone(), None),
                    to: key(UnitLevel::Province, new_code.clone(), new_from),
                    note: if codes.contains(';') {
                        "Hợp nhất"
                    } else {
                        "Giữ nguyên"
                    }
                    .into(),
                });
            }
        }
        for r in csv_rows("commune_mapping", files.commune_mapping)? {
            let old_code = get(&r, "old_code");
            if old_code.is_empty() {
                continue;
            }
            let prov = get(&r, "old_province_code");
            let dist = get(&r, "old_district_code");
            let dist_name = get(&r, "old_district_name");
            if !dist.is_empty() {
                push(
                    &mut g,
                    NewUnit {
                        level: UnitLevel::District,
                        code: dist.clone(),
                        kind: kind_from_name(&dist_name),
                        name: dist_name,
                        parent_code: Some(prov.clone()),
                        valid_from: None,
                        valid_to: old_to,
                    },
                    Some(key(UnitLevel::Province, prov.clone(), None)),
                )?;
            }
            let old_name = get(&r, "old_name");
            let (parent_code, parent) = if dist.is_empty() {
                (prov.clone(), key(UnitLevel::Province, prov, None))
            } else {
                (dist.clone(), key(UnitLevel::District, dist, None))
            };
            push(
                &mut g,
                NewUnit {
                    level: UnitLevel::Commune,
                    code: old_code.clone(),
                    kind: kind_from_name(&old_name),
                    name: old_name,
                    parent_code: Some(parent_code),
                    valid_from: None,
                    valid_to: old_to,
                },
                Some(parent),
            )?;
            g.links.push(UnitLink {
                from: key(UnitLevel::Commune, old_code, None),
                to: key(UnitLevel::Commune, get(&r, "new_code"), new_from),
                note: get(&r, "change_note"),
            });
        }
        Ok(g)
    }

    /// Keeps only what concerns the given current provinces: their units, their communes, and
    /// the old units that became part of them.
    pub fn only_provinces(self, codes: &[&str]) -> Self {
        let new_from = Some(reorganisation_day());
        let keep_new = |k: &UnitKey, parent: &Option<UnitKey>| {
            k.valid_from == new_from
                && match k.level {
                    UnitLevel::Province => codes.contains(&k.code.as_str()),
                    _ => parent
                        .as_ref()
                        .is_some_and(|p| codes.contains(&p.code.as_str())),
                }
        };
        let kept_new: std::collections::HashSet<UnitKey> = self
            .units
            .iter()
            .filter(|(u, p)| keep_new(&u.key(), p))
            .map(|(u, _)| u.key())
            .collect();
        let links: Vec<UnitLink> = self
            .links
            .into_iter()
            .filter(|l| kept_new.contains(&l.to))
            .collect();
        let mut old: std::collections::HashSet<UnitKey> =
            links.iter().map(|l| l.from.clone()).collect();
        // Parents (old districts and provinces) of kept old communes.
        let parents: Vec<UnitKey> = self
            .units
            .iter()
            .filter(|(u, _)| old.contains(&u.key()))
            .filter_map(|(_, p)| p.clone())
            .collect();
        old.extend(parents.clone());
        let grand: Vec<UnitKey> = self
            .units
            .iter()
            .filter(|(u, _)| parents.contains(&u.key()))
            .filter_map(|(_, p)| p.clone())
            .collect();
        old.extend(grand);
        let units = self
            .units
            .into_iter()
            .filter(|(u, _)| kept_new.contains(&u.key()) || old.contains(&u.key()))
            .collect();
        UnitGraph { units, links }
    }
}

/// An agency (cơ quan, đơn vị) with its electronic identifier code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Agency {
    #[schema(value_type = String, example = "000.00.00.H59", pattern = r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")]
    pub code: AgencyCode,
    #[schema(min_length = 1, max_length = 300, pattern = r"\S")]
    pub name: String,
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")]
    pub parent_code: Option<AgencyCode>,
    /// Code of the current administrative unit the agency serves (province or commune).
    #[serde(default)]
    #[schema(pattern = r"^(\d{2}|\d{5})$")]
    pub unit_code: Option<String>,
    /// Whether the agency runs a one-stop point that receives dossiers.
    #[serde(default)]
    pub one_stop_point: bool,
    /// Where the record comes from and what in it is illustrative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<String>,
}

impl Agency {
    pub fn validate(mut self) -> Result<Self, Error> {
        self.name = clean(&self.name);
        let mut errs = Errors::new();
        if self.name.is_empty() {
            errs.add(
                "name",
                "Tên cơ quan không được để trống",
                "name must not be empty",
            );
        }
        if self.parent_code.as_ref() == Some(&self.code) {
            errs.add(
                "parent_code",
                "Cơ quan không thể là cấp trên của chính mình",
                "an agency cannot be its own parent",
            );
        }
        if let Some(u) = &self.unit_code
            && !(crate::codes::is_province_code(u) || crate::codes::is_commune_code(u))
        {
            errs.add(
                "unit_code",
                "Mã đơn vị hành chính phải là mã tỉnh (2 số) hoặc mã xã (5 số)",
                "unit code must be a province (2 digits) or commune (5 digits) code",
            );
        }
        self.provenance = self.provenance.map(|p| clean(&p)).filter(|p| !p.is_empty());
        errs.into_result()?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_reference_graph() {
        let files = ReferenceFiles {
            provinces: "code,name,type\n08,Tỉnh Tuyên Quang,tỉnh\n",
            communes: "code,name,type,province_code\n02269,Phường Minh Xuân,phường,08\n",
            province_mapping: "new_code,new_name,old_codes,old_names\n08,Tỉnh Tuyên Quang,02;08,Tỉnh Hà Giang;Tỉnh Tuyên Quang\n",
            commune_mapping: "new_code,new_name,new_province_code,old_code,old_name,old_district_code,old_district_name,old_province_code,old_province_name,change_note,source_old_province_label\n02269,Phường Minh Xuân,08,02212,Phường Tân Quang,070,Thành phố Tuyên Quang,08,Tỉnh Tuyên Quang,Nhập toàn bộ,x\n",
        };
        let g = UnitGraph::from_reference(&files).unwrap();
        assert_eq!(g.units.len(), 6);
        assert_eq!(g.links.len(), 3);
        let only = g.clone().only_provinces(&["08"]);
        assert_eq!(only.units.len(), 6);
        assert!(g.only_provinces(&["01"]).units.is_empty());
    }
}
