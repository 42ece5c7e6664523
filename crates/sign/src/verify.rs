//! Verification of any PDF's signatures: each signature's integrity, the chain to the trusted
//! roots, validity at the signing time (the timestamp's when there is one, else the time the
//! signer claims), what changed after each signature, and whether it covers the whole file.
//!
//! A bad signature is a finding, not an error: [`verify_pdf`] fails only on a file that is not a
//! PDF.

use crate::{SignError, cms, oid};
use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use const_oid::ObjectIdentifier as Oid;
use der::asn1::OctetString;
use der::{Encode, Tag, Tagged};
use lopdf::{Dictionary, Document, Object, ObjectId};
pub use motcua_domain::signatures::SignatureReport;
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;
use x509_cert::name::Name;

/// The roots a signature must chain to (the province's trusted authorities).
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    roots: Vec<Certificate>,
}

impl TrustStore {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, cert: Certificate) {
        if !self.roots.contains(&cert) {
            self.roots.push(cert);
        }
    }
    /// Adds every certificate of a PEM text.
    pub fn add_pem(&mut self, pem: &str) -> crate::Result<usize> {
        let certs = crate::keys::certificates_from_pem(pem)?;
        let n = certs.len();
        for c in certs {
            self.add(c);
        }
        Ok(n)
    }
    /// Adds a PEM or DER file.
    pub fn add_file(&mut self, path: &std::path::Path) -> crate::Result<usize> {
        let bytes = std::fs::read(path)?;
        if bytes.starts_with(b"-----") || bytes.windows(10).any(|w| w == b"-----BEGIN") {
            self.add_pem(&String::from_utf8_lossy(&bytes))
        } else {
            self.add(crate::keys::certificate_from_bytes(&bytes)?);
            Ok(1)
        }
    }
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }
    fn is_root(&self, cert: &Certificate) -> bool {
        self.roots.iter().any(|r| {
            r == cert
                || (r.tbs_certificate.subject == cert.tbs_certificate.subject
                    && r.tbs_certificate.subject_public_key_info
                        == cert.tbs_certificate.subject_public_key_info)
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn of_digest_oid(o: Oid) -> Option<Hash> {
        match o {
            x if x == oid::SHA256 => Some(Hash::Sha256),
            x if x == oid::SHA384 => Some(Hash::Sha384),
            x if x == oid::SHA512 => Some(Hash::Sha512),
            _ => None,
        }
    }
    fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        use sha2::Digest;
        fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut h = D::new();
            for p in parts {
                h.update(p);
            }
            h.finalize().to_vec()
        }
        match self {
            Hash::Sha256 => run::<sha2::Sha256>(parts),
            Hash::Sha384 => run::<sha2::Sha384>(parts),
            Hash::Sha512 => run::<sha2::Sha512>(parts),
        }
    }
}

/// The hash a certificate's signature algorithm implies.
fn hash_of_signature_algorithm(o: Oid) -> Option<Hash> {
    match o {
        x if x == oid::ECDSA_SHA256 || x == oid::SHA256_WITH_RSA => Some(Hash::Sha256),
        x if x == oid::ECDSA_SHA384 || x == oid::SHA384_WITH_RSA => Some(Hash::Sha384),
        x if x == oid::ECDSA_SHA512 || x == oid::SHA512_WITH_RSA => Some(Hash::Sha512),
        _ => None,
    }
}

