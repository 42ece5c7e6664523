//! Keys behind one [`Signer`] interface: a local key (PKCS#12 or PEM) and a remote signing
//! service on which the signer approves each request on their own device.

use crate::{Result, SignError, oid};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use der::{Decode, DecodePem, Encode};
use serde::{Deserialize, Serialize};
use spki::AlgorithmIdentifierOwned;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use x509_cert::Certificate;

/// A signature scheme over a SHA-256 digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256 (preferred for keys held by the server).
    EcdsaP256Sha256,
    /// RSA PKCS#1 v1.5 with SHA-256 (the certificates most Vietnamese CAs issue).
    RsaSha256,
}

impl Algorithm {
    /// The scheme of a certificate's public key.
    pub fn of_certificate(cert: &Certificate) -> Result<Self> {
        let spki = &cert.tbs_certificate.subject_public_key_info;
        if spki.algorithm.oid == oid::RSA_ENCRYPTION {
            return Ok(Algorithm::RsaSha256);
        }
        if spki.algorithm.oid == oid::EC_PUBLIC_KEY {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<const_oid::ObjectIdentifier>().ok());
            if curve == Some(oid::PRIME256V1) {
                return Ok(Algorithm::EcdsaP256Sha256);
            }
        }
        Err(SignError::Key(format!(
            "unsupported key algorithm {} (P-256 ECDSA or RSA are supported)",
            spki.algorithm.oid
        )))
    }

    /// The `signatureAlgorithm` of a CMS SignerInfo.
    pub fn identifier(self) -> AlgorithmIdentifierOwned {
        match self {
            Algorithm::EcdsaP256Sha256 => AlgorithmIdentifierOwned {
                oid: oid::ECDSA_SHA256,
                parameters: None,
            },
            Algorithm::RsaSha256 => AlgorithmIdentifierOwned {
                oid: oid::SHA256_WITH_RSA,
                parameters: Some(der::asn1::Null.into()),
            },
        }
    }
}

/// The future of one signature.
pub type SignFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>>> + Send + 'a>>;

/// Whatever holds a signing key: it knows its certificate chain (signer first) and signs a
/// SHA-256 digest, perhaps after its holder approves.
pub trait Signer: Send + Sync {
    /// The signer's certificate first, then its issuers.
    fn chain(&self) -> &[Certificate];
    fn algorithm(&self) -> Algorithm;
    /// Signs the digest of the signed attributes; `what` tells the holder what they sign.
    fn sign_digest<'a>(&'a self, digest: &'a [u8; 32], what: &'a str) -> SignFuture<'a>;
}

enum KeyMaterial {
    P256(p256::ecdsa::SigningKey),
    Rsa(Box<rsa::RsaPrivateKey>),
}

/// A key held in a file on this server (the agency seal, a development key).
pub struct LocalKey {
    key: KeyMaterial,
    chain: Vec<Certificate>,
}

impl std::fmt::Debug for LocalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKey")
            .field(
                "subject",
                &self
                    .chain
                    .first()
                    .map(|c| c.tbs_certificate.subject.to_string()),
            )
            .finish_non_exhaustive()
    }
}

impl LocalKey {
    /// A key and its chain (signer first) from PKCS#8 DER.
    pub fn from_pkcs8_der(key: &[u8], chain: Vec<Certificate>) -> Result<Self> {
        use p256::pkcs8::DecodePrivateKey;
        let Some(first) = chain.first() else {
            return Err(SignError::Key("the key has no certificate".into()));
        };
        let algorithm = Algorithm::of_certificate(first)?;
        let key = match algorithm {
            Algorithm::EcdsaP256Sha256 => KeyMaterial::P256(
                p256::ecdsa::SigningKey::from_pkcs8_der(key)
                    .map_err(|e| SignError::Key(format!("P-256 key: {e}")))?,
            ),
            Algorithm::RsaSha256 => KeyMaterial::Rsa(Box::new(
                rsa::RsaPrivateKey::from_pkcs8_der(key)
                    .map_err(|e| SignError::Key(format!("RSA key: {e}")))?,
            )),
        };
        let this = LocalKey { key, chain };
        this.check_pair()?;
        Ok(this)
    }

