//! The data of the slips, from a dossier (`motcua_service::slips::SlipData`), for the PDF
//! renderer: the form set in force on the dossier's date, the agencies' names, the applicant,
//! the components received, the times in words, the register entry and the tracking link with
//! its QR code.

use motcua_domain::dossier::{Actor, Delivery, Dossier};
use motcua_domain::slips::{SlipKind, form_for, form_sets};
use motcua_domain::units::UnitLevel;
use motcua_service::slips::{
    SlipApplicant, SlipComponent, SlipData, SlipItem, SlipProcedure, SlipRow, date_words,
    time_words,
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
    slip(svc, actor, SlipKind::Receipt, code, base).await
}

fn local(svc: &Service, t: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDateTime {
    svc.calendar().to_local_fixed(t).naive_local()
}

/// A user's full name, or the name as recorded.
async fn full_name(svc: &Service, username: &str) -> String {
    match svc.store().user_by_name(username).await {
        Ok(Some(u)) => u.full_name,
        _ => username.to_owned(),
    }
}

fn missing(what: &str) -> ServiceError {
    ServiceError::Conflict(motcua_domain::Msg::new(
        format!("Hồ sơ chưa có {what} để in phiếu"),
        format!("the dossier has no {what} to print a slip of"),
    ))
}

/// The latest entry of `history` whose event `pick` takes, with what it took.
fn last<'a, T>(
    history: &'a [motcua_service::dossiers::HistoryEntry],
    pick: impl Fn(&'a motcua_domain::dossier::DossierEvent) -> Option<T>,
) -> Option<(&'a motcua_service::dossiers::HistoryEntry, T)> {
    history
        .iter()
        .rev()
        .find_map(|e| pick(&e.data.event).map(|t| (e, t)))
}

/// Slip `kind` of dossier `code`: the receipt (01), the letters — supplement request (02),
/// refusal (03), apology and new appointment (04), notice of stopping (05) — from the event
/// that called for them, and the control slip with every hand-off.
pub async fn slip(
    svc: &Service,
    actor: &Actor,
    kind: SlipKind,
    code: &str,
    base: &str,
) -> Result<SlipData> {
    use motcua_domain::dossier::DossierEvent as E;
    if kind == SlipKind::Register {
        return Err(ServiceError::NotFound(motcua_domain::Msg::new(
            "Sổ theo dõi hồ sơ là sổ của cơ quan, không phải phiếu của một hồ sơ",
            "the dossier register is the agency's book, not a slip of one dossier",
        )));
    }
    let mut data = base_data(svc, actor, kind, code, base).await?;
    if kind == SlipKind::Receipt {
        return Ok(data);
    }
    let history = svc.history(actor, code).await?;
    let tr = crate::ui::Tr(crate::ui::Lang::Vi);
    let about = format!(
        "{} đã tiếp nhận hồ sơ của {} (mã hồ sơ {}) về việc: {}, lúc {}.",
        data.agency, data.applicant.name, data.dossier_code, data.procedure.name, data.received_at
    );
    let mut issued: Option<chrono::NaiveDate> = None;
    data.recipient = data.applicant.name.clone();
    data.signer_title = "NGƯỜI LẬP PHIẾU".to_owned();
    match kind {
        SlipKind::SupplementRequest => {
            let (e, items, request_no) = last(&history, |ev| match ev {
                E::SupplementRequested {
                    missing: items,
                    request_no,
                } => Some((items, request_no)),
                _ => None,
            })
            .map(|(e, (i, n))| (e, i, n))
            .ok_or_else(|| missing("yêu cầu bổ sung / supplement request"))?;
            issued = Some(local(svc, e.at).date());
            data.issued_on = date_words(local(svc, e.at).date());
            data.paragraphs = vec![
                about,
                format!(
                    "Sau khi xem xét, hồ sơ cần được bổ sung, hoàn thiện những nội dung sau (yêu cầu lần {request_no}):"
                ),
            ];
            data.items = items
                .iter()
                .map(|m| SlipItem {
                    text: m.item.clone(),
                    reason: m.reason.clone(),
                })
                .collect();
            data.officer = full_name(svc, &e.actor).await;
        }
        SlipKind::Stopping
            if last(&history, |ev| {
                matches!(ev, E::WithdrawalConfirmed {}).then_some(())
            })
            .is_some() =>
        {
            // Stopped at the applicant's request: the withdrawal's reason.
            let (e, ()) = last(&history, |ev| {
                matches!(ev, E::WithdrawalConfirmed {}).then_some(())
            })
            .ok_or_else(|| missing("rút hồ sơ / withdrawal"))?;
            let asked = last(&history, |ev| match ev {
                E::WithdrawalRequested { reason } => Some(reason.clone()),
                _ => None,
            })
            .map(|(_, r)| r)
            .unwrap_or_default();
            issued = Some(local(svc, e.at).date());
            data.issued_on = date_words(local(svc, e.at).date());
            data.paragraphs = vec![
                about,
                "Theo đề nghị rút hồ sơ của người nộp, cơ quan thông báo dừng giải quyết hồ sơ."
                    .to_owned(),
            ];
            if !asked.is_empty() {
                data.items = vec![SlipItem {
                    text: format!("Lý do người nộp nêu: {asked}"),
                    reason: String::new(),
                }];
            }
            data.officer = full_name(svc, &e.actor).await;
        }
        SlipKind::Refusal | SlipKind::Stopping => {
            let (e, (reasons, at_intake)) = last(&history, |ev| match ev {
                E::Refused { reasons, at_intake } => Some((reasons, at_intake)),
                _ => None,
            })
            .ok_or_else(|| missing("quyết định từ chối / refusal"))?;
            if *at_intake != (kind == SlipKind::Refusal) {
                return Err(missing(if *at_intake {
                    "thông báo dừng (hồ sơ bị từ chối khi tiếp nhận) / notice of stopping"
                } else {
                    "phiếu từ chối tiếp nhận (hồ sơ dừng khi đang giải quyết) / refusal at intake"
                }));
            }
            issued = Some(local(svc, e.at).date());
            data.issued_on = date_words(local(svc, e.at).date());
            data.paragraphs = vec![
                about,
                if *at_intake {
                    "Hồ sơ không đủ điều kiện để tiếp nhận, giải quyết vì những lý do sau:"
                        .to_owned()
                } else {
                    "Cơ quan có thẩm quyền thông báo dừng giải quyết hồ sơ vì những lý do sau:"
                        .to_owned()
                },
            ];
            data.items = reasons
                .iter()
                .map(|r| SlipItem {
                    text: r.clone(),
                    reason: String::new(),
                })
                .collect();
            data.officer = full_name(svc, &e.actor).await;
        }
        SlipKind::Apology => {
            let (e, (reason, old_due_at, new_due_at)) = last(&history, |ev| match ev {
                E::Extended {
                    reason,
                    old_due_at,
                    new_due_at,
                    ..
                } => Some((reason, old_due_at, new_due_at)),
                _ => None,
            })
            .ok_or_else(|| missing("gia hạn / extension"))?;
            issued = Some(local(svc, e.at).date());
            data.issued_on = date_words(local(svc, e.at).date());
            data.paragraphs = vec![
                format!(
                    "{about} Thời gian hẹn trả kết quả là {}.",
                    time_words(local(svc, *old_due_at))
                ),
                format!("Tuy nhiên đến nay hồ sơ chưa được giải quyết xong. Lý do: {reason}."),
                format!(
                    "{} xin lỗi ông/bà vì sự chậm trễ này và hẹn lại thời gian trả kết quả là {}.",
                    data.agency,
                    time_words(local(svc, *new_due_at))
                ),
            ];
            data.signer_title = "THỦ TRƯỞNG CƠ QUAN".to_owned();
            data.officer = full_name(svc, &e.actor).await;
        }
        SlipKind::Control => {
            let mut rows = Vec::with_capacity(history.len());
            for e in &history {
                rows.push(SlipRow {
                    at: local(svc, e.at).format("%d/%m/%Y %H:%M").to_string(),
                    by: full_name(svc, &e.actor).await,
                    action: crate::ui::portal::action_label(tr, &e.action),
                    status: e
                        .after
                        .as_ref()
                        .map(|a| crate::ui::portal::status_label(tr, a.status))
                        .unwrap_or_default(),
                });
            }
            data.rows = rows;
        }
        SlipKind::Receipt | SlipKind::Register => {}
    }
    // A letter takes the form in force on the day it is issued.
    if let Some(day) = issued
        && let Some((set, form)) = form_for(kind, day)
    {
        data.paper = form.paper.clone();
        data.form_number = form.number.clone();
        data.form_basis = set.basis.clone();
        data.title = form.title.clone();
    }
    Ok(data)
}

/// What every slip of a dossier shows: the form in force on its date, the agency, the
/// applicant, the procedure, the components, the times, the tracking link.
async fn base_data(
    svc: &Service,
    actor: &Actor,
    kind: SlipKind,
    code: &str,
    base: &str,
) -> Result<SlipData> {
    let d = svc.dossier(actor, code).await?.dossier;
    let local = |t: chrono::DateTime<chrono::Utc>| local(svc, t);
    let received = d.received_at.unwrap_or(d.submitted_at);
    let day = local(received).date();
    let (set, form) = form_for(kind, day)
        .or_else(|| {
            let newest = form_sets().first()?;
            newest.forms.get(&kind).map(|f| (newest, f))
        })
        .ok_or_else(|| {
            ServiceError::Conflict(motcua_domain::Msg::new(
                "Chưa có mẫu phiếu này",
                "no form of this slip is configured",
            ))
        })?;
    let agency = svc.store().agency(d.receiving_agency.as_str()).await?;
    let parent = match &agency.parent_code {
        Some(p) => svc.agency_name(p).await,
        None => String::new(),
    };
    let procedure = svc.store().procedure(d.procedure_code.as_str()).await.ok();
    // The QR code's masks are scored over the whole matrix (milliseconds): for a job's slip on
    // the low-priority threads, with the layout.
    let (tracking_url, qr_svg) = if motcua_service::background::is_background() {
        let (base, code) = (base.to_owned(), d.code.clone());
        motcua_service::background::cpu(move || tracking(&base, &code))
            .await
            .map_err(|e| {
                ServiceError::Storage(motcua_service::store::StoreError::Io(
                    motcua_domain::Msg::new(
                        format!("Không tạo được mã QR: {e}"),
                        format!("the QR code could not be made: {e}"),
                    ),
                ))
            })?
    } else {
        tracking(base, &d.code)
    };
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
        ..Default::default()
    })
}