/// Checks a signature over a digest with a public key. `sig_alg` names the scheme (its hash
/// is the digest's; for plain `rsaEncryption` the digest's length tells it).
pub(crate) fn check_signature(
    spki: &SubjectPublicKeyInfoOwned,
    sig_alg: Oid,
    digest: &[u8],
    signature: &[u8],
) -> std::result::Result<(), String> {
    let key_der = spki.to_der().map_err(|e| e.to_string())?;
    if spki.algorithm.oid == oid::EC_PUBLIC_KEY {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        use p256::pkcs8::DecodePublicKey;
        if ![oid::ECDSA_SHA256, oid::ECDSA_SHA384, oid::ECDSA_SHA512].contains(&sig_alg) {
            return Err(format!("algorithm {sig_alg} does not fit an EC key"));
        }
        let key = p256::ecdsa::VerifyingKey::from_public_key_der(&key_der)
            .map_err(|_| "only P-256 EC keys are supported".to_owned())?;
        let sig = p256::ecdsa::Signature::from_der(signature).map_err(|e| e.to_string())?;
        return key
            .verify_prehash(digest, &sig)
            .map_err(|_| "the signature value does not match".to_owned());
    }
    if spki.algorithm.oid == oid::RSA_ENCRYPTION {
        use rsa::pkcs8::DecodePublicKey;
        let key = rsa::RsaPublicKey::from_public_key_der(&key_der).map_err(|e| e.to_string())?;
        let hash = hash_of_signature_algorithm(sig_alg).or(match digest.len() {
            32 if sig_alg == oid::RSA_ENCRYPTION => Some(Hash::Sha256),
            48 if sig_alg == oid::RSA_ENCRYPTION => Some(Hash::Sha384),
            64 if sig_alg == oid::RSA_ENCRYPTION => Some(Hash::Sha512),
            _ => None,
        });
        let scheme = match hash {
            Some(Hash::Sha256) => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
            Some(Hash::Sha384) => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
            Some(Hash::Sha512) => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
            None => return Err(format!("unsupported RSA signature algorithm {sig_alg}")),
        };
        return key
            .verify(scheme, digest, signature)
            .map_err(|_| "the signature value does not match".to_owned());
    }
    Err(format!("unsupported key algorithm {}", spki.algorithm.oid))
}

fn any_string(v: &der::Any) -> String {
    match v.tag() {
        Tag::BmpString => {
            let units: Vec<u16> = v
                .value()
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        _ => String::from_utf8_lossy(v.value()).into_owned(),
    }
}

/// The common name of a distinguished name (its whole text when it has none).
pub fn common_name(name: &Name) -> String {
    const CN: Oid = Oid::new_unwrap("2.5.4.3");
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == CN)
        .map(|atv| any_string(&atv.value))
        .unwrap_or_else(|| name.to_string())
}

fn cert_time(t: &x509_cert::time::Time) -> DateTime<Utc> {
    let d = t.to_unix_duration();
    Utc.timestamp_opt(d.as_secs() as i64, 0)
        .single()
        .unwrap_or_default()
}

fn verify_cert_signature(cert: &Certificate, issuer: &Certificate) -> bool {
    let Ok(tbs) = cert.tbs_certificate.to_der() else {
        return false;
    };
    let Some(hash) = hash_of_signature_algorithm(cert.signature_algorithm.oid) else {
        return false;
    };
    let Some(sig) = cert.signature.as_bytes() else {
        return false;
    };
    check_signature(
        &issuer.tbs_certificate.subject_public_key_info,
        cert.signature_algorithm.oid,
        &hash.digest(&[&tbs]),
        sig,
    )
    .is_ok()
}

fn is_ca(cert: &Certificate) -> bool {
    cert.tbs_certificate
        .get::<x509_cert::ext::pkix::BasicConstraints>()
        .ok()
        .flatten()
        .is_some_and(|(_, bc)| bc.ca)
}

/// The chain from `leaf` to a trusted root, through the certificates given; `None` when there
/// is none.
fn chain_to_root(
    leaf: &Certificate,
    pool: &[Certificate],
    trust: &TrustStore,
) -> Option<Vec<Certificate>> {
    let mut path = vec![leaf.clone()];
    for _ in 0..8 {
        let current = path.last().cloned()?;
        if trust.is_root(&current) {
            return Some(path);
        }
        let issuer = trust
            .roots
            .iter()
            .chain(pool.iter())
            .find(|c| {
                c.tbs_certificate.subject == current.tbs_certificate.issuer
                    && is_ca(c)
                    && verify_cert_signature(&current, c)
                    && !path.contains(c)
            })?
            .clone();
        path.push(issuer);
    }
    None
}