    /// A PKCS#12 file (PBES2 as OpenSSL 3 writes it, or the legacy 3DES/RC2 of older tools).
    pub fn from_pkcs12(bytes: &[u8], password: &str) -> Result<Self> {
        let store = p12_keystore::KeyStore::from_pkcs12(
            bytes,
            password,
            p12_keystore::Pkcs12ImportPolicy::Relaxed,
        )
        .map_err(|e| SignError::Key(format!("PKCS#12 (wrong password?): {e}")))?;
        let Some((_, chain)) = store.private_key_chain() else {
            return Err(SignError::Key(
                "the PKCS#12 file holds no private key".into(),
            ));
        };
        let certs = chain
            .certs()
            .iter()
            .map(|c| Certificate::from_der(c.as_der()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Self::from_pkcs8_der(chain.key().as_der(), certs)
    }

    /// A PEM private key (PKCS#8 `PRIVATE KEY`, or SEC1 `EC PRIVATE KEY`) and a PEM chain.
    pub fn from_pem(key_pem: &str, chain_pem: &str) -> Result<Self> {
        let chain = certificates_from_pem(chain_pem)?;
        let der = if let Some(block) = pem_block(key_pem, "EC PRIVATE KEY") {
            use p256::pkcs8::EncodePrivateKey;
            let sk = p256::SecretKey::from_sec1_pem(block)
                .map_err(|e| SignError::Key(format!("EC key: {e}")))?;
            sk.to_pkcs8_der()
                .map_err(|e| SignError::Key(e.to_string()))?
                .as_bytes()
                .to_vec()
        } else {
            let (label, der) = pem_rfc7468_decode(key_pem)?;
            if label != "PRIVATE KEY" {
                return Err(SignError::Key(format!(
                    "expected a PRIVATE KEY in PEM, found {label}"
                )));
            }
            der
        };
        Self::from_pkcs8_der(&der, chain)
    }

    /// Reads `FILE.p12`/`.pfx` (with the password) or a PEM file holding the key and its chain.
    pub fn from_file(path: &std::path::Path, password: &str) -> Result<Self> {
        let bytes = std::fs::read(path)?;
        if bytes.starts_with(b"-----") || bytes.windows(10).any(|w| w == b"-----BEGIN") {
            let text = String::from_utf8_lossy(&bytes);
            return Self::from_pem(&text, &text);
        }
        Self::from_pkcs12(&bytes, password)
    }

    fn check_pair(&self) -> Result<()> {
        let probe = crate::sha256_parts(&[b"motcua key check"]);
        let sig = self.sign_now(&probe)?;
        crate::verify::check_signature(
            &self.chain[0].tbs_certificate.subject_public_key_info,
            self.algorithm().identifier().oid,
            &probe,
            &sig,
        )
        .map_err(|_| SignError::Key("the private key does not match the certificate".into()))
    }

    /// Signs a digest at once.
    pub fn sign_now(&self, digest: &[u8; 32]) -> Result<Vec<u8>> {
        match &self.key {
            KeyMaterial::P256(k) => {
                use p256::ecdsa::signature::hazmat::PrehashSigner;
                let sig: p256::ecdsa::Signature = k
                    .sign_prehash(digest)
                    .map_err(|e| SignError::Key(e.to_string()))?;
                Ok(sig.to_der().as_bytes().to_vec())
            }
            KeyMaterial::Rsa(k) => k
                .sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), digest)
                .map_err(|e| SignError::Key(e.to_string())),
        }
    }

    /// The key as PKCS#8 DER (to write a key file).
    pub fn pkcs8_der(&self) -> Result<Vec<u8>> {
        use p256::pkcs8::EncodePrivateKey;
        let doc = match &self.key {
            KeyMaterial::P256(k) => k.to_pkcs8_der(),
            KeyMaterial::Rsa(k) => k.to_pkcs8_der(),
        }
        .map_err(|e| SignError::Key(e.to_string()))?;
        Ok(doc.as_bytes().to_vec())
    }
}

impl Signer for LocalKey {
    fn chain(&self) -> &[Certificate] {
        &self.chain
    }
    fn algorithm(&self) -> Algorithm {
        match self.key {
            KeyMaterial::P256(_) => Algorithm::EcdsaP256Sha256,
            KeyMaterial::Rsa(_) => Algorithm::RsaSha256,
        }
    }
    fn sign_digest<'a>(&'a self, digest: &'a [u8; 32], _what: &'a str) -> SignFuture<'a> {
        Box::pin(async move { self.sign_now(digest) })
    }
}

