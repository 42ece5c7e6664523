//! Files handed in with a dossier (components, results): the real type read from the bytes,
//! never from the name, and the size, page and pixel limits checked from the headers alone —
//! before anything decodes the file, so a decompression bomb or a 50,000-megapixel image is
//! refused at the cost of reading a few bytes.

use crate::Msg;
use serde::{Deserialize, Serialize};

/// The kinds of file motcua keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Pdf,
    Jpeg,
    Png,
    Tiff,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Jpeg => "jpeg",
            FileKind::Png => "png",
            FileKind::Tiff => "tiff",
        }
    }

    pub fn parse(s: &str) -> Option<FileKind> {
        [FileKind::Pdf, FileKind::Jpeg, FileKind::Png, FileKind::Tiff]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// The media type served with the file.
    pub fn media_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Tiff => "image/tiff",
        }
    }

    /// The file name extension that matches the content.
    pub fn extension(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Jpeg => "jpg",
            FileKind::Png => "png",
            FileKind::Tiff => "tif",
        }
    }
}

/// What a file may be at most (configurable; see docs/domain.md §Files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileLimits {
    /// Bytes of one file.
    pub max_bytes: u64,
    /// Pages of a PDF or a multi-page TIFF.
    pub max_pages: u32,
    /// Pixels of one page (width × height) of an image.
    pub max_pixels: u64,
    /// The longer side of a page of an image, in pixels.
    pub max_side: u32,
}

impl Default for FileLimits {
    /// 30 MiB (under the server's 32 MiB request limit), 500 pages, 100 megapixels a page
    /// (A3 at 600 dpi is 70), 20,000 pixels a side.
    fn default() -> Self {
        FileLimits {
            max_bytes: 30 * 1024 * 1024,
            max_pages: 500,
            max_pixels: 100_000_000,
            max_side: 20_000,
        }
    }
}

/// Why a file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileRefusal {
    /// Nothing was sent (HTTP 422).
    #[error("{0}")]
    Empty(Msg),
    /// Larger than the limit (HTTP 413).
    #[error("{0}")]
    TooLarge(Msg),
    /// Not a PDF, JPEG, PNG or TIFF (HTTP 415).
    #[error("{0}")]
    Unsupported(Msg),
    /// The right kind but broken, or beyond the page or pixel limits (HTTP 422).
    #[error("{0}")]
    Unusable(Msg),
}

impl FileRefusal {
    pub fn message(&self) -> &Msg {
        match self {
            FileRefusal::Empty(m)
            | FileRefusal::TooLarge(m)
            | FileRefusal::Unsupported(m)
            | FileRefusal::Unusable(m) => m,
        }
    }
}

fn unusable(vi: impl Into<String>, en: impl Into<String>) -> FileRefusal {
    FileRefusal::Unusable(Msg::new(vi, en))
}

/// The kind of file `bytes` hold, from their first bytes.
pub fn sniff(bytes: &[u8]) -> Result<FileKind, FileRefusal> {
    if bytes.is_empty() {
        return Err(FileRefusal::Empty(Msg::new(
            "Tệp rỗng (0 byte)",
            "the file is empty (0 bytes)",
        )));
    }
    // A PDF may have a little junk before its header (the format allows 1,024 bytes).
    let head = &bytes[..bytes.len().min(1024)];
    if head.windows(5).any(|w| w == b"%PDF-") {
        return Ok(FileKind::Pdf);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(FileKind::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(FileKind::Png);
    }
    if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        return Ok(FileKind::Tiff);
    }
    let what = if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        " (tệp nén ZIP, DOCX, XLSX …)"
    } else if bytes.starts_with(b"MZ") || bytes.starts_with(b"\x7fELF") {
        " (chương trình)"
    } else {
        ""
    };
    Err(FileRefusal::Unsupported(Msg::new(
        format!("Chỉ nhận tệp PDF, JPEG, PNG hoặc TIFF; nội dung tệp này không phải{what}"),
        "only PDF, JPEG, PNG or TIFF files are accepted; this file's content is none of them",
    )))
}

/// What the headers say of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileShape {
    pub kind: FileKind,
    /// Pages (images: 1; multi-page TIFF: its pages; PDF: `None`, counted by the PDF reader).
    pub pages: Option<u32>,
    /// The largest page in pixels (images only).
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// A file larger than `limits.max_bytes` (HTTP 413).
pub fn too_large(limits: &FileLimits) -> FileRefusal {
    FileRefusal::TooLarge(Msg::new(
        format!(
            "Tệp lớn hơn giới hạn {} MB",
            limits.max_bytes / (1024 * 1024)
        ),
        format!(
            "the file is larger than the limit of {} MB",
            limits.max_bytes / (1024 * 1024)
        ),
    ))
}

