//! PAdES signatures for motcua: slips, results and digitised copies signed as PDF.
//!
//! - [`keys`]: the [`Signer`] interface and its two real implementations — a local key
//!   (PKCS#12 or PEM; ECDSA P-256 preferred, RSA accepted) and a remote signing service over HTTP
//!   on which the signer approves each request on their own device.
//! - [`cms`]: the CMS `SignedData` of a PAdES baseline signature (detached, SHA-256, the signing
//!   certificate bound by `signingCertificateV2`, the chain embedded, an optional RFC 3161 token).
//! - [`pdf`]: signatures applied as incremental updates (the file's cross-reference style kept,
//!   no earlier byte rewritten), so that a leader's signature and the agency seal both stay valid.
//! - [`verify`]: any PDF's signatures checked — integrity, chain to trusted roots, validity at the
//!   signing time, changes made after each signature, coverage of the whole document.
//! - [`tsa`]: an RFC 3161 client, and the token maker of the development timestamp authority.
//! - [`pki`]: a throw-away development CA with officer, leader and agency certificates.
//! - [`sandbox`]: a local remote-signing service (and timestamp authority) for the demo and tests.
//! - [`service`]: the service's signing and verification, made of the above.
//!
//! The crate is a leaf: the core crates build without its cryptography.

pub mod cms;
pub mod keys;
pub mod oid;
pub mod pdf;
pub mod pki;
pub mod sandbox;
pub mod service;
pub mod tsa;
pub mod verify;

pub use keys::{Algorithm, LocalKey, RemoteSigner, Signer};
pub use pdf::{SignOptions, sign_pdf};
pub use verify::{SignatureReport, TrustStore, verify_pdf};

/// What went wrong while signing or reading keys. Verification never fails with it: a bad
/// signature is a finding of the report, not an error.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The key file or certificate could not be read (wrong password, unknown format…).
    #[error("key: {0}")]
    Key(String),
    /// The PDF could not be read or updated.
    #[error("pdf: {0}")]
    Pdf(String),
    /// Encoding the CMS structure failed, or the signature does not fit its reserved space.
    #[error("cms: {0}")]
    Cms(String),
    /// The remote signing service or the timestamp authority failed or could not be reached.
    #[error("remote: {0}")]
    Remote(String),
    /// The signer refused the request on their device.
    #[error("refused by the signer: {0}")]
    Refused(String),
    /// The signer did not approve in time.
    #[error("no approval within {0} s")]
    Timeout(u64),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, SignError>;

impl From<der::Error> for SignError {
    fn from(e: der::Error) -> Self {
        SignError::Cms(e.to_string())
    }
}

impl From<lopdf::Error> for SignError {
    fn from(e: lopdf::Error) -> Self {
        SignError::Pdf(e.to_string())
    }
}

/// SHA-256 of several byte slices in order.
pub(crate) fn sha256_parts(parts: &[&[u8]]) -> [u8; 32] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}