/// A certificate of the path that was not valid at `at`, with the words to say so.
fn validity_problem(path: &[Certificate], at: DateTime<Utc>) -> Option<(String, String)> {
    for c in path {
        let v = &c.tbs_certificate.validity;
        let (from, to) = (cert_time(&v.not_before), cert_time(&v.not_after));
        let who = common_name(&c.tbs_certificate.subject);
        if at > to {
            return Some((
                format!(
                    "the certificate of {who} expired on {} (before the signing time)",
                    to.format("%Y-%m-%d")
                ),
                format!(
                    "chứng thư số của {who} đã hết hạn ngày {} (trước thời điểm ký)",
                    to.format("%d/%m/%Y")
                ),
            ));
        }
        if at < from {
            return Some((
                format!(
                    "the certificate of {who} was not yet valid at the signing time (valid from {})",
                    from.format("%Y-%m-%d")
                ),
                format!(
                    "chứng thư số của {who} chưa có hiệu lực tại thời điểm ký (hiệu lực từ {})",
                    from.format("%d/%m/%Y")
                ),
            ));
        }
    }
    None
}

/// The verified time of a timestamp token over `signature`, or why it is not acceptable.
fn check_timestamp(
    token: &der::Any,
    signature: &[u8],
    trust: &TrustStore,
) -> std::result::Result<DateTime<Utc>, String> {
    let der_bytes = token.to_der().map_err(|e| e.to_string())?;
    let sd = cms::parse_signed_data(&der_bytes).map_err(|e| e.to_string())?;
    let info = crate::tsa::token_info(&der_bytes).map_err(|e| e.to_string())?;
    let imprint_hash = Hash::of_digest_oid(info.message_imprint.hash_algorithm.oid)
        .ok_or("the timestamp uses an unsupported hash")?;
    if imprint_hash.digest(&[signature]) != info.message_imprint.hashed_message.as_bytes() {
        return Err("the timestamp stamps another signature".into());
    }
    let certs = cms::certificates(&sd);
    let signer_info = sd
        .signer_infos
        .0
        .iter()
        .next()
        .ok_or("the timestamp has no signer")?;
    let tsa =
        cms::find_signer(signer_info, &certs).ok_or("the timestamp's certificate is missing")?;
    let Some(content) = sd.encap_content_info.econtent.as_ref() else {
        return Err("the timestamp is empty".into());
    };
    let content = content
        .decode_as::<OctetString>()
        .map_err(|e| e.to_string())?;
    check_signer_info(signer_info, tsa, content.as_bytes())?;
    let at = cert_time(&x509_cert::time::Time::GeneralTime(info.gen_time));
    let path = chain_to_root(tsa, &certs, trust).ok_or("the timestamp authority is not trusted")?;
    if let Some((why, _)) = validity_problem(&path, at) {
        return Err(format!("timestamp: {why}"));
    }
    Ok(at)
}

/// Checks one SignerInfo over `content`: the message digest and the signature value.
fn check_signer_info(
    info: &cms::SignerInfoRef,
    cert: &Certificate,
    content: &[u8],
) -> std::result::Result<(), String> {
    let hash = Hash::of_digest_oid(info.digest_alg.oid)
        .ok_or_else(|| format!("unsupported digest algorithm {}", info.digest_alg.oid))?;
    let digest = hash.digest(&[content]);
    let signed_digest = match &info.signed_attrs {
        Some(attrs) => {
            let md = cms::attribute_values(Some(attrs), oid::MESSAGE_DIGEST)
                .next()
                .ok_or("no message digest among the signed attributes")?
                .decode_as::<OctetString>()
                .map_err(|e| e.to_string())?;
            if md.as_bytes() != digest.as_slice() {
                return Err("digest mismatch: the signed bytes were changed, or the signature is over another document".into());
            }
            if let Some(v) = cms::attribute_values(Some(attrs), oid::SIGNING_CERTIFICATE_V2).next()
            {
                let sc = v
                    .decode_as::<cms::SigningCertificateV2>()
                    .map_err(|e| e.to_string())?;
                let cert_der = cert.to_der().map_err(|e| e.to_string())?;
                let bound = sc.certs.first().is_some_and(|id| {
                    let h = id
                        .hash_algorithm
                        .as_ref()
                        .map_or(Some(Hash::Sha256), |a| Hash::of_digest_oid(a.oid));
                    h.is_some_and(|h| h.digest(&[&cert_der]) == id.cert_hash.as_bytes())
                });
                if !bound {
                    return Err("the signed attributes name another certificate".into());
                }
            }
            hash.digest(&[&attrs.to_der().map_err(|e| e.to_string())?])
        }
        None => digest,
    };
    check_signature(
        &cert.tbs_certificate.subject_public_key_info,
        info.signature_algorithm.oid,
        &signed_digest,
        info.signature.as_bytes(),
    )
}

