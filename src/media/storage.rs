//! Where media files live: `MediaStore`, with two implementations: local
//! disk under `NEWSDESK_MEDIA_DIR` (`LocalStore`, the default) and an
//! S3-compatible bucket when `NEWSDESK_MEDIA_STORE=s3://…` is set
//! (`super::s3::S3Store`). Both keep one folder (key prefix) per content
//! hash (`ab/abcdef…/original.jpg`, `…/640.jpg`, `…/640.webp`).
//!
//! Writes are atomic: a picture's files are written and synced into a
//! staging folder under `.tmp/`, then the folder is renamed into place in
//! one step, so a reader sees all of a picture's files or none. The
//! database row is committed only after that rename; a crash between the
//! two leaves a folder no row names, which no URL of the API points at and
//! which `sweep_orphans` (run by `newsdesk media rebuild`) removes.
//! Nothing here knows about the database or HTTP.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::stream::BoxStream;

use super::processing::{Kind, Processed};

/// What serving a stored file needs to know before reading it.
#[derive(Debug, Clone, Copy)]
pub struct FileStat {
    pub size: u64,
    pub modified: std::time::SystemTime,
}

/// The bytes of a stored file, as they arrive.
pub type ByteStream = BoxStream<'static, std::io::Result<bytes::Bytes>>;

/// Where a picture's files are kept. Every write is all or nothing for a
/// reader: a picture's original appears last, after its renditions, and
/// `has` looks at the original only, so a picture counts as stored only
/// once every file is. Nothing here knows about the database or HTTP.
#[async_trait::async_trait]
pub trait MediaStore: Send + Sync + std::fmt::Debug {
    /// Whether the picture's original is stored.
    async fn has(&self, hash: &str, kind: Kind) -> std::io::Result<bool>;
    /// Writes a processed picture under `hash`. `Ok(true)` when this call
    /// stored it, `Ok(false)` when it was there.
    async fn put(&self, hash: &str, p: Processed) -> std::io::Result<bool>;
    /// Writes (replaces) one file of an existing picture.
    async fn put_file(&self, hash: &str, name: &str, bytes: Vec<u8>) -> std::io::Result<()>;
    /// The whole of one file (`NotFound` when absent).
    async fn read(&self, hash: &str, name: &str) -> std::io::Result<Vec<u8>>;
    /// Removes every file of a picture (the original first).
    async fn remove(&self, hash: &str) -> std::io::Result<()>;
    /// Every stored hash with the age of its newest file.
    async fn hashes(&self) -> std::io::Result<Vec<(String, Duration)>>;
    /// Size and time of one file, `None` when absent.
    async fn stat(&self, hash: &str, name: &str) -> std::io::Result<Option<FileStat>>;
    /// The bytes `range` of one file.
    async fn read_range(
        &self,
        hash: &str,
        name: &str,
        range: std::ops::Range<u64>,
    ) -> std::io::Result<ByteStream>;
    /// The file on local disk, when there is one (served by `NamedFile`).
    fn local_path(&self, _hash: &str, _name: &str) -> Option<PathBuf> {
        None
    }
}

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(std::io::Error::other)?
}

#[async_trait::async_trait]
impl MediaStore for LocalStore {
    async fn has(&self, hash: &str, kind: Kind) -> std::io::Result<bool> {
        let (store, hash) = (self.clone(), hash.to_string());
        blocking(move || Ok(LocalStore::has(&store, &hash, kind))).await
    }

    async fn put(&self, hash: &str, p: Processed) -> std::io::Result<bool> {
        let (store, hash) = (self.clone(), hash.to_string());
        blocking(move || LocalStore::put(&store, &hash, &p)).await
    }

    async fn put_file(&self, hash: &str, name: &str, bytes: Vec<u8>) -> std::io::Result<()> {
        let (store, hash, name) = (self.clone(), hash.to_string(), name.to_string());
        blocking(move || LocalStore::put_file(&store, &hash, &name, &bytes)).await
    }

    async fn read(&self, hash: &str, name: &str) -> std::io::Result<Vec<u8>> {
        tokio::fs::read(self.path_of(hash, name)).await
    }

