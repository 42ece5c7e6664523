//! Typed dossier events: what each change of a dossier records in the audit chain, and what
//! slips, notifications, portal sync and statistics read back.
//!
//! The stored form is the event's JSON, tagged by `action` (the names are those the audit
//! records carried before the events were typed, so old and new records share one shape), with
//! a schema version `v`. A record written before the events were typed has no `action` key in
//! its data and no `v`: [`EventRecord::from_stored`] reads it from the audit row's `action`
//! column and its untyped data (see the test reading such a record).

use super::{Delivery, MissingItem, Status, SubmittedComponent, Timeliness};
use crate::catalogue::Channel;
use crate::codes::AgencyCode;
use crate::{Error, Msg};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The current version of the stored event shape.
pub const EVENT_VERSION: u32 = 2;

/// One change of a dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum DossierEvent {
    /// Filed online or by post; waits for a one-stop officer.
    #[serde(rename = "submit")]
    Submitted {
        channel: Channel,
        #[schema(value_type = String)]
        procedure_code: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        postal_tracking: Option<String>,
        /// The legacy system a dossier was imported from (its history follows).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        imported_from: Option<String>,
    },
    /// Received at the counter at once, with its appointment.
    #[serde(rename = "receive")]
    Received {
        channel: Channel,
        #[schema(value_type = String)]
        procedure_code: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due_at: Option<DateTime<Utc>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        postal_tracking: Option<String>,
        /// The legacy system a dossier was imported from (its history follows).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        imported_from: Option<String>,
    },
    /// An online or postal dossier accepted: receipt and appointment.
    #[serde(rename = "accept")]
    Accepted {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due_at: Option<DateTime<Utc>>,
        /// Components the officer received when accepting.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        components: Vec<SubmittedComponent>,
    },
    #[serde(rename = "assign")]
    Assigned {
        #[serde(default)]
        assignee: String,
    },
    /// Handed to the next step.
    #[serde(rename = "forward")]
    Forwarded {
        #[serde(default)]
        step: String,
    },
    /// An inter-agency child case was sent to another agency.
    #[serde(rename = "transfer")]
    Transferred {
        #[schema(value_type = String)]
        to_agency: AgencyCode,
    },
    /// The child case of an inter-agency transfer was created (recorded on the child).
    #[serde(rename = "child_created")]
    ChildCreated { parent_code: String },
    /// The parent opened a child case (recorded on the parent).
    #[serde(rename = "child_opened")]
    ChildOpened { child_code: String },
    /// A child case ended (recorded on the parent).
    #[serde(rename = "child_resolved")]
    ChildClosed { child_code: String, outcome: Status },
    #[serde(rename = "request_supplement")]
    SupplementRequested {
        missing: Vec<MissingItem>,
        request_no: u32,
    },
    #[serde(rename = "supplement_received")]
    SupplementReceived {
        waited_office_minutes: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due_at: Option<DateTime<Utc>>,
        /// Components handed in with the supplement.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        components: Vec<SubmittedComponent>,
    },
    /// Waiting for the applicant's fees.
    #[serde(rename = "pause")]
    Paused {
        #[serde(default)]
        reason: String,
        clock_stopped: bool,
    },
    #[serde(rename = "resume")]
    Resumed {
        waited_office_minutes: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due_at: Option<DateTime<Utc>>,
        /// Paid through the online payment platform.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        paid_online: bool,
    },
    /// A new appointment with the apology slip.
    #[serde(rename = "extend")]
    Extended {
        #[schema(value_type = String)]
        agency: AgencyCode,
        reason: String,
        old_due_at: DateTime<Utc>,
        new_due_at: DateTime<Utc>,
    },
    /// Refused at intake (refusal slip) or during processing (notice of stopping).
    #[serde(rename = "refuse")]
    Refused {
        reasons: Vec<String>,
        /// `true` when refused before receipt (the dossier is `rejected`).
        #[serde(default)]
        at_intake: bool,
    },
    /// The applicant asked to withdraw (`stopped` at once if never received).
    #[serde(rename = "withdraw")]
    WithdrawalRequested {
        #[serde(default)]
        reason: String,
    },
    #[serde(rename = "confirm_withdrawal")]
    WithdrawalConfirmed {},
    #[serde(rename = "approve")]
    Approved {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeliness: Option<Timeliness>,
    },
    #[serde(rename = "return_result")]
    ResultReturned { method: Delivery },
    #[serde(rename = "mark_collected")]
    Collected {},
    /// The applicant rated the service.
    #[serde(rename = "rate")]
    Rated {
        level: super::Satisfaction,
        channel: super::RatingChannel,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
}