fn int(o: &Object) -> Option<usize> {
    o.as_i64().ok().and_then(|i| usize::try_from(i).ok())
}

fn pdf_time(s: &[u8]) -> Option<DateTime<FixedOffset>> {
    let s = std::str::from_utf8(s).ok()?.trim_start_matches("D:");
    let digits: String = s.chars().take(14).collect();
    let naive =
        chrono::NaiveDateTime::parse_from_str(&format!("{digits:0<14}"), "%Y%m%d%H%M%S").ok()?;
    let rest = &s[digits.len().min(s.len())..];
    let offset = match rest.chars().next() {
        Some(c @ ('+' | '-')) => {
            let nums: Vec<i32> = rest[1..]
                .split('\'')
                .filter(|p| !p.is_empty())
                .filter_map(|p| p.parse().ok())
                .collect();
            let secs =
                nums.first().copied().unwrap_or(0) * 3600 + nums.get(1).copied().unwrap_or(0) * 60;
            FixedOffset::east_opt(if c == '-' { -secs } else { secs })?
        }
        _ => FixedOffset::east_opt(0)?,
    };
    offset.from_local_datetime(&naive).single()
}

fn decode_text(bytes: &[u8]) -> String {
    if bytes.starts_with(&[0xfe, 0xff]) {
        let units: Vec<u16> = bytes[2..]
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        String::from_utf8_lossy(bytes).into_owned()
    }
}

struct Found {
    id: ObjectId,
    field: String,
    dict: Dictionary,
}

/// Every signature dictionary of the document, with its field's name.
fn signatures(doc: &Document) -> Vec<Found> {
    let mut names = std::collections::HashMap::new();
    for obj in doc.objects.values() {
        if let Ok(d) = obj.as_dict()
            && let Ok(v) = d.get(b"V").and_then(Object::as_reference)
        {
            let name = d
                .get(b"T")
                .and_then(Object::as_str)
                .map(decode_text)
                .unwrap_or_default();
            names.insert(v, name);
        }
    }
    let mut out: Vec<Found> = doc
        .objects
        .iter()
        .filter_map(|(id, o)| {
            let d = o.as_dict().ok()?;
            d.get(b"ByteRange").ok()?;
            d.get(b"Contents").ok()?;
            Some(Found {
                id: *id,
                field: names.get(id).cloned().unwrap_or_default(),
                dict: d.clone(),
            })
        })
        .collect();
    out.sort_by_key(|f| {
        f.dict
            .get(b"ByteRange")
            .and_then(Object::as_array)
            .ok()
            .and_then(|a| Some(int(a.get(2)?)? + int(a.get(3)?)?))
            .unwrap_or(0)
    });
    out
}

fn is_sig_field(doc: &Document, o: &Object) -> bool {
    let d = match doc.dereference(o) {
        Ok((_, Object::Dictionary(d))) => d,
        _ => return false,
    };
    d.get(b"FT")
        .and_then(Object::as_name)
        .is_ok_and(|n| n == b"Sig")
}

/// `new` keeps every element of `old` and adds only signature fields.
fn only_signatures_added(doc: &Document, old: &[Object], new: &[Object]) -> bool {
    old.iter().all(|o| new.contains(o))
        && new
            .iter()
            .filter(|o| !old.contains(o))
            .all(|o| is_sig_field(doc, o))
}

