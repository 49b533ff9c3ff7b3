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
pub mod storage;

use std::collections::HashMap;

use crate::config::MediaConfig;
use crate::db::{Db, DbConnection};
use crate::error::ApiError;
use dto::Media;
use processing::{Kind, Pool};
use storage::LocalStore;

/// Files, the processing pool and the lock that orders file and row
/// changes of one instance.
pub struct Library {
    pub store: LocalStore,
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
            store: LocalStore::new(&config.dir),
            pool: Pool::new(config.threads, config.queue),
            config: config.clone(),
            files: tokio::sync::Mutex::new(()),
        }
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
/// still in flight keeps its files. Synchronous: for the CLI.
pub fn rebuild(
    db: &Db,
    config: &MediaConfig,
    orphan_age: std::time::Duration,
) -> anyhow::Result<RebuildReport> {
    let store = LocalStore::new(&config.dir);
    let rows = {
        let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
        queries::all(&mut conn)?
    };
    let mut report = RebuildReport::default();
    let mut seen = std::collections::HashSet::new();
    for row in &rows {
        if !seen.insert(row.hash.clone()) {
            continue;
        }
        report.checked += 1;
        let kind = Kind::from_mime(&row.mime_type).unwrap_or(Kind::Jpeg);
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
        let missing: Vec<&String> = expected
            .iter()
            .filter(|n| !store.path_of(&row.hash, n).is_file())
            .collect();
        if missing.is_empty() {
            continue;
        }
        let Ok(original) = store.read_original(&row.hash, kind) else {
            report.originals_missing += 1;
            tracing::warn!(hash = %row.hash, "the original is missing; renditions cannot be made");
            continue;
        };
        let made = processing::renditions_of(&original, config.max_pixels)
            .map_err(|e| anyhow::anyhow!("{}: {}", row.hash, e.problem().detail))?;
        for r in made {
            let name = format!("{}.{}", r.width, r.kind.ext());
            if missing.contains(&&name) {
                store.put_file(&row.hash, &name, &r.bytes)?;
                report.renditions_made += 1;
            }
        }
    }
    for (hash, age) in store.hashes()? {
        if age >= orphan_age && !seen.contains(&hash) {
            // Checked again just before: an upload may have committed since.
            let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
            if queries::by_hash(&mut conn, &hash)?.is_none() {
                store.remove(&hash)?;
                report.orphans_removed += 1;
            }
        }
    }
    store.sweep_tmp(orphan_age)?;
    Ok(report)
}
