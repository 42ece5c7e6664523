//! The whole authorisation matrix in one table: every role × every relation to the dossier ×
//! every action, in two situations, against an expected table written out by hand.

use super::*;
use crate::dossier::Status;
use std::collections::BTreeSet;

const RECEIVING: &str = "000.01.31.H58";
const CURRENT: &str = "000.02.31.H58";
const COMPETENT: &str = "000.03.31.H58";
const ELSEWHERE: &str = "000.09.31.H58";
const OWNER_ID: i64 = 7;

/// The relations an actor can have, and the actor that has each.
const RELATIONS: [&str; 5] = ["none", "receiving", "current", "competent", "owner"];

fn actor(role: Role, relation: &str) -> Actor {
    let agency = match relation {
        "receiving" => Some(RECEIVING),
        "current" => Some(CURRENT),
        "competent" => Some(COMPETENT),
        "owner" => None,
        _ => Some(ELSEWHERE),
    };
    Actor {
        name: format!("{role}@{relation}"),
        user_id: Some(if relation == "owner" { OWNER_ID } else { 99 }),
        role: Some(role),
        agency: agency.map(|a| AgencyCode::parse(a).unwrap()),
    }
}

/// Expected: for each action, the `role@relation` pairs allowed; `role@*` for any relation.
/// Everything not listed is refused.
fn expected(situation: &str, kind: ActionKind) -> Vec<&'static str> {
    use ActionKind as K;
    let officers_here = vec!["reception@current", "specialist@current", "leader@current"];
    match (situation, kind) {
        (_, K::Accept) => vec!["reception@receiving"],
        ("submitted", K::Refuse) => vec!["reception@receiving"],
        (_, K::Refuse | K::Extend | K::Transfer) => vec!["specialist@current", "leader@current"],
        (_, K::Assign | K::RequestSupplement | K::Pause | K::Resume) => officers_here,
        // The step's own role, or a leader, at the agency holding it.
        ("processing", K::Forward | K::Approve) => vec!["specialist@current", "leader@current"],
        ("submitted", K::Forward | K::Approve) => vec!["reception@current", "leader@current"],
        (_, K::SupplementReceived) => vec![
            "citizen@owner",
            "reception@receiving",
            "specialist@current",
            "leader@current",
        ],
        (_, K::Withdraw) => vec!["citizen@owner", "reception@receiving"],
        (_, K::ConfirmWithdrawal) => vec![
            "reception@receiving",
            "reception@current",
            "leader@receiving",
            "leader@current",
        ],
        // A postal dossier's result may be handed back by any postal agent.
        ("submitted", K::ReturnResult | K::MarkCollected) => {
            vec!["reception@receiving", "postal@*"]
        }
        (_, K::ReturnResult | K::MarkCollected) => vec!["reception@receiving"],
        _ => unreachable!(),
    }
}

fn situation(name: &str) -> Dossier {
    // Filed at RECEIVING (000.01.31.H58) by the citizen account 7.
    let mut d =
        crate::dossier::tests::new_dossier(Channel::Counter, "2025-01-24T09:00:00+07:00", 5);
    d.current_agency = AgencyCode::parse(CURRENT).unwrap();
    d.competent_agency = AgencyCode::parse(COMPETENT).unwrap();
    d.owner_id = Some(OWNER_ID);
    match name {
        // In the workflow at the specialist's step, filed at the counter.
        "processing" => {
            d.status = Status::Processing;
            d.step = 1;
            d.channel = Channel::Counter;
        }
        // Filed by post, waiting at the reception step.
        _ => {
            d.status = Status::Submitted;
            d.step = 0;
            d.channel = Channel::Postal;
        }
    }
    d
}

fn allowed(list: &[&str], role: Role, relation: &str) -> bool {
    list.contains(&format!("{role}@{relation}").as_str())
        || list.contains(&format!("{role}@*").as_str())
}