fn changed_keys<'a>(old: &'a Dictionary, new: &'a Dictionary) -> Vec<&'a [u8]> {
    let mut keys: Vec<&[u8]> = Vec::new();
    for (k, v) in new.iter() {
        if old.get(k).ok() != Some(v) {
            keys.push(k);
        }
    }
    for (k, _) in old.iter() {
        if new.get(k).is_err() {
            keys.push(k);
        }
    }
    keys
}

fn form_change_allowed(doc: &Document, old: &Dictionary, new: &Dictionary) -> bool {
    changed_keys(old, new).iter().all(|k| match *k {
        b"Fields" => {
            let f = |d: &Dictionary| -> Vec<Object> {
                d.get(b"Fields")
                    .ok()
                    .and_then(|o| doc.dereference(o).ok())
                    .and_then(|(_, o)| o.as_array().ok().cloned())
                    .unwrap_or_default()
            };
            only_signatures_added(doc, &f(old), &f(new))
        }
        b"SigFlags" | b"DR" | b"DA" => true,
        _ => false,
    })
}

/// The first change made after a signature that is not one more signature: a short English
/// and Vietnamese description of it.
fn disallowed_change(signed: &Document, now: &Document) -> Option<(String, String)> {
    for (id, new) in &now.objects {
        let Some(old) = signed.objects.get(id) else {
            continue; // a new object matters only through a changed one that uses it
        };
        if old == new {
            continue;
        }
        if let Object::Stream(s) = new
            && s.dict
                .get(b"Type")
                .and_then(Object::as_name)
                .is_ok_and(|t| t == b"XRef" || t == b"ObjStm")
        {
            continue;
        }
        let allowed = match (old, new) {
            (Object::Dictionary(o), Object::Dictionary(n)) => {
                let ty = n.get(b"Type").and_then(Object::as_name).unwrap_or(b"");
                let keys = changed_keys(o, n);
                if ty == b"Catalog" {
                    keys.iter().all(|k| match *k {
                        b"AcroForm" => match (o.get(b"AcroForm"), n.get(b"AcroForm")) {
                            (Ok(Object::Dictionary(a)), Ok(Object::Dictionary(b))) => {
                                form_change_allowed(now, a, b)
                            }
                            (Err(_), Ok(Object::Reference(_))) => true,
                            (Err(_), Ok(Object::Dictionary(b))) => {
                                form_change_allowed(now, &Dictionary::new(), b)
                            }
                            _ => false,
                        },
                        b"DSS" => true,
                        _ => false,
                    })
                } else if ty == b"Page" {
                    keys.iter().all(|k| {
                        *k == b"Annots" && {
                            let a = |d: &Dictionary| -> Vec<Object> {
                                d.get(b"Annots")
                                    .ok()
                                    .and_then(|x| now.dereference(x).ok())
                                    .and_then(|(_, x)| x.as_array().ok().cloned())
                                    .unwrap_or_default()
                            };
                            only_signatures_added(now, &a(o), &a(n))
                        }
                    })
                } else if o.get(b"Fields").is_ok() || n.get(b"SigFlags").is_ok() {
                    form_change_allowed(now, o, n)
                } else if n
                    .get(b"FT")
                    .and_then(Object::as_name)
                    .is_ok_and(|t| t == b"Sig")
                {
                    // An empty signature field being signed.
                    o.get(b"V").is_err() && keys.iter().all(|k| matches!(*k, b"V" | b"AP"))
                } else {
                    false
                }
            }
            (Object::Array(o), Object::Array(n)) => only_signatures_added(now, o, n),
            _ => false,
        };
        if !allowed {
            let what = match new {
                Object::Stream(_) => "a content stream or image",
                Object::Dictionary(d)
                    if d.get(b"Type")
                        .and_then(Object::as_name)
                        .is_ok_and(|t| t == b"Page") =>
                {
                    "a page"
                }
                _ => "an object",
            };
            let vi = match new {
                Object::Stream(_) => "một luồng nội dung hoặc hình ảnh",
                Object::Dictionary(d)
                    if d.get(b"Type")
                        .and_then(Object::as_name)
                        .is_ok_and(|t| t == b"Page") =>
                {
                    "một trang"
                }
                _ => "một đối tượng",
            };
            return Some((
                format!(
                    "modified after signing: {what} (object {}) was changed",
                    id.0
                ),
                format!(
                    "tài liệu bị sửa đổi sau khi ký: {vi} (đối tượng {}) đã bị thay đổi",
                    id.0
                ),
            ));
        }
    }
    for id in signed.objects.keys() {
        if !now.objects.contains_key(id) {
            return Some((
                format!("modified after signing: object {} was removed", id.0),
                format!(
                    "tài liệu bị sửa đổi sau khi ký: đối tượng {} đã bị xóa",
                    id.0
                ),
            ));
        }
    }
    None
}