/// A shared key signs as the key itself (the server keeps its keys read once).
impl<S: Signer + ?Sized> Signer for std::sync::Arc<S> {
    fn chain(&self) -> &[Certificate] {
        (**self).chain()
    }
    fn algorithm(&self) -> Algorithm {
        (**self).algorithm()
    }
    fn sign_digest<'a>(&'a self, digest: &'a [u8; 32], what: &'a str) -> SignFuture<'a> {
        (**self).sign_digest(digest, what)
    }
}

/// The first PEM block with this label.
fn pem_block<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)?;
    let stop = start + text[start..].find(&end)? + end.len();
    Some(&text[start..stop])
}

fn pem_rfc7468_decode(pem: &str) -> Result<(String, Vec<u8>)> {
    let block = pem_block(pem, "PRIVATE KEY")
        .ok_or_else(|| SignError::Key("no PRIVATE KEY block in the PEM file".into()))?;
    let (label, der) =
        der::pem::decode_vec(block.as_bytes()).map_err(|e| SignError::Key(e.to_string()))?;
    Ok((label.to_owned(), der))
}

/// Every `CERTIFICATE` block of a PEM text, in order.
pub fn certificates_from_pem(pem: &str) -> Result<Vec<Certificate>> {
    let mut certs = Vec::new();
    let mut rest = pem;
    while let Some(block) = pem_block(rest, "CERTIFICATE") {
        certs.push(
            Certificate::from_pem(block.as_bytes())
                .map_err(|e| SignError::Key(format!("certificate: {e}")))?,
        );
        let end = rest.find(block).map_or(rest.len(), |i| i + block.len());
        rest = &rest[end..];
    }
    if certs.is_empty() {
        return Err(SignError::Key("no CERTIFICATE in the PEM text".into()));
    }
    Ok(certs)
}

/// A certificate as PEM.
pub fn certificate_pem(cert: &Certificate) -> Result<String> {
    use der::EncodePem;
    cert.to_pem(der::pem::LineEnding::LF)
        .map_err(|e| SignError::Key(e.to_string()))
}

/// Reads one certificate from PEM or DER.
pub fn certificate_from_bytes(bytes: &[u8]) -> Result<Certificate> {
    if bytes.starts_with(b"-----") {
        let text = String::from_utf8_lossy(bytes);
        return Certificate::from_pem(text.as_bytes()).map_err(|e| SignError::Key(e.to_string()));
    }
    Ok(Certificate::from_der(bytes)?)
}

// --- the remote signing service --------------------------------------------------------------

/// A signer's certificate as the remote service publishes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemoteCertificate {
    pub algorithm: Algorithm,
    /// Base64 DER, signer first.
    pub chain: Vec<String>,
}

/// A signing request sent to the remote service.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemoteRequest {
    pub user: String,
    /// Base64 SHA-256 digest of the signed attributes.
    pub digest: String,
    pub algorithm: Algorithm,
    /// What the signer is asked to sign, shown on their device.
    pub document: String,
}

/// Where a request stands.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RemoteStatus {
    Pending,
    Approved { signature: String },
    Refused { reason: String },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemoteTicket {
    pub id: String,
}

/// A client of a remote signing service (the national ones work this way): motcua sends the
/// digest, the signer approves on their device, motcua fetches the signature.
#[derive(Debug, Clone)]
pub struct RemoteSigner {
    base: String,
    user: String,
    http: reqwest::Client,
    chain: Vec<Certificate>,
    algorithm: Algorithm,
    /// How long `sign_digest` waits for the approval, and how often it asks.
    pub wait: Duration,
    pub poll: Duration,
}

