//! The service's [`PdfSignatures`] made of this crate: keys from a folder or a remote signing
//! service, trust from configured roots, an optional timestamp authority, and a stamp renderer
//! for visible signatures.
//!
//! The key folder holds `users/USERNAME.p12` (people's keys, used when there is no remote
//! service) and `agencies/AGENCY-CODE.p12` (agency seals, always held on the server).

use crate::keys::{LocalKey, RemoteSigner, Signer};
use crate::pdf::{Appearance, SignOptions};
use crate::tsa::TsaClient;
use crate::{SignError, TrustStore};
use chrono::{DateTime, FixedOffset, Utc};
use motcua_domain::signatures::SignatureReport;
use motcua_service::signing::{PdfSignatures, SignAs, SignFailure, SignFuture, SignRequest};
use std::path::PathBuf;
use std::sync::Arc;

/// Renders a visible stamp (name, time, purpose) as a one-page PDF.
pub type StampRenderer = Arc<dyn Fn(&str, &str, &str) -> Result<Vec<u8>, String> + Send + Sync>;

/// Signing and verification as configured.
pub struct Signatures {
    pub trust: TrustStore,
    pub keys_dir: Option<PathBuf>,
    /// The password of the key files.
    pub password: String,
    /// People sign through this remote service when set.
    pub remote_url: Option<String>,
    pub tsa: Option<TsaClient>,
    pub stamp: Option<StampRenderer>,
    /// The key files read so far (see [`KeyCache`]).
    pub keys: KeyCache,
}

/// Key files already read and decrypted, each with the size and modification time it had.
/// Opening a PKCS#12 file derives its key from the password (PBKDF2 over SHA-256): done for
/// every slip, it took more of the server's samples in a profile of the slip jobs than the
/// signature itself. A file replaced on disk (a renewed certificate) is read again at its next
/// use.
#[derive(Default)]
pub struct KeyCache {
    keys: std::sync::Mutex<std::collections::HashMap<PathBuf, (FileStamp, Arc<LocalKey>)>>,
}

/// What tells a key file's versions apart: its length and modification time.
type FileStamp = (u64, Option<std::time::SystemTime>);

impl KeyCache {
    /// The key in `path`, read with `password` unless the same file was read before.
    fn get(&self, path: &std::path::Path, password: &str) -> Result<Arc<LocalKey>, SignError> {
        let meta = std::fs::metadata(path)?;
        let stamp: FileStamp = (meta.len(), meta.modified().ok());
        if let Ok(keys) = self.keys.lock()
            && let Some((s, k)) = keys.get(path)
            && *s == stamp
        {
            return Ok(k.clone());
        }
        let key = Arc::new(LocalKey::from_file(path, password)?);
        if let Ok(mut keys) = self.keys.lock() {
            keys.insert(path.to_owned(), (stamp, key.clone()));
        }
        Ok(key)
    }
}

impl From<SignError> for SignFailureOf {
    fn from(e: SignError) -> Self {
        SignFailureOf(match e {
            SignError::Refused(r) => SignFailure::Refused(r),
            SignError::Timeout(_) => SignFailure::Timeout,
            SignError::Remote(r) => SignFailure::Unavailable(r),
            other => SignFailure::Other(other.to_string()),
        })
    }
}

/// A [`SignFailure`] made from a [`SignError`].
pub struct SignFailureOf(pub SignFailure);

fn vietnam(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    use chrono::Offset;
    t.with_timezone(&FixedOffset::east_opt(7 * 3600).unwrap_or(Utc.fix()))
}

impl Signatures {
    /// The key file of a person (`users/`) or an agency (`agencies/`), if there is one.
    fn key_file(&self, sub: &str, name: &str) -> Option<PathBuf> {
        let path = self
            .keys_dir
            .as_ref()?
            .join(sub)
            .join(format!("{name}.p12"));
        path.exists().then_some(path)
    }