/// Verifies every signature of a PDF against the trusted roots; `now` is used when a signature
/// claims no time.
pub fn verify_pdf(
    bytes: &[u8],
    trust: &TrustStore,
    now: DateTime<Utc>,
) -> crate::Result<Vec<SignatureReport>> {
    let doc = Document::load_mem(bytes)
        .map_err(|e| SignError::Pdf(format!("not a readable PDF: {e}")))?;
    Ok(signatures(&doc)
        .iter()
        .map(|f| verify_one(bytes, &doc, f, trust, now))
        .collect())
}

fn verify_one(
    bytes: &[u8],
    doc: &Document,
    found: &Found,
    trust: &TrustStore,
    now: DateTime<Utc>,
) -> SignatureReport {
    let d = &found.dict;
    let text = |k: &[u8]| {
        d.get(k)
            .and_then(Object::as_str)
            .map(decode_text)
            .unwrap_or_default()
    };
    let mut report = SignatureReport {
        field: if found.field.is_empty() {
            format!("object {}", found.id.0)
        } else {
            found.field.clone()
        },
        signer: text(b"Name"),
        valid: false,
        intact: false,
        trusted: false,
        signed_at: None,
        timestamped: false,
        covers_whole_document: false,
        modified_after: false,
        reason: String::new(),
        reason_vi: String::new(),
        purpose: text(b"Reason"),
        issuer: String::new(),
        serial: String::new(),
        algorithm: String::new(),
    };
    let fail = |mut r: SignatureReport, en: String, vi: String| {
        r.reason = en;
        r.reason_vi = vi;
        r
    };
    // The byte range: from the start, around exactly the hex string of /Contents, within the file.
    let range: Vec<usize> = d
        .get(b"ByteRange")
        .and_then(Object::as_array)
        .map(|a| a.iter().filter_map(int).collect())
        .unwrap_or_default();
    let &[a0, a1, b0, b1] = range.as_slice() else {
        return fail(
            report,
            "the byte range is malformed".into(),
            "phạm vi ký (ByteRange) không hợp lệ".into(),
        );
    };
    let end = b0.saturating_add(b1);
    if a0 != 0
        || a1 >= b0
        || end > bytes.len()
        || bytes.get(a1) != Some(&b'<')
        || b0 == 0
        || bytes.get(b0 - 1) != Some(&b'>')
    {
        return fail(
            report,
            "the byte range does not fit the file (it leaves out more than the signature)".into(),
            "phạm vi ký không khớp với tệp (bỏ ra ngoài nhiều hơn chữ ký)".into(),
        );
    }
    report.covers_whole_document = end == bytes.len();
    let contents = d.get(b"Contents").and_then(Object::as_str).unwrap_or(&[]);
    let sd = match cms::parse_signed_data(contents) {
        Ok(sd) => sd,
        Err(e) => {
            return fail(
                report,
                format!("the signature cannot be read: {e}"),
                "không đọc được chữ ký".into(),
            );
        }
    };
    let certs = cms::certificates(&sd);
    let Some(info) = sd.signer_infos.0.iter().next() else {
        return fail(
            report,
            "the signature has no signer".into(),
            "chữ ký không có người ký".into(),
        );
    };
    let Some(cert) = cms::find_signer(info, &certs) else {
        return fail(
            report,
            "the signer's certificate is not in the signature".into(),
            "chữ ký không kèm chứng thư số của người ký".into(),
        );
    };
    report.signer = common_name(&cert.tbs_certificate.subject);
    report.issuer = common_name(&cert.tbs_certificate.issuer);
    report.serial = hex::encode_upper(cert.tbs_certificate.serial_number.as_bytes());
    report.algorithm = match info.signature_algorithm.oid {
        x if x == oid::ECDSA_SHA256 => "ECDSA P-256 SHA-256".into(),
        x if x == oid::SHA256_WITH_RSA || x == oid::RSA_ENCRYPTION => "RSA SHA-256".into(),
        x => x.to_string(),
    };
    // Integrity.
    if let Err(why) = check_signer_info(info, cert, &[&bytes[..a1], &bytes[b0..end]].concat()) {
        let vi = if why.starts_with("digest mismatch") {
            "sai giá trị băm: nội dung đã ký bị thay đổi, hoặc chữ ký thuộc tài liệu khác"
                .to_owned()
        } else {
            format!("chữ ký không đúng: {why}")
        };
        return fail(report, why, vi);
    }
    report.intact = true;
    // When: the timestamp, else the claimed time.
    let token = cms::attribute_values(info.unsigned_attrs.as_ref(), oid::TIME_STAMP_TOKEN).next();
    let at = match token {
        Some(t) => match check_timestamp(t, info.signature.as_bytes(), trust) {
            Ok(at) => {
                report.timestamped = true;
                at
            }
            Err(why) => {
                return fail(
                    report,
                    format!("the timestamp is not valid: {why}"),
                    format!("dấu thời gian không hợp lệ: {why}"),
                );
            }
        },
        None => d
            .get(b"M")
            .and_then(Object::as_str)
            .ok()
            .and_then(pdf_time)
            .map_or(now, |t| t.with_timezone(&Utc)),
    };
    report.signed_at = Some(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    // Trust, and validity at that time.
    let Some(path) = chain_to_root(cert, &certs, trust) else {
        return fail(
            report,
            format!(
                "untrusted: the certificate of {} is not issued by a trusted authority",
                common_name(&cert.tbs_certificate.subject)
            ),
            format!(
                "không tin cậy: chứng thư số của {} không do tổ chức chứng thực tin cậy cấp",
                common_name(&cert.tbs_certificate.subject)
            ),
        );
    };
    report.trusted = true;
    if let Some((en, vi)) = validity_problem(&path, at) {
        return fail(report, en, vi);
    }
    if let Ok(Some((_, ku))) = cert.tbs_certificate.get::<x509_cert::ext::pkix::KeyUsage>()
        && !(ku.digital_signature() || ku.non_repudiation())
    {
        return fail(
            report,
            "the certificate is not for signing documents".into(),
            "chứng thư số không dùng để ký tài liệu".into(),
        );
    }
    // What came after.
    if !report.covers_whole_document {
        let later = match Document::load_mem(&bytes[..end]) {
            Ok(signed) => disallowed_change(&signed, doc),
            Err(_) => Some((
                "modified after signing: the signed revision cannot be read".into(),
                "tài liệu bị sửa đổi sau khi ký".into(),
            )),
        };
        if let Some((en, vi)) = later {
            report.modified_after = true;
            return fail(report, en, vi);
        }
    }
    report.valid = true;
    let (en, vi) = if report.covers_whole_document {
        (
            "the signature is valid".to_owned(),
            "chữ ký hợp lệ".to_owned(),
        )
    } else {
        (
            "the signature is valid; only later signatures were added after it".to_owned(),
            "chữ ký hợp lệ; sau đó chỉ có thêm các chữ ký khác".to_owned(),
        )
    };
    fail(report, en, vi)
}
