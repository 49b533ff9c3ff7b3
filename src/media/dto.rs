//! Request and response types of `/media`: the media object, the upload
//! form (for the document), the metadata update and the list query.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::processing::{
    CROPS, Kind, crop_height, crop_name, crop_widths, focal_percent, ratio_name, scaled_height,
};
use super::queries::MediaRow;
use crate::time::to_api;
use crate::validate::double_option;

/// Where the subject of a picture is, as fractions of its width and
/// height from the top left corner (0 to 1): crops keep it in frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Focal {
    #[schema(minimum = 0, maximum = 1, example = 0.5)]
    pub x: f64,
    #[schema(minimum = 0, maximum = 1, example = 0.3)]
    pub y: f64,
}

/// One resized copy of a picture.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Rendition {
    #[schema(example = 640)]
    pub width: u32,
    #[schema(example = 427)]
    pub height: u32,
    #[schema(example = "http://127.0.0.1:8080/media/files/3f1d…/640.jpg")]
    pub url: String,
    #[schema(example = "image/jpeg")]
    pub mime_type: String,
}

/// A copy cropped to a fixed aspect ratio around the focal point (the
/// centre without one), in the original's type.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Crop {
    /// Width:height, one of `16x9`, `1x1`, `4x3`.
    #[schema(example = "16x9")]
    pub ratio: String,
    #[schema(example = 640)]
    pub width: u32,
    #[schema(example = 360)]
    pub height: u32,
    #[schema(example = "http://127.0.0.1:8080/media/files/3f1d…/640-16x9-50-30.jpg")]
    pub url: String,
    #[schema(example = "image/jpeg")]
    pub mime_type: String,
}

/// Who uploaded a picture (`null` once that account is deleted).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Uploader {
    #[schema(example = 7)]
    pub id: i64,
    #[schema(example = "Daniel Kim")]
    pub name: String,
}

/// A picture of the media library. `url` is the original (its metadata
/// stripped); `renditions` are the allowed widths not wider than the
/// original, in the original's type and in WebP; `srcset` lists the
/// original-type renditions and the original, ready for `<img srcset>`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 12, "url": "http://127.0.0.1:8080/media/files/3f1d…/original.jpg", "mime_type": "image/jpeg",
    "width": 1200, "height": 800, "bytes": 184203, "alt": "Delegates in Seoul", "caption": null,
    "credit": "Photo: Lena Fischer", "focal": {"x": 0.5, "y": 0.3},
    "renditions": [{"width": 320, "height": 213, "url": "http://127.0.0.1:8080/media/files/3f1d…/320.jpg", "mime_type": "image/jpeg"}],
    "srcset": "http://127.0.0.1:8080/media/files/3f1d…/320.jpg 320w, http://127.0.0.1:8080/media/files/3f1d…/original.jpg 1200w",
    "crops": [{"ratio": "16x9", "width": 640, "height": 360, "url": "http://127.0.0.1:8080/media/files/3f1d…/640-16x9-50-30.jpg", "mime_type": "image/jpeg"}],
    "uploaded_by": {"id": 7, "name": "Daniel Kim"}, "created_at": "2024-05-16T01:00:00Z"
}))]
pub struct Media {
    #[schema(example = 12)]
    pub id: i64,
    /// The original, absolute.
    pub url: String,
    /// Decided from the file's bytes: `image/jpeg`, `image/png`,
    /// `image/webp` or `image/gif`.
    #[schema(example = "image/jpeg")]
    pub mime_type: String,
    #[schema(example = 1200)]
    pub width: i32,
    #[schema(example = 800)]
    pub height: i32,
    /// Size of the original as served.
    #[schema(example = 184203)]
    pub bytes: i64,
    #[schema(example = "Delegates in Seoul")]
    pub alt: String,
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub focal: Option<Focal>,
    pub renditions: Vec<Rendition>,
    pub srcset: String,
    /// Fixed aspect ratios (`16x9`, `1x1`, `4x3`) at the allowed widths up
    /// to 1600 that fit in the picture, cropped around `focal`. Their URLs
    /// change when the focal point does. For `<img srcset>`: the entries
    /// of one `ratio`.
    pub crops: Vec<Crop>,
    pub uploaded_by: Option<Uploader>,
    pub created_at: DateTime<Utc>,
}

