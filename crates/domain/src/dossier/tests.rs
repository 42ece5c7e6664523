use super::*;
use crate::catalogue::{Component, ImplLevel, OnlineLevel};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn cal() -> WorkCalendar {
    WorkCalendar::official().unwrap()
}

fn agency(s: &str) -> AgencyCode {
    AgencyCode::parse(s).unwrap()
}

fn procedure(days: u32) -> Procedure {
    Procedure {
        code: ProcedureCode::parse("1.001193").unwrap(),
        name: "Đăng ký khai sinh".into(),
        field: "Hộ tịch".into(),
        field_code: None,
        levels: vec![ImplLevel::Commune],
        online_level: OnlineLevel::Full,
        channels: vec![Channel::Online, Channel::Counter, Channel::Postal],
        time_limit: Some(TimeLimit::working_days(days)),
        time_limit_text: None,
        fees: vec![],
        fee_text: None,
        components: vec![
            Component {
                name: "Tờ khai đăng ký khai sinh".into(),
                originals: 1,
                copies: 0,
                required: true,
                warehouse_copy_accepted: true,
                template: None,
            },
            Component {
                name: "Giấy chứng sinh".into(),
                originals: 1,
                copies: 0,
                required: true,
                warehouse_copy_accepted: false,
                template: None,
            },
        ],
        deciding_agency: None,
        implementing_agency: None,
        result_is_document: true,
        non_territorial: false,
        published: true,
        legal_basis: None,
        decision_no: None,
        procedure_type: None,
        provenance: None,
    }
}

fn applicant() -> Applicant {
    Applicant {
        kind: ApplicantKind::Person,
        id_number: "008190001234".into(),
        name: "Nguyễn Văn An".into(),
        phone: Some("0912 345 678".into()),
        email: None,
        address: None,
        unit_code: Some("02215".into()),
    }
    .validate()
    .unwrap()
}

fn both_components() -> Vec<SubmittedComponent> {
    (0..2)
        .map(|i| SubmittedComponent {
            index: i,
            originals: 1,
            copies: 0,
            from_warehouse: false,
            warehouse_code: None,
        })
        .collect()
}

pub(crate) fn new_dossier(channel: Channel, when: &str, days: u32) -> Dossier {
    let a = agency("000.01.31.H58");
    let intake = Intake {
        procedure: procedure(days),
        process: Process::default(),
        channel,
        receiving_agency: a.clone(),
        competent_agency: a,
        applicant: applicant(),
        components: both_components(),
        postal_tracking: None,
        owner_id: Some(7),
        delivery: None,
    };
    Dossier::new(intake, "000.01.31.H58-250124-0001".into(), at(when), &cal())
        .unwrap()
        .0
}

fn local(d: Option<DateTime<Utc>>) -> String {
    cal().to_local_fixed(d.unwrap()).to_rfc3339()
}

#[test]
fn counter_intake_on_24_january_2025_is_due_7_february() {
    let d = new_dossier(Channel::Counter, "2025-01-24T09:00:00+07:00", 5);
    assert_eq!(d.status, Status::Received);
    assert_eq!(local(d.due_at), "2025-02-07T17:00:00+07:00");
    assert_eq!(d.total_minutes, 5 * 480);
    // Reception's share (10%) of 5 working days = 4 office hours from receipt (lunch excluded).
    assert_eq!(local(d.step_due_at), "2025-01-24T14:30:00+07:00");
}

#[test]
fn online_dossier_counts_from_acceptance() {
    let c = cal();
    let mut d = new_dossier(Channel::Online, "2025-01-24T20:00:00+07:00", 5);
    assert_eq!(d.status, Status::Submitted);
    assert_eq!(d.due_at, None);
    // Accepted on 28 January (a Tết day off): counts from Monday 3 February.
    d.apply(
        &Action::Accept {
            note: None,
            components: Vec::new(),
        },
        at("2025-01-28T10:00:00+07:00"),
        &c,
    )
    .unwrap();
    assert_eq!(local(d.due_at), "2025-02-10T17:00:00+07:00");
}

