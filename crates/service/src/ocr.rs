//! Reading the text of files: PDFs with a text layer are read (poppler's `pdftotext`), scanned
//! PDFs are rendered at 300 dpi (`pdftoppm`) and, like images, recognised by the real
//! tesseract (`-l vie+eng`, one thread per process: `OMP_THREAD_LIMIT=1`). Each child process
//! is time-limited and killed when late. Text comes out in NFC with the typical diacritic
//! errors of OCR repaired (`motcua_domain::text::repair_ocr`).
//!
//! In the server this runs as the `file.ocr` job, as many at once as the machine has cores
//! (never more): the counter never waits, and a restart loses nothing.

use motcua_domain::files::FileKind;
use motcua_domain::text::repair_ocr;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

/// The job that reads a new file's text.
pub const OCR_JOB: &str = "file.ocr";

/// OCR jobs run at once in one process: one per core (each tesseract uses one thread).
pub fn ocr_slots() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// The longest one tool may take on one page.
const PAGE_TIMEOUT: Duration = Duration::from_secs(120);
/// Characters (not counting white space) a PDF page's text layer must have to be taken as is.
const TEXT_LAYER_MIN: usize = 20;

/// How a page's text was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OcrMethod {
    /// Read from the PDF's text layer.
    TextLayer,
    /// Recognised by tesseract.
    Tesseract,
}

impl OcrMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            OcrMethod::TextLayer => "text_layer",
            OcrMethod::Tesseract => "tesseract",
        }
    }

    pub fn parse(s: &str) -> Option<OcrMethod> {
        match s {
            "text_layer" => Some(OcrMethod::TextLayer),
            "tesseract" => Some(OcrMethod::Tesseract),
            _ => None,
        }
    }
}

/// A recognised word and where it is on the page (pixels of the image OCR read).
pub use motcua_domain::extract::Token as Word;

/// The text of one page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OcrPage {
    /// From 1.
    pub page: u32,
    pub text: String,
    /// The mean of the words' confidences, 0–1 (1 for a text layer).
    pub confidence: f32,
    pub method: OcrMethod,
    #[serde(default)]
    pub words: Vec<Word>,
}

/// Why the text could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    /// A tool is missing or failed to start (the installation's fault: retried later).
    #[error("{0}")]
    Tool(String),
    /// The file could not be read (its fault: not retried).
    #[error("{0}")]
    File(String),
}

