//! `motcua import dossiers FILE.jsonl`: legacy dossiers with their full history.

use anyhow::Context;
use motcua_domain::Msg;
use motcua_domain::calendar::WorkCalendar;
use motcua_domain::catalogue::{Procedure, RowError};
use motcua_domain::dossier::Dossier;
use motcua_domain::dossier::legacy::LegacyDossier;
use motcua_service::{Acting, Service, ServiceError};
use motcua_store::{ImportedEvent, Store, StoreError};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Checks every line, then imports each dossier in its own transaction (all of it or none of
/// it). With any bad line, nothing is imported and every bad line is reported.
pub async fn dossiers(
    svc: &Service,
    by: &Acting,
    file: &Path,
    source: &str,
    dry_run: bool,
) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let store = svc.store();
    let (ready, mut errors) = check(store, &svc.calendar(), &text, source).await?;
    let codes: Vec<String> = ready.iter().map(|(_, d, _)| d.code.clone()).collect();
    let existing: HashSet<String> = store
        .existing_dossier_codes(&codes)
        .await?
        .into_iter()
        .collect();
    for (line, d, _) in &ready {
        if existing.contains(&d.code) {
            errors.push(row(
                *line,
                Some(&d.code),
                Msg::new("Hồ sơ đã có trong hệ thống", "the dossier already exists"),
            ));
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        for e in &errors {
            eprintln!("{}: {e}", file.display());
        }
        anyhow::bail!("{} bad lines; nothing imported", errors.len());
    }
    if dry_run {
        println!(
            "{}: {} dossiers, no errors (dry run, nothing imported)",
            file.display(),
            ready.len()
        );
        return Ok(());
    }
    let mut imported = 0;
    for (line, d, events) in &ready {
        match svc.import_dossier(by, d, events).await {
            Ok(()) => imported += 1,
            Err(e @ ServiceError::Conflict(_)) => {
                anyhow::bail!(
                    "line {line} ({}): {e}; {imported} dossiers imported before it",
                    d.code
                )
            }
            Err(e) => {
                return Err(anyhow::anyhow!("{e}"))
                    .with_context(|| format!("line {line} ({})", d.code));
            }
        }
    }
    store.seal_audit().await?;
    println!("{}: imported {imported} dossiers", file.display());
    Ok(())
}

fn row(line: usize, code: Option<&str>, message: Msg) -> RowError {
    RowError {
        line: line as u64,
        code: code.map(str::to_owned),
        message,
    }
}

type Ready = Vec<(usize, Dossier, Vec<ImportedEvent>)>;

async fn check(
    store: &Store,
    cal: &WorkCalendar,
    text: &str,
    source: &str,
) -> anyhow::Result<(Ready, Vec<RowError>)> {
    let mut procedures: HashMap<String, Option<(Procedure, motcua_domain::process::Process)>> =
        HashMap::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut ready = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let legacy: LegacyDossier = match serde_json::from_str(raw) {
            Ok(l) => l,
            Err(e) => {
                errors.push(row(
                    line,
                    None,
                    Msg::new(
                        format!("Dòng không đúng cấu trúc: {e}"),
                        format!("malformed line: {e}"),
                    ),
                ));
                continue;
            }
        };
        let code = legacy.code.clone();
        if let Some(first) = seen.insert(code.clone(), line) {
            errors.push(row(
                line,
                Some(&code),
                Msg::new(
                    format!("Trùng mã hồ sơ với dòng {first}"),
                    format!("same dossier code as line {first}"),
                ),
            ));
            continue;
        }
        let pc = legacy.procedure_code.clone();
        if !procedures.contains_key(&pc) {
            let found = match store.procedure(&pc).await {
                Ok(p) => Some((p, store.process_for(&pc).await?)),
                Err(StoreError::NotFound(_)) => None,
                Err(e) => return Err(e.into()),
            };
            procedures.insert(pc.clone(), found);
        }
        let Some(Some((procedure, process))) = procedures.get(&pc) else {
            errors.push(row(
                line,
                Some(&code),
                Msg::new(
                    format!("Không có thủ tục {pc} trong danh mục"),
                    format!("procedure {pc} is not in the catalogue"),
                ),
            ));
            continue;
        };
        match legacy.replay(procedure.clone(), process.clone(), source, cal) {
            Ok((d, changes)) => {
                let events = changes
                    .into_iter()
                    .map(|(at, actor, change)| ImportedEvent { at, actor, change })
                    .collect();
                ready.push((line, d, events));
            }
            Err(e) => errors.push(row(line, Some(&code), e.message())),
        }
    }
    Ok((ready, errors))
}