/// Checks a file against `limits` from its headers, without decoding any image data.
pub fn inspect(bytes: &[u8], limits: &FileLimits) -> Result<FileShape, FileRefusal> {
    let kind = sniff(bytes)?;
    if bytes.len() as u64 > limits.max_bytes {
        return Err(too_large(limits));
    }
    let pages: Vec<(u32, u32)> = match kind {
        FileKind::Png => vec![png_size(bytes)?],
        FileKind::Jpeg => vec![jpeg_size(bytes)?],
        FileKind::Tiff => tiff_pages(bytes, limits.max_pages)?,
        FileKind::Pdf => {
            pdf_complete(bytes)?;
            Vec::new()
        }
    };
    if pages.len() as u64 > u64::from(limits.max_pages) {
        return Err(too_many_pages(limits));
    }
    for (w, h) in &pages {
        if *w == 0 || *h == 0 {
            return Err(unusable("Ảnh có kích thước 0", "the image has a zero size"));
        }
        if (*w).max(*h) > limits.max_side || u64::from(*w) * u64::from(*h) > limits.max_pixels {
            return Err(unusable(
                format!(
                    "Ảnh {w}×{h} điểm ảnh vượt giới hạn ({} megapixel, cạnh dài nhất {} điểm ảnh)",
                    limits.max_pixels / 1_000_000,
                    limits.max_side
                ),
                format!(
                    "the {w}×{h} image is over the limit ({} megapixels, longest side {} pixels)",
                    limits.max_pixels / 1_000_000,
                    limits.max_side
                ),
            ));
        }
    }
    let largest = pages
        .iter()
        .max_by_key(|(w, h)| u64::from(*w) * u64::from(*h));
    Ok(FileShape {
        kind,
        pages: (kind != FileKind::Pdf).then_some(pages.len() as u32),
        width: largest.map(|p| p.0),
        height: largest.map(|p| p.1),
    })
}

/// The error for a file with more pages than allowed.
pub fn too_many_pages(limits: &FileLimits) -> FileRefusal {
    unusable(
        format!("Tệp có hơn {} trang", limits.max_pages),
        format!("the file has more than {} pages", limits.max_pages),
    )
}

fn truncated(kind: &str) -> FileRefusal {
    unusable(
        format!("Tệp {kind} bị hỏng hoặc không đầy đủ"),
        format!("the {kind} file is damaged or incomplete"),
    )
}

fn png_size(b: &[u8]) -> Result<(u32, u32), FileRefusal> {
    // Signature (8), then the IHDR chunk: length (4), "IHDR", width (4), height (4).
    if b.len() < 24 || &b[12..16] != b"IHDR" {
        return Err(truncated("PNG"));
    }
    let w = u32::from_be_bytes([b[16], b[17], b[18], b[19]]);
    let h = u32::from_be_bytes([b[20], b[21], b[22], b[23]]);
    // The file must end with its IEND chunk (a cut-off upload does not).
    if !b.ends_with(&[0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]) {
        return Err(truncated("PNG"));
    }
    Ok((w, h))
}

