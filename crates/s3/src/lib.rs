//! File contents in an S3-compatible object store (AWS S3, MinIO, Ceph, a provincial data
//! centre's store), through the `object_store` crate: the same content-addressed layout as the
//! local folder — `<prefix>/ab/cd/<sha256>` — behind the same [`BlobStore`] trait. A `PUT`
//! that S3 acknowledged is durable, so the row naming the blob commits after it, as with the
//! folder. A leaf crate: the core builds and tests without the S3 client.

use motcua_domain::Msg;
use motcua_store::StoreError;
use motcua_store::blobs::{BlobFuture, BlobStore, checked};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};

/// Where the S3 store is (`[s3]` in `motcua.toml`, or `MOTCUA_S3__BUCKET`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Config {
    /// The bucket (must exist). Empty: files stay in the local folder.
    pub bucket: String,
    /// The endpoint of an S3-compatible server (`https://s3.example.vn`); empty: AWS.
    pub endpoint: String,
    /// The region (`us-east-1` when the server does not care).
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// A folder inside the bucket (several installations may share one bucket).
    pub prefix: String,
    /// Allow `http://` endpoints (a server on the same machine or network).
    pub allow_http: bool,
}

impl S3Config {
    /// Whether S3 is configured.
    pub fn enabled(&self) -> bool {
        !self.bucket.trim().is_empty()
    }
}

/// Blobs in an S3 bucket.
#[derive(Debug)]
pub struct S3Blobs {
    store: AmazonS3,
    prefix: String,
    described: String,
}

fn io(what: &str, e: &object_store::Error) -> StoreError {
    StoreError::Io(Msg::new(
        format!("Lỗi kho lưu S3 ({what}): {e}"),
        format!("S3 object store error ({what}): {e}"),
    ))
}

impl S3Blobs {
    /// A client for the configured bucket (nothing is contacted yet).
    pub fn new(cfg: &S3Config) -> Result<S3Blobs, StoreError> {
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(cfg.bucket.trim())
            .with_region(if cfg.region.is_empty() {
                "us-east-1"
            } else {
                cfg.region.as_str()
            })
            .with_allow_http(cfg.allow_http);
        if !cfg.endpoint.is_empty() {
            // Path-style addressing (`endpoint/bucket/key`): what S3-compatible servers take.
            b = b
                .with_endpoint(cfg.endpoint.trim_end_matches('/'))
                .with_virtual_hosted_style_request(false);
        }
        if !cfg.access_key_id.is_empty() {
            b = b
                .with_access_key_id(&cfg.access_key_id)
                .with_secret_access_key(&cfg.secret_access_key);
        }
        let store = b.build().map_err(|e| io("configuration", &e))?;
        let prefix = cfg.prefix.trim_matches('/').to_owned();
        Ok(S3Blobs {
            described: format!(
                "S3 bucket {}{}{}",
                cfg.bucket.trim(),
                if prefix.is_empty() { "" } else { "/" },
                prefix
            ) + &if cfg.endpoint.is_empty() {
                String::new()
            } else {
                format!(" at {}", cfg.endpoint)
            },
            store,
            prefix,
        })
    }

    fn path(&self, sha256: &str) -> Path {
        let key = format!("{}/{}/{sha256}", &sha256[..2], &sha256[2..4]);
        if self.prefix.is_empty() {
            Path::from(key)
        } else {
            Path::from(format!("{}/{key}", self.prefix))
        }
    }
}

impl BlobStore for S3Blobs {
    fn put<'a>(&'a self, sha256: &'a str, bytes: &'a [u8]) -> BlobFuture<'a, bool> {
        Box::pin(async move {
            let path = self.path(checked(sha256)?);
            match self.store.head(&path).await {
                Ok(meta) if meta.size == bytes.len() as u64 => return Ok(false),
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(io("head", &e)),
            }
            self.store
                .put(&path, PutPayload::from(bytes.to_vec()))
                .await
                .map_err(|e| io("put", &e))?;
            Ok(true)
        })
    }

    fn get<'a>(&'a self, sha256: &'a str) -> BlobFuture<'a, Option<Vec<u8>>> {
        Box::pin(async move {
            let path = self.path(checked(sha256)?);
            match self.store.get(&path).await {
                Ok(r) => Ok(Some(r.bytes().await.map_err(|e| io("get", &e))?.to_vec())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(io("get", &e)),
            }
        })
    }

    fn delete<'a>(&'a self, sha256: &'a str) -> BlobFuture<'a, ()> {
        Box::pin(async move {
            let path = self.path(checked(sha256)?);
            match self.store.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(io("delete", &e)),
            }
        })
    }

    fn count(&self) -> BlobFuture<'_, u64> {
        Box::pin(async move {
            use futures::StreamExt;
            let prefix = (!self.prefix.is_empty()).then(|| Path::from(self.prefix.as_str()));
            let mut list = self.store.list(prefix.as_ref());
            let mut n = 0;
            while let Some(item) = list.next().await {
                item.map_err(|e| io("list", &e))?;
                n += 1;
            }
            Ok(n)
        })
    }

    fn describe(&self) -> String {
        self.described.clone()
    }
}
