//! A procedure's workflow as data (the lesson from OpenCPS: process → ordered steps), validated
//! so that every dossier can always move forward.

use crate::auth::Role;
use crate::codes::AgencyCode;
use crate::text::clean;
use crate::{Error, Errors};
use serde::{Deserialize, Serialize};

/// Which agency acts at a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepAgency {
    /// The one-stop point that received the dossier.
    Receiving,
    /// The agency competent to decide (routed to from a non-territorial intake).
    Competent,
    /// A named agency (an inter-agency step).
    /// An agency electronic identifier, checked by [`Process::validate`].
    Code(String),
}

/// One step of a process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Stable key, e.g. `reception`, `processing`, `approval`, `result`.
    #[schema(min_length = 1, max_length = 64, pattern = r"^[a-z0-9_]+$")]
    pub key: String,
    /// Name shown to people (Vietnamese).
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    /// The role that acts at this step.
    pub role: Role,
    pub agency: StepAgency,
    /// Share of the procedure's time limit given to this step, in percent.
    #[schema(maximum = 100)]
    pub share: u8,
    /// The step where the decision is taken (`approve` / `refuse`); exactly one per process.
    #[serde(default)]
    pub decides: bool,
}

/// The workflow of a procedure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Process {
    pub steps: Vec<Step>,
    /// Whether time awaiting payment (`pause`) is added back to the deadline, like supplement time.
    #[serde(default = "yes")]
    pub payment_stops_clock: bool,
    /// The agency that decides, when it is not the receiving one (e.g. a provincial department
    /// for dossiers received at the provincial centre, or any one-stop point for a
    /// non-territorial procedure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub competent_agency: Option<AgencyCode>,
    /// A reporting rule some provinces apply (docs/domain.md, "verify"): a dossier that needed this
    /// many supplement requests or more is counted late whenever it ends. Off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_after_supplements: Option<u32>,
}

fn yes() -> bool {
    true
}

fn step(key: &str, name: &str, role: Role, agency: StepAgency, share: u8, decides: bool) -> Step {
    Step {
        key: key.into(),
        name: name.into(),
        role,
        agency,
        share,
        decides,
    }
}

impl Default for Process {
    /// Reception → specialist department → leader approval → result at the one-stop point.
    fn default() -> Self {
        Process {
            steps: vec![
                step(
                    "reception",
                    "Tiếp nhận hồ sơ",
                    Role::Reception,
                    StepAgency::Receiving,
                    10,
                    false,
                ),
                step(
                    "processing",
                    "Thẩm định, xử lý hồ sơ",
                    Role::Specialist,
                    StepAgency::Competent,
                    60,
                    false,
                ),
                step(
                    "approval",
                    "Lãnh đạo phê duyệt",
                    Role::Leader,
                    StepAgency::Competent,
                    20,
                    true,
                ),
                step(
                    "result",
                    "Trả kết quả",
                    Role::Reception,
                    StepAgency::Receiving,
                    10,
                    false,
                ),
            ],
            payment_stops_clock: true,
            competent_agency: None,
            late_after_supplements: None,
        }
    }
}