#[test]
fn action_matrix() {
    let mut mismatches = BTreeSet::new();
    let mut cases = 0;
    for name in ["processing", "submitted"] {
        let d = situation(name);
        for kind in ActionKind::ALL {
            let want = expected(name, kind);
            for role in Role::ALL {
                for relation in RELATIONS {
                    let a = actor(role, relation);
                    let got = authorize(&a, Permission::Act(&d, kind)).is_ok();
                    if got != allowed(&want, role, relation) {
                        mismatches.insert(format!("{name}: {kind} by {role}@{relation}: {got}"));
                    }
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, 2 * 15 * 7 * 5);
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

#[test]
fn read_list_file_and_admin_matrix() {
    let d = situation("processing");
    let receiving = AgencyCode::parse(RECEIVING).unwrap();
    let elsewhere = AgencyCode::parse(ELSEWHERE).unwrap();
    let officer_agencies = ["receiving", "current", "competent"];
    let mut mismatches = BTreeSet::new();
    for role in Role::ALL {
        for relation in RELATIONS {
            let a = actor(role, relation);
            let officer = matches!(
                role,
                Role::Reception | Role::Specialist | Role::Leader | Role::Postal
            );
            let table: Vec<(&str, Permission<'_>, bool)> = vec![
                (
                    "read",
                    Permission::ReadDossier(&d),
                    // The operations centre never reads personal data (issue 11).
                    role == Role::Admin
                        || (role == Role::Citizen && relation == "owner")
                        || (officer && officer_agencies.contains(&relation)),
                ),
                (
                    "be assigned",
                    Permission::BeAssigned(&d),
                    matches!(role, Role::Reception | Role::Specialist | Role::Leader)
                        && relation == "current",
                ),
                (
                    "list own",
                    Permission::ListDossiers(Scope::Owned),
                    matches!(role, Role::Citizen | Role::Admin | Role::Viewer),
                ),
                (
                    "list all",
                    Permission::ListDossiers(Scope::All),
                    matches!(role, Role::Admin | Role::Viewer),
                ),
                (
                    "list receiving agency",
                    Permission::ListDossiers(Scope::Agency(&receiving)),
                    matches!(role, Role::Admin | Role::Viewer)
                        || (officer && relation == "receiving"),
                ),
                (
                    "file at the counter of the receiving agency",
                    Permission::File {
                        channel: Channel::Counter,
                        agency: Some(&receiving),
                    },
                    role == Role::Reception && relation == "receiving",
                ),
                (
                    "file at the counter of one's own agency",
                    Permission::File {
                        channel: Channel::Counter,
                        agency: None,
                    },
                    role == Role::Reception,
                ),
                (
                    "file online",
                    Permission::File {
                        channel: Channel::Online,
                        agency: Some(&elsewhere),
                    },
                    role == Role::Citizen,
                ),
                (
                    "file by post",
                    Permission::File {
                        channel: Channel::Postal,
                        agency: Some(&receiving),
                    },
                    role == Role::Postal,
                ),
                (
                    "look up applicants",
                    Permission::LookUpApplicant,
                    matches!(
                        role,
                        Role::Reception | Role::Specialist | Role::Leader | Role::Admin
                    ),
                ),
                (
                    "edit reference",
                    Permission::EditReference,
                    role == Role::Admin,
                ),
                ("manage users", Permission::ManageUsers, role == Role::Admin),
                ("manage jobs", Permission::ManageJobs, role == Role::Admin),
                (
                    "statistics",
                    Permission::ReadStatistics,
                    matches!(role, Role::Admin | Role::Viewer | Role::Leader),
                ),
            ];
            for (what, p, want) in table {
                let got = authorize(&a, p).is_ok();
                if got != want {
                    mismatches.insert(format!("{what} by {role}@{relation}: {got}"));
                }
            }
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

#[test]
fn the_system_is_not_role_checked_and_refusals_name_the_action() {
    let d = situation("processing");
    let system = Actor::system("job:test");
    for kind in ActionKind::ALL {
        assert!(authorize(&system, Permission::Act(&d, kind)).is_ok());
    }
    let e = authorize(
        &actor(Role::Citizen, "none"),
        Permission::Act(&d, ActionKind::Approve),
    )
    .unwrap_err();
    assert!(e.0.en.contains("approve"), "{}", e.0.en);
    assert!(e.0.vi.contains("approve"), "{}", e.0.vi);
}

#[test]
fn the_scope_of_a_list() {
    let own = AgencyCode::parse(RECEIVING).unwrap();
    let other = AgencyCode::parse(ELSEWHERE).unwrap();
    let officer = actor(Role::Specialist, "receiving");
    assert_eq!(list_scope(&officer, None), Scope::Agency(&own));
    assert_eq!(list_scope(&officer, Some(&other)), Scope::Agency(&other));
    assert!(
        authorize(
            &officer,
            Permission::ListDossiers(list_scope(&officer, Some(&other)))
        )
        .is_err()
    );
    assert!(
        authorize(
            &officer,
            Permission::ListDossiers(list_scope(&officer, None))
        )
        .is_ok()
    );
    let citizen = actor(Role::Citizen, "owner");
    assert_eq!(list_scope(&citizen, Some(&other)), Scope::Owned);
    let ioc = actor(Role::Viewer, "none");
    assert_eq!(list_scope(&ioc, None), Scope::All);
    assert_eq!(list_scope(&ioc, Some(&other)), Scope::Agency(&other));
    // Staff with no agency have no list of their own.
    let lost = Actor {
        agency: None,
        ..actor(Role::Reception, "none")
    };
    assert!(authorize(&lost, Permission::ListDossiers(list_scope(&lost, None))).is_err());
}
