//! Reports as files: CSV (UTF-8 with a byte-order mark, so that Excel reads Vietnamese right)
//! and XLSX (`rust_xlsxwriter`) of any statistics report, and the standard periodic report
//! form on the processing of administrative procedures (by field), as an XLSX sheet.

use motcua_domain::stats::{Figures, Rate};
use motcua_service::stats::StatsReport;
use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};

/// A column: its heading (Vietnamese, with the API's name) and its value.
type Column<T> = (&'static str, fn(&Figures) -> T);

/// The figures' columns.
fn count_columns() -> [Column<i64>; 14] {
    [
        ("Kỳ trước chuyển qua (carried_over)", |f| {
            f.carried_over
        }),
        ("Mới tiếp nhận trực tuyến (new.online)", |f| {
            f.new.online
        }),
        ("Mới tiếp nhận trực tiếp (new.counter)", |f| {
            f.new.counter
        }),
        ("Mới tiếp nhận qua bưu chính (new.postal)", |f| {
            f.new.postal
        }),
        ("Tổng số hồ sơ tiếp nhận (received)", |f| {
            f.received
        }),
        ("Đã giải quyết (resolved.total)", |f| f.resolved.total),
        ("Trước hạn (resolved.early)", |f| f.resolved.early),
        ("Đúng hạn (resolved.on_time)", |f| f.resolved.on_time),
        ("Quá hạn (resolved.late)", |f| f.resolved.late),
        ("Từ chối (refused)", |f| f.refused),
        ("Rút hồ sơ (withdrawn)", |f| f.withdrawn),
        (
            "Đang giải quyết trong hạn (in_progress.not_due)",
            |f| f.in_progress.not_due,
        ),
        (
            "Đang giải quyết quá hạn (in_progress.overdue)",
            |f| f.in_progress.overdue,
        ),
        ("Yêu cầu bổ sung (supplements_requested)", |f| {
            f.supplements_requested
        }),
    ]
}

fn rate_columns() -> [Column<Rate>; 8] {
    [
        ("Tỷ lệ trực tuyến (online)", |f| f.rates.online),
        ("Tỷ lệ trực tuyến toàn trình (full_online)", |f| {
            f.rates.full_online
        }),
        ("Tỷ lệ đúng hạn (on_time)", |f| f.rates.on_time),
        (
            "Tỷ lệ số hóa thành phần (digitised_components)",
            |f| f.rates.digitised_components,
        ),
        ("Tỷ lệ số hóa kết quả (digitised_results)", |f| {
            f.rates.digitised_results
        }),
        (
            "Tỷ lệ kết quả điện tử (electronic_results)",
            |f| f.rates.electronic_results,
        ),
        ("Tỷ lệ tái sử dụng (reuse)", |f| f.rates.reuse),
        (
            "Tỷ lệ thanh toán trực tuyến (online_payment)",
            |f| f.rates.online_payment,
        ),
    ]
}

/// The rows of a report: each group's names and figures, then the total.
fn rows(r: &StatsReport) -> Vec<(Vec<String>, Vec<String>, &Figures)> {
    let mut out: Vec<(Vec<String>, Vec<String>, &Figures)> = r
        .groups
        .iter()
        .map(|g| {
            let codes = r
                .group_by
                .iter()
                .map(|d| g.key.get(d.as_str()).cloned().unwrap_or_default())
                .collect();
            let names = r
                .group_by
                .iter()
                .map(|d| g.names.get(d.as_str()).cloned().unwrap_or_default())
                .collect();
            (codes, names, &g.figures)
        })
        .collect();
    let mut total = vec![String::new(); r.group_by.len()];
    if let Some(first) = total.first_mut() {
        *first = "Tổng cộng".to_owned();
    }
    out.push((total.clone(), total, &r.total));
    out
}

fn headings(r: &StatsReport) -> Vec<String> {
    let mut h = Vec::new();
    for d in &r.group_by {
        let (vi, _) = d.label();
        h.push(format!("Mã {} ({})", vi.to_lowercase(), d.as_str()));
        h.push(format!("{vi} ({}_name)", d.as_str()));
    }
    h.extend(count_columns().iter().map(|(n, _)| (*n).to_owned()));
    for (n, _) in rate_columns() {
        h.push(format!("{n} – tử số"));
        h.push(format!("{n} – mẫu số"));
        h.push(format!("{n} – %"));
    }
    h
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The report as CSV: UTF-8 with a byte-order mark, CRLF line ends, a heading row, one row per
/// group, then the total.
pub fn csv(r: &StatsReport) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    let line = |cells: Vec<String>| -> String {
        let mut l = cells
            .iter()
            .map(|c| csv_field(c))
            .collect::<Vec<_>>()
            .join(",");
        l.push_str("\r\n");
        l
    };
    out.push_str(&line(headings(r)));
    for (codes, names, f) in rows(r) {
        let mut cells = Vec::new();
        for (c, n) in codes.into_iter().zip(names) {
            cells.push(c);
            cells.push(n);
        }
        cells.extend(count_columns().iter().map(|(_, v)| v(f).to_string()));
        for (_, rate) in rate_columns() {
            let x = rate(f);
            cells.push(x.numerator.to_string());
            cells.push(x.denominator.to_string());
            cells.push(x.percent().map_or_else(String::new, |p| format!("{p:.2}")));
        }
        out.push_str(&line(cells));
    }
    out.into_bytes()
}

fn title(r: &StatsReport) -> String {
    let last = r.to.pred_opt().unwrap_or(r.to);
    format!(
        "Số liệu giải quyết thủ tục hành chính từ ngày {} đến ngày {} (tính đến {})",
        r.from.format("%d/%m/%Y"),
        last.format("%d/%m/%Y"),
        motcua_domain::stats::local_time(r.end).format("%H:%M %d/%m/%Y")
    )
}

/// The report as an XLSX workbook: a title, a heading row, one row per group, the total;
/// counts as numbers, rates as percentages beside their numerator and denominator.
pub fn xlsx(r: &StatsReport) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let head = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_border(FormatBorder::Thin);
    let pct = Format::new().set_num_format("0.00%");
    let ws = wb.add_worksheet();
    ws.set_name("Báo cáo")?;
    ws.write_string_with_format(0, 0, title(r), &bold)?;
    let headings = headings(r);
    for (c, h) in headings.iter().enumerate() {
        ws.write_string_with_format(2, col(c)?, h, &head)?;
        ws.set_column_width(col(c)?, if c < r.group_by.len() * 2 { 28 } else { 14 })?;
    }
    ws.set_row_height(2, 60)?;
    for (i, (codes, names, f)) in rows(r).into_iter().enumerate() {
        let row = u32::try_from(i + 3).map_err(|_| XlsxError::RowColumnLimitError)?;
        let mut c = 0usize;
        for (code, name) in codes.into_iter().zip(names) {
            ws.write_string(row, col(c)?, code)?;
            ws.write_string(row, col(c + 1)?, name)?;
            c += 2;
        }
        for (_, v) in count_columns() {
            ws.write_number(row, col(c)?, v(f) as f64)?;
            c += 1;
        }
        for (_, rate) in rate_columns() {
            let x = rate(f);
            ws.write_number(row, col(c)?, x.numerator as f64)?;
            ws.write_number(row, col(c + 1)?, x.denominator as f64)?;
            if let Some(v) = x.value {
                ws.write_number_with_format(row, col(c + 2)?, v, &pct)?;
            }
            c += 3;
        }
    }
    ws.set_freeze_panes(3, 0)?;
    wb.save_to_buffer()
}

