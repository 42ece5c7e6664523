//! Official codes and identifiers (docs/domain.md §Codes), validated at the edge.
//! Each is a newtype over its text: once built, it is known to be well-formed.

use crate::Error;
use serde::{Deserialize, Serialize};

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

macro_rules! code_type {
    ($(#[$m:meta])* $name:ident, $check:expr, $field:literal, $vi:literal, $en:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, Error> {
                let s = s.trim();
                let check: fn(&str) -> bool = $check;
                if check(s) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(Error::field($field, format!($vi, s), format!($en, s)))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(s: String) -> Result<Self, Error> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(c: $name) -> String {
                c.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                Self::parse(s)
            }
        }
    };
}

code_type!(
    /// National procedure code, `d.dddddd` (e.g. `1.001612`).
    ProcedureCode,
    |s| {
        let b = s.as_bytes();
        b.len() == 8 && b[0].is_ascii_digit() && b[1] == b'.' && all_digits(&s[2..])
    },
    "code",
    "Mã thủ tục «{}» không đúng dạng d.dddddd (ví dụ 1.001612)",
    "procedure code «{}» is not of the form d.dddddd (e.g. 1.001612)"
);

code_type!(
    /// Agency electronic identifier (Decision 20/2020/QĐ-TTg): `DDD.CC.BB.Lnn`,
    /// e.g. `000.00.00.H59`; `H` = provincial people's committees, `G` = ministries.
    AgencyCode,
    |s| {
        let parts: Vec<&str> = s.split('.').collect();
        parts.len() == 4
            && parts[0].len() == 3
            && all_digits(parts[0])
            && parts[1].len() == 2
            && all_digits(parts[1])
            && parts[2].len() == 2
            && all_digits(parts[2])
            && parts[3].len() == 3
            && parts[3].as_bytes()[0].is_ascii_uppercase()
            && all_digits(&parts[3][1..])
    },
    "code",
    "Mã định danh cơ quan «{}» không đúng dạng DDD.CC.BB.Lnn (ví dụ 000.00.00.H59)",
    "agency identifier «{}» is not of the form DDD.CC.BB.Lnn (e.g. 000.00.00.H59)"
);

code_type!(
    /// Citizen identity number (CCCD): 12 digits.
    CitizenId,
    |s| s.len() == 12 && all_digits(s) && citizen_century_digit_ok(s),
    "citizen_id",
    "Số định danh cá nhân «{}» phải gồm 12 chữ số hợp lệ",
    "citizen ID «{}» must be 12 valid digits"
);

code_type!(
    /// Tax / enterprise code: 10 digits, or `NNNNNNNNNN-NNN` for a branch.
    TaxCode,
    |s| {
        match s.split_once('-') {
            None => s.len() == 10 && all_digits(s),
            Some((a, b)) => a.len() == 10 && all_digits(a) && b.len() == 3 && all_digits(b),
        }
    },
    "tax_code",
    "Mã số thuế/mã số doanh nghiệp «{}» phải gồm 10 chữ số hoặc dạng NNNNNNNNNN-NNN",
    "tax/enterprise code «{}» must be 10 digits or NNNNNNNNNN-NNN"
);

/// The 4th digit of a citizen ID encodes sex and century: 0–9 are all used
/// (0/1 → 1900s, 2/3 → 2000s, 4/5 → 2100s, 6/7 → 2200s, 8/9 → 1800s), so any digit is
/// syntactically valid; the province-of-registration code (first three digits) must be
/// one of the 2-digit province codes with a leading zero (001–096).
fn citizen_century_digit_ok(s: &str) -> bool {
    s.starts_with('0') && s[..3].parse::<u16>().is_ok_and(|p| (1..=96).contains(&p))
}

/// A 2-digit province code (after 2025: 34 provinces; old codes stay valid for history).
pub fn is_province_code(s: &str) -> bool {
    s.len() == 2 && all_digits(s)
}

/// A 3-digit district code (history only after 1 July 2025).
pub fn is_district_code(s: &str) -> bool {
    s.len() == 3 && all_digits(s)
}

/// A 5-digit commune code.
pub fn is_commune_code(s: &str) -> bool {
    s.len() == 5 && all_digits(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn procedure_codes() {
        assert!(ProcedureCode::parse("1.001612").is_ok());
        assert!(ProcedureCode::parse(" 2.000720 ").is_ok());
        for bad in [
            "1001612",
            "1.00161",
            "1.0016123",
            "a.001612",
            "1,001612",
            "",
        ] {
            assert!(ProcedureCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn agency_codes() {
        assert!(AgencyCode::parse("000.00.00.H59").is_ok());
        assert!(AgencyCode::parse("000.00.01.H29").is_ok());
        assert!(AgencyCode::parse("G01.00.00.H59").is_err());
        for bad in [
            "000.00.00.h59",
            "000.00.00.H5",
            "00.00.00.H59",
            "000.00.00",
            "000.0A.00.H59",
        ] {
            assert!(AgencyCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn citizen_ids() {
        assert!(CitizenId::parse("001099012345").is_ok());
        assert!(CitizenId::parse("079203001234").is_ok());
        assert!(CitizenId::parse("00109901234").is_err());
        assert!(CitizenId::parse("0010990123456").is_err());
        assert!(CitizenId::parse("000099012345").is_err());
        assert!(CitizenId::parse("101099012345").is_err());
        assert!(CitizenId::parse("00109901234a").is_err());
    }

    #[test]
    fn tax_codes() {
        assert!(TaxCode::parse("0101234567").is_ok());
        assert!(TaxCode::parse("0101234567-001").is_ok());
        assert!(TaxCode::parse("010123456").is_err());
        assert!(TaxCode::parse("0101234567-01").is_err());
    }

    #[test]
    fn serde_validates() {
        let ok: Result<ProcedureCode, _> = serde_json::from_str("\"1.001612\"");
        assert!(ok.is_ok());
        let bad: Result<ProcedureCode, _> = serde_json::from_str("\"x\"");
        assert!(bad.is_err());
    }
}