impl DossierEvent {
    /// The stored name (the audit record's `action`).
    pub fn name(&self) -> &'static str {
        match self {
            DossierEvent::Submitted { .. } => "submit",
            DossierEvent::Received { .. } => "receive",
            DossierEvent::Accepted { .. } => "accept",
            DossierEvent::Assigned { .. } => "assign",
            DossierEvent::Forwarded { .. } => "forward",
            DossierEvent::Transferred { .. } => "transfer",
            DossierEvent::ChildCreated { .. } => "child_created",
            DossierEvent::ChildOpened { .. } => "child_opened",
            DossierEvent::ChildClosed { .. } => "child_resolved",
            DossierEvent::SupplementRequested { .. } => "request_supplement",
            DossierEvent::SupplementReceived { .. } => "supplement_received",
            DossierEvent::Paused { .. } => "pause",
            DossierEvent::Resumed { .. } => "resume",
            DossierEvent::Extended { .. } => "extend",
            DossierEvent::Refused { .. } => "refuse",
            DossierEvent::WithdrawalRequested { .. } => "withdraw",
            DossierEvent::WithdrawalConfirmed {} => "confirm_withdrawal",
            DossierEvent::Approved { .. } => "approve",
            DossierEvent::ResultReturned { .. } => "return_result",
            DossierEvent::Collected {} => "mark_collected",
            DossierEvent::Rated { .. } => "rate",
        }
    }

    /// The slip this event issues, if any, besides the receipt (see [`Self::is_receipt`]).
    pub fn slip(&self) -> Option<Slip> {
        match self {
            DossierEvent::SupplementRequested { .. } => Some(Slip::SupplementRequest),
            DossierEvent::Refused {
                at_intake: true, ..
            } => Some(Slip::Refusal),
            DossierEvent::Refused { .. } | DossierEvent::WithdrawalConfirmed {} => {
                Some(Slip::Stopping)
            }
            DossierEvent::Extended { .. } => Some(Slip::Apology),
            _ => None,
        }
    }

    /// Whether the dossier was received by this event (the receipt's officer).
    pub fn is_receipt(&self) -> bool {
        matches!(
            self,
            DossierEvent::Received { .. } | DossierEvent::Accepted { .. }
        )
    }
}

/// The slips a dossier's events issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Slip {
    SupplementRequest,
    Refusal,
    Apology,
    Stopping,
}

/// An event as stored: the event, the actor's note, the shape version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EventRecord {
    #[serde(flatten)]
    pub event: DossierEvent,
    /// The officer's or applicant's note, free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Version of the stored shape (absent before the events were typed).
    #[serde(default)]
    pub v: u32,
}

impl EventRecord {
    pub fn new(event: DossierEvent, note: Option<String>) -> Self {
        EventRecord {
            event,
            note,
            v: EVENT_VERSION,
        }
    }

    /// Reads an event from an audit row's `action` column, `data` text and `before` snapshot,
    /// whichever version wrote it.
    pub fn from_stored(
        action: &str,
        data: &str,
        before: Option<&str>,
    ) -> Result<EventRecord, Error> {
        let bad = |e: String| {
            Error::OutOfRange(Msg::new(
                format!("Bản ghi sự kiện «{action}» không đọc được: {e}"),
                format!("event record «{action}» cannot be read: {e}"),
            ))
        };
        let mut value: serde_json::Value =
            serde_json::from_str(data).map_err(|e| bad(e.to_string()))?;
        let serde_json::Value::Object(map) = &mut value else {
            return Err(bad("not an object".into()));
        };
        if !map.contains_key("action") {
            let before_status = before
                .and_then(|b| serde_json::from_str::<super::Snapshot>(b).ok())
                .map(|b| b.status);
            legacy_shape(action, map, before_status);
        }
        serde_json::from_value(value).map_err(|e| bad(e.to_string()))
    }

