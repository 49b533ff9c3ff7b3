//! Media files in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2,
//! …) through the `object_store` crate, when `NEWSDESK_MEDIA_STORE` is
//! `s3://bucket/prefix`. Credentials, region and endpoint come from the
//! standard `AWS_*` variables (`AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`, …).
//!
//! Keys mirror the local layout: `prefix/ab/abcdef…/640.webp`. S3 has no
//! folder rename, but a single PUT is atomic (an object is seen whole or
//! not at all): a picture's renditions are put first and its original
//! last, and a picture counts as stored once its original is there. So
//! several instances can share one bucket. Nothing here knows about the
//! database or HTTP.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload};

use super::processing::{Kind, Processed};
use super::storage::{ByteStream, FileStat, MediaStore, is_hash};

/// The standard AWS variables newsdesk passes on to the S3 client.
pub const AWS_VARIABLES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ALLOW_HTTP",
    "AWS_VIRTUAL_HOSTED_STYLE_REQUEST",
    "AWS_SKIP_SIGNATURE",
    "AWS_UNSIGNED_PAYLOAD",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_METADATA_ENDPOINT",
    "AWS_IMDSV1_FALLBACK",
    "AWS_SERVER_SIDE_ENCRYPTION",
    "AWS_SSE_KMS_KEY_ID",
];

/// Where in S3 the media live, with the client built from the `AWS_*`
/// settings (building checks them; it makes no request).
#[derive(Clone)]
pub struct S3Location {
    pub bucket: String,
    /// Without leading or trailing `/`; may be empty.
    pub prefix: String,
    pub options: Vec<(String, String)>,
    client: Arc<dyn ObjectStore>,
}

impl std::fmt::Debug for S3Location {
    // The options hold secrets: only their names are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.options.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("S3Location")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("options", &names)
            .finish()
    }
}

impl S3Location {
    /// Parses `s3://bucket[/prefix]`; `options` are `AWS_*` names and values.
    pub fn parse(url: &str, options: Vec<(String, String)>) -> Result<Self, String> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or("must be s3://bucket/prefix (or empty for local disk)")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !bucket_ok {
            return Err(
                "the bucket name must be 3 to 63 lowercase letters, digits, '-' or '.'".into(),
            );
        }
        let prefix = prefix.trim_matches('/').to_string();
        if prefix.split('/').any(|p| p == "." || p == "..")
            || prefix.contains("//")
            || prefix
                .chars()
                .any(|c| c.is_control() || c == '?' || c == '#')
        {
            return Err("the prefix must be plain path segments".into());
        }
        // reqwest's TLS takes the process's rustls provider: ring, the one
        // the rest of newsdesk uses (an error means one is installed).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = AmazonS3Builder::new().with_bucket_name(bucket);
        for (name, value) in &options {
            if let Ok(key) = name.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
                builder = builder.with_config(key, value);
            }
        }
        let client = builder.build().map_err(|e| e.to_string())?;
        Ok(Self {
            bucket: bucket.to_string(),
            prefix,
            options,
            client: Arc::new(client),
        })
    }
}

#[derive(Debug, Clone)]
pub struct S3Store {
    store: Arc<dyn ObjectStore>,
    prefix: String,
}

fn io(e: object_store::Error) -> std::io::Error {
    match e {
        object_store::Error::NotFound { .. } => {
            std::io::Error::new(std::io::ErrorKind::NotFound, e.to_string())
        }
        e => std::io::Error::other(e),
    }
}

impl S3Store {
    pub fn new(location: &S3Location) -> Self {
        Self {
            store: location.client.clone(),
            prefix: location.prefix.clone(),
        }
    }

    fn dir(&self, hash: &str) -> String {
        let shard = &hash[..2.min(hash.len())];
        if self.prefix.is_empty() {
            format!("{shard}/{hash}")
        } else {
            format!("{}/{shard}/{hash}", self.prefix)
        }
    }

    fn key(&self, hash: &str, name: &str) -> Path {
        Path::from(format!("{}/{name}", self.dir(hash)))
    }

