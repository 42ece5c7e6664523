#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use crate::dossier::MissingItem;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn received(due: &str) -> DossierEvent {
    DossierEvent::Received {
        channel: Channel::Counter,
        procedure_code: "1.001612".into(),
        due_at: Some(at(due)),
        postal_tracking: None,
        imported_from: None,
    }
}

fn supplement() -> DossierEvent {
    DossierEvent::SupplementRequested {
        missing: vec![MissingItem {
            item: "Tờ khai".into(),
            reason: "thiếu chữ ký".into(),
        }],
        request_no: 1,
    }
}

#[test]
fn months_are_local() {
    // 17:00 UTC on 31 January is 00:00 on 1 February in Vietnam.
    assert_eq!(month_of(at("2025-01-31T16:59:59Z")), 202501);
    assert_eq!(month_of(at("2025-01-31T17:00:00Z")), 202502);
    assert_eq!(month_start(202502), Some(at("2025-01-31T17:00:00Z")));
    assert_eq!(next_month(202512), 202601);
}

#[test]
fn overdue_since_follows_the_appointment_until_it_passes() {
    let mut f = Facts::default();
    f.apply(
        &received("2025-02-07T10:00:00Z"),
        at("2025-01-24T02:00:00Z"),
    );
    assert_eq!(f.overdue_since, Some(at("2025-02-07T10:00:00Z")));
    // Extended before the appointment: it moves.
    f.apply(
        &DossierEvent::Extended {
            agency: crate::codes::AgencyCode::parse("000.00.01.H29").unwrap(),
            reason: "chờ xác minh".into(),
            old_due_at: at("2025-02-07T10:00:00Z"),
            new_due_at: at("2025-02-14T10:00:00Z"),
        },
        at("2025-02-05T02:00:00Z"),
    );
    assert_eq!(f.overdue_since, Some(at("2025-02-14T10:00:00Z")));
    assert!(!f.overdue_at(at("2025-02-10T00:00:00Z")));
    assert!(f.overdue_at(at("2025-02-15T00:00:00Z")));
    // Approved late: it stays, and the dossier ended overdue.
    f.apply(
        &DossierEvent::Approved {
            timeliness: Some(Timeliness::Late),
        },
        at("2025-02-17T02:00:00Z"),
    );
    assert_eq!(f.outcome, Some(Outcome::Late));
    assert_eq!(f.overdue_since, Some(at("2025-02-14T10:00:00Z")));
    assert!(!f.open_at(at("2025-02-18T00:00:00Z")));
}

#[test]
fn a_supplement_request_stops_the_clock_before_the_appointment() {
    let mut f = Facts::default();
    f.apply(
        &received("2025-02-07T10:00:00Z"),
        at("2025-01-24T02:00:00Z"),
    );
    f.apply(&supplement(), at("2025-02-03T02:00:00Z"));
    assert_eq!(f.overdue_since, None, "measured up to the request");
    assert!(!f.overdue_at(at("2025-03-01T00:00:00Z")));
    f.apply(
        &DossierEvent::SupplementReceived {
            waited_office_minutes: 60 * 8 * 20,
            due_at: Some(at("2025-03-07T10:00:00Z")),
            components: vec![],
        },
        at("2025-03-03T02:00:00Z"),
    );
    assert_eq!(f.overdue_since, Some(at("2025-03-07T10:00:00Z")));
    assert_eq!(f.first_supplement_at, Some(at("2025-02-03T02:00:00Z")));
}

#[test]
fn overdue_when_the_supplement_was_requested_stays_overdue() {
    let mut f = Facts::default();
    f.apply(
        &received("2025-02-07T10:00:00Z"),
        at("2025-01-24T02:00:00Z"),
    );
    f.apply(&supplement(), at("2025-02-10T02:00:00Z"));
    assert_eq!(f.overdue_since, Some(at("2025-02-07T10:00:00Z")));
    f.apply(
        &DossierEvent::SupplementReceived {
            waited_office_minutes: 60,
            due_at: Some(at("2025-02-07T11:00:00Z")),
            components: vec![],
        },
        at("2025-02-10T03:00:00Z"),
    );
    assert_eq!(f.overdue_since, Some(at("2025-02-07T10:00:00Z")));
}

#[test]
fn ended_in_time_was_never_overdue() {
    let mut f = Facts::default();
    f.apply(
        &received("2025-02-07T10:00:00Z"),
        at("2025-01-24T02:00:00Z"),
    );
    f.apply(
        &DossierEvent::WithdrawalConfirmed {},
        at("2025-01-30T02:00:00Z"),
    );
    assert_eq!(f.outcome, Some(Outcome::Withdrawn));
    assert_eq!(f.overdue_since, None);
}

#[test]
fn never_received_counts_nothing() {
    let mut f = Facts::default();
    f.apply(
        &DossierEvent::Refused {
            reasons: vec!["Không thuộc thẩm quyền".into()],
            at_intake: true,
        },
        at("2025-01-24T02:00:00Z"),
    );
    assert!(contributions(&f, &Attributes::default()).is_empty());
}

#[test]
fn contributions_span_month_starts_and_deltas_cancel() {
    let mut f = Facts::default();
    f.apply(
        &received("2025-02-07T10:00:00Z"),
        at("2025-01-24T02:00:00Z"),
    );
    let open = contributions(&f, &Attributes::default());
    f.apply(
        &DossierEvent::Approved {
            timeliness: Some(Timeliness::Late),
        },
        at("2025-04-02T02:00:00Z"),
    );
    let attrs = Attributes {
        result_electronic: true,
        ..Attributes::default()
    };
    let ended = contributions(&f, &attrs);
    let sum = |m: Measure| -> i64 { ended.iter().map(|(_, c)| c.get(m)).sum() };
    // Open on 1 February, 1 March and 1 April; overdue on 1 March and 1 April.
    assert_eq!(sum(Measure::OpenAtStart), 3);
    assert_eq!(sum(Measure::OverdueAtStart), 2);
    assert_eq!(sum(Measure::Late), 1);
    assert_eq!(sum(Measure::ResultElectronic), 1);
    let d = delta(&open, &ended);
    assert!(d.iter().all(|(m, _)| *m != 202501), "January is unchanged");
    assert!(delta(&ended, &ended).is_empty());
}

#[test]
fn figures_balance_and_rates_carry_their_parts() {
    let t = Tally {
        carried_over: 10,
        new: [80, 15, 5],
        early: 40,
        on_time: 30,
        late: 10,
        refused: 2,
        withdrawn: 3,
        overdue: 4,
        ..Tally::default()
    };
    let f = t.figures();
    assert_eq!(f.received, 110);
    assert_eq!(f.in_progress.total, 25);
    assert_eq!(f.in_progress.not_due, 21);
    assert_eq!(f.rates.online, Rate::of(80, 100));
    assert_eq!(f.rates.online.value, Some(0.8));
    assert_eq!(f.rates.on_time.numerator, 70);
    assert_eq!(f.rates.on_time.denominator, 80);
    assert_eq!(f.rates.reuse.value, Some(0.0));
    assert_eq!(f.rates.online_payment.value, None);
}
