//! What happens to an uploaded picture: its type decided from the bytes,
//! its structure checked (a truncated file is refused), its metadata
//! (EXIF with GPS, XMP, IPTC, comments) stripped, its size bounded before
//! any pixel is decoded, and the renditions made.
//!
//! Everything here is synchronous and CPU-bound: it runs on the media
//! pool ([`Pool`]), never on the async workers, and knows nothing of HTTP
//! beyond the `ApiError` it returns.

use std::io::Cursor;

use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader};

use crate::error::ApiError;
use crate::pool::BoundedPool;

/// The only widths renditions are made at (never wider than the original).
pub const WIDTHS: [u32; 5] = [320, 640, 1024, 1600, 2400];
/// The longest side any upload may have, whatever its pixel count.
pub const MAX_SIDE: u32 = 20_000;
/// JPEG quality of renditions (and of an original that had to be turned).
const JPEG_QUALITY: u8 = 82;

/// The accepted image types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Jpeg,
    Png,
    WebP,
    Gif,
}

impl Kind {
    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::WebP => "image/webp",
            Self::Gif => "image/gif",
        }
    }

    pub fn ext(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::WebP => "webp",
            Self::Gif => "gif",
        }
    }

    pub fn from_mime(mime: &str) -> Option<Self> {
        [Self::Jpeg, Self::Png, Self::WebP, Self::Gif]
            .into_iter()
            .find(|k| k.mime() == mime)
    }

    pub fn from_ext(ext: &str) -> Option<Self> {
        [Self::Jpeg, Self::Png, Self::WebP, Self::Gif]
            .into_iter()
            .find(|k| k.ext() == ext)
    }

    fn format(self) -> ImageFormat {
        match self {
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Png => ImageFormat::Png,
            Self::WebP => ImageFormat::WebP,
            Self::Gif => ImageFormat::Gif,
        }
    }

    /// Decides the type from the first bytes; the file name never counts.
    pub fn sniff(bytes: &[u8]) -> Result<Self, ApiError> {
        match image::guess_format(bytes) {
            Ok(ImageFormat::Jpeg) => Ok(Self::Jpeg),
            Ok(ImageFormat::Png) => Ok(Self::Png),
            Ok(ImageFormat::WebP) => Ok(Self::WebP),
            Ok(ImageFormat::Gif) => Ok(Self::Gif),
            Ok(ImageFormat::Avif) => Err(invalid(
                "is an AVIF image; only JPEG, PNG, WebP and GIF are accepted",
            )),
            _ => Err(invalid("is not a JPEG, PNG, WebP or GIF image")),
        }
    }
}

fn invalid(message: &str) -> ApiError {
    ApiError::invalid("file", message)
}

fn truncated() -> ApiError {
    invalid("is truncated or corrupt")
}

/// One resized copy.
pub struct Rendition {
    pub width: u32,
    pub height: u32,
    pub kind: Kind,
    pub bytes: Vec<u8>,
}

/// An upload made ready to store.
pub struct Processed {
    pub kind: Kind,
    /// After the EXIF orientation was applied.
    pub width: u32,
    pub height: u32,
    /// The original as served: the uploaded bytes without metadata.
    pub original: Vec<u8>,
    pub renditions: Vec<Rendition>,
    /// Fixed-ratio crops around the focal point (made by `process_with_crops`).
    pub crops: Vec<CropFile>,
}

/// The widths of the renditions of a picture `width` pixels wide.
pub fn widths_for(width: u32) -> Vec<u32> {
    WIDTHS.iter().copied().filter(|w| *w <= width).collect()
}

/// The height of a rendition `w` wide of a `width`×`height` picture.
pub fn scaled_height(width: u32, height: u32, w: u32) -> u32 {
    let h = (u64::from(height) * u64::from(w) + u64::from(width) / 2) / u64::from(width.max(1));
    u32::try_from(h).unwrap_or(u32::MAX).max(1)
}

