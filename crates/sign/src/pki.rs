//! A throw-away development PKI: a root CA and the certificates the demo and the tests sign with
//! (officer, leader, agency seal, timestamp authority), plus the bad ones verification must
//! refuse (expired, issued by an untrusted CA). Production uses the province's real certificates
//! and trusted roots, configured.

use crate::keys::LocalKey;
use crate::{Result, SignError, oid};
use chrono::{DateTime, Duration, Utc};
use der::asn1::{Any, SetOfVec};
use der::{Encode, Tag};
use spki::SubjectPublicKeyInfoOwned;
use std::path::Path;
use std::str::FromStr;
use x509_cert::Certificate;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

/// The password of the development PKCS#12 files.
pub const DEV_PASSWORD: &str = "motcua";

/// A distinguished name `C=VN, O=…, CN=…` with UTF-8 values (Vietnamese names as they are).
pub fn name(common_name: &str, organisation: &str) -> Result<Name> {
    let mut rdns = Vec::new();
    let mut push = |oid: &str, tag: Tag, value: &str| -> Result<()> {
        let atv = AttributeTypeAndValue {
            oid: const_oid::ObjectIdentifier::from_str(oid)
                .map_err(|e| SignError::Key(e.to_string()))?,
            value: Any::new(tag, value.as_bytes())?,
        };
        let mut set = SetOfVec::new();
        set.insert(atv)?;
        rdns.push(RelativeDistinguishedName(set));
        Ok(())
    };
    push("2.5.4.6", Tag::PrintableString, "VN")?;
    if !organisation.is_empty() {
        push("2.5.4.10", Tag::Utf8String, organisation)?;
    }
    push("2.5.4.3", Tag::Utf8String, common_name)?;
    Ok(RdnSequence(rdns))
}

fn serial() -> Result<SerialNumber> {
    let mut b = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    b[0] &= 0x7f;
    b[0] |= 0x10;
    Ok(SerialNumber::new(&b)?)
}

fn validity(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Validity> {
    let t = |d: DateTime<Utc>| -> Result<Time> {
        Time::try_from(std::time::SystemTime::from(d)).map_err(|e| SignError::Key(e.to_string()))
    };
    Ok(Validity {
        not_before: t(from)?,
        not_after: t(to)?,
    })
}

/// What a certificate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// A person's or an organisation's document signatures.
    Signing,
    /// A timestamp authority.
    TimeStamping,
}

/// The key type of a new certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    P256,
    /// RSA 2048 (as most Vietnamese CAs issue).
    Rsa2048,
}

/// A certification authority that can issue development certificates.
pub struct DevCa {
    key: p256::ecdsa::SigningKey,
    pub certificate: Certificate,
}

impl DevCa {
    /// A new self-signed root, valid from `now` minus a day for twenty years.
    pub fn new(common_name: &str, now: DateTime<Utc>) -> Result<Self> {
        let key = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
        let spki = SubjectPublicKeyInfoOwned::from_key(*key.verifying_key())
            .map_err(|e| SignError::Key(e.to_string()))?;
        let builder = CertificateBuilder::new(
            Profile::Root,
            serial()?,
            validity(now - Duration::days(1), now + Duration::days(365 * 20))?,
            name(common_name, "motcua (phát triển)")?,
            spki,
            &key,
        )
        .map_err(|e| SignError::Key(e.to_string()))?;
        let certificate = builder
            .build::<p256::ecdsa::DerSignature>()
            .map_err(|e| SignError::Key(e.to_string()))?;
        Ok(DevCa { key, certificate })
    }