impl Process {
    /// Checks that the process can carry every dossier from reception to result.
    pub fn validate(mut self) -> Result<Self, Error> {
        let mut errs = Errors::new();
        if self.steps.len() < 2 {
            errs.add(
                "steps",
                "Quy trình phải có ít nhất hai bước (tiếp nhận và xử lý)",
                "a process needs at least two steps (reception and processing)",
            );
        }
        for (i, s) in self.steps.iter_mut().enumerate() {
            s.key = s.key.trim().to_owned();
            s.name = clean(&s.name);
            if s.key.is_empty() || !s.key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                errs.add(
                    format!("steps[{i}].key"),
                    "Khóa bước chỉ gồm chữ thường không dấu và dấu gạch dưới",
                    "a step key is lowercase ASCII letters and underscores",
                );
            }
            if s.name.is_empty() {
                errs.add(
                    format!("steps[{i}].name"),
                    "Tên bước không được để trống",
                    "step name must not be empty",
                );
            }
            if let StepAgency::Code(c) = &s.agency
                && AgencyCode::parse(c).is_err()
            {
                errs.add(
                    format!("steps[{i}].agency"),
                    format!("Mã định danh cơ quan «{c}» không hợp lệ"),
                    format!("agency identifier «{c}» is not valid"),
                );
            }
            if matches!(s.role, Role::Citizen | Role::Admin | Role::Viewer) {
                errs.add(
                    format!("steps[{i}].role"),
                    "Vai trò của bước phải là cán bộ của cơ quan",
                    "a step's role must be an agency officer role",
                );
            }
        }
        for (i, s) in self.steps.iter().enumerate() {
            if self.steps[..i].iter().any(|p| p.key == s.key) {
                errs.add(
                    format!("steps[{i}].key"),
                    format!("Khóa bước «{}» bị trùng", s.key),
                    format!("duplicate step key «{}»", s.key),
                );
            }
        }
        if let Some(first) = self.steps.first()
            && (first.role != Role::Reception || first.agency != StepAgency::Receiving)
        {
            errs.add(
                "steps[0]",
                "Bước đầu tiên phải là tiếp nhận tại bộ phận một cửa (vai trò reception, cơ quan receiving)",
                "the first step must be reception at the receiving one-stop point",
            );
        }
        let deciding: Vec<usize> = (0..self.steps.len())
            .filter(|&i| self.steps[i].decides)
            .collect();
        match deciding.as_slice() {
            [i] if *i >= 1 => {
                if !matches!(self.steps[*i].role, Role::Leader | Role::Specialist) {
                    errs.add(
                        format!("steps[{i}].role"),
                        "Bước quyết định phải do lãnh đạo hoặc chuyên viên thực hiện",
                        "the deciding step is taken by a leader or a specialist",
                    );
                }
            }
            _ => errs.add(
                "steps",
                "Quy trình phải có đúng một bước quyết định (decides), sau bước tiếp nhận",
                "a process needs exactly one deciding step, after reception",
            ),
        }
        if self.late_after_supplements == Some(0) {
            errs.add(
                "late_after_supplements",
                "Số lần yêu cầu bổ sung phải từ 1 trở lên",
                "the number of supplement requests must be at least 1",
            );
        }
        let total: u32 = self.steps.iter().map(|s| u32::from(s.share)).sum();
        if total != 100 {
            errs.add(
                "steps",
                format!("Tổng tỷ lệ thời gian các bước phải bằng 100% (đang là {total}%)"),
                format!("step shares must add up to 100% (they add up to {total}%)"),
            );
        }
        errs.into_result()?;
        Ok(self)
    }

    /// The people's name of the step with this key (the key itself if there is none).
    pub fn step_name(&self, key: &str) -> String {
        self.steps
            .iter()
            .find(|st| st.key == key)
            .map_or_else(|| key.to_owned(), |st| st.name.clone())
    }

    /// Index of the deciding step.
    pub fn deciding_step(&self) -> usize {
        self.steps.iter().position(|s| s.decides).unwrap_or(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_process_is_valid() {
        let p = Process::default().validate().unwrap();
        assert_eq!(p.deciding_step(), 2);
    }

    #[test]
    fn bad_processes_are_refused_with_every_reason() {
        let mut p = Process::default();
        p.steps[0].role = Role::Specialist;
        p.steps[2].decides = false;
        p.steps[1].share = 90;
        p.steps[3].key = "processing".into();
        let Err(Error::Invalid(errs)) = p.validate() else {
            panic!("accepted")
        };
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"steps[0]"), "{fields:?}");
        assert!(fields.contains(&"steps[3].key"), "{fields:?}");
        assert_eq!(fields.iter().filter(|f| **f == "steps").count(), 2);
    }

    #[test]
    fn step_agency_json() {
        let s: StepAgency = serde_json::from_str(r#"{"code":"000.00.20.H58"}"#).unwrap();
        assert_eq!(s, StepAgency::Code("000.00.20.H58".into()));
        let s: StepAgency = serde_json::from_str(r#""competent""#).unwrap();
        assert_eq!(s, StepAgency::Competent);
    }
}