impl RemoteSigner {
    /// Fetches the user's certificate chain from the service at `base`.
    pub async fn connect(base: &str, user: &str) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| SignError::Remote(e.to_string()))?;
        let base = base.trim_end_matches('/').to_owned();
        let url = format!("{base}/v1/users/{user}/certificate");
        let resp = retrying(|| http.get(&url).send()).await?;
        if !resp.status().is_success() {
            return Err(SignError::Remote(format!(
                "{url}: {} {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            )));
        }
        let cert: RemoteCertificate = resp.json().await.map_err(remote)?;
        let chain = cert
            .chain
            .iter()
            .map(|c| {
                let der = B64
                    .decode(c)
                    .map_err(|e| SignError::Remote(e.to_string()))?;
                Ok(Certificate::from_der(&der)?)
            })
            .collect::<Result<Vec<_>>>()?;
        if chain.is_empty() {
            return Err(SignError::Remote(format!("{user} has no certificate")));
        }
        Ok(RemoteSigner {
            base,
            user: user.to_owned(),
            http,
            chain,
            algorithm: cert.algorithm,
            wait: Duration::from_secs(120),
            poll: Duration::from_millis(500),
        })
    }

    /// Sends a request; the signer is notified on their device.
    pub async fn submit(&self, digest: &[u8; 32], what: &str) -> Result<String> {
        let req = RemoteRequest {
            user: self.user.clone(),
            digest: B64.encode(digest),
            algorithm: self.algorithm,
            document: what.to_owned(),
        };
        let url = format!("{}/v1/requests", self.base);
        let resp = retrying(|| self.http.post(&url).json(&req).send()).await?;
        if !resp.status().is_success() {
            return Err(SignError::Remote(format!(
                "request refused by the service: {} {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            )));
        }
        Ok(resp.json::<RemoteTicket>().await.map_err(remote)?.id)
    }

    /// Where request `id` stands.
    pub async fn status(&self, id: &str) -> Result<RemoteStatus> {
        let resp = self
            .http
            .get(format!("{}/v1/requests/{id}", self.base))
            .send()
            .await
            .map_err(remote)?;
        if !resp.status().is_success() {
            return Err(SignError::Remote(format!(
                "status of {id}: {}",
                resp.status()
            )));
        }
        resp.json().await.map_err(remote)
    }

    /// The signature of an approved request, checked against the certificate.
    pub fn accept(&self, digest: &[u8; 32], signature_b64: &str) -> Result<Vec<u8>> {
        let sig = B64
            .decode(signature_b64)
            .map_err(|e| SignError::Remote(format!("signature: {e}")))?;
        crate::verify::check_signature(
            &self.chain[0].tbs_certificate.subject_public_key_info,
            self.algorithm.identifier().oid,
            digest,
            &sig,
        )
        .map_err(|e| SignError::Remote(format!("the service returned a bad signature: {e}")))?;
        Ok(sig)
    }
}

/// Sends a request again (four tries in all, 0.3 s, 0.6 s, 1.2 s apart) when the link fails or
/// the service answers 5xx: the national services are often slow or briefly down.
async fn retrying<F, Fut>(send: F) -> Result<reqwest::Response>
where
    F: Fn() -> Fut,
    Fut: Future<Output = reqwest::Result<reqwest::Response>>,
{
    let mut wait = Duration::from_millis(300);
    for _ in 0..3 {
        match send().await {
            Ok(r) if !r.status().is_server_error() => return Ok(r),
            _ => {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        }
    }
    send().await.map_err(remote)
}

fn remote(e: reqwest::Error) -> SignError {
    SignError::Remote(e.to_string())
}

impl Signer for RemoteSigner {
    fn chain(&self) -> &[Certificate] {
        &self.chain
    }
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
    fn sign_digest<'a>(&'a self, digest: &'a [u8; 32], what: &'a str) -> SignFuture<'a> {
        Box::pin(async move {
            let id = self.submit(digest, what).await?;
            let started = tokio::time::Instant::now();
            loop {
                match self.status(&id).await {
                    Ok(RemoteStatus::Approved { signature }) => {
                        return self.accept(digest, &signature);
                    }
                    Ok(RemoteStatus::Refused { reason }) => return Err(SignError::Refused(reason)),
                    // A status that fails is asked again: the link is often slow.
                    Ok(RemoteStatus::Pending) | Err(_) => {}
                }
                if started.elapsed() >= self.wait {
                    return Err(SignError::Timeout(self.wait.as_secs()));
                }
                tokio::time::sleep(self.poll).await;
            }
        })
    }
}

/// The DER of a certificate.
pub fn certificate_der(cert: &Certificate) -> Result<Vec<u8>> {
    Ok(cert.to_der()?)
}
