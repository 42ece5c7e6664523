//! A signature applied to a PDF as an incremental update.
//!
//! The update appends a signature dictionary (`/ETSI.CAdES.detached`), a signature field that is
//! also its widget (invisible, or with a stamp imported from a one-page PDF), the page with the
//! widget added to its `/Annots`, and the form. Earlier bytes are never rewritten, and the
//! cross-reference style of the file (table or stream) is kept, so a second signature leaves the
//! first one valid.
//!
//! Signing is two steps so that a remote signer can take its time: [`prepare`] writes the update
//! with room for the signature and gives the digest of the signed byte ranges; [`finish`] puts
//! the CMS in that room.

use crate::keys::Signer;
use crate::tsa::TsaClient;
use crate::{Result, SignError, cms};
use chrono::{DateTime, FixedOffset};
use lopdf::{Dictionary, Document, IncrementalDocument, Object, ObjectId, StringFormat};
use std::collections::HashMap;

/// Bytes reserved for the CMS (the chain, and a timestamp token with its own chain, fit).
pub const RESERVED: usize = 16 * 1024;
const RANGE_PLACEHOLDER: i64 = 1_000_000_000;

/// A visible stamp: a one-page PDF (its page size is the stamp's size) placed on a page.
#[derive(Debug, Clone)]
pub struct Appearance {
    pub pdf: Vec<u8>,
    /// Zero-based page; the last page when `None`.
    pub page: Option<usize>,
    /// Lower-left corner, in points from the page's lower-left corner; the bottom right corner
    /// of the page (inside a 2 cm margin) when `None`.
    pub at: Option<(f32, f32)>,
}

/// What the signature dictionary says beside the signature itself.
#[derive(Debug, Clone)]
pub struct SignOptions {
    /// The signer's name (from the certificate when empty).
    pub name: String,
    pub reason: String,
    pub location: String,
    /// The signing time written in `/M` (from the injected clock).
    pub signed_at: DateTime<FixedOffset>,
    pub appearance: Option<Appearance>,
    /// Adds an RFC 3161 timestamp (PAdES B-T) when set.
    pub tsa: Option<TsaClient>,
    /// What the signer is asked to sign (shown on a remote signer's device).
    pub what: String,
}

impl SignOptions {
    pub fn new(signed_at: DateTime<FixedOffset>) -> Self {
        SignOptions {
            name: String::new(),
            reason: String::new(),
            location: String::new(),
            signed_at,
            appearance: None,
            tsa: None,
            what: String::new(),
        }
    }
}

/// A PDF with room for its signature.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub bytes: Vec<u8>,
    /// The hex string `<…>` of `/Contents`: offset of `<` and one past `>`.
    pub contents: (usize, usize),
    /// SHA-256 of the signed byte ranges (the whole file but the hex string).
    pub content_digest: [u8; 32],
}

/// A PDF text string: PDFDocEncoding-safe ASCII as is, anything else UTF-16BE with its BOM.
pub(crate) fn text_string(s: &str) -> Object {
    use unicode_normalization::UnicodeNormalization;
    let s: String = s.nfc().collect();
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Object::String(s.into_bytes(), StringFormat::Literal)
    } else {
        let mut bytes = vec![0xfe, 0xff];
        for u in s.encode_utf16() {
            bytes.extend_from_slice(&u.to_be_bytes());
        }
        Object::String(bytes, StringFormat::Hexadecimal)
    }
}

/// `D:YYYYMMDDHHmmSS+HH'mm'`.
pub(crate) fn pdf_date(t: &DateTime<FixedOffset>) -> Object {
    let off = t.offset().local_minus_utc();
    let sign = if off < 0 { '-' } else { '+' };
    let off = off.abs();
    let s = format!(
        "D:{}{}{:02}'{:02}'",
        t.format("%Y%m%d%H%M%S"),
        sign,
        off / 3600,
        (off % 3600) / 60
    );
    Object::String(s.into_bytes(), StringFormat::Literal)
}

fn media_box(page: &Dictionary) -> Option<[f32; 4]> {
    let a = page.get(b"MediaBox").ok()?.as_array().ok()?;
    let n = |i: usize| a.get(i).and_then(|o| o.as_float().ok());
    Some([n(0)?, n(1)?, n(2)?, n(3)?])
}

fn resolve<'a>(doc: &'a Document, obj: &'a Object) -> Result<&'a Object> {
    Ok(doc.dereference(obj)?.1)
}

