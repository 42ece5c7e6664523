//! The demo province: Tỉnh Tuyên Quang (08) after the 2025 reorganisation (old Hà Giang and
//! Tuyên Quang merged), with every administrative unit of the country and the old→new links,
//! a few agencies, 30 real procedures from the national catalogue, and demo accounts.
//! Agency identifier codes are illustrative (official format, not issued codes).

use anyhow::Context;
use motcua_domain::auth::Role;
use motcua_domain::catalogue::{CatalogueFormat, parse_catalogue};
use motcua_domain::codes::AgencyCode;
use motcua_domain::units::{Agency, ReferenceFiles, UnitGraph};
use motcua_service::{Acting, Service, ServiceError};
use motcua_store::NewUser;

/// The official reference data on administrative units, embedded in the binary.
pub fn reference_units() -> anyhow::Result<UnitGraph> {
    Ok(UnitGraph::from_reference(&ReferenceFiles {
        provinces: include_str!("../data/admin_units_2025_provinces.csv"),
        communes: include_str!("../data/admin_units_2025_communes.csv"),
        province_mapping: include_str!("../data/admin_units_2025_province_mapping.csv"),
        commune_mapping: include_str!("../data/admin_units_2025_mapping.csv"),
    })?)
}

const REFERENCE_VERSION: &str = "admin-units-2025-v1";
const ILLUSTRATIVE: &str = "Mã định danh minh họa theo đúng định dạng QĐ 20/2020/QĐ-TTg, không phải mã đã cấp (illustrative code)";

/// Imports the national units once per reference version.
pub async fn ensure_reference_units(svc: &Service, by: &Acting) -> anyhow::Result<()> {
    let store = svc.store();
    if store.meta("reference_units").await?.as_deref() == Some(REFERENCE_VERSION) {
        return Ok(());
    }
    let (units, links) = svc
        .import_units(by, &reference_units()?)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    store.set_meta("reference_units", REFERENCE_VERSION).await?;
    tracing::info!(units, links, "administrative units imported");
    Ok(())
}

struct DemoAgency {
    code: &'static str,
    name: &'static str,
    parent: Option<&'static str>,
    unit: &'static str,
    one_stop: bool,
}

const AGENCIES: &[DemoAgency] = &[
    DemoAgency {
        code: "000.00.00.H58",
        name: "Ủy ban nhân dân tỉnh Tuyên Quang",
        parent: None,
        unit: "08",
        one_stop: false,
    },
    DemoAgency {
        code: "000.00.20.H58",
        name: "Trung tâm Phục vụ hành chính công tỉnh Tuyên Quang",
        parent: Some("000.00.00.H58"),
        unit: "08",
        one_stop: true,
    },
    DemoAgency {
        code: "000.00.11.H58",
        name: "Sở Tư pháp tỉnh Tuyên Quang",
        parent: Some("000.00.00.H58"),
        unit: "08",
        one_stop: false,
    },
    DemoAgency {
        code: "000.00.12.H58",
        name: "Sở Xây dựng tỉnh Tuyên Quang",
        parent: Some("000.00.00.H58"),
        unit: "08",
        one_stop: false,
    },
    DemoAgency {
        code: "000.00.13.H58",
        name: "Sở Nông nghiệp và Môi trường tỉnh Tuyên Quang",
        parent: Some("000.00.00.H58"),
        unit: "08",
        one_stop: false,
    },
    DemoAgency {
        code: "000.00.14.H58",
        name: "Sở Tài chính tỉnh Tuyên Quang",
        parent: Some("000.00.00.H58"),
        unit: "08",
        one_stop: false,
    },
    DemoAgency {
        code: "000.00.15.H58",
        name: "Công an tỉnh Tuyên Quang",
        parent: Some("000.00.00.H58"),
        unit: "08",
        one_stop: false,
    },
    DemoAgency {
        code: "000.01.31.H58",
        name: "Ủy ban nhân dân phường Minh Xuân",
        parent: Some("000.00.00.H58"),
        unit: "02215",
        one_stop: true,
    },
    DemoAgency {
        code: "000.02.31.H58",
        name: "Ủy ban nhân dân phường Hà Giang 1",
        parent: Some("000.00.00.H58"),
        unit: "00694",
        one_stop: true,
    },
    DemoAgency {
        code: "000.03.31.H58",
        name: "Ủy ban nhân dân xã Lũng Cú",
        parent: Some("000.00.00.H58"),
        unit: "00715",
        one_stop: true,
    },
    DemoAgency {
        code: "000.04.31.H58",
        name: "Ủy ban nhân dân xã Ngọc Đường",
        parent: Some("000.00.00.H58"),
        unit: "00700",
        one_stop: true,
    },
];

