//! The official form sets of the slips, kept as data (`slip_forms.json`) and chosen by the
//! dossier's date: Circular 03/2025/TT-VPCP (Appendix I, forms 01–07, in force from
//! 15 September 2025) and, before it, Circular 01/2018/TT-VPCP (forms 01–06, A5 except the
//! register). A newer circular is one more entry in the file.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// A slip the workflow issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlipKind {
    Receipt,
    SupplementRequest,
    Refusal,
    Apology,
    Stopping,
    Control,
    Register,
}

impl SlipKind {
    pub const ALL: [SlipKind; 7] = [
        SlipKind::Receipt,
        SlipKind::SupplementRequest,
        SlipKind::Refusal,
        SlipKind::Apology,
        SlipKind::Stopping,
        SlipKind::Control,
        SlipKind::Register,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SlipKind::Receipt => "receipt",
            SlipKind::SupplementRequest => "supplement_request",
            SlipKind::Refusal => "refusal",
            SlipKind::Apology => "apology",
            SlipKind::Stopping => "stopping",
            SlipKind::Control => "control",
            SlipKind::Register => "register",
        }
    }

    pub fn parse(s: &str) -> Option<SlipKind> {
        SlipKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One form of a set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Form {
    /// Its number in the circular's appendix (`01`).
    pub number: String,
    pub title: String,
    /// `a4` or `a5`.
    pub paper: String,
}

/// A set of forms and the legal basis it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormSet {
    pub basis: String,
    pub basis_en: String,
    pub in_force_from: NaiveDate,
    pub forms: BTreeMap<SlipKind, Form>,
}

/// The form sets, newest first.
pub fn form_sets() -> &'static [FormSet] {
    static SETS: OnceLock<Vec<FormSet>> = OnceLock::new();
    SETS.get_or_init(|| {
        let mut sets: Vec<FormSet> =
            serde_json::from_str(include_str!("slip_forms.json")).unwrap_or_default();
        sets.sort_by_key(|s| std::cmp::Reverse(s.in_force_from));
        sets
    })
}

/// The form of `kind` in force on `date` (the dossier's date), with its set; `None` when no
/// set in force then has it (the notice of stopping before 2025).
pub fn form_for(kind: SlipKind, date: NaiveDate) -> Option<(&'static FormSet, &'static Form)> {
    let set = form_sets().iter().find(|s| s.in_force_from <= date)?;
    set.forms.get(&kind).map(|f| (set, f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn the_set_in_force_on_the_dossiers_date() {
        assert_eq!(form_sets().len(), 2, "the shipped sets parse");
        let (set, f) = form_for(SlipKind::Receipt, day(2025, 9, 15)).unwrap();
        assert_eq!(set.basis, "Thông tư 03/2025/TT-VPCP");
        assert_eq!((f.number.as_str(), f.paper.as_str()), ("01", "a4"));
        let (set, f) = form_for(SlipKind::Receipt, day(2025, 9, 14)).unwrap();
        assert_eq!(set.basis, "Thông tư 01/2018/TT-VPCP");
        assert_eq!(f.paper, "a5");
        // Renumbered: the control slip is 05 before, 06 after.
        assert_eq!(
            form_for(SlipKind::Control, day(2025, 1, 28))
                .unwrap()
                .1
                .number,
            "05"
        );
        assert_eq!(
            form_for(SlipKind::Control, day(2026, 1, 28))
                .unwrap()
                .1
                .number,
            "06"
        );
        assert!(form_for(SlipKind::Stopping, day(2025, 1, 28)).is_none());
        assert!(form_for(SlipKind::Receipt, day(2017, 1, 1)).is_none());
        for k in SlipKind::ALL {
            assert_eq!(SlipKind::parse(k.as_str()), Some(k));
        }
    }
}
