//! Shared set-up of the service tests.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use motcua_domain::calendar::WorkCalendar;
use motcua_domain::catalogue::{Channel, Procedure};
use motcua_domain::clock::FixedClock;
use motcua_domain::codes::AgencyCode;
use motcua_domain::dossier::{Applicant, ApplicantKind, Dossier, Intake};
use motcua_domain::process::Process;
use motcua_service::Service;
use motcua_store::Store;
use std::sync::Arc;

/// 28 January 2025, 09:00 in Vietnam.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 28, 2, 0, 0).unwrap()
}

pub async fn service(store: &Store, clock: Arc<FixedClock>) -> Arc<Service> {
    Arc::new(
        Service::new(store.clone(), clock, Default::default())
            .await
            .unwrap(),
    )
}

/// A counter dossier built from the domain types alone.
pub fn counter_dossier(at: DateTime<Utc>) -> (Dossier, motcua_domain::dossier::Change) {
    let procedure: Procedure = serde_json::from_value(serde_json::json!({
        "code": "1.004884", "name": "Đăng ký lại khai sinh", "field": "Hộ tịch",
        "levels": ["commune"], "online_level": "partial",
        "time_limit": {"value": 5, "unit": "working_days"},
        "components": [{"name": "Tờ khai", "originals": 1, "copies": 0}]
    }))
    .unwrap();
    let agency = AgencyCode::parse("000.01.31.H58").unwrap();
    let intake = Intake {
        procedure,
        process: Process::default(),
        channel: Channel::Counter,
        receiving_agency: agency.clone(),
        competent_agency: agency,
        applicant: Applicant {
            kind: ApplicantKind::Person,
            id_number: "008190001234".into(),
            name: "Nguyễn Văn An".into(),
            phone: None,
            email: None,
            address: None,
            unit_code: None,
        },
        components: vec![motcua_domain::dossier::SubmittedComponent {
            index: 0,
            originals: 1,
            copies: 0,
            from_warehouse: false,
            warehouse_code: None,
        }],
        postal_tracking: None,
        owner_id: None,
        delivery: None,
    };
    Dossier::new(
        intake,
        String::new(),
        at,
        &WorkCalendar::official().unwrap(),
    )
    .unwrap()
}