#[test]
fn supplement_time_is_added_back() {
    let c = cal();
    let mut d = new_dossier(Channel::Counter, "2025-01-24T09:00:00+07:00", 5);
    d.apply(
        &Action::Forward { note: None },
        at("2025-01-24T10:00:00+07:00"),
        &c,
    )
    .unwrap();
    let missing = vec![MissingItem {
        item: "Giấy chứng sinh".into(),
        reason: "Bản chụp mờ".into(),
    }];
    d.apply(
        &Action::RequestSupplement {
            missing,
            note: None,
        },
        at("2025-02-03T09:00:00+07:00"),
        &c,
    )
    .unwrap();
    assert_eq!(d.status, Status::AwaitingSupplement);
    // Clock stopped before the appointment: not overdue even long after it.
    assert!(!d.overdue(at("2025-03-01T09:00:00+07:00")));
    let ch = d
        .apply(
            &Action::SupplementReceived {
                note: None,
                components: Vec::new(),
            },
            at("2025-02-05T09:00:00+07:00"),
            &c,
        )
        .unwrap();
    assert!(matches!(
        ch.event,
        DossierEvent::SupplementReceived {
            waited_office_minutes: 960,
            ..
        }
    ));
    assert_eq!(d.status, Status::Processing);
    // Two office days added back: Friday 7 February 17:00 → Tuesday 11 February 17:00.
    assert_eq!(local(d.due_at), "2025-02-11T17:00:00+07:00");
    assert_eq!(local(d.original_due_at), "2025-02-07T17:00:00+07:00");
    assert!(!d.overdue(at("2025-02-11T16:59:00+07:00")));
    assert!(d.overdue(at("2025-02-11T17:01:00+07:00")));
}

#[test]
fn a_dossier_paused_after_its_appointment_stays_overdue() {
    let c = cal();
    let mut d = new_dossier(Channel::Counter, "2025-01-24T09:00:00+07:00", 5);
    d.apply(
        &Action::Forward { note: None },
        at("2025-01-24T10:00:00+07:00"),
        &c,
    )
    .unwrap();
    d.apply(
        &Action::RequestSupplement {
            missing: vec![MissingItem {
                item: "Tờ khai".into(),
                reason: "Thiếu chữ ký".into(),
            }],
            note: None,
        },
        at("2025-02-10T09:00:00+07:00"),
        &c,
    )
    .unwrap();
    assert!(d.overdue(at("2025-02-10T10:00:00+07:00")));
    // Measured up to the request: it does not matter how long the wait lasts.
    assert!(d.overdue(at("2030-01-01T00:00:00+07:00")));
    // Pausing for payment also stops the clock when the process says so.
    let mut p = new_dossier(Channel::Counter, "2025-01-24T09:00:00+07:00", 5);
    p.apply(
        &Action::Forward { note: None },
        at("2025-01-24T10:00:00+07:00"),
        &c,
    )
    .unwrap();
    p.apply(
        &Action::Pause {
            reason: "Chờ nộp lệ phí".into(),
        },
        at("2025-02-06T09:00:00+07:00"),
        &c,
    )
    .unwrap();
    assert!(!p.overdue(at("2025-02-20T09:00:00+07:00")));
}

#[test]
fn timeliness_early_on_time_late() {
    let c = cal();
    let due = Some(at("2025-02-07T17:00:00+07:00"));
    let t = |s: &str| Timeliness::of(at(s), due, &c);
    assert_eq!(t("2025-02-06T16:00:00+07:00"), Timeliness::Early);
    assert_eq!(t("2025-02-07T08:00:00+07:00"), Timeliness::OnTime);
    assert_eq!(t("2025-02-07T17:00:00+07:00"), Timeliness::OnTime);
    assert_eq!(t("2025-02-07T17:00:01+07:00"), Timeliness::Late);
    assert_eq!(
        Timeliness::of(at("2030-01-01T00:00:00Z"), None, &c),
        Timeliness::OnTime
    );
}

