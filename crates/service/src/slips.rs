//! Slips as PDF: the data of a slip (`SlipData`, filled from the dossier and the form set in
//! force on its date) and the renderer that lays it out. The renderer is the leaf crate
//! `motcua-pdf` (typst), set by the binary, so that the core builds without a typesetter.

use crate::{Result, Service, ServiceError};
use motcua_domain::slips::SlipKind;
use serde::Serialize;
use std::sync::Arc;

/// Lays a slip out as PDF.
pub trait SlipRenderer: Send + Sync {
    fn render(&self, kind: SlipKind, data: &SlipData) -> std::result::Result<Vec<u8>, String>;
    /// A scanned image (JPEG or PNG) as a PDF page of its own size, to be signed as an
    /// electronic copy.
    fn image_pdf(&self, image: &[u8]) -> std::result::Result<Vec<u8>, String> {
        let _ = image;
        Err("this renderer does not make PDFs of images".into())
    }
    /// A result the agency issues, filled from its procedure's template (`title`,
    /// `paragraphs`, `signer_title` and the heading of `data`).
    fn result_pdf(&self, data: &SlipData) -> std::result::Result<Vec<u8>, String> {
        let _ = data;
        Err("this renderer does not lay out results".into())
    }
}

/// The applicant as a slip names them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SlipApplicant {
    pub name: String,
    /// Citizen ID or tax code.
    pub id: String,
    pub address: String,
    /// Phone and e-mail.
    pub contact: String,
}

/// The procedure a slip is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SlipProcedure {
    pub code: String,
    pub name: String,
}

/// A line of a slip's list of components.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SlipComponent {
    pub name: String,
    pub originals: u16,
    pub copies: u16,
    /// E.g. "from the data warehouse".
    pub note: String,
}

/// An item of a letter slip's list: what is missing and why, a reason for refusing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SlipItem {
    pub text: String,
    pub reason: String,
}

/// A row of the control slip: each hand-off with its time, who, what, and the state after.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SlipRow {
    pub at: String,
    pub by: String,
    pub action: String,
    pub status: String,
}

/// A line of the dossier register (form 06/07): one dossier received in the period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RegisterRow {
    pub no: usize,
    pub code: String,
    pub procedure: String,
    pub applicant: String,
    pub received_at: String,
    pub due: String,
    /// Where it went to be decided, when not here.
    pub decided_by: String,
    /// When it was resolved or stopped.
    pub ended_at: String,
    pub returned_at: String,
    /// The state in words (early, on time, late, stopped…).
    pub note: String,
}

/// Everything a slip shows (text in NFC), as the templates read it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SlipData {
    /// `a4` or `a5`, from the form set.
    pub paper: String,
    pub form_number: String,
    pub form_basis: String,
    pub title: String,
    pub subtitle: String,
    /// The governing body (cơ quan chủ quản) above the issuing agency.
    pub agency_parent: String,
    pub agency: String,
    /// The slip's number (Số: …), if it has one.
    pub number: String,
    /// The place name of the date line.
    pub place: String,
    /// `ngày 28 tháng 01 năm 2025`.
    pub issued_on: String,
    /// Who receives: "Bộ phận Một cửa …".
    pub office: String,
    pub dossier_code: String,
    pub applicant: SlipApplicant,
    pub procedure: SlipProcedure,
    pub components: Vec<SlipComponent>,
    pub time_limit: String,
    pub received_at: String,
    pub appointment: String,
    pub delivery: String,
    /// The register entry.
    pub register: String,
    /// The full public tracking URL, also in the QR code.
    pub tracking_url: String,
    /// The QR code of the tracking URL, as SVG.
    pub qr_svg: String,
    /// The officer who issues the slip.
    pub officer: String,
    /// Letters: to whom (Kính gửi).
    pub recipient: String,
    /// The dossier register's lines.
    pub register_rows: Vec<RegisterRow>,
    /// Letters: the body, paragraph by paragraph.
    pub paragraphs: Vec<String>,
    /// Letters: the list (missing items, reasons).
    pub items: Vec<SlipItem>,
    /// The control slip's rows.
    pub rows: Vec<SlipRow>,
    /// The title of the signature block (who signs for the agency).
    pub signer_title: String,
}

