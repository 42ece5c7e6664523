//! `motcua demo generate`: a synthetic history of the demo province, made through the same
//! domain code as real dossiers (`Dossier::new`, `Dossier::apply`, `Dossier::rate`) and stored
//! with its events, digitisation records and figures in batches
//! (`Store::import_histories`). The mix follows the field's figures (docs/domain.md §What the
//! field reports): mostly online, most dossiers early or on time, a few supplements,
//! extensions, withdrawals, refusals and inter-agency transfers, digitisation of counter
//! dossiers, some reuse and ratings, month-end peaks. Demand is concentrated, as at a real
//! counter: a few procedures (certifications, civil status) take most dossiers — procedure
//! ranks follow a Zipf law (the k-th most asked gets a share ∝ 1/k), the ranking drawn from the
//! seed. The same seed gives the same history.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use motcua_domain::calendar::WorkCalendar;
use motcua_domain::catalogue::{Channel, ImplLevel, Procedure};
use motcua_domain::codes::AgencyCode;
use motcua_domain::dossier::{
    Action, Applicant, ApplicantKind, Change, Delivery, Dossier, Intake, MissingItem,
    RatingChannel, Satisfaction, SubmittedComponent,
};
use motcua_domain::process::Process;
use motcua_domain::units::Agency;
use motcua_service::store::dossiers::{ImportedEvent, ImportedHistory, Keep};
use motcua_service::{Acting, Service};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;

/// The mix of a generated history (shares of dossiers).
#[derive(Debug, Clone)]
pub struct Mix {
    pub online: f64,
    pub postal: f64,
    pub supplement: f64,
    pub extension: f64,
    pub withdrawal: f64,
    pub refusal: f64,
    pub late: f64,
    pub on_time: f64,
    pub digitised: f64,
    pub reuse: f64,
    pub paid_online: f64,
    pub rated: f64,
    /// Dossiers that need another agency's opinion (an inter-agency child case).
    pub transfer: f64,
}

impl Default for Mix {
    fn default() -> Self {
        Mix {
            online: 0.85,
            postal: 0.02,
            supplement: 0.08,
            extension: 0.02,
            withdrawal: 0.03,
            refusal: 0.015,
            late: 0.04,
            on_time: 0.26,
            digitised: 0.8,
            reuse: 0.15,
            paid_online: 0.6,
            rated: 0.4,
            transfer: 0.02,
        }
    }
}

/// What a generation made.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Generated {
    pub dossiers: u64,
    /// Inter-agency child cases made besides (never counted on their own).
    pub child_cases: u64,
    pub events: u64,
    pub seconds: f64,
    pub per_second: f64,
}

/// A dossier to generate, decided in time order on one thread.
struct Skeleton {
    code: String,
    at: DateTime<Utc>,
    procedure: usize,
    agency: AgencyCode,
    /// The department asked for an opinion, and its child case's code.
    transfer: Option<(AgencyCode, String)>,
    seed: u64,
}

struct Place {
    agency: AgencyCode,
    level: ImplLevel,
}

struct Catalogue {
    procedures: Vec<(Procedure, Process)>,
    /// Cumulative demand of each procedure (Zipf over a seeded ranking), ending at 1.
    demand: Vec<f64>,
}

impl Catalogue {
    fn new(procedures: Vec<(Procedure, Process)>, seed: u64) -> Catalogue {
        let mut ranks: Vec<usize> = (0..procedures.len()).collect();
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5A1F);
        for i in (1..ranks.len()).rev() {
            ranks.swap(i, rng.random_range(0..=i));
        }
        let mut weight = vec![0.0; procedures.len()];
        for (rank, &i) in ranks.iter().enumerate() {
            weight[i] = 1.0 / (rank as f64 + 1.0);
        }
        let total: f64 = weight.iter().sum::<f64>().max(f64::MIN_POSITIVE);
        let mut acc = 0.0;
        let demand = weight
            .iter()
            .map(|w| {
                acc += w / total;
                acc
            })
            .collect();
        Catalogue { procedures, demand }
    }

    /// A procedure drawn by its demand.
    fn pick(&self, rng: &mut StdRng) -> usize {
        let x: f64 = rng.random();
        self.demand
            .partition_point(|c| *c < x)
            .min(self.procedures.len().saturating_sub(1))
    }
}