/// Names of the signature fields a document already has.
fn existing_field_names(doc: &Document) -> Vec<Vec<u8>> {
    doc.objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .filter(|d| {
            d.get(b"FT")
                .and_then(Object::as_name)
                .is_ok_and(|n| n == b"Sig")
        })
        .filter_map(|d| {
            d.get(b"T")
                .and_then(Object::as_str)
                .ok()
                .map(<[u8]>::to_vec)
        })
        .collect()
}

/// Copies an object graph from another document, renumbering its objects.
fn import(
    obj: &Object,
    src: &Document,
    dst: &mut Document,
    map: &mut HashMap<ObjectId, ObjectId>,
) -> Result<Object> {
    Ok(match obj {
        Object::Reference(id) => {
            if let Some(n) = map.get(id) {
                return Ok(Object::Reference(*n));
            }
            let new_id = dst.new_object_id();
            map.insert(*id, new_id);
            let copied = import(src.get_object(*id)?, src, dst, map)?;
            dst.objects.insert(new_id, copied);
            Object::Reference(new_id)
        }
        Object::Array(a) => Object::Array(
            a.iter()
                .map(|o| import(o, src, dst, map))
                .collect::<Result<_>>()?,
        ),
        Object::Dictionary(d) => Object::Dictionary(import_dict(d, src, dst, map)?),
        Object::Stream(s) => {
            let mut s2 = s.clone();
            s2.dict = import_dict(&s.dict, src, dst, map)?;
            Object::Stream(s2)
        }
        other => other.clone(),
    })
}

fn import_dict(
    d: &Dictionary,
    src: &Document,
    dst: &mut Document,
    map: &mut HashMap<ObjectId, ObjectId>,
) -> Result<Dictionary> {
    let mut out = Dictionary::new();
    for (k, v) in d.iter() {
        if k == b"Parent" {
            continue;
        }
        out.set(k.clone(), import(v, src, dst, map)?);
    }
    Ok(out)
}

/// Imports the first page of a one-page PDF as a form XObject; gives its id and size.
fn import_stamp(stamp: &[u8], dst: &mut Document) -> Result<(ObjectId, f32, f32)> {
    let src = Document::load_mem(stamp)?;
    let Some((_, &page_id)) = src.get_pages().iter().next() else {
        return Err(SignError::Pdf("the stamp has no page".into()));
    };
    let page = src.get_dictionary(page_id)?;
    let media = page
        .get(b"MediaBox")
        .and_then(Object::as_array)
        .map_err(|_| SignError::Pdf("the stamp's page has no MediaBox".into()))?;
    let num = |i: usize| -> f32 { media.get(i).and_then(|o| o.as_float().ok()).unwrap_or(0.0) };
    let (w, h) = (num(2) - num(0), num(3) - num(1));
    let content = src.get_page_content(page_id);
    let mut map = HashMap::new();
    let resources = match page.get(b"Resources") {
        Ok(r) => import(r, &src, dst, &mut map)?,
        Err(_) => Object::Dictionary(Dictionary::new()),
    };
    let mut dict = Dictionary::new();
    dict.set("Type", Object::Name(b"XObject".to_vec()));
    dict.set("Subtype", Object::Name(b"Form".to_vec()));
    dict.set(
        "BBox",
        Object::Array(vec![
            num(0).into(),
            num(1).into(),
            num(2).into(),
            num(3).into(),
        ]),
    );
    dict.set("Resources", resources);
    let id = dst.add_object(Object::Stream(lopdf::Stream::new(dict, content)));
    Ok((id, w, h))
}