    async fn remove(&self, hash: &str) -> std::io::Result<()> {
        let (store, hash) = (self.clone(), hash.to_string());
        blocking(move || LocalStore::remove(&store, &hash)).await
    }

    async fn hashes(&self) -> std::io::Result<Vec<(String, Duration)>> {
        let store = self.clone();
        blocking(move || LocalStore::hashes(&store)).await
    }

    async fn stat(&self, hash: &str, name: &str) -> std::io::Result<Option<FileStat>> {
        match tokio::fs::metadata(self.path_of(hash, name)).await {
            Ok(m) if m.is_file() => Ok(Some(FileStat {
                size: m.len(),
                modified: m.modified()?,
            })),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn read_range(
        &self,
        hash: &str,
        name: &str,
        range: std::ops::Range<u64>,
    ) -> std::io::Result<ByteStream> {
        use futures_util::StreamExt;
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        let mut f = tokio::fs::File::open(self.path_of(hash, name)).await?;
        f.seek(std::io::SeekFrom::Start(range.start)).await?;
        let limited = f.take(range.end.saturating_sub(range.start));
        Ok(tokio_util_like::chunks(limited).boxed())
    }

    fn local_path(&self, hash: &str, name: &str) -> Option<PathBuf> {
        Some(self.path_of(hash, name))
    }
}

/// A reader as a stream of chunks (64 KiB at most each).
mod tokio_util_like {
    use tokio::io::{AsyncRead, AsyncReadExt};

    pub fn chunks<R: AsyncRead + Unpin + Send + 'static>(
        reader: R,
    ) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send {
        futures_util::stream::unfold(Some(reader), |state| async move {
            let mut reader = state?;
            let mut buf = vec![0u8; 64 * 1024];
            match reader.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(bytes::Bytes::from(buf)), Some(reader)))
                }
                Err(e) => Some((Err(e), None)),
            }
        })
    }
}