    /// A certificate and its new key, valid over `[from, to]`.
    pub fn issue(
        &self,
        subject: Name,
        kind: KeyKind,
        usage: Usage,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<LocalKey> {
        use p256::pkcs8::EncodePrivateKey;
        let (pkcs8, spki) = match kind {
            KeyKind::P256 => {
                let k = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
                let spki = SubjectPublicKeyInfoOwned::from_key(*k.verifying_key())
                    .map_err(|e| SignError::Key(e.to_string()))?;
                (
                    k.to_pkcs8_der()
                        .map_err(|e| SignError::Key(e.to_string()))?,
                    spki,
                )
            }
            KeyKind::Rsa2048 => {
                let k = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048)
                    .map_err(|e| SignError::Key(e.to_string()))?;
                let spki = SubjectPublicKeyInfoOwned::from_key(k.to_public_key())
                    .map_err(|e| SignError::Key(e.to_string()))?;
                (
                    k.to_pkcs8_der()
                        .map_err(|e| SignError::Key(e.to_string()))?,
                    spki,
                )
            }
        };
        let mut builder = CertificateBuilder::new(
            Profile::Leaf {
                issuer: self.certificate.tbs_certificate.subject.clone(),
                enable_key_agreement: false,
                enable_key_encipherment: false,
                include_subject_key_identifier: true,
            },
            serial()?,
            validity(from, to)?,
            subject,
            spki,
            &self.key,
        )
        .map_err(|e| SignError::Key(e.to_string()))?;
        let eku = match usage {
            Usage::Signing => ExtendedKeyUsage(vec![oid::KP_DOCUMENT_SIGNING]),
            Usage::TimeStamping => ExtendedKeyUsage(vec![oid::KP_TIME_STAMPING]),
        };
        builder
            .add_extension(&eku)
            .map_err(|e| SignError::Key(e.to_string()))?;
        let cert = builder
            .build::<p256::ecdsa::DerSignature>()
            .map_err(|e| SignError::Key(e.to_string()))?;
        LocalKey::from_pkcs8_der(pkcs8.as_bytes(), vec![cert, self.certificate.clone()])
    }
}

/// One key of the development set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevIdentity {
    /// The file stem: `officer`, `leader`, `agency`…
    pub alias: &'static str,
    pub common_name: String,
    pub organisation: String,
    pub kind: KeyKind,
    pub usage: Usage,
    /// Days of validity before and after now; an expired certificate ends in the past.
    pub valid_days: (i64, i64),
    /// Issued by the second, untrusted CA.
    pub untrusted: bool,
}

/// The development set: officer, leader, agency seal, an RSA officer, the timestamp authority,
/// and the two a verifier must refuse.
pub fn dev_identities(agency: &str) -> Vec<DevIdentity> {
    let id = |alias, cn: &str, org: &str, kind, usage, valid_days, untrusted| DevIdentity {
        alias,
        common_name: cn.to_owned(),
        organisation: org.to_owned(),
        kind,
        usage,
        valid_days,
        untrusted,
    };
    vec![
        id(
            "officer",
            "Nguyễn Thị Lan",
            agency,
            KeyKind::P256,
            Usage::Signing,
            (1, 3 * 365),
            false,
        ),
        id(
            "leader",
            "Trần Văn Hùng",
            agency,
            KeyKind::P256,
            Usage::Signing,
            (1, 3 * 365),
            false,
        ),
        id(
            "agency",
            agency,
            agency,
            KeyKind::P256,
            Usage::Signing,
            (1, 5 * 365),
            false,
        ),
        id(
            "officer-rsa",
            "Lê Minh Đức",
            agency,
            KeyKind::Rsa2048,
            Usage::Signing,
            (1, 3 * 365),
            false,
        ),
        id(
            "tsa",
            "motcua TSA (phát triển)",
            "motcua (phát triển)",
            KeyKind::P256,
            Usage::TimeStamping,
            (1, 10 * 365),
            false,
        ),
        id(
            "expired",
            "Phạm Quốc Bảo",
            agency,
            KeyKind::P256,
            Usage::Signing,
            (3 * 365, -365),
            false,
        ),
        id(
            "untrusted",
            "Võ Thị Mai",
            "Tổ chức không tin cậy",
            KeyKind::P256,
            Usage::Signing,
            (1, 3 * 365),
            true,
        ),
    ]
}

/// Writes the development PKI into `dir`: `ca.pem` (the root to trust), and for each identity
/// `ALIAS.p12` (password [`DEV_PASSWORD`]) and `ALIAS.pem` (key and chain). Gives the files.
pub fn write_dev_ca(dir: &Path, agency: &str, now: DateTime<Utc>) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let ca = DevCa::new("motcua Development Root CA", now)?;
    let other = DevCa::new("Untrusted Test CA", now)?;
    let mut written = Vec::new();
    let mut write = |file: String, bytes: &[u8]| -> Result<()> {
        std::fs::write(dir.join(&file), bytes)?;
        written.push(file);
        Ok(())
    };
    write(
        "ca.pem".into(),
        crate::keys::certificate_pem(&ca.certificate)?.as_bytes(),
    )?;
    write(
        "untrusted-ca.pem".into(),
        crate::keys::certificate_pem(&other.certificate)?.as_bytes(),
    )?;
    for idt in dev_identities(agency) {
        let issuer = if idt.untrusted { &other } else { &ca };
        let key = issuer.issue(
            name(&idt.common_name, &idt.organisation)?,
            idt.kind,
            idt.usage,
            now - Duration::days(idt.valid_days.0),
            now + Duration::days(idt.valid_days.1),
        )?;
        write(
            format!("{}.p12", idt.alias),
            &pkcs12(&key, idt.alias, DEV_PASSWORD)?,
        )?;
        write(format!("{}.pem", idt.alias), pem_bundle(&key)?.as_bytes())?;
    }
    Ok(written)
}

