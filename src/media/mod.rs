//! The media library: uploads checked and stripped of metadata, stored once
//! per content (SHA-256 of the bytes), resized into a fixed set of widths
//! off the async threads, served as immutable files, and embedded in
//! articles as their feature image.
//!
//! `routes` is the HTTP side; `processing` the pixels; `storage` the files;
//! `queries` the rows. This module holds `Library`, what ties files and
//! rows together so that no row ever names a missing file.

pub mod demo;
pub mod dto;
pub mod inline;
pub mod processing;
pub mod queries;
pub mod routes;
pub mod s3;
pub mod storage;

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::MediaConfig;
use crate::db::{Db, DbConnection};
use crate::error::ApiError;
use dto::Media;
use processing::{Kind, Pool};
use storage::{LocalStore, MediaStore};

/// The store the configuration names: an S3 bucket, else local disk.
pub fn open_store(config: &MediaConfig) -> Arc<dyn MediaStore> {
    match &config.store {
        Some(location) => Arc::new(s3::S3Store::new(location)),
        None => Arc::new(LocalStore::new(&config.dir)),
    }
}

/// Files, the processing pool and the lock that orders file and row
/// changes of one instance.
pub struct Library {
    pub store: Arc<dyn MediaStore>,
    /// Local disk where uploads are received (and, without S3, stored).
    pub staging: LocalStore,
    pub pool: Pool,
    pub config: MediaConfig,
    /// Held while a picture's files are put in place and its row inserted,
    /// and while a row is deleted and its files removed: a delete never
    /// takes away files an upload of the same bytes is about to reference.
    pub files: tokio::sync::Mutex<()>,
}

impl Library {
    pub fn new(config: &MediaConfig) -> Self {
        Self {
            store: open_store(config),
            staging: LocalStore::new(&config.dir),
            pool: Pool::new(config.threads, config.queue),
            config: config.clone(),
            files: tokio::sync::Mutex::new(()),
        }
    }

    /// Makes the crops of a stored picture for a focal point that are not
    /// stored yet (before a row naming them is committed). How many.
    pub async fn ensure_crops(
        &self,
        hash: &str,
        kind: Kind,
        (width, height): (u32, u32),
        focal: processing::FocalPercent,
    ) -> Result<usize, ApiError> {
        let missing = missing_crops(self.store.as_ref(), hash, kind, width, height, focal)
            .await
            .map_err(ApiError::internal)?;
        if missing.is_empty() {
            return Ok(0);
        }
        let original = self
            .store
            .read(hash, &format!("original.{}", kind.ext()))
            .await
            .map_err(ApiError::internal)?;
        let max_pixels = self.config.max_pixels;
        let made = self
            .pool
            .run(move || processing::crops_of(&original, kind, max_pixels, focal))
            .await??;
        let mut stored = 0;
        for c in made {
            if missing.contains(&c.name) {
                self.store
                    .put_file(hash, &c.name, c.bytes)
                    .await
                    .map_err(ApiError::internal)?;
                stored += 1;
            }
        }
        Ok(stored)
    }

    pub fn to_media(&self, row: queries::MediaRow, uploader: Option<String>) -> Media {
        Media::from_row(row, uploader, &self.config.base_url)
    }

    /// The media objects of these ids, by id (for articles).
    pub fn load_many(
        &self,
        conn: &mut DbConnection,
        ids: &[i64],
    ) -> Result<HashMap<i64, Media>, ApiError> {
        Ok(queries::by_ids(conn, ids)?
            .into_iter()
            .map(|(row, name)| (row.id, self.to_media(row, name)))
            .collect())
    }
}

/// The crop files of a picture for a focal point that the store lacks.
pub async fn missing_crops(
    store: &dyn MediaStore,
    hash: &str,
    kind: Kind,
    width: u32,
    height: u32,
    focal: processing::FocalPercent,
) -> std::io::Result<Vec<String>> {
    let mut missing = Vec::new();
    for name in processing::crop_names(width, height, kind, focal) {
        if store.stat(hash, &name).await?.is_none() {
            missing.push(name);
        }
    }
    Ok(missing)
}