    async fn exists(&self, key: &Path) -> std::io::Result<bool> {
        match self.store.head(key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(io(e)),
        }
    }
}

#[async_trait::async_trait]
impl MediaStore for S3Store {
    async fn has(&self, hash: &str, kind: Kind) -> std::io::Result<bool> {
        self.exists(&self.key(hash, &format!("original.{}", kind.ext())))
            .await
    }

    async fn put(&self, hash: &str, p: Processed) -> std::io::Result<bool> {
        let original = self.key(hash, &format!("original.{}", p.kind.ext()));
        if self.exists(&original).await? {
            return Ok(false);
        }
        for r in p.renditions {
            let key = self.key(hash, &format!("{}.{}", r.width, r.kind.ext()));
            self.store
                .put(&key, PutPayload::from(r.bytes))
                .await
                .map_err(io)?;
        }
        for c in p.crops {
            self.store
                .put(&self.key(hash, &c.name), PutPayload::from(c.bytes))
                .await
                .map_err(io)?;
        }
        // Last: from now on the picture counts as stored.
        self.store
            .put(&original, PutPayload::from(p.original))
            .await
            .map_err(io)?;
        Ok(true)
    }

    async fn put_file(&self, hash: &str, name: &str, bytes: Vec<u8>) -> std::io::Result<()> {
        self.store
            .put(&self.key(hash, name), PutPayload::from(bytes))
            .await
            .map_err(io)?;
        Ok(())
    }

    async fn read(&self, hash: &str, name: &str) -> std::io::Result<Vec<u8>> {
        let got = self.store.get(&self.key(hash, name)).await.map_err(io)?;
        Ok(got.bytes().await.map_err(io)?.to_vec())
    }

    async fn remove(&self, hash: &str) -> std::io::Result<()> {
        let dir = Path::from(self.dir(hash));
        let mut keys: Vec<Path> = self
            .store
            .list(Some(&dir))
            .map_ok(|m| m.location)
            .try_collect()
            .await
            .map_err(io)?;
        // The original first: the picture stops counting as stored at once.
        keys.sort_by_key(|k| !k.filename().is_some_and(|f| f.starts_with("original.")));
        for key in keys {
            match self.store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(io(e)),
            }
        }
        Ok(())
    }

    async fn hashes(&self) -> std::io::Result<Vec<(String, Duration)>> {
        let prefix = (!self.prefix.is_empty()).then(|| Path::from(self.prefix.as_str()));
        let mut newest: std::collections::HashMap<String, chrono::DateTime<chrono::Utc>> =
            std::collections::HashMap::new();
        let mut listing = self.store.list(prefix.as_ref());
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(io)?;
            let parts: Vec<_> = meta.location.parts().collect();
            // …/shard/hash/name
            let [.., shard, hash, _] = parts.as_slice() else {
                continue;
            };
            let hash = hash.as_ref();
            if !is_hash(hash) || shard.as_ref() != &hash[..2] {
                continue;
            }
            let t = newest.entry(hash.to_string()).or_insert(meta.last_modified);
            *t = (*t).max(meta.last_modified);
        }
        let now = chrono::Utc::now();
        Ok(newest
            .into_iter()
            .map(|(h, t)| (h, (now - t).to_std().unwrap_or_default()))
            .collect())
    }

    async fn stat(&self, hash: &str, name: &str) -> std::io::Result<Option<FileStat>> {
        match self.store.head(&self.key(hash, name)).await {
            Ok(meta) => Ok(Some(FileStat {
                size: meta.size,
                modified: meta.last_modified.into(),
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    async fn read_range(
        &self,
        hash: &str,
        name: &str,
        range: std::ops::Range<u64>,
    ) -> std::io::Result<ByteStream> {
        let options = GetOptions {
            range: Some(GetRange::Bounded(range)),
            ..GetOptions::default()
        };
        let got = self
            .store
            .get_opts(&self.key(hash, name), options)
            .await
            .map_err(io)?;
        Ok(got.into_stream().map_err(io).boxed())
    }
}
