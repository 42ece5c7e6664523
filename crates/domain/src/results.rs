//! Result templates: the document an agency itself issues as the result of a procedure (a
//! certificate, a confirmation), written once per procedure by an administrator with
//! placeholders the dossier fills — `{ho_ten}`, `{ma_ho_so}`… — then laid out as PDF with the
//! national heading and signed by the leader and sealed.

use crate::Msg;
use crate::error::{Error, FieldError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The placeholders a template may use: (name, Vietnamese, English).
pub const PLACEHOLDERS: &[(&str, &str, &str)] = &[
    ("ho_ten", "họ và tên người nộp", "the applicant's name"),
    (
        "so_dinh_danh",
        "số định danh cá nhân hoặc mã số thuế",
        "citizen ID or tax code",
    ),
    ("dia_chi", "địa chỉ người nộp", "the applicant's address"),
    ("ma_ho_so", "mã hồ sơ", "the dossier code"),
    ("thu_tuc", "tên thủ tục", "the procedure's name"),
    ("ma_thu_tuc", "mã thủ tục", "the procedure's code"),
    ("co_quan", "cơ quan giải quyết", "the deciding agency"),
    (
        "ngay_tiep_nhan",
        "ngày tiếp nhận (bằng chữ)",
        "the day received, in words",
    ),
    (
        "ngay",
        "ngày ban hành (bằng chữ)",
        "the day of issue, in words",
    ),
];

/// A procedure's result template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultTemplate {
    /// The document's title (e.g. `GIẤY XÁC NHẬN`), 1–200 characters.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub title: String,
    /// The text, paragraphs separated by a blank line, with `{placeholder}`s; at most 20,000
    /// characters.
    #[schema(min_length = 1, max_length = 20000, pattern = r"\S")]
    pub body: String,
    /// Above the signature (e.g. `CHỦ TỊCH`), 1–100 characters.
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub signer_title: String,
}

fn invalid(field: &str, vi: String, en: String) -> FieldError {
    FieldError {
        field: field.into(),
        message: Msg::new(vi, en),
    }
}

/// The `{name}`s of a text, or where a brace does not close.
fn placeholders(text: &str) -> Result<Vec<&str>, usize> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut at = 0;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or(at + open)?;
        out.push(after[..close].trim());
        at += open + close + 2;
        rest = &after[close + 1..];
    }
    Ok(out)
}

impl ResultTemplate {
    /// The template of a procedure with none written yet.
    pub fn default_for(procedure_name: &str) -> Self {
        let _ = procedure_name;
        ResultTemplate {
            title: "KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH".into(),
            body: "Căn cứ hồ sơ {ma_ho_so} của ông/bà {ho_ten} (số định danh {so_dinh_danh}), \
                   địa chỉ {dia_chi}, tiếp nhận {ngay_tiep_nhan};\n\n\
                   {co_quan} đã giải quyết thủ tục {thu_tuc} (mã {ma_thu_tuc}) theo quy định.\n\n\
                   Văn bản này có giá trị như bản giấy khi được ký số và đóng dấu số của cơ quan."
                .into(),
            signer_title: "Thủ trưởng cơ quan".into(),
        }
    }

    /// Checks lengths and that every placeholder is known and every brace closed.
    pub fn validate(&self) -> Result<(), Error> {
        let mut errs = Vec::new();
        let len = |s: &str| s.trim().chars().count();
        if !(1..=200).contains(&len(&self.title)) {
            errs.push(invalid(
                "title",
                "Tiêu đề từ 1 đến 200 ký tự".into(),
                "the title has 1 to 200 characters".into(),
            ));
        }
        if !(1..=100).contains(&len(&self.signer_title)) {
            errs.push(invalid(
                "signer_title",
                "Chức danh người ký từ 1 đến 100 ký tự".into(),
                "the signer's title has 1 to 100 characters".into(),
            ));
        }
        if !(1..=20_000).contains(&len(&self.body)) {
            errs.push(invalid(
                "body",
                "Nội dung từ 1 đến 20.000 ký tự".into(),
                "the body has 1 to 20,000 characters".into(),
            ));
        }
        for (field, text) in [("title", &self.title), ("body", &self.body)] {
            match placeholders(text) {
                Err(at) => errs.push(invalid(
                    field,
                    format!("Dấu {{ ở vị trí {at} chưa được đóng bằng }}"),
                    format!("the brace at {at} is not closed"),
                )),
                Ok(names) => {
                    for n in names {
                        if !PLACEHOLDERS.iter().any(|(p, _, _)| *p == n) {
                            let known = PLACEHOLDERS
                                .iter()
                                .map(|p| p.0)
                                .collect::<Vec<_>>()
                                .join(", ");
                            errs.push(invalid(
                                field,
                                format!("Không có trường {{{n}}}; các trường: {known}"),
                                format!("no placeholder {{{n}}}; the placeholders: {known}"),
                            ));
                        }
                    }
                }
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(errs))
        }
    }

    /// The title and the paragraphs with the values put in (unknown names left as written).
    pub fn fill(&self, values: &BTreeMap<&str, String>) -> (String, Vec<String>) {
        let put = |text: &str| -> String {
            let mut out = String::with_capacity(text.len());
            let mut rest = text;
            while let Some(open) = rest.find('{') {
                out.push_str(&rest[..open]);
                let after = &rest[open + 1..];
                match after.find('}') {
                    Some(close) => {
                        let name = after[..close].trim();
                        match values.get(name) {
                            Some(v) => out.push_str(v),
                            None => out.push_str(&rest[open..open + close + 2]),
                        }
                        rest = &after[close + 1..];
                    }
                    None => {
                        out.push_str(&rest[open..]);
                        rest = "";
                    }
                }
            }
            out.push_str(rest);
            crate::text::clean(&out)
        };
        let paragraphs = self
            .body
            .split("\n\n")
            .map(put)
            .filter(|p| !p.is_empty())
            .collect();
        (put(&self.title), paragraphs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_checked_and_filled() {
        let t = ResultTemplate {
            title: "GIẤY XÁC NHẬN".into(),
            body: "Xác nhận ông/bà {ho_ten}\n\nHồ sơ {ma_ho_so}".into(),
            signer_title: "Chủ tịch".into(),
        };
        assert!(t.validate().is_ok());
        let mut v = BTreeMap::new();
        v.insert("ho_ten", "Hoàng Thị Mai".to_owned());
        v.insert("ma_ho_so", "000.01.31.H58-250128-0001".to_owned());
        let (title, paras) = t.fill(&v);
        assert_eq!(title, "GIẤY XÁC NHẬN");
        assert_eq!(
            paras,
            [
                "Xác nhận ông/bà Hoàng Thị Mai",
                "Hồ sơ 000.01.31.H58-250128-0001"
            ]
        );
        let bad = ResultTemplate {
            body: "{ten_sai} và {ho_ten".into(),
            ..t.clone()
        };
        let Err(Error::Invalid(errs)) = bad.validate() else {
            panic!("refused")
        };
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].message.en.contains("not closed"));
        let unknown = ResultTemplate {
            body: "{ten_sai}".into(),
            ..t
        };
        let Err(Error::Invalid(errs)) = unknown.validate() else {
            panic!("refused")
        };
        assert!(errs[0].message.vi.contains("{ten_sai}"));
        assert!(ResultTemplate::default_for("x").validate().is_ok());
    }
}