/// Folder names the hash may take: 64 lowercase hex digits.
pub fn is_hash(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A stored file name: `original.EXT` or `WIDTH.EXT` for an allowed width.
pub fn is_file_name(name: &str) -> bool {
    let Some((stem, ext)) = name.split_once('.') else {
        return false;
    };
    Kind::from_ext(ext).is_some()
        && (stem == "original"
            || stem
                .parse::<u32>()
                .is_ok_and(|w| super::processing::WIDTHS.contains(&w) && stem == w.to_string())
            || super::processing::is_crop_stem(stem))
}

#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of one picture.
    pub fn dir_of(&self, hash: &str) -> PathBuf {
        self.root.join(&hash[..2.min(hash.len())]).join(hash)
    }

    /// The path of one stored file (`name` checked by `is_file_name`).
    pub fn path_of(&self, hash: &str, name: &str) -> PathBuf {
        self.dir_of(hash).join(name)
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join(".tmp")
    }

    /// A temp file for an upload being received (removed when dropped).
    pub fn upload_file(&self) -> std::io::Result<tempfile::NamedTempFile> {
        std::fs::create_dir_all(self.tmp_dir())?;
        tempfile::Builder::new()
            .prefix("upload-")
            .tempfile_in(self.tmp_dir())
    }

    /// Whether the picture's original is stored.
    pub fn has(&self, hash: &str, kind: Kind) -> bool {
        self.path_of(hash, &format!("original.{}", kind.ext()))
            .is_file()
    }

    /// Writes a processed picture under `hash` atomically. `Ok(true)` when
    /// this call put the folder in place, `Ok(false)` when it was there.
    pub fn put(&self, hash: &str, p: &Processed) -> std::io::Result<bool> {
        let target = self.dir_of(hash);
        if target.is_dir() {
            return Ok(false);
        }
        std::fs::create_dir_all(self.tmp_dir())?;
        let staging = tempfile::Builder::new()
            .prefix("put-")
            .tempdir_in(self.tmp_dir())?;
        write_synced(
            &staging.path().join(format!("original.{}", p.kind.ext())),
            &p.original,
        )?;
        for r in &p.renditions {
            write_synced(
                &staging.path().join(format!("{}.{}", r.width, r.kind.ext())),
                &r.bytes,
            )?;
        }
        for c in &p.crops {
            write_synced(&staging.path().join(&c.name), &c.bytes)?;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let staging = staging.keep();
        match std::fs::rename(&staging, &target) {
            Ok(()) => {
                sync_dir(target.parent());
                Ok(true)
            }
            // Another upload of the same bytes won the race: theirs stays.
            Err(_) if target.is_dir() => {
                let _ = std::fs::remove_dir_all(&staging);
                Ok(false)
            }
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staging);
                Err(e)
            }
        }
    }

    /// Writes one file of an existing picture atomically (temp, rename).
    pub fn put_file(&self, hash: &str, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        let dir = self.dir_of(hash);
        let mut tmp = tempfile::Builder::new()
            .prefix(".part-")
            .tempfile_in(&dir)?;
        tmp.write_all(bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(dir.join(name)).map_err(|e| e.error)?;
        Ok(())
    }

    pub fn read_original(&self, hash: &str, kind: Kind) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.path_of(hash, &format!("original.{}", kind.ext())))
    }

    /// Removes a picture's folder (first moved aside, so that no reader
    /// sees half of it).
    pub fn remove(&self, hash: &str) -> std::io::Result<()> {
        let dir = self.dir_of(hash);
        if !dir.exists() {
            return Ok(());
        }
        std::fs::create_dir_all(self.tmp_dir())?;
        let aside = self
            .tmp_dir()
            .join(format!("gone-{hash}-{}", rand::random::<u32>()));
        std::fs::rename(&dir, &aside)?;
        std::fs::remove_dir_all(&aside)
    }

    /// Every stored hash with the age of its folder.
    pub fn hashes(&self) -> std::io::Result<Vec<(String, std::time::Duration)>> {
        let mut out = Vec::new();
        let Ok(shards) = std::fs::read_dir(&self.root) else {
            return Ok(out);
        };
        for shard in shards.flatten() {
            let name = shard.file_name().to_string_lossy().to_string();
            if name.len() != 2 || !shard.path().is_dir() {
                continue;
            }
            for entry in std::fs::read_dir(shard.path())?.flatten() {
                let hash = entry.file_name().to_string_lossy().to_string();
                if !is_hash(&hash) {
                    continue;
                }
                let age = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .unwrap_or_default();
                out.push((hash, age));
            }
        }
        Ok(out)
    }

    /// Removes staging leftovers (of uploads cut short) older than `age`.
    pub fn sweep_tmp(&self, age: std::time::Duration) -> std::io::Result<usize> {
        let mut removed = 0;
        let Ok(entries) = std::fs::read_dir(self.tmp_dir()) else {
            return Ok(0);
        };
        for entry in entries.flatten() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|a| a >= age);
            if old {
                let path = entry.path();
                let done = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
                if done.is_ok() {
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Makes a rename durable (best effort: not every platform can open a
/// folder to sync it).
fn sync_dir(dir: Option<&Path>) {
    if let Some(d) = dir
        && let Ok(f) = std::fs::File::open(d)
    {
        let _ = f.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowed_names_are_files() {
        for ok in [
            "original.jpg",
            "320.webp",
            "2400.png",
            "640.gif",
            "640-16x9-50-30.jpg",
            "1600-1x1-0-100.png",
        ] {
            assert!(is_file_name(ok), "{ok}");
        }
        for bad in [
            "original.exe",
            "321.jpg",
            "0320.jpg",
            "../x.jpg",
            "640",
            "640.jpg.jpg",
            "+640.jpg",
            "2400-16x9-50-50.jpg",
            "640-3x2-50-50.jpg",
            "640-16x9-101-50.jpg",
            "640-16x9-05-50.jpg",
            "640-16x9-50.jpg",
            "640-16x9-50-50-1.jpg",
        ] {
            assert!(!is_file_name(bad), "{bad}");
        }
    }
}
