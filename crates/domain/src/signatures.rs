//! Digital signatures as the rest of motcua sees them: what verifying a PDF found about each
//! signature. The cryptography is in the leaf crate `motcua-sign`.

use serde::{Deserialize, Serialize};

/// What verification found about one signature (the JSON of `motcua sign verify`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct SignatureReport {
    /// The signature field's name.
    pub field: String,
    /// The signer's name from the certificate (its common name).
    pub signer: String,
    /// Intact, trusted, within the certificates' validity, and nothing disallowed changed after.
    pub valid: bool,
    /// The signed bytes are those signed, and the signature over them is right.
    pub intact: bool,
    /// The certificate chains to a trusted root.
    pub trusted: bool,
    /// When it was signed (RFC 3339): the timestamp's time, or the time the signer claims.
    pub signed_at: Option<String>,
    /// `signed_at` comes from an RFC 3161 timestamp.
    pub timestamped: bool,
    /// The signature covers the file to its last byte.
    pub covers_whole_document: bool,
    /// Something other than later signatures changed after this one.
    pub modified_after: bool,
    /// Why the signature is not valid (or that it is), in English.
    pub reason: String,
    /// The same, in Vietnamese.
    pub reason_vi: String,
    /// The purpose the signer gave (`/Reason`).
    pub purpose: String,
    pub issuer: String,
    pub serial: String,
    pub algorithm: String,
}

impl SignatureReport {
    /// The verdict in the reader's language.
    pub fn reason_in(&self, vietnamese: bool) -> &str {
        if vietnamese {
            &self.reason_vi
        } else {
            &self.reason
        }
    }
}
