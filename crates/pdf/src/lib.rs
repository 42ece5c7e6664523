//! Slips as PDF, laid out by typst (through `typst-as-lib`) from the templates in `templates/`
//! with Liberation Serif embedded (metric-compatible with Times New Roman, the face official
//! documents use; every Vietnamese letter; SIL Open Font License, `fonts/COPYRIGHT-Liberation`).
//! Fonts are subset with ToUnicode maps, so the text extracts as it reads (in NFC).
//!
//! Why typst: a real layout engine (line breaking, tables, Vietnamese shaping) with templates
//! an administrator can read and edit, PDF output with embedded fonts, and no system
//! dependency; its cost is a long first build, so it lives in this leaf crate, which only the
//! binary and the tests pull in.

use motcua_domain::slips::SlipKind;
use motcua_service::slips::{SlipData, SlipRenderer};
use typst::foundations::{Dict, IntoValue};
use typst_as_lib::TypstEngine;
use typst_as_lib::TypstTemplateCollection;

static FONTS: [&[u8]; 4] = [
    include_bytes!("../fonts/LiberationSerif-Regular.ttf"),
    include_bytes!("../fonts/LiberationSerif-Bold.ttf"),
    include_bytes!("../fonts/LiberationSerif-Italic.ttf"),
    include_bytes!("../fonts/LiberationSerif-BoldItalic.ttf"),
];

static COMMON: &str = include_str!("../templates/common.typ");
static RECEIPT: &str = include_str!("../templates/receipt.typ");
static LETTER: &str = include_str!("../templates/letter.typ");
static CONTROL: &str = include_str!("../templates/control.typ");
static STAMP: &str = include_str!("../templates/stamp.typ");
static COPY: &str = include_str!("../templates/copy.typ");
static RESULT: &str = include_str!("../templates/result.typ");
static REGISTER: &str = include_str!("../templates/register.typ");

/// The typst renderer of slips.
pub struct TypstSlips {
    engine: TypstEngine<TypstTemplateCollection>,
}

impl Default for TypstSlips {
    fn default() -> Self {
        TypstSlips::new()
    }
}

impl TypstSlips {
    pub fn new() -> TypstSlips {
        let engine = TypstEngine::builder()
            .fonts(FONTS)
            .with_static_source_file_resolver([
                ("common.typ", COMMON),
                ("receipt.typ", RECEIPT),
                ("letter.typ", LETTER),
                ("control.typ", CONTROL),
                ("stamp.typ", STAMP),
                ("copy.typ", COPY),
                ("result.typ", RESULT),
                ("register.typ", REGISTER),
            ])
            .build();
        TypstSlips { engine }
    }

    /// The template of a slip, if there is one yet.
    fn template(kind: SlipKind) -> Option<&'static str> {
        match kind {
            SlipKind::Receipt => Some("receipt.typ"),
            SlipKind::SupplementRequest
            | SlipKind::Refusal
            | SlipKind::Apology
            | SlipKind::Stopping => Some("letter.typ"),
            SlipKind::Control => Some("control.typ"),
            SlipKind::Register => Some("register.typ"),
        }
    }
}

impl TypstSlips {
    /// Lays template `file` out with `input` as PDF.
    fn compile(&self, file: &str, input: Dict) -> Result<Vec<u8>, String> {
        let doc = self
            .engine
            .compile_with_input(file, input)
            .output
            .map_err(|e| format!("{e:?}"))?;
        typst_pdf::pdf(&doc, &typst_pdf::PdfOptions::default()).map_err(|e| format!("{e:?}"))
    }
}

/// The visible stamp of a signature as a one-page PDF (the page is the stamp): the signer's
/// name, the time, and the purpose.
pub fn stamp(name: &str, time: &str, reason: &str) -> Result<Vec<u8>, String> {
    TypstSlips::new().stamp(name, time, reason)
}

impl TypstSlips {
    /// See [`stamp`].
    pub fn stamp(&self, name: &str, time: &str, reason: &str) -> Result<Vec<u8>, String> {
        use unicode_normalization::UnicodeNormalization;
        let json = serde_json::json!({
            "name": name.nfc().collect::<String>(),
            "time": time,
            "reason": reason.nfc().collect::<String>(),
        })
        .to_string();
        let mut input = Dict::new();
        input.insert("data".into(), json.as_str().into_value());
        self.compile("stamp.typ", input)
    }
}

impl SlipRenderer for TypstSlips {
    fn render(&self, kind: SlipKind, data: &SlipData) -> Result<Vec<u8>, String> {
        let file = TypstSlips::template(kind)
            .ok_or_else(|| format!("no template for the slip {}", kind.as_str()))?;
        let json = serde_json::to_string(data).map_err(|e| e.to_string())?;
        let mut input = Dict::new();
        input.insert("data".into(), json.as_str().into_value());
        self.compile(file, input)
    }

    fn result_pdf(&self, data: &SlipData) -> Result<Vec<u8>, String> {
        let json = serde_json::to_string(data).map_err(|e| e.to_string())?;
        let mut input = Dict::new();
        input.insert("data".into(), json.as_str().into_value());
        self.compile("result.typ", input)
    }

    fn image_pdf(&self, image: &[u8]) -> Result<Vec<u8>, String> {
        let mut input = Dict::new();
        input.insert(
            "image".into(),
            typst::foundations::Bytes::new(image.to_vec()).into_value(),
        );
        self.compile("copy.typ", input)
    }
}