/// Registers the `slip.sign` job: each slip a dossier change issues is rendered, signed by the
/// officer who issued it and kept with the dossier; `base` is the public address for the
/// tracking links (the configuration's `public_base_url`).
pub fn register_jobs(runner: &mut motcua_service::jobs::Runner, base: String) {
    runner.register(motcua_service::store::SLIP_SIGN_JOB, 2, move |svc, job| {
        let base = base.clone();
        async move { keep_signed_slip(&svc, &job.payload, &base).await }
    });
}

async fn keep_signed_slip(
    svc: &Service,
    payload: &str,
    base: &str,
) -> std::result::Result<(), String> {
    let v: serde_json::Value = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    let code = v["code"].as_str().ok_or("no code in the payload")?;
    let kind = v["kind"]
        .as_str()
        .and_then(SlipKind::parse)
        .ok_or("no slip kind in the payload")?;
    let Some((issuer, at)) = svc
        .slip_issuer(code, kind)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(());
    };
    // Nothing is laid out for an officer who cannot sign (no key configured).
    if !svc.can_sign(&motcua_service::signing::SignAs::User(issuer.clone())) {
        return Ok(());
    }
    let Some(user) = svc
        .store()
        .user_by_name(&issuer)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(());
    };
    let actor = motcua_service::actor_of(&user);
    let data = slip(svc, &actor, kind, code, base)
        .await
        .map_err(|e| format!("{code}: {e}"))?;
    svc.keep_signed_slip(code, kind, &issuer, at, data)
        .await
        .map(|_| ())
}

