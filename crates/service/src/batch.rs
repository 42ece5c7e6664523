//! Backward digitisation in bulk: a folder of scans and a map (CSV: `file`, `dossier_code`,
//! `component`) saying which dossier component each file is. Each line is attached once — a
//! file already attached to the same component is found, not attached again — or refused once
//! with its reason; the pages are then read by the `file.ocr` jobs page by page. Running the
//! same batch again (same folder, same map) continues it.

use crate::{Acting, Result, Service, ServiceError};
use motcua_store::BatchItem;
use sha2::{Digest, Sha256};
use std::path::Path;

/// Pages read with a lower confidence (0–1) are listed for an officer to check.
pub const LOW_CONFIDENCE: f64 = 0.70;

/// The map's columns, in any order (a header line is required).
const COLUMNS: [&str; 3] = ["file", "dossier_code", "component"];

/// The lines of a map. A line that cannot be used comes back with its `error` set (it is
/// reported, the others go on); a map without the three columns is refused whole.
pub fn parse_map(bytes: &[u8]) -> std::result::Result<Vec<BatchItem>, String> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| format!("the map's header cannot be read: {e}"))?
        .clone();
    let col = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let cols: Vec<usize> = COLUMNS
        .iter()
        .map(|c| {
            col(c).ok_or_else(|| {
                format!("the map has no column «{c}» (it needs file, dossier_code, component)")
            })
        })
        .collect::<std::result::Result<_, _>>()?;
    let mut items = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let line = i as i32 + 2;
        let r = match rec {
            Ok(r) => r,
            Err(e) => {
                items.push(BatchItem {
                    line,
                    path: String::new(),
                    dossier_code: String::new(),
                    component: String::new(),
                    file_id: None,
                    error: Some(format!("dòng không đọc được / unreadable line: {e}")),
                });
                continue;
            }
        };
        let get = |k: usize| r.get(k).unwrap_or_default().to_owned();
        let (path, code, component) = (get(cols[0]), get(cols[1]), get(cols[2]));
        if path.is_empty() && code.is_empty() && component.is_empty() {
            continue;
        }
        let error = if path.is_empty() || code.is_empty() || component.is_empty() {
            Some(
                "thiếu tệp, mã hồ sơ hoặc thành phần / file, dossier code or component missing"
                    .to_owned(),
            )
        } else if Path::new(&path).is_absolute() || path.split(['/', '\\']).any(|p| p == "..") {
            Some("đường dẫn tệp phải nằm trong thư mục / the file's path must stay inside the folder".to_owned())
        } else {
            None
        };
        items.push(BatchItem {
            line,
            path,
            dossier_code: code,
            component,
            file_id: None,
            error,
        });
    }
    Ok(items)
}

/// A batch's name: the same folder and the same map make the same batch.
pub fn batch_id(folder: &Path, map: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(folder.to_string_lossy().as_bytes());
    h.update([0]);
    h.update(map);
    hex::encode(&h.finalize()[..12])
}

/// The component of a dossier a map names: its number from 1, or its name (without regard to
/// diacritics or case; a unique partial match is accepted).
fn component_index(
    d: &motcua_domain::dossier::Dossier,
    named: &str,
) -> std::result::Result<usize, String> {
    if let Ok(n) = named.parse::<usize>() {
        return if (1..=d.components.len()).contains(&n) {
            Ok(n - 1)
        } else {
            Err(format!(
                "hồ sơ chỉ có {} thành phần / the dossier has {} components",
                d.components.len(),
                d.components.len()
            ))
        };
    }
    let want = motcua_domain::text::fold(named);
    let names: Vec<String> = d
        .components
        .iter()
        .map(|c| motcua_domain::text::fold(&c.name))
        .collect();
    if let Some(i) = names.iter().position(|n| *n == want) {
        return Ok(i);
    }
    let partial: Vec<usize> = (0..names.len())
        .filter(|&i| names[i].contains(&want))
        .collect();
    match partial.as_slice() {
        [i] => Ok(*i),
        [] => Err(format!(
            "hồ sơ không có thành phần «{named}» / the dossier has no component «{named}»"
        )),
        _ => Err(format!(
            "nhiều thành phần khớp «{named}» / several components match «{named}»"
        )),
    }
}

impl Service {
    /// Records batch `id` (if new) and attaches each of its lines not yet settled, calling
    /// `settled` after each. A line whose file, dossier or component is wrong is refused with
    /// its reason; a fault of the installation (database, object store) stops the run, to be
    /// continued by running it again.
    pub async fn run_batch_attach(
        &self,
        by: &Acting,
        id: &str,
        folder: &Path,
        map_name: &str,
        items: &[BatchItem],
        mut settled: impl FnMut(&BatchItem),
    ) -> Result<()> {
        self.store()
            .open_batch(
                id,
                &folder.to_string_lossy(),
                map_name,
                &by.actor.name,
                self.now(),
                items,
            )
            .await?;
        for item in self.store().batch_items(id).await? {
            if item.file_id.is_some() || item.error.is_some() {
                settled(&item);
                continue;
            }
            let outcome = self.attach_batch_line(by, folder, &item).await;
            let (file_id, error) = match outcome {
                Ok(file_id) => (Some(file_id), None),
                Err(Refused(reason)) => (None, Some(reason)),
                Err(Fault(e)) => return Err(e),
            };
            self.store()
                .settle_batch_item(id, item.line, file_id, error.as_deref())
                .await?;
            settled(&BatchItem {
                file_id,
                error,
                ..item
            });
        }
        Ok(())
    }

    async fn attach_batch_line(
        &self,
        by: &Acting,
        folder: &Path,
        item: &BatchItem,
    ) -> std::result::Result<i64, LineOutcome> {
        let path = folder.join(&item.path);
        let bytes = match tokio::fs::read(&path).await {
            Ok(b) => b,
            Err(e) => {
                return Err(Refused(format!(
                    "không đọc được tệp / cannot read the file {}: {e}",
                    item.path
                )));
            }
        };
        let d = self
            .dossier(&by.actor, &item.dossier_code)
            .await
            .map_err(refusal)?
            .dossier;
        let index = component_index(&d, &item.component).map_err(Refused)?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        // Attached before a crash, but the line not yet settled: the same file is found.
        if let Some(id) = self
            .store()
            .same_file(&d.code, index as i32, &sha256)
            .await
            .map_err(|e| Fault(e.into()))?
        {
            return Ok(id);
        }
        let name = Path::new(&item.path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.attach_archive_file(by, &d.code, index, &name, &bytes)
            .await
            .map(|f| f.id)
            .map_err(refusal)
    }
}

enum LineOutcome {
    /// The line is wrong: reported, not retried.
    Refused(String),
    /// The installation failed: the run stops.
    Fault(ServiceError),
}
use LineOutcome::{Fault, Refused};

fn refusal(e: ServiceError) -> LineOutcome {
    match e {
        ServiceError::Storage(_) => Fault(e),
        other => Refused(other.to_string()),
    }
}