/// Checks, strips and decodes an upload and makes its renditions.
/// `max_pixels` bounds width × height before anything is decoded.
pub fn process(bytes: &[u8], max_pixels: u64) -> Result<Processed, ApiError> {
    let kind = Kind::sniff(bytes)?;
    // The structure walk refuses truncated files (some decoders would fill
    // the missing rows with grey) and drops every metadata block.
    let stripped = strip_metadata(kind, bytes)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.format());
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    // Room for the decoded picture as 8-bit RGBA plus the decoder's own
    // buffers; anything bigger was refused by the pixel count already.
    limits.max_alloc = Some(max_pixels.saturating_mul(4).saturating_add(64 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(invalid("has no pixels"));
    }
    if u64::from(w) * u64::from(h) > max_pixels {
        return Err(invalid(&format!(
            "is {w}×{h} pixels; at most {max_pixels} pixels are accepted"
        )));
    }
    let orientation = decoder.orientation().map_err(decode_error)?;
    let mut img = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    let turned = orientation != image::metadata::Orientation::NoTransforms;
    if turned {
        img.apply_orientation(orientation);
    }
    let (width, height) = (img.width(), img.height());
    // A picture whose EXIF said to turn it is stored turned (the EXIF that
    // said so is gone); otherwise the original bytes stay as they were.
    let original = if turned {
        encode(&img, kind)?
    } else {
        stripped
    };
    let renditions = renditions(&img, kind)?;
    Ok(Processed {
        kind,
        width,
        height,
        original,
        renditions,
        crops: Vec::new(),
    })
}

/// `process`, plus the crops for the focal point `focal` (whole percent).
pub fn process_with_crops(
    bytes: &[u8],
    max_pixels: u64,
    focal: FocalPercent,
) -> Result<Processed, ApiError> {
    let mut p = process(bytes, max_pixels)?;
    let img = decode_trusted(&p.original, p.kind, max_pixels)?;
    p.crops = crops(&img, p.kind, focal)?;
    Ok(p)
}

/// Makes the crops of a stored original (again) for a focal point.
pub fn crops_of(
    original: &[u8],
    kind: Kind,
    max_pixels: u64,
    focal: FocalPercent,
) -> Result<Vec<CropFile>, ApiError> {
    crops(&decode_trusted(original, kind, max_pixels)?, kind, focal)
}

/// Decodes a stored original (checked and turned at upload already).
fn decode_trusted(bytes: &[u8], kind: Kind, max_pixels: u64) -> Result<DynamicImage, ApiError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.format());
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(max_pixels.saturating_mul(4).saturating_add(64 << 20));
    reader.limits(limits);
    reader.decode().map_err(decode_error)
}

/// The aspect ratios crops are made at (width:height): an allow-list, as
/// the widths are; no URL makes the server crop.
pub const CROPS: [(u32, u32); 3] = [(16, 9), (1, 1), (4, 3)];
/// The widest crop made (crops are for cards, teasers and thumbnails).
pub const CROP_MAX_WIDTH: u32 = 1600;

/// A focal point in whole percent of the width and height (0 to 100): the
/// precision crop file names keep. No focal point is the centre.
pub type FocalPercent = (u32, u32);

pub fn focal_percent(focal: Option<(f64, f64)>) -> FocalPercent {
    let pct = |v: f64| {
        let v = (v.clamp(0.0, 1.0) * 100.0).round();
        if v >= 100.0 {
            100
        } else if v <= 0.0 {
            0
        } else {
            v as u32
        }
    };
    focal.map_or((50, 50), |(x, y)| (pct(x), pct(y)))
}

/// `16x9`.
pub fn ratio_name((a, b): (u32, u32)) -> String {
    format!("{a}x{b}")
}

/// The largest box of ratio `a:b` inside a `w`×`h` picture, centred on
/// the focal point as far as the edges allow: `(left, top, width, height)`.
/// The focal point is always inside it.
pub fn crop_box(
    w: u32,
    h: u32,
    (a, b): (u32, u32),
    (fx, fy): FocalPercent,
) -> (u32, u32, u32, u32) {
    let (w64, h64, a64, b64) = (u64::from(w), u64::from(h), u64::from(a), u64::from(b));
    let (cw, ch) = if w64 * b64 > h64 * a64 {
        ((h64 * a64 / b64).clamp(1, w64), h64)
    } else {
        (w64, (w64 * b64 / a64).clamp(1, h64))
    };
    let place = |size: u64, box_size: u64, pct: u32| {
        let centre = size * u64::from(pct.min(100)) / 100;
        centre.saturating_sub(box_size / 2).min(size - box_size)
    };
    let left = place(w64, cw, fx);
    let top = place(h64, ch, fy);
    let n = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    (n(left), n(top), n(cw), n(ch))
}