/// Demo accounts: (username, role, agency). All share [`DEMO_PASSWORD`].
pub const DEMO_USERS: &[(&str, Role, Option<&str>)] = &[
    ("admin", Role::Admin, None),
    ("tiepnhan.minhxuan", Role::Reception, Some("000.01.31.H58")),
    (
        "chuyenvien.minhxuan",
        Role::Specialist,
        Some("000.01.31.H58"),
    ),
    ("lanhdao.minhxuan", Role::Leader, Some("000.01.31.H58")),
    ("tiepnhan.tinh", Role::Reception, Some("000.00.20.H58")),
    (
        "chuyenvien.sotuphap",
        Role::Specialist,
        Some("000.00.11.H58"),
    ),
    ("buudien.tuyenquang", Role::Postal, Some("000.00.20.H58")),
    ("ioc", Role::Viewer, None),
    ("congdan", Role::Citizen, None),
];

pub const DEMO_PASSWORD: &str = "motcua-demo";

/// The people of the demo's development certificates: (username, name on the certificate).
pub const DEMO_SIGNERS: &[(&str, &str)] = &[
    ("tiepnhan.minhxuan", "Nguyễn Thị Lan"),
    ("chuyenvien.minhxuan", "Lê Minh Đức"),
    ("lanhdao.minhxuan", "Trần Văn Hùng"),
    ("tiepnhan.tinh", "Phạm Thu Hà"),
    ("chuyenvien.sotuphap", "Hoàng Văn Nam"),
];

/// Development keys for the demo accounts and agencies (a throw-away CA), written once into
/// `dir` (`motcua_sign::service`'s layout).
pub fn write_dev_keys(
    dir: &std::path::Path,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let users: Vec<motcua_sign::pki::DevUser> = DEMO_SIGNERS
        .iter()
        .map(|(username, name)| {
            let agency = DEMO_USERS
                .iter()
                .find(|u| u.0 == *username)
                .and_then(|u| u.2)
                .and_then(|code| AGENCIES.iter().find(|a| a.code == code))
                .map_or("", |a| a.name);
            motcua_sign::pki::DevUser {
                username: (*username).into(),
                full_name: (*name).into(),
                organisation: agency.into(),
            }
        })
        .collect();
    let agencies: Vec<(String, String)> = AGENCIES
        .iter()
        .map(|a| (a.code.to_owned(), a.name.to_owned()))
        .collect();
    motcua_sign::pki::write_dev_installation(dir, &users, &agencies, now)?;
    Ok(())
}

/// Loads (or refreshes) the demo province. Idempotent.
pub async fn load(svc: &Service, by: &Acting) -> anyhow::Result<()> {
    ensure_reference_units(svc, by).await?;
    let e = |e: ServiceError| anyhow::anyhow!("{e}");
    for a in AGENCIES {
        svc.put_agency(
            by,
            Agency {
                code: AgencyCode::parse(a.code)?,
                name: a.name.into(),
                parent_code: a.parent.map(AgencyCode::parse).transpose()?,
                unit_code: Some(a.unit.into()),
                one_stop_point: a.one_stop,
                provenance: Some(ILLUSTRATIVE.into()),
            },
        )
        .await
        .map_err(e)?;
    }
    let procedures = parse_catalogue(
        CatalogueFormat::Json,
        include_bytes!("../data/demo_procedures.json"),
    )
    .map_err(|rows| anyhow::anyhow!("demo catalogue: {}", rows[0]))?;
    let report = svc.import_procedures(by, procedures).await.map_err(e)?;
    for (username, role, agency) in DEMO_USERS {
        let r = svc
            .create_user(
                by,
                NewUser {
                    username: (*username).into(),
                    full_name: format!("Tài khoản demo ({role})"),
                    password: DEMO_PASSWORD.into(),
                    role: *role,
                    agency_code: agency.map(AgencyCode::parse).transpose()?,
                },
            )
            .await;
        match r {
            Ok(_) | Err(ServiceError::Conflict(_)) => {}
            Err(err) => return Err(e(err)).context("demo user"),
        }
    }
    tracing::info!(
        procedures = report.inserted + report.updated,
        agencies = AGENCIES.len(),
        "demo province loaded: Tỉnh Tuyên Quang (08); demo accounts use password {DEMO_PASSWORD}"
    );
    Ok(())
}