    /// The text stored in the audit row's `data` column.
    pub fn to_stored(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Brings a record written before the events were typed (version 1: the `action` column and
/// untyped data) to the typed shape.
fn legacy_shape(
    action: &str,
    map: &mut serde_json::Map<String, serde_json::Value>,
    before: Option<Status>,
) {
    use serde_json::Value;
    let take_note = |map: &mut serde_json::Map<String, Value>, key: &str| {
        if !map.contains_key(key)
            && let Some(n) = map.remove("note")
        {
            map.insert(key.into(), n);
        }
    };
    let action = match action {
        // The parent side of a transfer used the child's name, with the child's code.
        "child_created" if map.contains_key("child_code") => "child_opened",
        "pause" | "withdraw" => {
            take_note(map, "reason");
            action
        }
        "extend" => {
            // The reason was kept twice; the note was the reason.
            if map.get("note") == map.get("reason") {
                map.remove("note");
            }
            action
        }
        "refuse" => {
            // Version 1 did not record where the refusal happened; the snapshot tells.
            map.entry("at_intake")
                .or_insert(Value::Bool(before == Some(Status::Submitted)));
            action
        }
        other => other,
    };
    if matches!(action, "refuse" | "approve" | "confirm_withdrawal") {
        // Version 1 repeated what the action name says.
        map.remove("outcome");
    }
    map.insert("action".into(), Value::String(action.into()));
    map.insert("v".into(), Value::from(1));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records as the code before typed events wrote them (`action` column, untyped data, and
    /// the `before` snapshot where the old reading needs it).
    #[test]
    fn records_written_before_typed_events_still_read() {
        let submitted_before =
            r#"{"status":"submitted","step":"tiep_nhan","agency":"000.01.31.H58"}"#;
        let processing_before =
            r#"{"status":"processing","step":"xu_ly","agency":"000.01.31.H58"}"#;
        // (action column, data, before snapshot, the event read, its note)
        type Case<'a> = (
            &'a str,
            &'a str,
            Option<&'a str>,
            DossierEvent,
            Option<&'a str>,
        );
        let cases: Vec<Case> = vec![
            (
                "receive",
                r#"{"channel":"counter","procedure_code":"1.001193","due_at":"2025-02-07T10:00:00Z","postal_tracking":null}"#,
                None,
                DossierEvent::Received {
                    channel: Channel::Counter,
                    procedure_code: "1.001193".into(),
                    due_at: Some("2025-02-07T10:00:00Z".parse().unwrap()),
                    postal_tracking: None,
                    imported_from: None,
                },
                None,
            ),
            (
                "submit",
                r#"{"channel":"postal","procedure_code":"1.001193","due_at":null,"postal_tracking":"EB123","imported_from":"oldsys"}"#,
                None,
                DossierEvent::Submitted {
                    channel: Channel::Postal,
                    procedure_code: "1.001193".into(),
                    postal_tracking: Some("EB123".into()),
                    imported_from: Some("oldsys".into()),
                },
                None,
            ),
            (
                "request_supplement",
                r#"{"missing":[{"item":"Tờ khai","reason":"Thiếu chữ ký"}],"request_no":2,"note":"gọi điện trước"}"#,
                Some(processing_before),
                DossierEvent::SupplementRequested {
                    missing: vec![MissingItem {
                        item: "Tờ khai".into(),
                        reason: "Thiếu chữ ký".into(),
                    }],
                    request_no: 2,
                },
                Some("gọi điện trước"),
            ),
            (
                "pause",
                r#"{"clock_stopped":true,"note":"Chờ nộp lệ phí"}"#,
                Some(processing_before),
                DossierEvent::Paused {
                    reason: "Chờ nộp lệ phí".into(),
                    clock_stopped: true,
                },
                None,
            ),
            (
                "extend",
                r#"{"agency":"000.01.31.H58","reason":"Cần xác minh","old_due_at":"2025-02-07T10:00:00Z","new_due_at":"2025-02-14T10:00:00Z","note":"Cần xác minh"}"#,
                Some(processing_before),
                DossierEvent::Extended {
                    agency: AgencyCode::parse("000.01.31.H58").unwrap(),
                    reason: "Cần xác minh".into(),
                    old_due_at: "2025-02-07T10:00:00Z".parse().unwrap(),
                    new_due_at: "2025-02-14T10:00:00Z".parse().unwrap(),
                },
                None,
            ),
            (
                "refuse",
                r#"{"reasons":["Không đủ điều kiện"],"outcome":"refused"}"#,
                Some(submitted_before),
                DossierEvent::Refused {
                    reasons: vec!["Không đủ điều kiện".into()],
                    at_intake: true,
                },
                None,
            ),
            (
                "refuse",
                r#"{"reasons":["Hồ sơ giả mạo"],"outcome":"refused"}"#,
                Some(processing_before),
                DossierEvent::Refused {
                    reasons: vec!["Hồ sơ giả mạo".into()],
                    at_intake: false,
                },
                None,
            ),
            (
                "withdraw",
                r#"{"note":"Không còn nhu cầu"}"#,
                Some(processing_before),
                DossierEvent::WithdrawalRequested {
                    reason: "Không còn nhu cầu".into(),
                },
                None,
            ),
            (
                "confirm_withdrawal",
                r#"{"outcome":"withdrawn"}"#,
                None,
                DossierEvent::WithdrawalConfirmed {},
                None,
            ),
            (
                "approve",
                r#"{"outcome":"approved","timeliness":"early"}"#,
                None,
                DossierEvent::Approved {
                    timeliness: Some(Timeliness::Early),
                },
                None,
            ),
            (
                "child_created",
                r#"{"child_code":"000.02.31.H58-250124-0001"}"#,
                None,
                DossierEvent::ChildOpened {
                    child_code: "000.02.31.H58-250124-0001".into(),
                },
                None,
            ),
            (
                "child_created",
                r#"{"parent_code":"000.01.31.H58-250124-0001"}"#,
                None,
                DossierEvent::ChildCreated {
                    parent_code: "000.01.31.H58-250124-0001".into(),
                },
                None,
            ),
            (
                "child_resolved",
                r#"{"child_code":"000.02.31.H58-250124-0001","outcome":"resolved"}"#,
                None,
                DossierEvent::ChildClosed {
                    child_code: "000.02.31.H58-250124-0001".into(),
                    outcome: Status::Resolved,
                },
                None,
            ),
            (
                "return_result",
                r#"{"method":"paper"}"#,
                None,
                DossierEvent::ResultReturned {
                    method: Delivery::Paper,
                },
                None,
            ),
            (
                "mark_collected",
                "{}",
                None,
                DossierEvent::Collected {},
                None,
            ),
            (
                "supplement_received",
                r#"{"waited_office_minutes":960,"due_at":"2025-02-11T10:00:00Z"}"#,
                None,
                DossierEvent::SupplementReceived {
                    waited_office_minutes: 960,
                    due_at: Some("2025-02-11T10:00:00Z".parse().unwrap()),
                    components: Vec::new(),
                },
                None,
            ),
        ];
        for (action, data, before, want, note) in cases {
            let r = EventRecord::from_stored(action, data, before)
                .unwrap_or_else(|e| panic!("{action} {data}: {e}"));
            assert_eq!(r.event, want, "{action} {data}");
            assert_eq!(r.note.as_deref(), note, "{action} {data}");
            assert_eq!(r.v, 1);
        }
    }

    #[test]
    fn new_records_round_trip_with_their_version() {
        let e = EventRecord::new(
            DossierEvent::Assigned {
                assignee: "chuyenvien".into(),
            },
            Some("Xử lý gấp".into()),
        );
        let text = e.to_stored();
        assert!(text.contains(r#""action":"assign""#), "{text}");
        assert!(text.contains(r#""v":2"#), "{text}");
        assert_eq!(EventRecord::from_stored("assign", &text, None).unwrap(), e);
        assert!(EventRecord::from_stored("assign", "not json", None).is_err());
        assert!(EventRecord::from_stored("bogus", "{}", None).is_err());
    }
}
