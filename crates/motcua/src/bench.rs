//! `motcua bench …`: measured figures, printed (never asserted in tests).

use chrono::{DateTime, Duration, TimeZone, Utc};
use motcua_domain::calendar::{TimeLimit, TimeUnit, WorkCalendar};
use motcua_domain::catalogue::{CatalogueFormat, parse_catalogue};
use motcua_store::Store;
use std::hint::black_box;
use std::time::Instant;

/// A small deterministic generator, so every run measures the same inputs.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// Computes `count` due dates for receipts spread over 2024–2026 with limits of 1–30
/// working days (every tenth in working hours).
pub fn due(count: u64) -> anyhow::Result<()> {
    let cal = WorkCalendar::official()?;
    let base = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .ok_or_else(|| anyhow::anyhow!("bad base date"))?;
    let mut rng = Lcg(42);
    let inputs: Vec<(DateTime<Utc>, TimeLimit)> = (0..count)
        .map(|i| {
            let start = base + Duration::minutes((rng.next() % (3 * 365 * 24 * 60)) as i64);
            let n = (rng.next() % 30 + 1) as u32;
            let unit = if i % 10 == 0 {
                TimeUnit::WorkingHours
            } else {
                TimeUnit::WorkingDays
            };
            (start, TimeLimit { value: n, unit })
        })
        .collect();
    // Warm the per-year cache so the figure is the steady state.
    let _ = cal.due(base, TimeLimit::working_days(1));
    let t = Instant::now();
    let mut sum = 0i64;
    for (start, limit) in &inputs {
        sum = sum.wrapping_add(black_box(cal.due(*start, *limit)).timestamp());
    }
    let el = t.elapsed();
    println!(
        "bench due: {count} due dates in {:.1} ms ({:.0} per second, {:.0} ns each) [checksum {sum}]",
        el.as_secs_f64() * 1e3,
        count as f64 / el.as_secs_f64(),
        el.as_nanos() as f64 / count as f64
    );
    Ok(())
}

/// A synthetic catalogue in the national CSV format.
pub fn synthetic_catalogue(rows: usize) -> String {
    let mut s = String::from(
        "code,name,field,level,implementing_agency,decision_no,procedure_type,submission_modes,processing_time_parsed,fee_parsed\n",
    );
    let fields = [
        "Hộ tịch",
        "Đất đai",
        "Hoạt động xây dựng",
        "Đăng ký, quản lý cư trú",
        "Thành lập và hoạt động doanh nghiệp",
    ];
    for i in 0..rows {
        s.push_str(&format!(
            "9.{i:06},\"Thủ tục thử nghiệm số {i}: đăng ký, cấp đổi giấy chứng nhận\",\"{}\",\"Cấp tỉnh, Cấp xã\",Sở Tư pháp,{i}/QĐ-UBND,TTHC được giao luật quy định chi tiết,Dịch vụ bưu chính;Trực tiếp;Trực tuyến,{} Ngày làm việc,\"{},000 Việt Nam Đồng\"\n",
            fields[i % fields.len()],
            i % 30 + 1,
            (i % 50) * 10
        ));
    }
    s
}

/// Parses and imports a `rows`-procedure file into `database` (a fresh SQLite file by default).
pub async fn import(rows: usize, database: Option<String>) -> anyhow::Result<()> {
    let csv = synthetic_catalogue(rows);
    let dir = std::env::temp_dir().join(format!("motcua-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = database.unwrap_or_else(|| format!("sqlite:{}", dir.join("bench.db").display()));
    let store = Store::connect(&url).await?;
    store.migrate().await?;
    let t = Instant::now();
    let ps = parse_catalogue(CatalogueFormat::Csv, csv.as_bytes())
        .map_err(|e| anyhow::anyhow!("synthetic catalogue rejected: {}", e[0]))?;
    let parsed = t.elapsed();
    let report = store.import_procedures(ps).await?;
    let total = t.elapsed();
    println!(
        "bench import: {rows} procedures ({} KiB CSV) on {:?}: parse+validate {:.1} ms, total {:.1} ms ({:.0} rows/s); inserted {}, updated {}",
        csv.len() / 1024,
        store.backend(),
        parsed.as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3,
        rows as f64 / total.as_secs_f64(),
        report.inserted,
        report.updated
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
