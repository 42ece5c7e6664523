//! The CMS `SignedData` of a PAdES baseline signature: detached, SHA-256, signed attributes
//! `contentType`, `messageDigest` and `signingCertificateV2` (no `signingTime`: PAdES puts the
//! time in the signature dictionary), the chain embedded, and an optional RFC 3161 token as the
//! unsigned attribute `signatureTimeStampToken` (PAdES B-T).

use crate::keys::Algorithm;
use crate::{Result, SignError, oid};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedAttributes, SignedData, SignerIdentifier,
    SignerInfo, SignerInfos,
};
use der::asn1::{Any, OctetString, SetOfVec};
use der::{Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;

/// A SignerInfo as read from a signature.
pub type SignerInfoRef = SignerInfo;

/// `ESSCertIDv2` (RFC 5035); the hash algorithm is absent when it is the default SHA-256.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertIdV2 {
    #[asn1(optional = "true")]
    pub hash_algorithm: Option<AlgorithmIdentifierOwned>,
    pub cert_hash: OctetString,
    #[asn1(optional = "true")]
    pub issuer_serial: Option<Any>,
}

/// `SigningCertificateV2` (RFC 5035).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificateV2 {
    pub certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    pub policies: Option<Any>,
}

pub(crate) fn sha256_identifier() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: oid::SHA256,
        parameters: None,
    }
}

fn attribute(oid: const_oid::ObjectIdentifier, value: Any) -> Result<Attribute> {
    let mut values = SetOfVec::new();
    values.insert(value)?;
    Ok(Attribute { oid, values })
}

/// The signed attributes over a content digest, binding the signer's certificate.
pub fn signed_attributes(
    content_digest: &[u8; 32],
    signer: &Certificate,
) -> Result<SignedAttributes> {
    signed_attributes_of(oid::DATA, content_digest, signer)
}

/// The signed attributes of a content of the given type.
pub fn signed_attributes_of(
    content_type: const_oid::ObjectIdentifier,
    content_digest: &[u8; 32],
    signer: &Certificate,
) -> Result<SignedAttributes> {
    let cert_hash = crate::sha256_parts(&[&signer.to_der()?]);
    let signing_cert = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm: None,
            cert_hash: OctetString::new(cert_hash.to_vec())?,
            issuer_serial: None,
        }],
        policies: None,
    };
    let attrs = vec![
        attribute(oid::CONTENT_TYPE, Any::encode_from(&content_type)?)?,
        attribute(
            oid::MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(content_digest.to_vec())?)?,
        )?,
        attribute(
            oid::SIGNING_CERTIFICATE_V2,
            Any::encode_from(&signing_cert)?,
        )?,
    ];
    Ok(SetOfVec::try_from(attrs)?)
}

/// The digest the key signs: SHA-256 of the signed attributes' DER (as a SET).
pub fn digest_to_sign(attrs: &SignedAttributes) -> Result<[u8; 32]> {
    Ok(crate::sha256_parts(&[&attrs.to_der()?]))
}

/// The DER `ContentInfo` of the SignedData.
pub fn signed_data(
    chain: &[Certificate],
    algorithm: Algorithm,
    attrs: SignedAttributes,
    signature: &[u8],
    timestamp_token: Option<&[u8]>,
) -> Result<Vec<u8>> {
    build(chain, algorithm, attrs, signature, timestamp_token, None)
}

