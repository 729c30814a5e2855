//! PNG checks shared by the chart and report tests: decode a file, check its size, and
//! tell a real picture from a blank one.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::Path;

/// A decoded PNG: width, height and pixels as RGB(A) tuples.
pub struct Picture {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<[u8; 4]>,
}

/// Decodes `path`, checking the signature and the IHDR chunk first.
pub fn decode(path: &Path) -> Picture {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{}: not a PNG signature", path.display());
    assert_eq!(&bytes[12..16], b"IHDR", "{}: IHDR is not the first chunk", path.display());
    let ihdr_w = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    let ihdr_h = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
    let mut decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!((info.width, info.height), (ihdr_w, ihdr_h));
    let channels = info.color_type.samples();
    let pixels = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|c| match channels {
            1 => [c[0], c[0], c[0], 255],
            2 => [c[0], c[0], c[0], c[1]],
            3 => [c[0], c[1], c[2], 255],
            _ => [c[0], c[1], c[2], c[3]],
        })
        .collect();
    Picture { width: info.width, height: info.height, pixels }
}

impl Picture {
    /// Distinct colours in the picture.
    pub fn colours(&self) -> usize {
        self.pixels.iter().collect::<BTreeSet<_>>().len()
    }

    /// Fraction of pixels that differ from the most common colour (the background).
    pub fn ink(&self) -> f64 {
        let mut counts = std::collections::BTreeMap::new();
        for p in &self.pixels {
            *counts.entry(p).or_insert(0usize) += 1;
        }
        let background = counts.values().max().copied().unwrap_or(0);
        1.0 - background as f64 / self.pixels.len().max(1) as f64
    }
}