/// The widths a crop of `ratio` is made at for a `w`×`h` picture.
pub fn crop_widths(w: u32, h: u32, ratio: (u32, u32)) -> Vec<u32> {
    let (_, _, cw, _) = crop_box(w, h, ratio, (50, 50));
    WIDTHS
        .iter()
        .copied()
        .filter(|x| *x <= cw && *x <= CROP_MAX_WIDTH)
        .collect()
}

/// The height of a crop `width` wide.
pub fn crop_height(width: u32, (a, b): (u32, u32)) -> u32 {
    u32::try_from((u64::from(width) * u64::from(b) + u64::from(a) / 2) / u64::from(a))
        .unwrap_or(u32::MAX)
        .max(1)
}

/// `640-16x9-50-30.jpg`: width, ratio, focal point, type.
pub fn crop_name(width: u32, ratio: (u32, u32), (fx, fy): FocalPercent, kind: Kind) -> String {
    format!("{width}-{}-{fx}-{fy}.{}", ratio_name(ratio), kind.ext())
}

/// The names of every crop of a picture for a focal point.
pub fn crop_names(w: u32, h: u32, kind: Kind, focal: FocalPercent) -> Vec<String> {
    CROPS
        .iter()
        .flat_map(|r| {
            crop_widths(w, h, *r)
                .into_iter()
                .map(move |x| crop_name(x, *r, focal, kind))
        })
        .collect()
}

/// Whether `stem` (a file name without its extension) is a crop's.
pub fn is_crop_stem(stem: &str) -> bool {
    let parts: Vec<&str> = stem.split('-').collect();
    let [width, ratio, fx, fy] = parts.as_slice() else {
        return false;
    };
    let canonical = |s: &str, max: u32| {
        s.parse::<u32>()
            .is_ok_and(|v| v <= max && s == v.to_string())
    };
    canonical(width, u32::MAX)
        && width
            .parse::<u32>()
            .is_ok_and(|w| WIDTHS.contains(&w) && w <= CROP_MAX_WIDTH)
        && CROPS.iter().any(|r| ratio_name(*r) == *ratio)
        && canonical(fx, 100)
        && canonical(fy, 100)
}

/// One cropped copy, named as it is stored.
pub struct CropFile {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
}

/// Every crop, in the original's type: the box around the focal point,
/// then each allowed width (from the next larger one, as renditions).
fn crops(img: &DynamicImage, kind: Kind, focal: FocalPercent) -> Result<Vec<CropFile>, ApiError> {
    let mut out = Vec::new();
    for ratio in CROPS {
        let (left, top, cw, ch) = crop_box(img.width(), img.height(), ratio, focal);
        let mut source = img.crop_imm(left, top, cw, ch);
        for w in crop_widths(img.width(), img.height(), ratio)
            .into_iter()
            .rev()
        {
            let h = crop_height(w, ratio);
            source = source.resize_exact(w, h, FilterType::CatmullRom);
            out.push(CropFile {
                name: crop_name(w, ratio, focal, kind),
                width: w,
                height: h,
                bytes: encode(&source, kind)?,
            });
        }
    }
    Ok(out)
}

/// Makes the renditions of an original (again): what `media rebuild` uses.
pub fn renditions_of(original: &[u8], max_pixels: u64) -> Result<Vec<Rendition>, ApiError> {
    Ok(process(original, max_pixels)?.renditions)
}

fn decode_error(e: ImageError) -> ApiError {
    match e {
        ImageError::Limits(_) => invalid(&format!(
            "is too large to decode (at most {MAX_SIDE} pixels a side)"
        )),
        ImageError::Unsupported(_) => invalid("uses a feature of its format that is not supported"),
        _ => truncated(),
    }
}

/// Each width in the original kind and in WebP (one set when the
/// original is WebP). Each is resized from the next larger one: quicker,
/// and at most a 2.5× step, which Catmull-Rom handles well.
fn renditions(img: &DynamicImage, kind: Kind) -> Result<Vec<Rendition>, ApiError> {
    let mut out = Vec::new();
    let mut source = img.clone();
    for w in widths_for(img.width()).into_iter().rev() {
        let h = scaled_height(img.width(), img.height(), w);
        let resized = if w == source.width() {
            source.clone()
        } else {
            source.resize_exact(w, h, FilterType::CatmullRom)
        };
        out.push(Rendition {
            width: w,
            height: h,
            kind,
            bytes: encode(&resized, kind)?,
        });
        if kind != Kind::WebP {
            out.push(Rendition {
                width: w,
                height: h,
                kind: Kind::WebP,
                bytes: encode(&resized, Kind::WebP)?,
            });
        }
        source = resized;
    }
    out.reverse();
    Ok(out)
}