/// Drafts dossier `code`'s result from its procedure's template: the template filled with the
/// dossier's values, laid out as an A4 document of the agency holding the dossier, attached as
/// the result (for those who may attach it). It then waits in the leader's signing queue.
pub async fn draft_result(
    svc: &Service,
    by: &motcua_service::Acting,
    code: &str,
    base: &str,
) -> Result<motcua_service::store::StoredFile> {
    let d = svc.dossier(&by.actor, code).await?.dossier;
    let (template, _) = svc.result_template(d.procedure_code.as_str()).await?;
    let mut data = base_data(svc, &by.actor, SlipKind::Receipt, code, base).await?;
    let agency = svc.store().agency(d.current_agency.as_str()).await?;
    data.paper = "a4".into();
    data.form_number = String::new();
    data.form_basis = String::new();
    data.subtitle = String::new();
    data.number = String::new();
    data.agency = agency.name.clone();
    data.agency_parent = match &agency.parent_code {
        Some(p) => svc.agency_name(p).await,
        None => String::new(),
    };
    data.place = place(svc, agency.unit_code.as_deref()).await;
    let today = local(svc, by.at).date();
    data.issued_on = date_words(today);
    let received = local(svc, d.received_at.unwrap_or(d.submitted_at)).date();
    let mut values = std::collections::BTreeMap::new();
    values.insert("ho_ten", d.applicant.name.clone());
    values.insert("so_dinh_danh", d.applicant.id_number.clone());
    values.insert("dia_chi", data.applicant.address.clone());
    values.insert("ma_ho_so", d.code.clone());
    values.insert("thu_tuc", d.procedure_name.clone());
    values.insert("ma_thu_tuc", d.procedure_code.to_string());
    values.insert("co_quan", agency.name.clone());
    values.insert("ngay_tiep_nhan", date_words(received));
    values.insert("ngay", date_words(today));
    let (title, paragraphs) = template.fill(&values);
    data.title = title;
    data.paragraphs = paragraphs;
    data.signer_title = template.signer_title.clone();
    let pdf = svc.render_result(data).await?;
    svc.attach_file(by, code, None, &format!("ket-qua-{code}.pdf"), &pdf)
        .await
}

