//! Writes a synthetic photo-like JPEG for the media benchmark
//! (bench/media.sh): `picture OUT WIDTH HEIGHT SEED`. Smooth gradients with
//! fine noise, so the encoder and decoder work as on a real photograph;
//! the seed changes every pixel (so uploads are not de-duplicated).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a bench tool")]

use image::{Rgb, RgbImage};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, out, w, h, seed] = args.as_slice() else {
        eprintln!("usage: picture OUT WIDTH HEIGHT SEED");
        std::process::exit(2);
    };
    let (w, h, seed): (u32, u32, u64) = (
        w.parse().unwrap(),
        h.parse().unwrap(),
        seed.parse().unwrap(),
    );
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let img = RgbImage::from_fn(w, h, |x, y| {
        // xorshift: a little grain on every pixel.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let grain = (state % 24) as u32;
        let r = (x * 200 / w + grain) as u8;
        let g = (y * 180 / h + grain) as u8;
        let b = (((x / 37 + y / 53 + seed as u32) % 9) * 20 + grain) as u8;
        Rgb([r, g, b])
    });
    let file = std::fs::File::create(out).unwrap();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(std::io::BufWriter::new(file), 90);
    img.write_with_encoder(enc).unwrap();
}