/// Writes the update with room for the signature.
pub fn prepare(pdf: &[u8], opts: &SignOptions, signer_name: &str) -> Result<Prepared> {
    let doc = Document::load_mem(pdf)?;
    if doc.is_encrypted() {
        return Err(SignError::Pdf("encrypted PDFs are not signed".into()));
    }
    let root_id = doc
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| SignError::Pdf("the PDF has no catalog".into()))?;
    let pages: Vec<ObjectId> = doc.get_pages().values().copied().collect();
    let page_index = opts
        .appearance
        .as_ref()
        .and_then(|a| a.page)
        .unwrap_or(pages.len().saturating_sub(1));
    let Some(&page_id) = pages.get(page_index) else {
        return Err(SignError::Pdf(format!(
            "page {} does not exist (the document has {})",
            page_index + 1,
            pages.len()
        )));
    };
    let taken = existing_field_names(&doc);
    let field_name = (1..)
        .map(|n| format!("Signature{n}"))
        .find(|n| !taken.iter().any(|t| t == n.as_bytes()))
        .unwrap_or_default();

    let catalog = doc.get_dictionary(root_id)?.clone();
    let page = doc.get_dictionary(page_id)?.clone();
    let acroform = match catalog.get(b"AcroForm") {
        Ok(o) => Some((o.as_reference().ok(), resolve(&doc, o)?.as_dict()?.clone())),
        Err(_) => None,
    };
    let fields_ref = acroform
        .as_ref()
        .and_then(|(_, d)| d.get(b"Fields").ok())
        .and_then(|f| f.as_reference().ok());
    let annots_ref = page.get(b"Annots").ok().and_then(|a| a.as_reference().ok());

    let mut inc = IncrementalDocument::create_from(pdf.to_vec(), doc);
    let new = &mut inc.new_document;

    let mut sig = Dictionary::new();
    sig.set("Type", Object::Name(b"Sig".to_vec()));
    sig.set("Filter", Object::Name(b"Adobe.PPKLite".to_vec()));
    sig.set("SubFilter", Object::Name(b"ETSI.CAdES.detached".to_vec()));
    sig.set(
        "ByteRange",
        Object::Array(vec![
            Object::Integer(0),
            Object::Integer(RANGE_PLACEHOLDER),
            Object::Integer(RANGE_PLACEHOLDER),
            Object::Integer(RANGE_PLACEHOLDER),
        ]),
    );
    sig.set(
        "Contents",
        Object::String(vec![0u8; RESERVED], StringFormat::Hexadecimal),
    );
    sig.set("M", pdf_date(&opts.signed_at));
    if !signer_name.is_empty() {
        sig.set("Name", text_string(signer_name));
    }
    if !opts.reason.is_empty() {
        sig.set("Reason", text_string(&opts.reason));
    }
    if !opts.location.is_empty() {
        sig.set("Location", text_string(&opts.location));
    }
    let sig_id = new.add_object(sig);

    let mut widget = Dictionary::new();
    widget.set("Type", Object::Name(b"Annot".to_vec()));
    widget.set("Subtype", Object::Name(b"Widget".to_vec()));
    widget.set("FT", Object::Name(b"Sig".to_vec()));
    widget.set("T", Object::string_literal(field_name));
    widget.set("V", Object::Reference(sig_id));
    // Print + Locked.
    widget.set("F", Object::Integer(132));
    widget.set("P", Object::Reference(page_id));
    match &opts.appearance {
        Some(a) => {
            let (xobj, w, h) = import_stamp(&a.pdf, new)?;
            let (x, y) = a.at.unwrap_or_else(|| {
                let right = media_box(&page).map_or(595.0, |b| b[2]);
                (right - 56.7 - w, 56.7)
            });
            widget.set(
                "Rect",
                Object::Array(vec![x.into(), y.into(), (x + w).into(), (y + h).into()]),
            );
            let mut ap = Dictionary::new();
            ap.set("N", Object::Reference(xobj));
            widget.set("AP", Object::Dictionary(ap));
        }
        None => widget.set(
            "Rect",
            Object::Array(vec![0.into(), 0.into(), 0.into(), 0.into()]),
        ),
    }
    let widget_id = new.add_object(widget);

    // The page lists the widget among its annotations.
    match annots_ref {
        Some(id) => {
            inc.opt_clone_object_to_new_document(id)?;
            inc.new_document
                .get_object_mut(id)?
                .as_array_mut()?
                .push(Object::Reference(widget_id));
        }
        None => {
            let mut page = page;
            let mut annots = page
                .get(b"Annots")
                .and_then(Object::as_array)
                .cloned()
                .unwrap_or_default();
            annots.push(Object::Reference(widget_id));
            page.set("Annots", Object::Array(annots));
            inc.new_document
                .objects
                .insert(page_id, Object::Dictionary(page));
        }
    }

    // The form lists the field, and says it holds signatures (SigFlags 3: signatures exist,
    // append only).
    let add_field = |form: &mut Dictionary| {
        if fields_ref.is_none() {
            let mut fields = form
                .get(b"Fields")
                .and_then(Object::as_array)
                .cloned()
                .unwrap_or_default();
            fields.push(Object::Reference(widget_id));
            form.set("Fields", Object::Array(fields));
        }
        form.set("SigFlags", Object::Integer(3));
        form.remove(b"NeedAppearances");
    };
    if let Some(id) = fields_ref {
        inc.opt_clone_object_to_new_document(id)?;
        inc.new_document
            .get_object_mut(id)?
            .as_array_mut()?
            .push(Object::Reference(widget_id));
    }
    match acroform {
        Some((Some(form_id), mut form)) => {
            add_field(&mut form);
            inc.new_document
                .objects
                .insert(form_id, Object::Dictionary(form));
        }
        Some((None, mut form)) => {
            add_field(&mut form);
            let mut catalog = catalog;
            catalog.set("AcroForm", Object::Dictionary(form));
            inc.new_document
                .objects
                .insert(root_id, Object::Dictionary(catalog));
        }
        None => {
            let mut form = Dictionary::new();
            add_field(&mut form);
            let form_id = inc.new_document.add_object(form);
            let mut catalog = catalog;
            catalog.set("AcroForm", Object::Reference(form_id));
            inc.new_document
                .objects
                .insert(root_id, Object::Dictionary(catalog));
        }
    }

    let mut bytes = Vec::with_capacity(pdf.len() + 2 * RESERVED + 4096);
    inc.save_to(&mut bytes)?;
    place_ranges(bytes, pdf.len())
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Finds the placeholders in the appended update, writes the byte ranges, hashes them.
fn place_ranges(mut bytes: Vec<u8>, prev_len: usize) -> Result<Prepared> {
    let lost = || SignError::Pdf("the signature placeholder was not written as expected".into());
    let hex_start = find(&bytes, b"<000000000000000000000000", prev_len).ok_or_else(lost)?;
    let hex_end = hex_start + 1 + 2 * RESERVED;
    if bytes.get(hex_end) != Some(&b'>') || bytes[hex_start + 1..hex_end].iter().any(|&b| b != b'0')
    {
        return Err(lost());
    }
    let after = hex_end + 1;
    let range_text = format!("{RANGE_PLACEHOLDER} {RANGE_PLACEHOLDER} {RANGE_PLACEHOLDER}");
    let r = find(&bytes, range_text.as_bytes(), prev_len).ok_or_else(lost)?;
    let open = bytes[..r]
        .iter()
        .rposition(|&b| b == b'[')
        .ok_or_else(lost)?;
    let close = find(&bytes, b"]", r).ok_or_else(lost)?;
    let total = bytes.len();
    let mut text = format!("[0 {hex_start} {after} {}", total - after).into_bytes();
    let width = close - open;
    if text.len() > width {
        return Err(lost());
    }
    text.resize(width, b' ');
    bytes[open..close].copy_from_slice(&text);
    let content_digest = crate::sha256_parts(&[&bytes[..hex_start], &bytes[after..]]);
    Ok(Prepared {
        bytes,
        contents: (hex_start, after),
        content_digest,
    })
}