/// The key and its chain as one PEM text.
pub fn pem_bundle(key: &LocalKey) -> Result<String> {
    use crate::keys::Signer;
    let der = key.pkcs8_der()?;
    let mut out = der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, &der)
        .map_err(|e| SignError::Key(e.to_string()))?;
    for c in key.chain() {
        out.push_str(&crate::keys::certificate_pem(c)?);
    }
    Ok(out)
}

/// The key and its chain as a PKCS#12 file (PBES2 AES-256, HMAC-SHA-256).
pub fn pkcs12(key: &LocalKey, alias: &str, password: &str) -> Result<Vec<u8>> {
    use crate::keys::Signer;
    let certs = key
        .chain()
        .iter()
        .map(|c| {
            p12_keystore::Certificate::from_der(&c.to_der()?)
                .map_err(|e| SignError::Key(e.to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    let pk = p12_keystore::PrivateKey::from_der(&key.pkcs8_der()?)
        .map_err(|e| SignError::Key(e.to_string()))?;
    let local_id = crate::sha256_parts(&[&key.chain()[0].to_der()?]);
    let chain = p12_keystore::PrivateKeyChain::new(local_id.to_vec(), pk, certs);
    let mut store = p12_keystore::KeyStore::new();
    store.add_entry(alias, p12_keystore::KeyStoreEntry::PrivateKeyChain(chain));
    store
        .writer(password)
        .write()
        .map_err(|e| SignError::Key(e.to_string()))
}

/// One person of an installation's development keys.
#[derive(Debug, Clone)]
pub struct DevUser {
    pub username: String,
    pub full_name: String,
    pub organisation: String,
}

/// Writes development keys in the layout the server reads (see [`crate::service`]):
/// `ca.pem`, `users/USERNAME.p12`, `agencies/CODE.p12` and `tsa.p12`, all with
/// [`DEV_PASSWORD`]. For the demo: the certificates are of a throw-away CA.
pub fn write_dev_installation(
    dir: &Path,
    users: &[DevUser],
    agencies: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<()> {
    std::fs::create_dir_all(dir.join("users"))?;
    std::fs::create_dir_all(dir.join("agencies"))?;
    let ca = DevCa::new("motcua Development Root CA", now)?;
    let (from, to) = (now - Duration::days(1), now + Duration::days(3 * 365));
    for u in users {
        let key = ca.issue(
            name(&u.full_name, &u.organisation)?,
            KeyKind::P256,
            Usage::Signing,
            from,
            to,
        )?;
        std::fs::write(
            dir.join("users").join(format!("{}.p12", u.username)),
            pkcs12(&key, &u.username, DEV_PASSWORD)?,
        )?;
    }
    for (code, agency) in agencies {
        let key = ca.issue(
            name(agency, agency)?,
            KeyKind::P256,
            Usage::Signing,
            from,
            to,
        )?;
        std::fs::write(
            dir.join("agencies").join(format!("{code}.p12")),
            pkcs12(&key, code, DEV_PASSWORD)?,
        )?;
    }
    let tsa = ca.issue(
        name("motcua TSA (phát triển)", "motcua (phát triển)")?,
        KeyKind::P256,
        Usage::TimeStamping,
        from,
        now + Duration::days(10 * 365),
    )?;
    std::fs::write(dir.join("tsa.p12"), pkcs12(&tsa, "tsa", DEV_PASSWORD)?)?;
    // Last: its presence says the set is complete.
    std::fs::write(
        dir.join("ca.pem"),
        crate::keys::certificate_pem(&ca.certificate)?,
    )?;
    Ok(())
}
