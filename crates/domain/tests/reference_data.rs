//! The real reference data kept in crates/motcua/data parses cleanly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use motcua_domain::catalogue::{CatalogueFormat, parse_catalogue};
use motcua_domain::units::{ReferenceFiles, UnitGraph, UnitLevel};

fn reference_data(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../motcua/data")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn national_catalogue_export_imports_whole() {
    let data = reference_data("procedures_partial.csv");
    let ps = parse_catalogue(CatalogueFormat::Csv, data.as_bytes())
        .unwrap_or_else(|e| panic!("{} bad rows, first: {}", e.len(), e[0]));
    assert_eq!(ps.len(), 2642);
}

#[test]
fn reorganisation_reference_builds() {
    let (p, c, pm, cm) = (
        reference_data("admin_units_2025_provinces.csv"),
        reference_data("admin_units_2025_communes.csv"),
        reference_data("admin_units_2025_province_mapping.csv"),
        reference_data("admin_units_2025_mapping.csv"),
    );
    let g = UnitGraph::from_reference(&ReferenceFiles {
        provinces: &p,
        communes: &c,
        province_mapping: &pm,
        commune_mapping: &cm,
    })
    .unwrap();
    let current = |l| {
        g.units
            .iter()
            .filter(|(u, _)| u.level == l && u.valid_to.is_none())
            .count()
    };
    assert_eq!(current(UnitLevel::Province), 34);
    assert_eq!(current(UnitLevel::Commune), 3321);
    let old_provinces = g
        .units
        .iter()
        .filter(|(u, _)| u.level == UnitLevel::Province && u.valid_to.is_some())
        .count();
    assert_eq!(old_provinces, 63);
    assert!(g.links.len() >= 10_000);
}