async fn run(cmd: &mut tokio::process::Command, what: &str) -> Result<Vec<u8>, OcrError> {
    let out = cmd
        .env("OMP_THREAD_LIMIT", "1")
        .env("LC_ALL", "C")
        .kill_on_drop(true)
        .stdin(std::process::Stdio::null())
        .output();
    match tokio::time::timeout(PAGE_TIMEOUT, out).await {
        Err(_) => Err(OcrError::File(format!(
            "{what}: took longer than {PAGE_TIMEOUT:?}"
        ))),
        Ok(Err(e)) => Err(OcrError::Tool(format!("{what} could not run: {e}"))),
        Ok(Ok(o)) if o.status.success() => Ok(o.stdout),
        Ok(Ok(o)) => Err(OcrError::File(format!(
            "{what} failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ))),
    }
}

/// The pages of `bytes` (of kind `kind`), read or recognised.
pub async fn read_pages(kind: FileKind, bytes: &[u8]) -> Result<Vec<OcrPage>, OcrError> {
    let reading = Reading::open(kind, bytes).await?;
    let mut pages = Vec::new();
    for unit in 0..reading.units() {
        pages.extend(reading.unit(unit).await?);
    }
    Ok(pages)
}

/// A file being read unit by unit, so that a reading interrupted (a crash, a restart) goes on
/// where it stopped: a PDF's unit is one page; an image's (a multi-page TIFF's too) is the
/// whole image, which tesseract reads in one run.
pub struct Reading {
    dir: tempfile::TempDir,
    input: std::path::PathBuf,
    /// A PDF's text layer per page (empty for images).
    layers: Vec<String>,
    kind: FileKind,
}

impl Reading {
    /// Writes the file where the tools read it; a PDF's text layer is read at once (cheap).
    pub async fn open(kind: FileKind, bytes: &[u8]) -> Result<Reading, OcrError> {
        let dir = tempfile::tempdir().map_err(|e| OcrError::Tool(e.to_string()))?;
        let input = dir.path().join(format!("in.{}", kind.extension()));
        tokio::fs::write(&input, bytes)
            .await
            .map_err(|e| OcrError::Tool(e.to_string()))?;
        let layers = match kind {
            FileKind::Pdf => text_layers(&input).await?,
            _ => Vec::new(),
        };
        Ok(Reading {
            dir,
            input,
            layers,
            kind,
        })
    }

    /// How many units there are to read.
    pub fn units(&self) -> u32 {
        match self.kind {
            FileKind::Pdf => self.layers.len() as u32,
            _ => 1,
        }
    }

    /// The first page (from 1) that unit `unit` yields: a unit is done when its first page is
    /// stored.
    pub fn first_page(&self, unit: u32) -> u32 {
        unit + 1
    }

    /// Reads unit `unit` (from 0): its pages, numbered from 1 in the file.
    pub async fn unit(&self, unit: u32) -> Result<Vec<OcrPage>, OcrError> {
        if self.kind != FileKind::Pdf {
            let mut pages = tesseract(&self.input, 0).await?;
            if pages.is_empty() {
                pages.push(blank_page(1));
            }
            return Ok(pages);
        }
        let n = unit + 1;
        let layer = self.layers.get(unit as usize).map_or("", String::as_str);
        if layer.chars().filter(|c| !c.is_whitespace()).count() >= TEXT_LAYER_MIN {
            return Ok(vec![OcrPage {
                page: n,
                text: repair_ocr(layer.trim_end()),
                confidence: 1.0,
                method: OcrMethod::TextLayer,
                words: Vec::new(),
            }]);
        }
        // A scanned page: render it at 300 dpi in grey and recognise it.
        let prefix = self.dir.path().join(format!("p{n}"));
        run(
            tokio::process::Command::new("pdftoppm")
                .args(["-r", "300", "-gray", "-png", "-singlefile"])
                .args(["-f", &n.to_string(), "-l", &n.to_string()])
                .arg(&self.input)
                .arg(&prefix),
            "pdftoppm",
        )
        .await?;
        let image = prefix.with_extension("png");
        let mut pages = tesseract(&image, n - 1).await?;
        let _ = tokio::fs::remove_file(&image).await;
        if pages.is_empty() {
            pages.push(blank_page(n));
        }
        for p in &mut pages {
            p.page = n;
        }
        pages.truncate(1);
        Ok(pages)
    }
}

/// A page on which tesseract found no word (kept, so that its reading counts as done).
fn blank_page(page: u32) -> OcrPage {
    OcrPage {
        page,
        text: String::new(),
        confidence: 0.0,
        method: OcrMethod::Tesseract,
        words: Vec::new(),
    }
}

/// A PDF's text layer, page by page (`pdftotext` ends each page with a form feed).
async fn text_layers(input: &Path) -> Result<Vec<String>, OcrError> {
    let text = run(
        tokio::process::Command::new("pdftotext")
            .args(["-enc", "UTF-8", "-layout"])
            .arg(input)
            .arg("-"),
        "pdftotext",
    )
    .await?;
    let text = String::from_utf8_lossy(&text);
    let mut layers: Vec<String> = text.split('\u{c}').map(str::to_owned).collect();
    if layers.last().is_some_and(|l| l.trim().is_empty()) {
        layers.pop();
    }
    Ok(layers)
}

/// Recognises an image (every page of a multi-page TIFF); pages numbered from `first + 1`.
async fn tesseract(image: &Path, first: u32) -> Result<Vec<OcrPage>, OcrError> {
    let tsv = run(
        tokio::process::Command::new("tesseract")
            .arg(image)
            .arg("stdout")
            .args(["-l", "vie+eng", "--psm", "3", "tsv"]),
        "tesseract",
    )
    .await?;
    Ok(parse_tsv(&String::from_utf8_lossy(&tsv), first))
}

/// Pages from tesseract's TSV: words (level 5) with their boxes and confidences, lines joined
/// in reading order, blocks separated by an empty line.
pub fn parse_tsv(tsv: &str, first: u32) -> Vec<OcrPage> {
    struct Acc {
        text: String,
        words: Vec<Word>,
        line: (u32, u32, u32),
        conf_sum: f32,
        conf_n: u32,
    }
    let mut pages: Vec<Acc> = Vec::new();
    for row in tsv.lines().skip(1) {
        let c: Vec<&str> = row.split('\t').collect();
        if c.len() < 12 || c[0] != "5" {
            continue;
        }
        let num = |i: usize| c[i].trim().parse::<u32>().unwrap_or(0);
        let page = num(1).max(1) as usize;
        while pages.len() < page {
            pages.push(Acc {
                text: String::new(),
                words: Vec::new(),
                line: (0, 0, 0),
                conf_sum: 0.0,
                conf_n: 0,
            });
        }
        let text = c[11].trim();
        if text.is_empty() {
            continue;
        }
        let conf = c[10].trim().parse::<f32>().unwrap_or(-1.0);
        let acc = &mut pages[page - 1];
        let line = (num(2), num(3), num(4));
        if !acc.text.is_empty() {
            if line.0 != acc.line.0 {
                acc.text.push_str("\n\n");
            } else if line != acc.line {
                acc.text.push('\n');
            } else {
                acc.text.push(' ');
            }
        }
        acc.line = line;
        acc.text.push_str(text);
        if conf >= 0.0 {
            acc.conf_sum += conf;
            acc.conf_n += 1;
        }
        acc.words.push(Word {
            text: repair_ocr(text),
            left: num(6),
            top: num(7),
            width: num(8),
            height: num(9),
            confidence: (conf.max(0.0) / 100.0).min(1.0),
        });
    }
    pages
        .into_iter()
        .enumerate()
        .map(|(i, a)| OcrPage {
            page: first + i as u32 + 1,
            text: repair_ocr(&a.text),
            confidence: if a.conf_n == 0 {
                0.0
            } else {
                a.conf_sum / a.conf_n as f32 / 100.0
            },
            method: OcrMethod::Tesseract,
            words: a.words,
        })
        .collect()
}

/// The pages as the field extractor reads them.
pub fn extractor_input(pages: &[OcrPage]) -> Vec<motcua_domain::extract::PageInput> {
    pages
        .iter()
        .map(|p| motcua_domain::extract::PageInput {
            text: p.text.clone(),
            confidence: p.confidence,
            words: p.words.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_words_lines_and_blocks() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
                   1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t\n\
                   5\t1\t1\t1\t1\t1\t10\t10\t50\t20\t96.5\tCỘNG\n\
                   5\t1\t1\t1\t1\t2\t70\t10\t50\t20\t93.5\tHÒA\n\
                   5\t1\t1\t1\t2\t1\t10\t40\t50\t20\t90\tĐộc\n\
                   5\t1\t2\t1\t1\t1\t10\t90\t50\t20\t80\tlập\n\
                   5\t2\t1\t1\t1\t1\t10\t10\t50\t20\t50\tTrang2\n";
        let p = parse_tsv(tsv, 0);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].text, "CỘNG HÒA\nĐộc\n\nlập");
        assert_eq!(p[0].words.len(), 4);
        assert_eq!(p[0].words[1].left, 70);
        assert!((p[0].confidence - 0.9).abs() < 1e-4);
        assert_eq!((p[1].page, p[1].text.as_str()), (2, "Trang2"));
    }
}