fn col(c: usize) -> Result<u16, XlsxError> {
    u16::try_from(c).map_err(|_| XlsxError::RowColumnLimitError)
}

/// The standard periodic report form on the processing of administrative procedures at an
/// agency (docs/domain.md §Statistics: the reporting form of the Government Office, by field:
/// received — carried over, new online / counter / postal; resolved — on time (early, on the
/// day), late; in progress — not yet due, overdue). `r` must be grouped by field.
pub fn periodic_form(r: &StatsReport, agency_name: &str) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold().set_align(FormatAlign::Center);
    let head = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(FormatBorder::Thin);
    let cell = Format::new().set_border(FormatBorder::Thin);
    let total_fmt = Format::new().set_bold().set_border(FormatBorder::Thin);
    let ws = wb.add_worksheet();
    ws.set_name("Biểu tổng hợp")?;
    ws.merge_range(
        0,
        0,
        0,
        13,
        "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH",
        &bold,
    )?;
    ws.merge_range(1, 0, 1, 13, &format!("Đơn vị: {agency_name}"), &bold)?;
    ws.merge_range(2, 0, 2, 13, &title(r), &bold)?;
    // Two heading rows, as on the paper form.
    let top: [(u16, u16, &str); 5] = [
        (0, 0, "STT"),
        (1, 1, "Lĩnh vực giải quyết"),
        (2, 6, "Số hồ sơ nhận giải quyết"),
        (7, 10, "Kết quả giải quyết: số hồ sơ đã giải quyết"),
        (11, 13, "Số hồ sơ đang giải quyết"),
    ];
    for (a, b, t) in top {
        if a == b {
            ws.merge_range(4, a, 5, b, t, &head)?;
        } else {
            ws.merge_range(4, a, 4, b, t, &head)?;
        }
    }
    let sub = [
        "Tổng số",
        "Kỳ trước chuyển qua",
        "Mới tiếp nhận trực tuyến",
        "Mới tiếp nhận trực tiếp",
        "Mới tiếp nhận qua bưu chính",
        "Tổng số",
        "Trước hạn",
        "Đúng hạn",
        "Quá hạn",
        "Tổng số",
        "Trong hạn",
        "Quá hạn",
    ];
    for (i, t) in sub.iter().enumerate() {
        ws.write_string_with_format(5, col(i + 2)?, *t, &head)?;
    }
    ws.set_row_height(5, 45)?;
    ws.set_column_width(0, 6)?;
    ws.set_column_width(1, 40)?;
    let values = |f: &Figures| -> [i64; 12] {
        [
            f.received,
            f.carried_over,
            f.new.online,
            f.new.counter,
            f.new.postal,
            f.resolved.total,
            f.resolved.early,
            f.resolved.on_time,
            f.resolved.late,
            f.in_progress.total,
            f.in_progress.not_due,
            f.in_progress.overdue,
        ]
    };
    let mut row = 6u32;
    for (i, g) in r.groups.iter().enumerate() {
        ws.write_number_with_format(row, 0, (i + 1) as f64, &cell)?;
        let name = g.names.get("field").cloned().unwrap_or_default();
        ws.write_string_with_format(row, 1, name, &cell)?;
        for (j, v) in values(&g.figures).iter().enumerate() {
            ws.write_number_with_format(row, col(j + 2)?, *v as f64, &cell)?;
        }
        row += 1;
    }
    ws.write_string_with_format(row, 0, "", &total_fmt)?;
    ws.write_string_with_format(row, 1, "Tổng cộng", &total_fmt)?;
    for (j, v) in values(&r.total).iter().enumerate() {
        ws.write_number_with_format(row, col(j + 2)?, *v as f64, &total_fmt)?;
    }
    wb.save_to_buffer()
}