#[test]
fn full_path_to_returned_and_extension_rules() {
    let c = cal();
    let mut d = new_dossier(Channel::Counter, "2025-01-24T09:00:00+07:00", 5);
    let go = |d: &mut Dossier, a: Action, when: &str| d.apply(&a, at(when), &c);
    go(
        &mut d,
        Action::Forward { note: None },
        "2025-01-24T10:00:00+07:00",
    )
    .unwrap();
    // Approve only at the deciding step.
    assert!(matches!(
        go(
            &mut d,
            Action::Approve { note: None },
            "2025-02-03T10:00:00+07:00"
        ),
        Err(Refusal::Conflict(_))
    ));
    let ext = Action::Extend {
        reason: "Cần xác minh tại địa phương".into(),
        new_due_date: NaiveDate::from_ymd_opt(2025, 2, 15).unwrap(), // a Saturday
    };
    go(&mut d, ext.clone(), "2025-02-04T10:00:00+07:00").unwrap();
    assert_eq!(local(d.due_at), "2025-02-17T17:00:00+07:00");
    assert!(matches!(
        go(&mut d, ext, "2025-02-05T10:00:00+07:00"),
        Err(Refusal::Conflict(_))
    ));
    go(
        &mut d,
        Action::Forward { note: None },
        "2025-02-10T10:00:00+07:00",
    )
    .unwrap();
    go(
        &mut d,
        Action::Approve { note: None },
        "2025-02-12T10:00:00+07:00",
    )
    .unwrap();
    assert_eq!(d.status, Status::Resolved);
    assert_eq!(d.timeliness, Some(Timeliness::Early));
    assert_eq!(d.process.steps[d.step].key, "result");
    go(
        &mut d,
        Action::ReturnResult {
            method: Delivery::Paper,
            note: None,
        },
        "2025-02-12T11:00:00+07:00",
    )
    .unwrap();
    assert_eq!(d.status, Status::Resolved);
    go(
        &mut d,
        Action::MarkCollected { note: None },
        "2025-02-13T11:00:00+07:00",
    )
    .unwrap();
    assert_eq!(d.status, Status::Returned);
}

#[test]
fn roles_and_agency_scope() {
    let d = new_dossier(Channel::Counter, "2025-01-24T09:00:00+07:00", 5);
    let officer = |role, code: &str| Actor {
        name: "x".into(),
        user_id: Some(1),
        role: Some(role),
        agency: Some(agency(code)),
    };
    use crate::policy::{Permission, authorize};
    let fwd = ActionKind::Forward;
    assert!(
        authorize(
            &officer(Role::Reception, "000.01.31.H58"),
            Permission::Act(&d, fwd)
        )
        .is_ok()
    );
    assert!(
        authorize(
            &officer(Role::Reception, "000.02.31.H58"),
            Permission::Act(&d, fwd)
        )
        .is_err()
    );
    assert!(
        authorize(
            &officer(Role::Specialist, "000.01.31.H58"),
            Permission::Act(&d, fwd)
        )
        .is_err()
    );
    let owner = Actor {
        name: "congdan".into(),
        user_id: Some(7),
        role: Some(Role::Citizen),
        agency: None,
    };
    let w = ActionKind::Withdraw;
    assert!(authorize(&owner, Permission::Act(&d, w)).is_ok());
    let stranger = Actor {
        user_id: Some(8),
        ..owner
    };
    assert!(authorize(&stranger, Permission::Act(&d, w)).is_err());
}