/// Encodes pixels. WebP is lossless: the `image` crate's WebP encoder
/// makes only lossless files (a lossy one needs libwebp, C).
pub fn encode(img: &DynamicImage, kind: Kind) -> Result<Vec<u8>, ApiError> {
    let mut buf = Vec::new();
    let alpha = img.color().has_alpha();
    let result = match kind {
        Kind::Jpeg => {
            let rgb = img.to_rgb8();
            let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, JPEG_QUALITY);
            rgb.write_with_encoder(enc)
        }
        Kind::Png => {
            let enc = image::codecs::png::PngEncoder::new_with_quality(
                &mut buf,
                image::codecs::png::CompressionType::Fast,
                image::codecs::png::FilterType::Adaptive,
            );
            if alpha {
                img.to_rgba8().write_with_encoder(enc)
            } else {
                img.to_rgb8().write_with_encoder(enc)
            }
        }
        Kind::WebP => {
            let enc = image::codecs::webp::WebPEncoder::new_lossless(&mut buf);
            if alpha {
                img.to_rgba8().write_with_encoder(enc)
            } else {
                img.to_rgb8().write_with_encoder(enc)
            }
        }
        Kind::Gif => {
            let mut enc = image::codecs::gif::GifEncoder::new_with_speed(&mut buf, 20);
            enc.encode_frame(image::Frame::new(img.to_rgba8()))
        }
    };
    result.map_err(ApiError::internal)?;
    Ok(buf)
}

/// The file without its metadata blocks; an error when its structure
/// ends early or is not what its type says.
pub fn strip_metadata(kind: Kind, b: &[u8]) -> Result<Vec<u8>, ApiError> {
    match kind {
        Kind::Jpeg => strip_jpeg(b),
        Kind::Png => strip_png(b),
        Kind::WebP => strip_webp(b),
        Kind::Gif => strip_gif(b),
    }
}

fn be16(b: &[u8], i: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *b.get(i)?,
        *b.get(i + 1)?,
    ])))
}

/// Keeps JFIF (APP0), ICC profiles (APP2) and Adobe's colour transform
/// (APP14); drops EXIF/XMP (APP1), IPTC (APP13), the other APPn, comments
/// and anything after the end-of-image marker.
fn strip_jpeg(b: &[u8]) -> Result<Vec<u8>, ApiError> {
    if !b.starts_with(&[0xFF, 0xD8]) {
        return Err(truncated());
    }
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut i = 2;
    loop {
        if b.get(i) != Some(&0xFF) {
            return Err(truncated());
        }
        let Some(&marker) = b.get(i + 1) else {
            return Err(truncated());
        };
        if marker == 0xFF {
            i += 1;
            continue;
        }
        i += 2;
        match marker {
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                return Ok(out);
            }
            0xD0..=0xD7 | 0x01 => out.extend_from_slice(&[0xFF, marker]),
            0xD8 => return Err(truncated()),
            _ => {
                let len = be16(b, i).ok_or_else(truncated)?;
                if len < 2 || i + len > b.len() {
                    return Err(truncated());
                }
                let keep = !matches!(marker, 0xE1 | 0xE3..=0xED | 0xEF | 0xFE);
                if keep {
                    out.extend_from_slice(&b[i - 2..i + len]);
                }
                i += len;
                if marker == 0xDA {
                    // Entropy-coded data runs to the next marker that is
                    // neither a stuffed 0xFF00 nor a restart marker.
                    let start = i;
                    loop {
                        match (b.get(i), b.get(i + 1)) {
                            (Some(0xFF), Some(&m)) if m != 0 && !(0xD0..=0xD7).contains(&m) => {
                                break;
                            }
                            (Some(_), Some(_)) => i += 1,
                            _ => return Err(truncated()),
                        }
                    }
                    out.extend_from_slice(&b[start..i]);
                }
            }
        }
    }
}

/// Drops text, EXIF and time chunks; requires the closing IEND.
fn strip_png(b: &[u8]) -> Result<Vec<u8>, ApiError> {
    const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    if !b.starts_with(&SIGNATURE) {
        return Err(truncated());
    }
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&SIGNATURE);
    let mut i = 8;
    loop {
        let header = b.get(i..i + 8).ok_or_else(truncated)?;
        let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let kind = &header[4..8];
        let end = i
            .checked_add(12)
            .and_then(|n| n.checked_add(len))
            .filter(|end| *end <= b.len())
            .ok_or_else(truncated)?;
        if !matches!(kind, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt" | b"tIME") {
            out.extend_from_slice(&b[i..end]);
        }
        if kind == b"IEND" {
            return Ok(out);
        }
        i = end;
    }
}