/// Generates `n` dossiers received over the `years` before `now`.
pub async fn generate(
    svc: &Service,
    by: &Acting,
    n: u64,
    years: u32,
    seed: u64,
    batch: usize,
    keep: Keep,
) -> anyhow::Result<Generated> {
    crate::demo::load(svc, by).await?;
    let places = places(svc, by).await?;
    let mut procedures = Vec::new();
    for code in svc
        .store()
        .search_procedures(&motcua_service::store::ProcedureQuery {
            limit: Some(500),
            ..Default::default()
        })
        .await?
        .items
        .iter()
        .map(|p| p.code.to_string())
    {
        let p = svc.store().procedure(&code).await?;
        let process = svc.store().process_for(&code).await?;
        procedures.push((p, process));
    }
    // Only procedures some generated agency handles.
    procedures.retain(|(p, _)| places.iter().any(|pl| p.levels.contains(&pl.level)));
    let catalogue = Catalogue::new(procedures, seed);
    let departments: Vec<AgencyCode> = places
        .iter()
        .filter(|p| p.level == ImplLevel::Province)
        .map(|p| p.agency.clone())
        .collect();
    let cal = svc.calendar();
    let now = svc.now();
    let start = now - Duration::days(i64::from(years.max(1)) * 365);
    let span = (now - start).num_seconds().max(1);
    let t0 = Instant::now();
    let mut made = 0u64;
    let mut events = 0u64;
    let mut child_cases = 0u64;
    let mut numbers: std::collections::HashMap<(String, NaiveDate), u32> =
        std::collections::HashMap::new();
    let mut chunk_no = 0u64;
    let mix = std::sync::Arc::new(Mix::default());
    let catalogue = std::sync::Arc::new(catalogue);
    let mut writing = None;
    while made < n {
        let size = u64::try_from(batch).unwrap_or(1000).min(n - made);
        // The skeleton in time order on one thread (codes are numbered per agency and day) …
        let mut skeleton = Vec::new();
        let mut rng = StdRng::seed_from_u64(seed ^ chunk_no.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        for i in 0..size {
            let frac = (made + i) as f64 / n as f64;
            let mut at = start + Duration::seconds((frac * span as f64) as i64);
            // Into office hours, unless that is still ahead (never receive in the future).
            at = Some(office_time(&cal, at, &mut rng))
                .filter(|t| *t <= now)
                .unwrap_or(at);
            // Month-end peaks: a share of dossiers moves to the month's last days.
            if rng.random_bool(0.15) {
                let d = motcua_domain::stats::local_day(at);
                let last = last_day(d);
                if let Some(day) = last.checked_sub_days(chrono::Days::new(rng.random_range(0..4)))
                {
                    let peak = cal.close_of(day) - Duration::minutes(rng.random_range(30..400));
                    // This month's last days may lie ahead: never receive in the future.
                    if peak <= now {
                        at = peak;
                    }
                }
            }
            let pi = catalogue.pick(&mut rng);
            let Some((p, _)) = catalogue.procedures.get(pi) else {
                anyhow::bail!("the catalogue is empty");
            };
            let candidates: Vec<&Place> = places
                .iter()
                .filter(|pl| p.levels.contains(&pl.level))
                .collect();
            let Some(place) = candidates.get(rng.random_range(0..candidates.len().max(1))) else {
                continue;
            };
            let day = cal.local(at).date();
            let k = numbers
                .entry((place.agency.as_str().to_owned(), day))
                .or_insert(0);
            *k += 1;
            let code = format!("{}-{}-{:04}", place.agency, day.format("%y%m%d"), k);
            // An inter-agency child case goes to a department other than the receiver; its
            // code is numbered on the parent's day (the counter is per agency and day).
            let transfer = if rng.random_bool(mix.transfer) {
                let others: Vec<&AgencyCode> =
                    departments.iter().filter(|a| **a != place.agency).collect();
                others
                    .get(rng.random_range(0..others.len().max(1)))
                    .map(|a| {
                        let k = numbers.entry((a.as_str().to_owned(), day)).or_insert(0);
                        *k += 1;
                        (
                            (*a).clone(),
                            format!("{}-{}-{:04}", a, day.format("%y%m%d"), k),
                        )
                    })
            } else {
                None
            };
            skeleton.push(Skeleton {
                code,
                at,
                procedure: pi,
                agency: place.agency.clone(),
                transfer,
                seed: rng.random::<u64>(),
            });
        }
        // … then the histories on every core, prepared for writing while the batch before
        // is written.
        let (cal, catalogue, mix, store) = (
            cal.clone(),
            catalogue.clone(),
            mix.clone(),
            svc.store().clone(),
        );
        let making = tokio::task::spawn_blocking(move || {
            let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
            let per = skeleton.len().div_ceil(workers).max(1);
            let histories: Vec<ImportedHistory> = std::thread::scope(|scope| {
                let handles: Vec<_> = skeleton
                    .chunks(per)
                    .map(|part| {
                        let (cal, catalogue, mix) = (&cal, &catalogue, &mix);
                        scope.spawn(move || {
                            part.iter()
                                .flat_map(|sk| {
                                    let (p, process) = &catalogue.procedures[sk.procedure];
                                    history(cal, mix, p, process, sk, now)
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().unwrap_or_default())
                    .collect()
            });
            let events = histories.iter().map(|h| h.events.len() as u64).sum::<u64>();
            let children = histories
                .iter()
                .filter(|h| h.dossier.parent_code.is_some())
                .count() as u64;
            store
                .prepare_histories(histories, keep)
                .map(|p| (p, events, children))
        });
        if let Some(p) = writing.take() {
            svc.store().import_prepared(p).await?;
        }
        let (prepared, n_events, n_children) = making.await??;
        writing = Some(prepared);
        events += n_events;
        child_cases += n_children;
        made += size;
        chunk_no += 1;
        if chunk_no.is_multiple_of(10) || made == n {
            let secs = t0.elapsed().as_secs_f64();
            eprintln!(
                "{made}/{n} dossiers, {events} events, {:.0} dossiers/s",
                made as f64 / secs.max(0.001)
            );
        }
    }
    if let Some(p) = writing.take() {
        svc.store().import_prepared(p).await?;
    }
    let seconds = t0.elapsed().as_secs_f64();
    Ok(Generated {
        dossiers: made,
        child_cases,
        events,
        seconds,
        per_second: made as f64 / seconds.max(0.001),
    })
}

/// The demo province's agencies, and a commune people's committee for every current commune
/// of the province (codes `000.CC.BB.H58` in the pattern of the demo's, marked generated).
async fn places(svc: &Service, by: &Acting) -> anyhow::Result<Vec<Place>> {
    let mut out = Vec::new();
    let province_agencies = [
        "000.00.11.H58",
        "000.00.12.H58",
        "000.00.13.H58",
        "000.00.20.H58",
    ];
    for a in province_agencies {
        if svc.store().agency(a).await.is_ok() {
            out.push(Place {
                agency: AgencyCode::parse(a)?,
                level: ImplLevel::Province,
            });
        }
    }
    let province = svc
        .store()
        .current_unit(motcua_domain::units::UnitLevel::Province, "08")
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo province (08) is not loaded"))?;
    let communes = svc
        .store()
        .units(&motcua_service::store::units::UnitQuery {
            level: Some(motcua_domain::units::UnitLevel::Commune),
            parent_id: Some(province.id),
            current: true,
            limit: Some(1000),
            ..Default::default()
        })
        .await?;
    for (i, u) in communes.items.iter().enumerate() {
        let code = AgencyCode::parse(&format!("000.{:02}.{:02}.H58", i % 100, 31 + i / 100))?;
        if svc.store().agency(code.as_str()).await.is_err() {
            svc.put_agency(
                by,
                Agency {
                    code: code.clone(),
                    name: format!("Ủy ban nhân dân {}", u.name),
                    parent_code: None,
                    unit_code: Some(u.code.clone()),
                    one_stop_point: true,
                    provenance: Some("motcua demo generate".into()),
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        out.push(Place {
            agency: code,
            level: ImplLevel::Commune,
        });
    }
    Ok(out)
}

fn last_day(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|f| f.pred_opt())
        .unwrap_or(d)
}

/// Moves an instant into office hours of a working day (dossiers come when offices are open;
/// online ones also at night, kept as they are).
fn office_time(cal: &WorkCalendar, at: DateTime<Utc>, rng: &mut StdRng) -> DateTime<Utc> {
    if rng.random_bool(0.3) {
        return at;
    }
    let local = cal.local(at);
    let day = if cal.is_working_day(local.date()) {
        local.date()
    } else {
        cal.next_working_day(local.date())
    };
    let minute = rng.random_range(0..480);
    let open = cal.close_of(day) - Duration::hours(9) - Duration::minutes(30);
    let t = open + Duration::minutes(minute + if minute >= 240 { 90 } else { 0 });
    t.with_nanosecond(0).unwrap_or(t)
}

fn applicant(rng: &mut StdRng) -> Applicant {
    const FAMILY: &[&str] = &[
        "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô",
    ];
    const MIDDLE: &[&str] = &["Văn", "Thị", "Hữu", "Minh", "Thanh", "Đức", "Ngọc"];
    const GIVEN: &[&str] = &[
        "An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hùng", "Lan", "Mai", "Nam", "Phương", "Quân",
        "Sơn", "Trang", "Tuấn", "Yến",
    ];
    let year = rng.random_range(1950..2007);
    let sex = u32::from(rng.random_bool(0.5));
    let century = if year >= 2000 { 2 } else { 0 };
    let id = format!(
        "008{}{:02}{:06}",
        century + sex,
        year % 100,
        rng.random_range(0..1_000_000)
    );
    Applicant {
        kind: ApplicantKind::Person,
        id_number: id,
        name: format!(
            "{} {} {}",
            FAMILY[rng.random_range(0..FAMILY.len())],
            MIDDLE[rng.random_range(0..MIDDLE.len())],
            GIVEN[rng.random_range(0..GIVEN.len())]
        ),
        phone: None,
        email: None,
        address: None,
        unit_code: None,
    }
}

/// One dossier's history from its receipt until it ends or `now` comes, with its
/// inter-agency child case's if it has one; nothing if the domain refuses its intake.
fn history(
    cal: &WorkCalendar,
    mix: &Mix,
    p: &Procedure,
    process: &Process,
    sk: &Skeleton,
    now: DateTime<Utc>,
) -> Vec<ImportedHistory> {
    let mut child = None;
    let parent = dossier_history(cal, mix, p, process, sk, now, &mut child);
    parent.into_iter().chain(child).collect()
}

/// The history of the dossier the applicant filed; its child case's goes to `child`.
fn dossier_history(
    cal: &WorkCalendar,
    mix: &Mix,
    p: &Procedure,
    process: &Process,
    sk: &Skeleton,
    now: DateTime<Utc>,
    child_out: &mut Option<ImportedHistory>,
) -> Option<ImportedHistory> {
    let (agency, code, at) = (&sk.agency, sk.code.as_str(), sk.at);
    let mut rng = StdRng::seed_from_u64(sk.seed);
    let channel = if p.channels.contains(&Channel::Online) && rng.random_bool(mix.online) {
        Channel::Online
    } else if rng.random_bool(mix.postal / (1.0 - mix.online).max(0.01)) {
        Channel::Postal
    } else {
        Channel::Counter
    };
    // A component the applicant's warehouse already holds, taken instead of paper.
    let reused = p
        .components
        .iter()
        .position(|c| c.warehouse_copy_accepted)
        .filter(|_| rng.random_bool(mix.reuse));
    let number: i64 = code
        .rsplit('-')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let day = cal.local(at).date();
    let doc = |i: usize| {
        motcua_domain::digitisation::result_code(
            agency,
            day,
            number * 100 + i64::try_from(i).unwrap_or(99),
        )
    };
    let components: Vec<SubmittedComponent> = p
        .components
        .iter()
        .enumerate()
        .map(|(i, c)| SubmittedComponent {
            index: i,
            originals: c.originals.max(u16::from(c.copies == 0)),
            copies: c.copies,
            from_warehouse: reused == Some(i),
            warehouse_code: (reused == Some(i)).then(|| doc(i)),
        })
        .collect();
    let intake = Intake {
        procedure: p.clone(),
        process: process.clone(),
        channel,
        receiving_agency: agency.clone(),
        competent_agency: agency.clone(),
        applicant: applicant(&mut rng),
        components,
        postal_tracking: (channel == Channel::Postal)
            .then(|| format!("EV{:09}VN", rng.random_range(0..1_000_000_000u32))),
        owner_id: None,
        delivery: None,
    };
    let (mut d, first) = Dossier::new(intake, code.to_owned(), at, cal).ok()?;
    let mut h = ImportedHistory {
        dossier: d.clone(),
        events: vec![event(first, at)],
        digitisation: Vec::new(),
    };
    if let Some(i) = reused {
        h.digitisation
            .push(("reused".into(), at, i32::try_from(i).ok(), doc(i)));
    }
    let mut t = at;
    let step = |rng: &mut StdRng, t: DateTime<Utc>, max: u64| {
        cal.add_working_minutes(t, rng.random_range(5..max.max(6)))
    };
    let act = |d: &mut Dossier, h: &mut ImportedHistory, a: Action, at: DateTime<Utc>| -> bool {
        if at > now {
            return false;
        }
        match d.apply(&a, at, cal) {
            Ok(c) => {
                h.events.push(event(c, at));
                true
            }
            Err(_) => false,
        }
    };
    if channel != Channel::Counter {
        t = step(&mut rng, t, 240);
        if !act(
            &mut d,
            &mut h,
            Action::Accept {
                note: None,
                components: Vec::new(),
            },
            t,
        ) {
            return Some(finish(h, d));
        }
    }
    if channel != Channel::Online && rng.random_bool(mix.digitised) {
        for i in 0..d.components.len() {
            h.digitisation.push((
                "component_digitised".into(),
                t + Duration::minutes(10),
                i32::try_from(i).ok(),
                doc(i),
            ));
        }
    }
    let due = d.due_at.unwrap_or(t + Duration::days(3));
    // Forward to the deciding step.
    for _ in 0..6 {
        if d.process.steps.get(d.step).is_none_or(|s| s.decides) {
            break;
        }
        t = step(&mut rng, t, 300);
        if !act(&mut d, &mut h, Action::Forward { note: None }, t) {
            return Some(finish(h, d));
        }
    }
    // Another agency's opinion: its child case is processed there, the dossier waits for it.
    if let Some((target, child_code)) = &sk.transfer {
        t = step(&mut rng, t, 120);
        let transfer = Action::Transfer {
            agency: target.clone(),
            note: None,
        };
        if act(&mut d, &mut h, transfer, t) {
            let (mut c, created) = Dossier::child(&d, child_code.clone(), target.clone(), t);
            h.events.push(event(d.child_opened(child_code), t));
            let mut ch = ImportedHistory {
                dossier: c.clone(),
                events: vec![event(created, t)],
                digitisation: Vec::new(),
            };
            let mut tc = t;
            let mut answered = true;
            for _ in 0..6 {
                if c.process.steps.get(c.step).is_none_or(|s| s.decides) {
                    break;
                }
                tc = step(&mut rng, tc, 600);
                if !act(&mut c, &mut ch, Action::Forward { note: None }, tc) {
                    answered = false;
                    break;
                }
            }
            tc = step(&mut rng, tc, 900);
            answered = answered && act(&mut c, &mut ch, Action::Approve { note: None }, tc);
            let status = c.status;
            let ended = c.ended();
            *child_out = Some(finish(ch, c));
            if !(answered && ended) {
                return Some(finish(h, d));
            }
            h.events.push(event(d.child_closed(child_code, status), tc));
            t = tc;
        } else if t > now {
            return Some(finish(h, d));
        }
        // (Had the domain refused the transfer, the dossier would go on without it.)
    }
    if rng.random_bool(mix.supplement) {
        t = step(&mut rng, t, 200);
        let missing = vec![MissingItem {
            item: p
                .components
                .first()
                .map_or_else(|| "Tờ khai".to_owned(), |c| c.name.clone()),
            reason: "Chưa đủ thông tin".into(),
        }];
        if act(
            &mut d,
            &mut h,
            Action::RequestSupplement {
                missing,
                note: None,
            },
            t,
        ) {
            t = step(&mut rng, t, 2400);
            if !act(
                &mut d,
                &mut h,
                Action::SupplementReceived {
                    note: None,
                    components: Vec::new(),
                },
                t,
            ) {
                return Some(finish(h, d));
            }
        }
    }
    if p.fees.iter().any(|f| f.amount > 0) && rng.random_bool(0.5) {
        t = step(&mut rng, t, 120);
        if act(
            &mut d,
            &mut h,
            Action::Pause {
                reason: "Chờ nộp phí, lệ phí".into(),
            },
            t,
        ) {
            t = step(&mut rng, t, 480);
            let paid_online = rng.random_bool(mix.paid_online);
            if !act(
                &mut d,
                &mut h,
                Action::Resume {
                    note: None,
                    paid_online,
                },
                t,
            ) {
                return Some(finish(h, d));
            }
        }
    }
    let due = d.due_at.unwrap_or(due);
    if rng.random_bool(mix.extension) && t < due - Duration::hours(2) {
        let new_due = cal.add_working_days(cal.local(due).date(), rng.random_range(3..10));
        act(
            &mut d,
            &mut h,
            Action::Extend {
                reason: "Cần xác minh thêm".into(),
                new_due_date: new_due,
            },
            t + Duration::minutes(30),
        );
    }
    let due = d.due_at.unwrap_or(due);
    let roll: f64 = rng.random();
    if roll < mix.withdrawal {
        t = step(&mut rng, t, 600);
        if act(
            &mut d,
            &mut h,
            Action::Withdraw {
                reason: "Không còn nhu cầu".into(),
            },
            t,
        ) {
            t = step(&mut rng, t, 120);
            act(&mut d, &mut h, Action::ConfirmWithdrawal { note: None }, t);
        }
        return Some(finish(h, d));
    }
    if roll < mix.withdrawal + mix.refusal {
        t = step(&mut rng, t, 600);
        act(
            &mut d,
            &mut h,
            Action::Refuse {
                reasons: vec!["Không đủ điều kiện".into()],
            },
            t,
        );
        return Some(finish(h, d));
    }
    // When the decision comes: late, on the appointment's day, or earlier.
    let when: f64 = rng.random();
    let due_day = cal.local(due).date();
    let decide = if when < mix.late {
        cal.add_working_minutes(due, rng.random_range(60..2400))
    } else if when < mix.late + mix.on_time {
        (cal.close_of(due_day) - Duration::minutes(rng.random_range(10..200))).min(due)
    } else {
        let earlier = cal.local(t).date() < due_day;
        if earlier {
            let span = (cal.close_of(due_day) - Duration::days(1) - t)
                .num_minutes()
                .max(1);
            (t + Duration::minutes(rng.random_range(0..span))).max(t)
        } else {
            t
        }
    };
    let decide = decide.max(t + Duration::minutes(1));
    if !act(&mut d, &mut h, Action::Approve { note: None }, decide) {
        return Some(finish(h, d));
    }
    t = decide;
    let electronic = rng.random_bool(0.5);
    if p.result_is_document && rng.random_bool(0.7) {
        h.digitisation.push((
            "result_digitised".into(),
            t + Duration::minutes(5),
            None,
            doc(99),
        ));
    }
    t = step(&mut rng, t, 960);
    let method = if electronic {
        Delivery::Electronic
    } else {
        Delivery::Paper
    };
    if act(
        &mut d,
        &mut h,
        Action::ReturnResult { method, note: None },
        t,
    ) && !electronic
    {
        t = step(&mut rng, t, 1440);
        act(&mut d, &mut h, Action::MarkCollected { note: None }, t);
    }
    if rng.random_bool(mix.rated) {
        t = step(&mut rng, t, 60);
        let level = match rng.random_range(0..100) {
            0..75 => Satisfaction::VerySatisfied,
            75..95 => Satisfaction::Satisfied,
            _ => Satisfaction::Unsatisfied,
        };
        let channel = if channel == Channel::Online {
            RatingChannel::Portal
        } else {
            RatingChannel::Counter
        };
        if t <= now
            && let Ok(c) = d.rate(level, channel, None, t)
        {
            h.events.push(event(c, t));
        }
    }
    Some(finish(h, d))
}

fn event(change: Change, at: DateTime<Utc>) -> ImportedEvent {
    ImportedEvent {
        at,
        actor: "generator".into(),
        change,
    }
}

fn finish(mut h: ImportedHistory, d: Dossier) -> ImportedHistory {
    h.dossier = d;
    h
}