#[test]
fn dossier_codes_round_trip() {
    let a = agency("000.00.01.H29");
    let day = NaiveDate::from_ymd_opt(2025, 1, 24).unwrap();
    assert_eq!(dossier_code(&a, day, 1), "000.00.01.H29-250124-0001");
    assert_eq!(dossier_code(&a, day, 12345), "000.00.01.H29-250124-12345");
    assert_eq!(
        parse_dossier_code("000.00.01.H29-250124-0001").unwrap(),
        (a, day, 1)
    );
    for bad in [
        "000.00.01.H29-250124-1",
        "000.00.01.H29-251324-0001",
        "x-250124-0001",
        "000.00.01.H29-250124-0000",
    ] {
        assert!(parse_dossier_code(bad).is_err(), "{bad}");
    }
}

#[test]
fn applicant_and_components_are_checked() {
    let mut a = applicant();
    a.id_number = "12345".into();
    a.phone = Some("abc".into());
    a.email = Some("no-at".into());
    let Err(Error::Invalid(e)) = a.validate() else {
        panic!()
    };
    assert_eq!(e.len(), 3);
    let org = Applicant {
        kind: ApplicantKind::Organisation,
        id_number: "0100109106-001".into(),
        ..applicant()
    };
    assert!(org.validate().is_ok());
    let p = procedure(5);
    let bad = vec![
        SubmittedComponent {
            index: 5,
            originals: 1,
            copies: 0,
            from_warehouse: false,
            warehouse_code: None,
        },
        SubmittedComponent {
            index: 1,
            originals: 0,
            copies: 0,
            from_warehouse: true,
            warehouse_code: None,
        },
    ];
    let Err(Error::Invalid(e)) = check_components(&p, &bad) else {
        panic!()
    };
    assert_eq!(e.len(), 2, "{e:?}");
}