/// Puts the CMS in the room left for it.
pub fn finish(mut prepared: Prepared, cms_der: &[u8]) -> Result<Vec<u8>> {
    if cms_der.len() > RESERVED {
        return Err(SignError::Cms(format!(
            "the signature takes {} bytes, more than the {RESERVED} reserved",
            cms_der.len()
        )));
    }
    let hex = hex::encode_upper(cms_der);
    let (start, _) = prepared.contents;
    prepared.bytes[start + 1..start + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    Ok(prepared.bytes)
}

/// Adds one signature to a PDF.
pub async fn sign_pdf(pdf: &[u8], signer: &dyn Signer, opts: &SignOptions) -> Result<Vec<u8>> {
    let chain = signer.chain();
    let Some(cert) = chain.first() else {
        return Err(SignError::Key("the signer has no certificate".into()));
    };
    let name = if opts.name.is_empty() {
        crate::verify::common_name(&cert.tbs_certificate.subject)
    } else {
        opts.name.clone()
    };
    let prepared = prepare(pdf, opts, &name)?;
    let attrs = cms::signed_attributes(&prepared.content_digest, cert)?;
    let to_sign = cms::digest_to_sign(&attrs)?;
    let what = if opts.what.is_empty() {
        &opts.reason
    } else {
        &opts.what
    };
    let signature = signer.sign_digest(&to_sign, what).await?;
    let token = match &opts.tsa {
        Some(tsa) => Some(tsa.stamp(&crate::sha256_parts(&[&signature])).await?),
        None => None,
    };
    let cms_der = cms::signed_data(
        chain,
        signer.algorithm(),
        attrs,
        &signature,
        token.as_deref(),
    )?;
    finish(prepared, &cms_der)
}
