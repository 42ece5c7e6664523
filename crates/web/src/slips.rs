//! The data of the slips, from a dossier (`motcua_service::slips::SlipData`), for the PDF
//! renderer: the form set in force on the dossier's date, the agencies' names, the applicant,
//! the components received, the times in words, the register entry and the tracking link with
//! its QR code.

use motcua_domain::dossier::{Actor, Delivery, Dossier};
use motcua_domain::slips::{SlipKind, form_for, form_sets};
use motcua_domain::units::UnitLevel;
use motcua_service::slips::{
    SlipApplicant, SlipComponent, SlipData, SlipProcedure, date_words, time_words,
};
use motcua_service::{Result, Service, ServiceError};

/// The public tracking URL of a dossier and its QR code (SVG).
pub fn tracking(base: &str, code: &str) -> (String, String) {
    let url = format!(
        "{}/tra-cuu?ma={}",
        base.trim_end_matches('/'),
        crate::ui::urlencode(code)
    );
    let qr = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map(|c| {
            c.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(132, 132)
                .quiet_zone(true)
                .build()
        })
        .unwrap_or_default();
    (url, qr)
}

/// The officer who received the dossier (not whoever prints the slip): "Name (username)".
pub async fn receiver(svc: &Service, actor: &Actor, d: &Dossier) -> Result<String> {
    let name = svc
        .history(actor, &d.code)
        .await?
        .into_iter()
        .find(|e| e.data.event.is_receipt())
        .map(|e| e.actor)
        .unwrap_or_default();
    Ok(match svc.store().user_by_name(&name).await {
        Ok(Some(u)) => u.full_name,
        _ => name,
    })
}

/// The place name of an agency's date line: its commune's or province's name without the
/// unit's kind ("Phường Minh Xuân" → "Minh Xuân").
async fn place(svc: &Service, unit_code: Option<&str>) -> String {
    let Some(code) = unit_code else {
        return String::new();
    };
    let level = if code.len() == 2 {
        UnitLevel::Province
    } else {
        UnitLevel::Commune
    };
    match svc.store().current_unit(level, code).await {
        Ok(Some(u)) => u
            .name
            .strip_prefix(&format!("{} ", u.kind))
            .unwrap_or(&u.name)
            .to_owned(),
        _ => String::new(),
    }
}

fn delivery_words(d: Option<Delivery>) -> &'static str {
    match d {
        Some(Delivery::Electronic) => {
            "Bản điện tử trên Cổng Dịch vụ công (tài khoản của người nộp)"
        }
        Some(Delivery::Postal) => "Địa chỉ của người nộp, qua dịch vụ bưu chính công ích",
        Some(Delivery::Paper) | None => "Bộ phận Một cửa nơi tiếp nhận hồ sơ",
    }
}

/// The receipt and appointment slip (form 01) of dossier `code`, as `actor` may read it; the
/// tracking link starts with `base` (the public address of the site).
pub async fn receipt(svc: &Service, actor: &Actor, code: &str, base: &str) -> Result<SlipData> {
    let d = svc.dossier(actor, code).await?.dossier;
    let local = |t: chrono::DateTime<chrono::Utc>| svc.calendar().to_local_fixed(t).naive_local();
    let received = d.received_at.unwrap_or(d.submitted_at);
    let day = local(received).date();
    let (set, form) = form_for(SlipKind::Receipt, day)
        .or_else(|| {
            let newest = form_sets().first()?;
            newest.forms.get(&SlipKind::Receipt).map(|f| (newest, f))
        })
        .ok_or_else(|| {
            ServiceError::Conflict(motcua_domain::Msg::new(
                "Chưa có mẫu giấy tiếp nhận",
                "no receipt form is configured",
            ))
        })?;
    let agency = svc.store().agency(d.receiving_agency.as_str()).await?;
    let parent = match &agency.parent_code {
        Some(p) => svc.agency_name(p).await,
        None => String::new(),
    };
    let procedure = svc.store().procedure(d.procedure_code.as_str()).await.ok();
    let (tracking_url, qr_svg) = tracking(base, &d.code);
    let seq = d.code.rsplit('-').next().unwrap_or_default().to_owned();
    let address = [
        d.applicant.address.clone().unwrap_or_default(),
        match &d.applicant.unit_code {
            Some(u) => svc
                .store()
                .current_unit(UnitLevel::Commune, u)
                .await
                .ok()
                .flatten()
                .map(|u| u.name)
                .unwrap_or_default(),
            None => String::new(),
        },
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(", ");
    Ok(SlipData {
        paper: form.paper.clone(),
        form_number: form.number.clone(),
        form_basis: set.basis.clone(),
        title: form.title.clone(),
        subtitle: format!("Mã hồ sơ: {}", d.code),
        agency_parent: parent,
        agency: agency.name.clone(),
        number: String::new(),
        place: place(svc, agency.unit_code.as_deref()).await,
        issued_on: date_words(day),
        office: agency.name.clone(),
        dossier_code: d.code.clone(),
        applicant: SlipApplicant {
            name: d.applicant.name.clone(),
            id: d.applicant.id_number.clone(),
            address,
            contact: [d.applicant.phone.clone(), d.applicant.email.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", "),
        },
        procedure: SlipProcedure {
            code: d.procedure_code.to_string(),
            name: d.procedure_name.clone(),
        },
        components: d
            .components
            .iter()
            .filter(|c| c.submitted)
            .map(|c| SlipComponent {
                name: c.name.clone(),
                originals: c.originals,
                copies: c.copies,
                note: match (&c.warehouse_code, c.from_warehouse) {
                    (Some(w), _) => format!("dùng lại từ kho dữ liệu, mã {w}"),
                    (None, true) => "từ kho dữ liệu".to_owned(),
                    _ => String::new(),
                },
            })
            .collect(),
        time_limit: procedure
            .as_ref()
            .map(|p| crate::ui::portal::limit_text(crate::ui::Tr(crate::ui::Lang::Vi), p))
            .unwrap_or_default(),
        received_at: time_words(local(received)),
        appointment: d
            .original_due_at
            .or(d.due_at)
            .map(|t| time_words(local(t)))
            .unwrap_or_else(|| "không xác định".to_owned()),
        delivery: delivery_words(d.requested_delivery).to_owned(),
        register: format!("{}, số thứ tự {seq}", date_words(day)),
        tracking_url,
        qr_svg,
        officer: receiver(svc, actor, &d).await?,
    })
}