/// The dossier register (form 06 of Circular 01/2018, 07 of 03/2025, by the form set in force
/// on the period's last day) of agency `agency`: every dossier it received from `from` to `to`
/// (local days, both included), in the order received — at most 5,000 lines. For the agency's
/// officers and administrators.
pub async fn register(
    svc: &Service,
    actor: &Actor,
    agency: &str,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> Result<SlipData> {
    use motcua_domain::auth::Role;
    use motcua_domain::dossier::Status;
    let own = actor.agency.as_ref().is_some_and(|a| a.as_str() == agency)
        && actor
            .role
            .is_some_and(motcua_domain::policy::handles_dossiers);
    if !own && actor.role != Some(Role::Admin) {
        return Err(ServiceError::Forbidden(motcua_domain::Msg::new(
            "Chỉ cán bộ của cơ quan mới in sổ theo dõi hồ sơ của cơ quan",
            "only the agency's officers print its dossier register",
        )));
    }
    if to < from || (to - from).num_days() > 366 {
        return Err(ServiceError::invalid(
            "to",
            "Kỳ từ 1 ngày đến 1 năm, ngày cuối không trước ngày đầu",
            "a period of one day to a year, its end not before its start",
        ));
    }
    let a = svc.store().agency(agency).await?;
    let cal = svc.calendar();
    let start = |d: chrono::NaiveDate| cal.instant(d, chrono::NaiveTime::MIN);
    let mut rows = Vec::new();
    let mut cursor = None;
    loop {
        let page = svc
            .store()
            .dossiers(&motcua_service::store::DossierQuery {
                receiving_agency: Some(a.code.to_string()),
                received_from: Some(start(from)),
                received_to: Some(start(to + chrono::Duration::days(1))),
                cursor: cursor.clone(),
                limit: Some(500),
                ..Default::default()
            })
            .await?;
        rows.extend(page.items.into_iter().map(|d| d.dossier));
        cursor = page.next_cursor;
        if cursor.is_none() || rows.len() >= 5000 {
            break;
        }
    }
    rows.sort_by_key(|d| (d.received_at, d.code.clone()));
    let (set, form) = form_for(SlipKind::Register, to)
        .or_else(|| {
            let newest = form_sets().first()?;
            newest.forms.get(&SlipKind::Register).map(|f| (newest, f))
        })
        .ok_or_else(|| {
            ServiceError::Conflict(motcua_domain::Msg::new(
                "Chưa có mẫu sổ theo dõi hồ sơ",
                "no form of the dossier register is configured",
            ))
        })?;
    let day = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| local(svc, t).format("%d/%m/%Y").to_string())
            .unwrap_or_default()
    };
    let mut register_rows = Vec::with_capacity(rows.len());
    for (i, d) in rows.iter().enumerate() {
        let decided_by = if d.competent_agency != a.code {
            svc.agency_name(&d.competent_agency).await
        } else {
            String::new()
        };
        let note = match (d.status, d.timeliness) {
            (Status::Stopped, _) => "Dừng giải quyết",
            (Status::Rejected, _) => "Từ chối",
            (_, Some(motcua_domain::dossier::Timeliness::Early)) => "Trước hạn",
            (_, Some(motcua_domain::dossier::Timeliness::OnTime)) => "Đúng hạn",
            (_, Some(motcua_domain::dossier::Timeliness::Late)) => "Quá hạn",
            _ => "Đang giải quyết",
        };
        register_rows.push(motcua_service::slips::RegisterRow {
            no: i + 1,
            code: d.code.clone(),
            procedure: d.procedure_name.clone(),
            applicant: d.applicant.name.clone(),
            received_at: day(d.received_at),
            due: day(d.due_at),
            decided_by,
            ended_at: day(d.ended_at),
            returned_at: day(d.returned_at),
            note: note.to_owned(),
        });
    }
    let parent = match &a.parent_code {
        Some(p) => svc.agency_name(p).await,
        None => String::new(),
    };
    Ok(SlipData {
        paper: form.paper.clone(),
        form_number: form.number.clone(),
        form_basis: set.basis.clone(),
        title: form.title.clone(),
        subtitle: format!(
            "Từ ngày {} đến ngày {}",
            from.format("%d/%m/%Y"),
            to.format("%d/%m/%Y")
        ),
        agency_parent: parent,
        agency: a.name.clone(),
        place: place(svc, a.unit_code.as_deref()).await,
        issued_on: date_words(local(svc, svc.now()).date()),
        register_rows,
        ..SlipData::default()
    })
}