/// Drops the EXIF and XMP chunks (and their flags in `VP8X`); the RIFF
/// size must be all there.
fn strip_webp(b: &[u8]) -> Result<Vec<u8>, ApiError> {
    if b.len() < 12 || &b[0..4] != b"RIFF" || &b[8..12] != b"WEBP" {
        return Err(truncated());
    }
    let size = u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as usize;
    let total = size.checked_add(8).ok_or_else(truncated)?;
    if total > b.len() || size < 4 {
        return Err(truncated());
    }
    let mut chunks = Vec::with_capacity(total);
    let mut i = 12;
    while i < total {
        let header = b.get(i..i + 8).ok_or_else(truncated)?;
        let len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let padded = len + (len & 1);
        let end = (i + 8)
            .checked_add(padded)
            .filter(|end| *end <= total)
            .ok_or_else(truncated)?;
        match &header[0..4] {
            b"EXIF" | b"XMP " => {}
            b"VP8X" => {
                let mut chunk = b[i..end].to_vec();
                if let Some(flags) = chunk.get_mut(8) {
                    *flags &= !(0x08 | 0x04);
                }
                chunks.extend_from_slice(&chunk);
            }
            _ => chunks.extend_from_slice(&b[i..end]),
        }
        i = end;
    }
    let riff_size = u32::try_from(chunks.len() + 4).map_err(|_| truncated())?;
    let mut out = Vec::with_capacity(chunks.len() + 12);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&riff_size.to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend_from_slice(&chunks);
    Ok(out)
}

/// Skips a run of GIF sub-blocks from `i`; the index after its terminator.
fn gif_sub_blocks(b: &[u8], mut i: usize) -> Result<usize, ApiError> {
    loop {
        let n = usize::from(*b.get(i).ok_or_else(truncated)?);
        i += 1;
        if n == 0 {
            return Ok(i);
        }
        i += n;
    }
}

/// Drops comments and application blocks other than the looping ones
/// (XMP travels in an application block); requires the trailer.
fn strip_gif(b: &[u8]) -> Result<Vec<u8>, ApiError> {
    if b.len() < 13 || !(b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a")) {
        return Err(truncated());
    }
    let packed = b[10];
    let mut i = 13;
    if packed & 0x80 != 0 {
        i += 3 * (1usize << ((packed & 0x07) + 1));
    }
    let mut out = b.get(..i).ok_or_else(truncated)?.to_vec();
    loop {
        match b.get(i) {
            Some(0x3B) => {
                out.push(0x3B);
                return Ok(out);
            }
            Some(0x21) => {
                let label = *b.get(i + 1).ok_or_else(truncated)?;
                let end = gif_sub_blocks(b, i + 2)?;
                let block = b.get(i..end).ok_or_else(truncated)?;
                let keep = match label {
                    0xFE => false,
                    0xFF => {
                        let id = b.get(i + 3..i + 14).unwrap_or_default();
                        id == b"NETSCAPE2.0" || id == b"ANIMEXTS1.0"
                    }
                    _ => true,
                };
                if keep {
                    out.extend_from_slice(block);
                }
                i = end;
            }
            Some(0x2C) => {
                let packed = *b.get(i + 9).ok_or_else(truncated)?;
                let mut j = i + 10;
                if packed & 0x80 != 0 {
                    j += 3 * (1usize << ((packed & 0x07) + 1));
                }
                // The LZW minimum code size, then the image data.
                let end = gif_sub_blocks(b, j + 1)?;
                out.extend_from_slice(b.get(i..end).ok_or_else(truncated)?);
                i = end;
            }
            _ => return Err(truncated()),
        }
    }
}

/// A dedicated pool for decoding and resizing, with a bounded queue: when
/// it is full the upload is a 503 with `Retry-After` at once (like the
/// password hashing pool), so a burst of uploads cannot stall the blocking
/// threads every database call needs.
pub struct Pool(BoundedPool);

impl Pool {
    pub fn new(threads: usize, queue: usize) -> Self {
        Self(BoundedPool::new(
            "media",
            "media processing",
            "too many uploads are being processed; retry shortly",
            threads,
            queue,
        ))
    }