fn jpeg_size(b: &[u8]) -> Result<(u32, u32), FileRefusal> {
    // Walk the markers up to a start-of-frame (SOF0..SOF15 but DHT, JPG and DAC).
    let mut i = 2;
    while i + 4 <= b.len() {
        if b[i] != 0xFF {
            return Err(truncated("JPEG"));
        }
        let marker = b[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        if matches!(marker, 0xD8 | 0x01 | 0xD0..=0xD7) {
            i += 2;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        if len < 2 {
            return Err(truncated("JPEG"));
        }
        let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            if i + 9 > b.len() {
                return Err(truncated("JPEG"));
            }
            let h = u32::from(u16::from_be_bytes([b[i + 5], b[i + 6]]));
            let w = u32::from(u16::from_be_bytes([b[i + 7], b[i + 8]]));
            // A complete JPEG ends with its end-of-image marker.
            let tail = &b[b.len().saturating_sub(64)..];
            if !tail.windows(2).any(|m| m == [0xFF, 0xD9]) {
                return Err(truncated("JPEG"));
            }
            return Ok((w, h));
        }
        i += 2 + len;
    }
    Err(truncated("JPEG"))
}

/// The pages of a TIFF (width, height of each image file directory), at most `max + 1`.
fn tiff_pages(b: &[u8], max: u32) -> Result<Vec<(u32, u32)>, FileRefusal> {
    let le = b.starts_with(b"II");
    let u16_at = |o: usize| -> Option<u32> {
        let s = b.get(o..o + 2)?;
        Some(u32::from(if le {
            u16::from_le_bytes([s[0], s[1]])
        } else {
            u16::from_be_bytes([s[0], s[1]])
        }))
    };
    let u32_at = |o: usize| -> Option<u32> {
        let s = b.get(o..o + 4)?;
        Some(if le {
            u32::from_le_bytes([s[0], s[1], s[2], s[3]])
        } else {
            u32::from_be_bytes([s[0], s[1], s[2], s[3]])
        })
    };
    let bad = || truncated("TIFF");
    let mut pages = Vec::new();
    let mut seen = Vec::new();
    let mut ifd = u32_at(4).ok_or_else(bad)? as usize;
    while ifd != 0 {
        if seen.contains(&ifd) || pages.len() as u32 > max {
            break;
        }
        seen.push(ifd);
        let n = u16_at(ifd).ok_or_else(bad)? as usize;
        let (mut w, mut h) = (None, None);
        for e in 0..n {
            let at = ifd + 2 + e * 12;
            let tag = u16_at(at).ok_or_else(bad)?;
            let typ = u16_at(at + 2).ok_or_else(bad)?;
            let value = if typ == 3 {
                u16_at(at + 8)
            } else {
                u32_at(at + 8)
            }
            .ok_or_else(bad)?;
            match tag {
                256 => w = Some(value),
                257 => h = Some(value),
                _ => {}
            }
        }
        pages.push((w.ok_or_else(bad)?, h.ok_or_else(bad)?));
        ifd = u32_at(ifd + 2 + n * 12).ok_or_else(bad)? as usize;
    }
    if pages.is_empty() {
        return Err(bad());
    }
    Ok(pages)
}

/// A PDF must end with its end-of-file marker (a cut-off upload does not).
fn pdf_complete(b: &[u8]) -> Result<(), FileRefusal> {
    let tail = &b[b.len().saturating_sub(2048)..];
    if tail.windows(5).any(|w| w == b"%%EOF") {
        Ok(())
    } else {
        Err(truncated("PDF"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1×1 PNG.
    pub const PNG_1X1: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F,
        0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8,
        0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D, 0x1D, 0x00, 0x00,
        0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];

    fn png_of(w: u32, h: u32) -> Vec<u8> {
        let mut b = PNG_1X1.to_vec();
        b[16..20].copy_from_slice(&w.to_be_bytes());
        b[20..24].copy_from_slice(&h.to_be_bytes());
        b
    }

    #[test]
    fn the_type_comes_from_the_bytes() {
        let l = FileLimits::default();
        assert_eq!(inspect(PNG_1X1, &l).unwrap().kind, FileKind::Png);
        assert!(matches!(sniff(b""), Err(FileRefusal::Empty(_))));
        assert!(matches!(
            sniff(b"PK\x03\x04rest of a zip"),
            Err(FileRefusal::Unsupported(_))
        ));
        assert!(matches!(
            sniff(b"<html>not a pdf</html>"),
            Err(FileRefusal::Unsupported(_))
        ));
        let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";
        assert_eq!(inspect(pdf, &l).unwrap().kind, FileKind::Pdf);
        let cut = &pdf[..20];
        assert!(matches!(inspect(cut, &l), Err(FileRefusal::Unusable(_))));
    }

    #[test]
    fn bombs_are_refused_from_the_header() {
        let l = FileLimits::default();
        // 50,000 megapixels declared in 67 bytes.
        let bomb = png_of(223_607, 223_607);
        assert!(matches!(inspect(&bomb, &l), Err(FileRefusal::Unusable(_))));
        let wide = png_of(30_000, 10);
        assert!(matches!(inspect(&wide, &l), Err(FileRefusal::Unusable(_))));
        let ok = png_of(2480, 3508); // A4 at 300 dpi
        assert_eq!(inspect(&ok, &l).unwrap().width, Some(2480));
        let big = FileLimits { max_bytes: 10, ..l };
        assert!(matches!(
            inspect(PNG_1X1, &big),
            Err(FileRefusal::TooLarge(_))
        ));
        let cut = &PNG_1X1[..40];
        assert!(matches!(inspect(cut, &l), Err(FileRefusal::Unusable(_))));
    }

    #[test]
    fn tiff_pages_are_counted() {
        // Two IFDs of 10×20 and 30×40, little-endian.
        let mut b = b"II*\0".to_vec();
        b.extend(8u32.to_le_bytes());
        let ifd = |b: &mut Vec<u8>, w: u16, h: u16, next: u32| {
            b.extend(2u16.to_le_bytes());
            for (tag, v) in [(256u16, w), (257u16, h)] {
                b.extend(tag.to_le_bytes());
                b.extend(3u16.to_le_bytes());
                b.extend(1u32.to_le_bytes());
                b.extend(u32::from(v).to_le_bytes());
            }
            b.extend(next.to_le_bytes());
        };
        ifd(&mut b, 10, 20, 8 + 30);
        ifd(&mut b, 30, 40, 0);
        let s = inspect(&b, &FileLimits::default()).unwrap();
        assert_eq!(
            (s.kind, s.pages, s.width),
            (FileKind::Tiff, Some(2), Some(30))
        );
        let one_page = FileLimits {
            max_pages: 1,
            ..FileLimits::default()
        };
        assert!(inspect(&b, &one_page).is_err());
    }
}