/// A SignedData with its content encapsulated (a timestamp token's TSTInfo) or detached.
pub(crate) fn build(
    chain: &[Certificate],
    algorithm: Algorithm,
    attrs: SignedAttributes,
    signature: &[u8],
    timestamp_token: Option<&[u8]>,
    econtent: Option<(const_oid::ObjectIdentifier, &[u8])>,
) -> Result<Vec<u8>> {
    let Some(signer) = chain.first() else {
        return Err(SignError::Cms("no signer certificate".into()));
    };
    let unsigned_attrs = match timestamp_token {
        Some(token) => {
            let mut set = SetOfVec::new();
            set.insert(attribute(oid::TIME_STAMP_TOKEN, Any::from_der(token)?)?)?;
            Some(set)
        }
        None => None,
    };
    let info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: signer.tbs_certificate.issuer.clone(),
            serial_number: signer.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256_identifier(),
        signed_attrs: Some(attrs),
        signature_algorithm: algorithm.identifier(),
        signature: OctetString::new(signature.to_vec())?,
        unsigned_attrs,
    };
    let mut certs = SetOfVec::new();
    for c in chain {
        let choice = CertificateChoices::Certificate(c.clone());
        if !certs.iter().any(|x| x == &choice) {
            certs.insert(choice)?;
        }
    }
    let mut digests = SetOfVec::new();
    digests.insert(sha256_identifier())?;
    let mut infos = SetOfVec::new();
    infos.insert(info)?;
    let encap_content_info = match econtent {
        Some((econtent_type, bytes)) => EncapsulatedContentInfo {
            econtent_type,
            econtent: Some(Any::encode_from(&OctetString::new(bytes.to_vec())?)?),
        },
        None => EncapsulatedContentInfo {
            econtent_type: oid::DATA,
            econtent: None,
        },
    };
    let sd = SignedData {
        // RFC 5652 5.1: version 3 when the content is not id-data.
        version: if encap_content_info.econtent_type == oid::DATA {
            CmsVersion::V1
        } else {
            CmsVersion::V3
        },
        digest_algorithms: digests,
        encap_content_info,
        certificates: Some(CertificateSet(certs)),
        crls: None,
        signer_infos: SignerInfos(infos),
    };
    let ci = ContentInfo {
        content_type: oid::SIGNED_DATA,
        content: Any::encode_from(&sd)?,
    };
    Ok(ci.to_der()?)
}

/// Reads a `ContentInfo` holding a SignedData, ignoring the zero padding a PDF's
/// `/Contents` leaves after it.
pub fn parse_signed_data(bytes: &[u8]) -> Result<SignedData> {
    let mut reader = der::SliceReader::new(bytes)?;
    let ci = <ContentInfo as der::Decode>::decode(&mut reader)?;
    if ci.content_type != oid::SIGNED_DATA {
        return Err(SignError::Cms(format!(
            "not a SignedData but {}",
            ci.content_type
        )));
    }
    Ok(ci.content.decode_as::<SignedData>()?)
}

/// The values of one attribute.
pub fn attribute_values<'a>(
    attrs: Option<&'a SetOfVec<Attribute>>,
    oid: const_oid::ObjectIdentifier,
) -> impl Iterator<Item = &'a Any> + 'a {
    attrs
        .into_iter()
        .flat_map(|a| a.iter())
        .filter(move |a| a.oid == oid)
        .flat_map(|a| a.values.iter())
}

/// The certificates a SignedData carries.
pub fn certificates(sd: &SignedData) -> Vec<Certificate> {
    sd.certificates
        .iter()
        .flat_map(|s| s.0.iter())
        .filter_map(|c| match c {
            CertificateChoices::Certificate(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

/// The certificate a SignerInfo names, among those given.
pub fn find_signer<'a>(info: &SignerInfo, certs: &'a [Certificate]) -> Option<&'a Certificate> {
    certs.iter().find(|c| match &info.sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            c.tbs_certificate.issuer == isn.issuer
                && c.tbs_certificate.serial_number == isn.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => c
            .tbs_certificate
            .get::<x509_cert::ext::pkix::SubjectKeyIdentifier>()
            .ok()
            .flatten()
            .is_some_and(|(_, k)| k.0 == ski.0),
    })
}

/// Reads a DER `ContentInfo`.
pub fn content_info(der_bytes: &[u8]) -> Result<ContentInfo> {
    Ok(ContentInfo::from_der(der_bytes)?)
}