#[test]
fn actions_parse_strictly() {
    let a: Action =
        serde_json::from_str(r#"{"action":"extend","reason":"x","new_due_date":"2025-02-20"}"#)
            .unwrap();
    assert_eq!(a.name(), "extend");
    assert!(serde_json::from_str::<Action>(r#"{"action":"forward","bogus":1}"#).is_err());
    assert!(serde_json::from_str::<Action>(r#"{"action":"fly"}"#).is_err());
}

mod machine {
    use super::*;
    use proptest::prelude::*;

    fn terminal(s: Status) -> bool {
        matches!(s, Status::Rejected | Status::Stopped | Status::Returned)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Any sequence of actions at any pace: refused actions change nothing, and the state
        /// stays consistent after every accepted one.
        #[test]
        fn any_action_sequence_keeps_the_dossier_consistent(
            online in any::<bool>(),
            steps in proptest::collection::vec((0usize..15, 0i64..(3 * 24 * 60)), 1..40),
        ) {
            let c = cal();
            let channel = if online { Channel::Online } else { Channel::Counter };
            let mut d = new_dossier(channel, "2025-01-24T09:00:00+07:00", 5);
            let mut now = at("2025-01-24T09:00:00+07:00");
            let actions = Action::examples(
                &agency("000.00.11.H58"),
                "chuyenvien",
                NaiveDate::from_ymd_opt(2025, 1, 24).unwrap(),
            );
            for (i, minutes) in steps {
                now += chrono::Duration::minutes(minutes);
                let before = d.clone();
                match d.apply(&actions[i], now, &c) {
                    Err(_) => prop_assert_eq!(&d, &before, "a refused action changed the dossier"),
                    Ok(change) => {
                        prop_assert!(!terminal(before.status), "acted on a finished dossier");
                        prop_assert_eq!(change.after, d.snapshot());
                    }
                }
                prop_assert!(d.step < d.process.steps.len());
                prop_assert_eq!(
                    d.ended_at.is_some(),
                    matches!(d.status, Status::Rejected | Status::Stopped | Status::Resolved | Status::Returned)
                );
                if d.paused_at.is_some() {
                    prop_assert!(matches!(
                        d.status,
                        Status::AwaitingSupplement | Status::AwaitingPayment | Status::WithdrawalRequested
                    ));
                }
                if d.timeliness.is_some() {
                    prop_assert!(d.received_at.is_some());
                }
                if let (Some(due), Some(orig)) = (d.due_at, d.original_due_at) {
                    prop_assert!(due >= orig, "the appointment never moves earlier");
                }
                prop_assert!(d.paused_minutes >= 0);
            }
        }
    }
}

#[test]
fn instants_and_dates_outside_the_calendar_are_refused_not_panicked_on() {
    let c = cal();
    let mut d = new_dossier(Channel::Counter, "2025-01-24T09:00:00+07:00", 5);
    for date in [
        NaiveDate::MAX,
        NaiveDate::from_ymd_opt(9999, 12, 31).unwrap(),
        NaiveDate::MIN,
    ] {
        let r = d.clone().apply(
            &Action::Extend {
                reason: "x".into(),
                new_due_date: date,
            },
            at("2025-01-27T09:00:00+07:00"),
            &c,
        );
        assert!(matches!(r, Err(Refusal::Invalid(_))), "{date}: {r:?}");
    }
    let before = d.clone();
    for t in [DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MIN_UTC] {
        let r = d.apply(&Action::Forward { note: None }, t, &c);
        assert!(
            matches!(r, Err(Refusal::Invalid(Error::OutOfRange(_)))),
            "{r:?}"
        );
    }
    assert_eq!(d, before);
}

#[test]
fn repeated_supplement_requests_count_late_only_where_the_process_says_so() {
    let c = cal();
    let run = |rule: Option<u32>| {
        let mut d = new_dossier(Channel::Counter, "2025-01-24T09:00:00+07:00", 5);
        d.process.late_after_supplements = rule;
        let go = |d: &mut Dossier, a: Action, when: &str| d.apply(&a, at(when), &c).unwrap();
        go(
            &mut d,
            Action::Forward { note: None },
            "2025-01-24T10:00:00+07:00",
        );
        for day in ["03", "04"] {
            let missing = vec![MissingItem {
                item: "Tờ khai".into(),
                reason: "Thiếu".into(),
            }];
            go(
                &mut d,
                Action::RequestSupplement {
                    missing,
                    note: None,
                },
                &format!("2025-02-{day}T09:00:00+07:00"),
            );
            go(
                &mut d,
                Action::SupplementReceived {
                    note: None,
                    components: Vec::new(),
                },
                &format!("2025-02-{day}T10:00:00+07:00"),
            );
        }
        go(
            &mut d,
            Action::Forward { note: None },
            "2025-02-05T09:00:00+07:00",
        );
        go(
            &mut d,
            Action::Approve { note: None },
            "2025-02-05T10:00:00+07:00",
        );
        d.timeliness
    };
    assert_eq!(run(None), Some(Timeliness::Early));
    assert_eq!(run(Some(3)), Some(Timeliness::Early));
    assert_eq!(run(Some(2)), Some(Timeliness::Late));
    let p = Process {
        late_after_supplements: Some(0),
        ..Process::default()
    };
    assert!(p.validate().is_err());
}

/// An online dossier filed without a required component: the officer records it as received
/// and accepts in one step; the supplement path records what was handed in.
#[test]
fn components_are_recorded_at_accept_and_at_supplement_receipt() {
    let c = cal();
    let a = agency("000.01.31.H58");
    let intake = Intake {
        procedure: procedure(5),
        process: Process::default(),
        channel: Channel::Online,
        receiving_agency: a.clone(),
        competent_agency: a,
        applicant: applicant(),
        components: both_components()[..1].to_vec(),
        postal_tracking: None,
        owner_id: Some(7),
        delivery: None,
    };
    let (mut d, _) = Dossier::new(
        intake,
        "000.01.31.H58-250124-0002".into(),
        at("2025-01-24T09:00:00+07:00"),
        &c,
    )
    .unwrap();
    let now = at("2025-01-24T10:00:00+07:00");
    // Accept is offered (the officer may tick what is missing) …
    assert!(d.precondition(ActionKind::Accept, now, &c).is_ok());
    // … but refused while a required component is still not received, naming it.
    let plain = Action::Accept {
        note: None,
        components: Vec::new(),
    };
    match d.clone().apply(&plain, now, &c) {
        Err(Refusal::Conflict(m)) => assert!(m.vi.contains("Giấy chứng sinh"), "{}", m.vi),
        other => panic!("{other:?}"),
    }
    // Bad recordings are refused with the field named.
    for (bad, field) in [
        (
            vec![SubmittedComponent {
                index: 9,
                originals: 1,
                copies: 0,
                from_warehouse: false,
                warehouse_code: None,
            }],
            "components[0].index",
        ),
        (
            vec![SubmittedComponent {
                index: 1,
                originals: 0,
                copies: 0,
                from_warehouse: false,
                warehouse_code: None,
            }],
            "components[0]",
        ),
        (
            vec![SubmittedComponent {
                index: 1,
                originals: 0,
                copies: 1,
                from_warehouse: true,
                warehouse_code: None,
            }],
            "components[0].from_warehouse",
        ),
    ] {
        let action = Action::Accept {
            note: None,
            components: bad,
        };
        match d.clone().apply(&action, now, &c) {
            Err(Refusal::Invalid(Error::Invalid(f))) => assert_eq!(f[0].field, field),
            other => panic!("{other:?}"),
        }
    }
    let received = vec![SubmittedComponent {
        index: 1,
        originals: 1,
        copies: 2,
        from_warehouse: false,
        warehouse_code: None,
    }];
    let ch = d
        .apply(
            &Action::Accept {
                note: None,
                components: received.clone(),
            },
            now,
            &c,
        )
        .unwrap();
    assert_eq!(d.status, Status::Received);
    assert!(d.components.iter().all(|c| c.submitted));
    assert_eq!((d.components[1].originals, d.components[1].copies), (1, 2));
    assert_eq!(
        ch.event,
        DossierEvent::Accepted {
            due_at: d.due_at,
            components: received
        }
    );
    // A supplement during processing: the officer records the replacement copy.
    d.apply(
        &Action::RequestSupplement {
            missing: vec![MissingItem {
                item: "Tờ khai đăng ký khai sinh".into(),
                reason: "Thiếu chữ ký".into(),
            }],
            note: None,
        },
        at("2025-01-24T11:00:00+07:00"),
        &c,
    )
    .unwrap();
    let again = vec![SubmittedComponent {
        index: 0,
        originals: 1,
        copies: 0,
        from_warehouse: false,
        warehouse_code: None,
    }];
    let ch = d
        .apply(
            &Action::SupplementReceived {
                note: None,
                components: again.clone(),
            },
            at("2025-01-24T14:00:00+07:00"),
            &c,
        )
        .unwrap();
    assert!(
        matches!(ch.event, DossierEvent::SupplementReceived { components, .. } if components == again)
    );
    assert_eq!((d.components[0].originals, d.components[0].copies), (1, 0));
}

#[test]
fn blocked_actions_say_why() {
    let c = cal();
    let mut d = new_dossier(Channel::Counter, "2025-01-24T09:00:00+07:00", 5);
    let now = at("2025-01-24T10:00:00+07:00");
    // At reception, approval belongs to the deciding step: the reason names it.
    let why = d.blocked_by(ActionKind::Approve, now);
    assert!(
        why.is_none(),
        "status received does not allow approval at all"
    );
    d.apply(&Action::Forward { note: None }, now, &c).unwrap();
    let why = d.blocked_by(ActionKind::Approve, now).expect("a reason");
    assert!(why.vi.contains("Chỉ phê duyệt"), "{}", why.vi);
    assert!(d.blocked_by(ActionKind::Forward, now).is_none());
}