    async fn signer(&self, who: &SignAs) -> Result<Box<dyn Signer>, SignFailure> {
        let local = |sub: &str, name: &str| -> Result<Box<dyn Signer>, SignFailure> {
            let path = self
                .key_file(sub, name)
                .ok_or_else(|| SignFailure::NoKey(name.to_owned()))?;
            self.keys
                .get(&path, &self.password)
                .map(|k| Box::new(k) as Box<dyn Signer>)
                .map_err(|e| SignFailure::Other(e.to_string()))
        };
        match who {
            SignAs::Agency(code) => local("agencies", code),
            SignAs::User(user) => match &self.remote_url {
                Some(base) => RemoteSigner::connect(base, user)
                    .await
                    .map(|s| Box::new(s) as Box<dyn Signer>)
                    .map_err(|e| SignFailureOf::from(e).0),
                None => local("users", user),
            },
        }
    }
}

impl PdfSignatures for Signatures {
    fn verify(&self, pdf: &[u8], now: DateTime<Utc>) -> Result<Vec<SignatureReport>, String> {
        crate::verify_pdf(pdf, &self.trust, now).map_err(|e| e.to_string())
    }

    fn can_sign(&self, who: &SignAs) -> bool {
        match who {
            SignAs::Agency(code) => self.key_file("agencies", code).is_some(),
            SignAs::User(user) => {
                self.remote_url.is_some() || self.key_file("users", user).is_some()
            }
        }
    }

    fn signs_locally(&self, who: &SignAs) -> bool {
        match who {
            SignAs::Agency(_) => true,
            SignAs::User(_) => self.remote_url.is_none(),
        }
    }

    fn sign(&self, request: SignRequest, now: DateTime<Utc>) -> SignFuture<'_> {
        Box::pin(async move {
            let signer = self.signer(&request.signer).await?;
            let at = vietnam(now);
            let mut opts = SignOptions::new(at);
            opts.reason = request.reason.clone();
            opts.location = request.location.clone();
            opts.what = request.what.clone();
            opts.tsa = self.tsa.clone();
            if request.visible
                && let Some(stamp) = &self.stamp
            {
                let name = crate::verify::common_name(&signer.chain()[0].tbs_certificate.subject);
                let pdf = stamp(
                    &name,
                    &at.format("%d/%m/%Y %H:%M").to_string(),
                    &request.reason,
                )
                .map_err(SignFailure::Other)?;
                opts.appearance = Some(Appearance {
                    pdf,
                    page: None,
                    at: None,
                });
            }
            crate::sign_pdf(&request.pdf, signer.as_ref(), &opts)
                .await
                .map_err(|e| SignFailureOf::from(e).0)
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]
    use super::*;
    use crate::pki::{DEV_PASSWORD, DevUser, write_dev_installation};

    fn installation(dir: &std::path::Path) {
        let user = DevUser {
            username: "canbo".into(),
            full_name: "Nguyễn Văn An".into(),
            organisation: "UBND phường Ba Đình".into(),
        };
        write_dev_installation(dir, &[user], &[], Utc::now()).unwrap();
    }

    #[test]
    fn a_key_file_is_read_once_until_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        installation(dir.path());
        let path = dir.path().join("users/canbo.p12");
        let cache = KeyCache::default();
        assert!(
            matches!(cache.get(&path, "sai"), Err(SignError::Key(_))),
            "a wrong password is refused"
        );
        let first = cache.get(&path, DEV_PASSWORD).unwrap();
        let again = cache.get(&path, DEV_PASSWORD).unwrap();
        assert!(Arc::ptr_eq(&first, &again), "read once");

        // A renewed certificate replaces the file: the next signature uses the new key.
        let other = tempfile::tempdir().unwrap();
        installation(other.path());
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::copy(other.path().join("users/canbo.p12"), &path).unwrap();
        let renewed = cache.get(&path, DEV_PASSWORD).unwrap();
        assert!(!Arc::ptr_eq(&first, &renewed));
        assert_ne!(first.chain()[0], renewed.chain()[0]);
        assert_eq!(
            renewed.chain()[0],
            LocalKey::from_file(&path, DEV_PASSWORD).unwrap().chain()[0]
        );
        assert!(std::fs::remove_file(&path).is_ok());
        assert!(
            cache.get(&path, DEV_PASSWORD).is_err(),
            "a removed key signs no more"
        );
    }
}
