//! RFC 3161 timestamps: the client motcua uses when a timestamp authority is configured, and
//! the token maker of the development authority in the [`sandbox`](crate::sandbox).

use crate::keys::{LocalKey, Signer};
use crate::{Result, SignError, cms, oid};
use chrono::{DateTime, Utc};
use cmpv2::status::{PkiStatus, PkiStatusInfo};
use der::asn1::{GeneralizedTime, Int, OctetString};
use der::{Any, Decode, Encode};
use spki::AlgorithmIdentifier;
use std::time::Duration;
use x509_tsp::{MessageImprint, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

/// A timestamp authority reached over HTTP (`application/timestamp-query`).
#[derive(Debug, Clone)]
pub struct TsaClient {
    pub url: String,
    http: reqwest::Client,
}

/// A non-negative INTEGER in its minimal DER form.
fn int(v: u64) -> Result<Int> {
    let bytes = v.to_be_bytes();
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(7);
    let mut minimal = bytes[first..].to_vec();
    if minimal[0] & 0x80 != 0 {
        minimal.insert(0, 0);
    }
    Ok(Int::new(&minimal)?)
}

fn sha256_imprint(digest: &[u8; 32]) -> Result<MessageImprint> {
    Ok(MessageImprint {
        hash_algorithm: AlgorithmIdentifier {
            oid: oid::SHA256,
            parameters: None,
        },
        hashed_message: OctetString::new(digest.to_vec())?,
    })
}

impl TsaClient {
    pub fn new(url: &str) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| SignError::Remote(e.to_string()))?;
        Ok(TsaClient {
            url: url.to_owned(),
            http,
        })
    }

    /// A token over `digest` (SHA-256 of the signature value); gives the token's DER.
    pub async fn stamp(&self, digest: &[u8; 32]) -> Result<Vec<u8>> {
        let nonce: u64 = {
            let mut b = [0u8; 8];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
            u64::from_be_bytes(b) >> 1
        };
        let req = TimeStampReq {
            version: TspVersion::V1,
            message_imprint: sha256_imprint(digest)?,
            req_policy: None,
            nonce: Some(int(nonce)?),
            cert_req: true,
            extensions: None,
        };
        let resp = self
            .http
            .post(&self.url)
            .header("content-type", "application/timestamp-query")
            .body(req.to_der()?)
            .send()
            .await
            .map_err(|e| SignError::Remote(format!("timestamp authority: {e}")))?;
        if !resp.status().is_success() {
            return Err(SignError::Remote(format!(
                "timestamp authority answered {}",
                resp.status()
            )));
        }
        let body = resp
            .bytes()
            .await
            .map_err(|e| SignError::Remote(e.to_string()))?;
        let resp = TimeStampResp::from_der(&body)?;
        if !matches!(
            resp.status.status,
            PkiStatus::Accepted | PkiStatus::GrantedWithMods
        ) {
            return Err(SignError::Remote(format!(
                "timestamp refused: {:?}",
                resp.status.status
            )));
        }
        let Some(token) = resp.time_stamp_token else {
            return Err(SignError::Remote(
                "timestamp response without a token".into(),
            ));
        };
        let der = token.to_der()?;
        let info = token_info(&der)?;
        if info.message_imprint.hashed_message.as_bytes() != digest {
            return Err(SignError::Remote("the token stamps another digest".into()));
        }
        Ok(der)
    }
}

/// The TSTInfo inside a token.
pub fn token_info(token: &[u8]) -> Result<TstInfo> {
    let sd = cms::parse_signed_data(token)?;
    if sd.encap_content_info.econtent_type != oid::TST_INFO {
        return Err(SignError::Cms("the token holds no TSTInfo".into()));
    }
    let Some(content) = sd.encap_content_info.econtent.as_ref() else {
        return Err(SignError::Cms("the token's TSTInfo is empty".into()));
    };
    let octets = content.decode_as::<OctetString>()?;
    Ok(TstInfo::from_der(octets.as_bytes())?)
}

/// Makes a token over a request (the development authority).
pub fn respond(key: &LocalKey, request: &[u8], serial: u64, now: DateTime<Utc>) -> Result<Vec<u8>> {
    let req = TimeStampReq::from_der(request)?;
    if req.message_imprint.hash_algorithm.oid != oid::SHA256 {
        let refused = TimeStampResp {
            status: PkiStatusInfo {
                status: PkiStatus::Rejection,
                status_string: None,
                fail_info: None,
            },
            time_stamp_token: None,
        };
        return Ok(refused.to_der()?);
    }
    let info = TstInfo {
        version: TspVersion::V1,
        policy: oid::DEV_TSA_POLICY,
        message_imprint: req.message_imprint.clone(),
        serial_number: int(serial)?,
        gen_time: GeneralizedTime::from_system_time(now.into())?,
        accuracy: None,
        ordering: false,
        nonce: req.nonce.clone(),
        tsa: None,
        extensions: None,
    };
    let info_der = info.to_der()?;
    let cert = key
        .chain()
        .first()
        .ok_or_else(|| SignError::Key("the authority has no certificate".into()))?;
    let attrs = cms::signed_attributes_of(oid::TST_INFO, &crate::sha256_parts(&[&info_der]), cert)?;
    let sig = key.sign_now(&cms::digest_to_sign(&attrs)?)?;
    let chain = if req.cert_req {
        key.chain()
    } else {
        &key.chain()[..1]
    };
    let token = cms::build(
        chain,
        key.algorithm(),
        attrs,
        &sig,
        None,
        Some((oid::TST_INFO, &info_der)),
    )?;
    let resp = TimeStampResp {
        status: PkiStatusInfo {
            status: PkiStatus::Accepted,
            status_string: None,
            fail_info: None,
        },
        time_stamp_token: Some(cms::content_info(&token)?),
    };
    Ok(resp.to_der()?)
}

/// Parses DER as `Any` (for tests and callers that hold raw tokens).
pub fn any(der_bytes: &[u8]) -> Result<Any> {
    Ok(Any::from_der(der_bytes)?)
}