impl SlipData {
    /// Every text in NFC (a slip's text must extract as it reads).
    pub fn normalised(mut self) -> SlipData {
        use motcua_domain::text::clean as nfc;
        for s in [
            &mut self.title,
            &mut self.subtitle,
            &mut self.agency_parent,
            &mut self.agency,
            &mut self.place,
            &mut self.office,
            &mut self.applicant.name,
            &mut self.applicant.address,
            &mut self.procedure.name,
            &mut self.delivery,
            &mut self.officer,
            &mut self.time_limit,
        ] {
            *s = nfc(s);
        }
        for c in &mut self.components {
            c.name = nfc(&c.name);
            c.note = nfc(&c.note);
        }
        for p in &mut self.paragraphs {
            *p = nfc(p);
        }
        for i in &mut self.items {
            i.text = nfc(&i.text);
            i.reason = nfc(&i.reason);
        }
        for r in &mut self.rows {
            r.by = nfc(&r.by);
            r.action = nfc(&r.action);
            r.status = nfc(&r.status);
        }
        self
    }
}

/// `ngày 28 tháng 01 năm 2025`.
pub fn date_words(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!(
        "ngày {:02} tháng {:02} năm {}",
        d.day(),
        d.month(),
        d.year()
    )
}

/// `08 giờ 30 phút, ngày 28 tháng 01 năm 2025`.
pub fn time_words(t: chrono::NaiveDateTime) -> String {
    use chrono::Timelike;
    format!(
        "{:02} giờ {:02} phút, {}",
        t.hour(),
        t.minute(),
        date_words(t.date())
    )
}

impl Service {
    /// The PDF renderer, if the binary set one.
    pub(crate) fn renderer(&self) -> Result<Arc<dyn SlipRenderer>> {
        self.slips
            .read()
            .ok()
            .and_then(|s| s.clone())
            .ok_or_else(|| {
                ServiceError::Storage(motcua_store::StoreError::Io(motcua_domain::Msg::new(
                    "Máy chủ chưa có bộ tạo PDF",
                    "this server has no PDF renderer",
                )))
            })
    }

    /// Sets the PDF renderer of slips.
    pub fn set_slip_renderer(&self, r: Arc<dyn SlipRenderer>) {
        if let Ok(mut s) = self.slips.write() {
            *s = Some(r);
        }
    }

    /// Renders a slip (off the async threads: layout is CPU work; below the requests when a job
    /// renders it, see [`crate::background`]).
    pub async fn render_slip(&self, kind: SlipKind, data: SlipData) -> Result<Vec<u8>> {
        let r = self.renderer()?;
        let data = data.normalised();
        let out = crate::background::cpu(move || r.render(kind, &data))
            .await
            .map_err(|e| render_error(&e))?
            .map_err(|e| render_error(&e))?;
        metrics::counter!("motcua_slips_rendered_total", "kind" => kind.as_str()).increment(1);
        Ok(out)
    }
}

impl Service {
    /// A scanned image as a one-page PDF (off the async threads).
    pub async fn image_pdf(&self, image: Vec<u8>) -> Result<Vec<u8>> {
        let r = self.renderer()?;
        crate::background::cpu(move || r.image_pdf(&image))
            .await
            .map_err(|e| render_error(&e))?
            .map_err(|e| render_error(&e))
    }
}

pub(crate) fn render_error(e: &str) -> ServiceError {
    tracing::error!(error = %e, "slip rendering failed");
    ServiceError::Storage(motcua_store::StoreError::Io(motcua_domain::Msg::new(
        "Không tạo được phiếu PDF",
        "the slip could not be rendered as PDF",
    )))
}