impl Media {
    /// The object for a row; `base` is where `/media/files` is reachable.
    pub fn from_row(row: MediaRow, uploader: Option<String>, base: &str) -> Self {
        let kind = Kind::from_mime(&row.mime_type).unwrap_or(Kind::Jpeg);
        let width = u32::try_from(row.width).unwrap_or(1);
        let height = u32::try_from(row.height).unwrap_or(1);
        let file = |name: &str| format!("{base}/{}/{name}", row.hash);
        let widths: Vec<u32> = row
            .rendition_widths
            .split(',')
            .filter_map(|w| w.parse().ok())
            .collect();
        let mut renditions = Vec::new();
        for w in &widths {
            let h = scaled_height(width, height, *w);
            let mut kinds = vec![kind];
            if kind != Kind::WebP {
                kinds.push(Kind::WebP);
            }
            for k in kinds {
                renditions.push(Rendition {
                    width: *w,
                    height: h,
                    url: file(&format!("{w}.{}", k.ext())),
                    mime_type: k.mime().into(),
                });
            }
        }
        let url = file(&format!("original.{}", kind.ext()));
        let mut srcset: Vec<String> = renditions
            .iter()
            .filter(|r| r.mime_type == kind.mime() && r.width < width)
            .map(|r| format!("{} {}w", r.url, r.width))
            .collect();
        srcset.push(format!("{url} {width}w"));
        let focal = match (row.focal_x, row.focal_y) {
            (Some(x), Some(y)) => Some(Focal { x, y }),
            _ => None,
        };
        let percent = focal_percent(focal.map(|f| (f.x, f.y)));
        let crops = CROPS
            .iter()
            .flat_map(|ratio| {
                crop_widths(width, height, *ratio)
                    .into_iter()
                    .map(|w| Crop {
                        ratio: ratio_name(*ratio),
                        width: w,
                        height: crop_height(w, *ratio),
                        url: file(&crop_name(w, *ratio, percent, kind)),
                        mime_type: kind.mime().into(),
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        Self {
            id: row.id,
            url,
            mime_type: row.mime_type,
            width: row.width,
            height: row.height,
            bytes: row.bytes,
            alt: row.alt,
            caption: row.caption,
            credit: row.credit,
            focal,
            renditions,
            srcset: srcset.join(", "),
            crops,
            uploaded_by: match (row.uploaded_by, uploader) {
                (Some(id), Some(name)) => Some(Uploader { id, name }),
                _ => None,
            },
            created_at: to_api(row.created_at),
        }
    }
}

/// The `multipart/form-data` body of `POST /media` (for the document: the
/// handler reads the stream itself).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "file": "(the picture's bytes)", "alt": "Delegates in Seoul", "caption": "The delegations before the talks",
    "credit": "Photo: Lena Fischer", "focal_x": 0.5, "focal_y": 0.3
}))]
pub struct UploadMedia {
    /// The picture: JPEG, PNG, WebP or GIF, decided from its bytes (the
    /// file name and declared type do not count). At most
    /// `NEWSDESK_MEDIA_MAX_BYTES` (20 MiB by default; beyond: 413) and
    /// `NEWSDESK_MEDIA_MAX_PIXELS` (50 megapixels by default; beyond: 422).
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// Alternative text, up to 1,000 characters; required when the site
    /// sets `NEWSDESK_MEDIA_REQUIRE_ALT=true`.
    #[schema(
        nullable = false,
        max_length = 1000,
        pattern = r"^[^\u0000]*$",
        example = "Delegates in Seoul"
    )]
    pub alt: Option<String>,
    /// Up to 1,000 characters.
    #[schema(nullable = false, max_length = 1000, pattern = r"^[^\u0000]*$")]
    pub caption: Option<String>,
    /// Up to 300 characters.
    #[schema(nullable = false, max_length = 300, pattern = r"^[^\u0000]*$")]
    pub credit: Option<String>,
    /// Focal point, 0 (left) to 1 (right); 0.5 when only `focal_y` is given.
    #[schema(nullable = false, minimum = 0, maximum = 1, example = 0.5)]
    pub focal_x: Option<f64>,
    /// Focal point, 0 (top) to 1 (bottom); 0.5 when only `focal_x` is given.
    #[schema(nullable = false, minimum = 0, maximum = 1, example = 0.3)]
    pub focal_y: Option<f64>,
}

/// Body of `PATCH /media/{id}`: the metadata; `null` clears `caption`,
/// `credit` and `focal`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"alt": "Delegates in Seoul", "focal": {"x": 0.5, "y": 0.3}}))]
pub struct UpdateMedia {
    #[schema(max_length = 1000, pattern = r"^[^\u0000]*$")]
    pub alt: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 1000, pattern = r"^[^\u0000]*$")]
    pub caption: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 300, pattern = r"^[^\u0000]*$")]
    pub credit: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Focal>)]
    pub focal: Option<Option<Focal>>,
}

/// Query of `GET /media`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MediaListQuery {
    #[param(minimum = 1, maximum = 1000000, example = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 100, example = 20)]
    pub per_page: Option<i64>,
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
    pub after: Option<String>,
    /// `created_at` or `-created_at` (default, newest first).
    #[param(pattern = r"^[-+]?(created_at)$", example = "-created_at")]
    pub sort: Option<String>,
    /// Words found in the alt text or caption (case-insensitive).
    #[param(example = "seoul")]
    pub q: Option<String>,
    /// Only pictures uploaded by this user id.
    #[param(minimum = 1, example = 7)]
    pub uploaded_by: Option<i64>,
}

crate::list_query!(MediaListQuery, ["created_at"], "-created_at");

/// Query of `DELETE /media/{id}`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteMediaQuery {
    /// Editors: delete even when articles use the picture (they lose
    /// their feature image).
    pub force: Option<bool>,
}