/// What `rebuild` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RebuildReport {
    pub checked: usize,
    pub renditions_made: usize,
    pub originals_missing: usize,
    pub orphans_removed: usize,
}

impl std::fmt::Display for RebuildReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "checked {} pictures: {} renditions re-made, {} originals missing, {} orphaned folders removed",
            self.checked, self.renditions_made, self.originals_missing, self.orphans_removed
        )
    }
}

/// Re-creates missing renditions of every stored picture, and removes
/// folders that no row names (left by a crash between writing the files
/// and committing the row) once older than `orphan_age`, so that an upload
/// still in flight keeps its files. Works on either store.
pub async fn rebuild(
    db: &Db,
    config: &MediaConfig,
    orphan_age: std::time::Duration,
) -> anyhow::Result<RebuildReport> {
    let store = open_store(config);
    let rows = {
        let db = db.clone();
        actix_web::web::block(move || -> anyhow::Result<_> {
            let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(queries::all(&mut conn)?)
        })
        .await??
    };
    let mut report = RebuildReport::default();
    let mut seen = std::collections::HashSet::new();
    for row in &rows {
        let kind = Kind::from_mime(&row.mime_type).unwrap_or(Kind::Jpeg);
        // Crops depend on each row's focal point (rows may share files).
        let focal = processing::focal_percent(row.focal_x.zip(row.focal_y));
        let (width, height) = (
            u32::try_from(row.width).unwrap_or(1),
            u32::try_from(row.height).unwrap_or(1),
        );
        let crops = missing_crops(store.as_ref(), &row.hash, kind, width, height, focal).await?;
        if !crops.is_empty() {
            let original = store
                .read(&row.hash, &format!("original.{}", kind.ext()))
                .await;
            if let Ok(original) = original {
                let max_pixels = config.max_pixels;
                let made = actix_web::web::block(move || {
                    processing::crops_of(&original, kind, max_pixels, focal)
                })
                .await?
                .map_err(|e| anyhow::anyhow!("{}: {}", row.hash, e.problem().detail))?;
                for c in made {
                    if crops.contains(&c.name) {
                        store.put_file(&row.hash, &c.name, c.bytes).await?;
                        report.renditions_made += 1;
                    }
                }
            }
        }
        if !seen.insert(row.hash.clone()) {
            continue;
        }
        report.checked += 1;
        let expected: Vec<String> = row
            .rendition_widths
            .split(',')
            .filter(|w| !w.is_empty())
            .flat_map(|w| {
                let mut names = vec![format!("{w}.{}", kind.ext())];
                if kind != Kind::WebP {
                    names.push(format!("{w}.webp"));
                }
                names
            })
            .collect();
        let mut missing = Vec::new();
        for name in &expected {
            if store.stat(&row.hash, name).await?.is_none() {
                missing.push(name.clone());
            }
        }
        if missing.is_empty() {
            continue;
        }
        let original = match store
            .read(&row.hash, &format!("original.{}", kind.ext()))
            .await
        {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                report.originals_missing += 1;
                tracing::warn!(hash = %row.hash, "the original is missing; renditions cannot be made");
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let max_pixels = config.max_pixels;
        let made = actix_web::web::block(move || processing::renditions_of(&original, max_pixels))
            .await?
            .map_err(|e| anyhow::anyhow!("{}: {}", row.hash, e.problem().detail))?;
        for r in made {
            let name = format!("{}.{}", r.width, r.kind.ext());
            if missing.contains(&name) {
                store.put_file(&row.hash, &name, r.bytes).await?;
                report.renditions_made += 1;
            }
        }
    }
    for (hash, age) in store.hashes().await? {
        if age >= orphan_age && !seen.contains(&hash) {
            // Checked again just before: an upload may have committed since.
            let db = db.clone();
            let h = hash.clone();
            let named = actix_web::web::block(move || -> anyhow::Result<bool> {
                let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
                Ok(queries::by_hash(&mut conn, &h)?.is_some())
            })
            .await??;
            if !named {
                store.remove(&hash).await?;
                report.orphans_removed += 1;
            }
        }
    }
    let staging = LocalStore::new(&config.dir);
    actix_web::web::block(move || staging.sweep_tmp(orphan_age)).await??;
    Ok(report)
}
