//! Pictures for the demo newsroom, drawn in code (gradients and discs, no
//! downloads) and stored through the same pipeline as uploads, so the demo
//! front end shows feature images, renditions and `srcset` at once.

use diesel::prelude::*;
use image::{DynamicImage, Rgb, RgbImage};

use super::processing::{self, Kind};
use super::queries::{self, NewMedia};
use super::storage::LocalStore;
use crate::config::MediaConfig;
use crate::db::DbConnection;
use crate::db::schema::{articles, users};

/// Demo pictures are this size: three renditions each, quick to make.
const WIDTH: u32 = 1200;
const HEIGHT: u32 = 675;

/// A picture for the `n`th article: a diagonal gradient between two
/// colours and a few soft discs.
fn draw(n: u64) -> DynamicImage {
    let hue = |k: u64| -> [f32; 3] {
        let t = (k % 12) as f32 / 12.0 * std::f32::consts::TAU;
        [
            0.5 + 0.4 * t.cos(),
            0.5 + 0.4 * (t + 2.1).cos(),
            0.5 + 0.4 * (t + 4.2).cos(),
        ]
    };
    let (a, b) = (hue(n), hue(n + 5));
    let discs: Vec<(f32, f32, f32)> = (0..4)
        .map(|i| {
            let k = (n * 7 + i * 13) as f32;
            (
                (k * 97.0) % WIDTH as f32,
                (k * 53.0) % HEIGHT as f32,
                60.0 + (k * 31.0) % 140.0,
            )
        })
        .collect();
    let img = RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        let t = (x as f32 / WIDTH as f32 + y as f32 / HEIGHT as f32) / 2.0;
        let mut c: [f32; 3] = std::array::from_fn(|i| a[i] * (1.0 - t) + b[i] * t);
        for (cx, cy, r) in &discs {
            let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
            if d < *r {
                let glow = 0.35 * (1.0 - d / r);
                for v in &mut c {
                    *v = (*v + glow).min(1.0);
                }
            }
        }
        Rgb(c.map(|v| (v * 255.0) as u8))
    });
    DynamicImage::ImageRgb8(img)
}

struct Stored {
    kind: Kind,
    width: u32,
    height: u32,
}

/// Stores a picture from synchronous code: on local disk directly, in S3
/// on a runtime of its own (on a thread of its own, so that this works
/// whether or not the caller is inside a runtime).
fn put(config: &MediaConfig, hash: &str, p: processing::Processed) -> anyhow::Result<()> {
    let Some(location) = &config.store else {
        LocalStore::new(&config.dir).put(hash, &p)?;
        return Ok(());
    };
    let store = super::s3::S3Store::new(location);
    std::thread::scope(|s| {
        s.spawn(|| -> anyhow::Result<()> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(super::storage::MediaStore::put(&store, hash, p))?;
            Ok(())
        })
        .join()
        .map_err(|_| anyhow::anyhow!("the S3 writer stopped"))?
    })
}

/// Gives every article of the demo authors that has no feature image a
/// drawn picture from the library. Returns how many it gave.
pub fn seed_pictures(conn: &mut DbConnection, config: &MediaConfig) -> anyhow::Result<usize> {
    let targets: Vec<(i64, String, i64)> = articles::table
        .inner_join(users::table)
        .filter(users::email.like("%@demo.newsdesk.dev"))
        .filter(articles::feature_image.is_null())
        .filter(articles::feature_image_id.is_null())
        .order(articles::id)
        .select((articles::id, articles::title, articles::author_id))
        .load(conn)?;
    let mut given = 0;
    for (id, title, author) in targets {
        let original = processing::encode(&draw(id as u64), Kind::Jpeg)
            .map_err(|e| anyhow::anyhow!("{}", e.problem().detail))?;
        let p = processing::process_with_crops(&original, config.max_pixels, (50, 50))
            .map_err(|e| anyhow::anyhow!("{}", e.problem().detail))?;
        let hash = {
            use sha2::Digest;
            format!("{:x}", sha2::Sha256::digest(&original))
        };
        let (kind, width, height, bytes) = (p.kind, p.width, p.height, p.original.len());
        put(config, &hash, p)?;
        let p = Stored {
            kind,
            width,
            height,
        };
        let now = crate::time::now();
        let row = queries::insert(
            conn,
            &NewMedia {
                hash,
                mime_type: p.kind.mime().into(),
                width: p.width as i32,
                height: p.height as i32,
                bytes: bytes as i64,
                rendition_widths: processing::widths_for(p.width)
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                alt: format!("Illustration for “{title}”"),
                caption: None,
                credit: Some("Demo illustration, drawn by newsdesk".into()),
                focal_x: Some(0.5),
                focal_y: Some(0.5),
                uploaded_by: Some(author),
                created_at: now,
                updated_at: now,
            },
        )?;
        diesel::update(articles::table.filter(articles::id.eq(id)))
            .set(articles::feature_image_id.eq(row.id))
            .execute(conn)?;
        given += 1;
    }
    Ok(given)
}