    /// Runs `f` on the pool; 503 when the queue is full.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        self.0.run(f).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crop_keeps_the_focal_point_inside_and_its_ratio() {
        for (w, h) in [
            (1200, 600),
            (600, 1200),
            (4000, 3000),
            (321, 320),
            (17, 2000),
            (5000, 9),
        ] {
            for ratio in CROPS {
                for fx in [0, 1, 10, 33, 50, 77, 99, 100] {
                    for fy in [0, 5, 50, 95, 100] {
                        let (left, top, cw, ch) = crop_box(w, h, ratio, (fx, fy));
                        assert!(cw >= 1 && ch >= 1 && left + cw <= w && top + ch <= h);
                        // As large as fits: one side is the picture's.
                        assert!(cw == w || ch == h, "{w}x{h} {ratio:?}");
                        // The ratio, to a pixel of rounding.
                        let (a, b) = (u64::from(ratio.0), u64::from(ratio.1));
                        let err = (u64::from(cw) * b).abs_diff(u64::from(ch) * a);
                        assert!(err <= a.max(b), "{w}x{h} {ratio:?}: {cw}x{ch}");
                        // The focal point (in pixels) is inside the box.
                        let (px, py) = (w * fx / 100, h * fy / 100);
                        assert!(left <= px && px <= left + cw, "x {w}x{h} {ratio:?} {fx}");
                        assert!(top <= py && py <= top + ch, "y {w}x{h} {ratio:?} {fy}");
                    }
                }
            }
        }
        // Centred when it can be, against the edge when it cannot.
        assert_eq!(crop_box(1200, 600, (1, 1), (50, 50)), (300, 0, 600, 600));
        assert_eq!(crop_box(1200, 600, (1, 1), (90, 20)), (600, 0, 600, 600));
        assert_eq!(crop_box(1200, 600, (1, 1), (10, 20)), (0, 0, 600, 600));
        assert_eq!(crop_box(1200, 600, (1, 1), (40, 20)), (180, 0, 600, 600));
    }

    #[test]
    fn focal_points_round_to_whole_percent() {
        assert_eq!(focal_percent(None), (50, 50));
        assert_eq!(focal_percent(Some((0.0, 1.0))), (0, 100));
        assert_eq!(focal_percent(Some((0.254, 0.756))), (25, 76));
        assert_eq!(
            crop_name(640, (16, 9), (25, 76), Kind::Png),
            "640-16x9-25-76.png"
        );
        assert!(is_crop_stem("640-16x9-25-76"));
    }

    fn picture(kind: Kind, w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        }));
        encode(&img, kind).unwrap()
    }

    #[test]
    fn every_kind_round_trips_with_renditions() {
        for kind in [Kind::Jpeg, Kind::Png, Kind::WebP, Kind::Gif] {
            let bytes = picture(kind, 700, 350);
            let p = process(&bytes, 10_000_000).unwrap();
            assert_eq!(p.kind, kind);
            assert_eq!((p.width, p.height), (700, 350));
            let widths: Vec<u32> = p.renditions.iter().map(|r| r.width).collect();
            let expected: &[u32] = if kind == Kind::WebP {
                &[320, 640]
            } else {
                &[320, 320, 640, 640]
            };
            assert_eq!(widths, expected, "{kind:?}");
            assert_eq!(p.renditions[0].height, 160);
        }
    }

    #[test]
    fn truncated_files_are_refused() {
        for kind in [Kind::Jpeg, Kind::Png, Kind::WebP, Kind::Gif] {
            let bytes = picture(kind, 64, 64);
            let cut = &bytes[..bytes.len() - 10];
            assert!(process(cut, 10_000_000).is_err(), "{kind:?}");
        }
    }

    #[test]
    fn exif_is_stripped_from_jpeg() {
        let bytes = picture(Kind::Jpeg, 32, 32);
        let mut with_exif = bytes[..2].to_vec();
        let payload = b"Exif\0\0GPS secret";
        with_exif.extend_from_slice(&[0xFF, 0xE1]);
        with_exif.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        with_exif.extend_from_slice(payload);
        with_exif.extend_from_slice(&bytes[2..]);
        let stripped = strip_metadata(Kind::Jpeg, &with_exif).unwrap();
        assert!(!stripped.windows(6).any(|w| w == b"secret"));
        assert_eq!(stripped, strip_metadata(Kind::Jpeg, &bytes).unwrap());
    }
}
