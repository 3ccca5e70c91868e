//! Plots drawn in Unicode half-blocks: decode a PNG (`png`) or JPEG
//! (`zune-jpeg`), fit it to the space, and draw two pixels a cell (`▀` with
//! the top pixel as foreground and the bottom one as background). Works in
//! any terminal and over any SSH link; terminal graphics protocols (kitty,
//! sixel, iTerm2) are the optional `graphics` feature.
//!
//! Why not the `image` crate: its decoders, colour management and resizers
//! were about half of the release build's CPU time, for a job this small.
//! Plot files come from runs, so they are untrusted: opened without
//! following a link, only as regular files, under a size cap, and decoded
//! with the decoders' own memory limits.

use std::io::Read;
use std::path::Path;

use ratatui::buffer::Buffer;
use ratatui::layout::{Rect, Size};
use ratatui::style::Color;
use ratatui::widgets::Widget;

/// Largest plot file read (a plot is rarely over a few MiB).
const FILE_CAP: u64 = 64 << 20;

/// Largest decoded image, in pixels (a 8k × 8k plot).
const PIXEL_CAP: usize = 8192 * 8192;

/// An image fitted to a size in cells: two rows of pixels a cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    /// Width in cells (and pixels).
    pub width: u16,
    /// Height in cells (half the pixel rows).
    pub height: u16,
    /// RGB pixels, `width × 2·height`, row by row.
    pixels: Vec<[u8; 3]>,
}

impl Picture {
    /// Its size in cells.
    pub fn size(&self) -> Size {
        Size::new(self.width, self.height)
    }

    fn pixel(&self, x: u16, y: usize) -> [u8; 3] {
        self.pixels[y * usize::from(self.width) + usize::from(x)]
    }
}

impl Widget for &Picture {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let rgb = |p: [u8; 3]| Color::Rgb(p[0], p[1], p[2]);
        for row in 0..self.height.min(area.height) {
            for col in 0..self.width.min(area.width) {
                let top = self.pixel(col, 2 * usize::from(row));
                let bottom = self.pixel(col, 2 * usize::from(row) + 1);
                let cell = &mut buf[(area.x + col, area.y + row)];
                // One colour: a blank cell with that background (as
                // ratatui-image draws it), so text selection stays clean.
                if top == bottom {
                    cell.set_char(' ').set_bg(rgb(top));
                } else {
                    cell.set_char('▀').set_fg(rgb(top)).set_bg(rgb(bottom));
                }
            }
        }
    }
}

/// An image decoded to RGB.
#[derive(Debug)]
struct Rgb {
    width: usize,
    height: usize,
    data: Vec<[u8; 3]>,
}

/// Reads a plot file (no link followed, a regular file under the cap),
/// decodes it and fits it to `size` cells keeping its proportions. A file
/// that is not a PNG or JPEG, or is damaged, gives a message.
pub fn load(path: &Path, size: Size) -> Result<Picture, String> {
    let bytes = read_capped(path)?;
    let image = decode(&bytes)?;
    Ok(fit(&image, size))
}

fn read_capped(path: &Path) -> Result<Vec<u8>, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::File::options()
        .read(true)
        .custom_flags((rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32)
        .open(path)
        .map_err(|e| format!("cannot open: {e}"))?;
    let md = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
    if !md.is_file() {
        return Err("not a regular file".into());
    }
    if md.len() > FILE_CAP {
        return Err(format!("larger than {} MiB: not shown", FILE_CAP >> 20));
    }
    let mut bytes = Vec::with_capacity(md.len() as usize);
    file.take(FILE_CAP)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    Ok(bytes)
}

/// Decodes PNG or JPEG bytes (told apart by their signature).
fn decode(bytes: &[u8]) -> Result<Rgb, String> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        decode_png(bytes)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        decode_jpeg(bytes)
    } else {
        Err("not a valid image: only PNG and JPEG are shown".into())
    }
}

fn decode_png(bytes: &[u8]) -> Result<Rgb, String> {
    let bad = |e: png::DecodingError| format!("not a valid image: {e}");
    let mut decoder = png::Decoder::new_with_limits(
        std::io::Cursor::new(bytes),
        png::Limits {
            bytes: PIXEL_CAP * 4,
        },
    );
    // Palettes and low bit depths expanded, 16-bit samples cut to 8.
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(bad)?;
    let len = reader
        .output_buffer_size()
        .ok_or("not a valid image: too large")?;
    let mut buf = vec![0; len];
    let info = reader.next_frame(&mut buf).map_err(bad)?;
    let (width, height) = (info.width as usize, info.height as usize);
    let channels = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => return Err("not a valid image: palette not expanded".into()),
    };
    let line = info.line_size;
    let mut data = Vec::with_capacity(width * height);
    for row in buf.chunks(line).take(height) {
        for px in row.chunks(channels).take(width) {
            let (rgb, alpha) = match *px {
                [g] => ([g, g, g], 255),
                [g, a] => ([g, g, g], a),
                [r, g, b] => ([r, g, b], 255),
                [r, g, b, a] => ([r, g, b], a),
                _ => ([0, 0, 0], 255),
            };
            data.push(over_white(rgb, alpha));
        }
    }
    if data.len() != width * height {
        return Err("not a valid image: truncated".into());
    }
    Ok(Rgb {
        width,
        height,
        data,
    })
}

/// A pixel over white paper: plots are made for a white page, and a
/// transparent one drawn over a dark terminal would hide its black text.
fn over_white(rgb: [u8; 3], alpha: u8) -> [u8; 3] {
    let a = u16::from(alpha);
    rgb.map(|c| ((u16::from(c) * a + 255 * (255 - a)) / 255) as u8)
}

fn decode_jpeg(bytes: &[u8]) -> Result<Rgb, String> {
    use zune_jpeg::zune_core::bytestream::ZCursor;
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::RGB)
        .set_max_width(8192)
        .set_max_height(8192);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    let data = decoder
        .decode()
        .map_err(|e| format!("not a valid image: {e:?}"))?;
    let info = decoder.info().ok_or("not a valid image: no header")?;
    let (width, height) = (usize::from(info.width), usize::from(info.height));
    let data: Vec<[u8; 3]> = data.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect();
    if data.len() != width * height {
        return Err("not a valid image: truncated".into());
    }
    Ok(Rgb {
        width,
        height,
        data,
    })
}

/// Scales the image to fill `size` cells (two pixels a cell, about square)
/// keeping its proportions: each new pixel is the mean of the pixels it
/// covers, or the nearest one when enlarging.
fn fit(image: &Rgb, size: Size) -> Picture {
    let (cols, px_rows) = (usize::from(size.width), usize::from(size.height) * 2);
    if image.width == 0 || image.height == 0 || cols == 0 || px_rows == 0 {
        return Picture {
            width: 0,
            height: 0,
            pixels: Vec::new(),
        };
    }
    let scale = (cols as f64 / image.width as f64).min(px_rows as f64 / image.height as f64);
    let w = ((image.width as f64 * scale).round() as usize).clamp(1, cols);
    // An even number of pixel rows: one cell holds two.
    let h = ((image.height as f64 * scale).round() as usize).clamp(1, px_rows);
    let h = h + h % 2;
    let (sx, sy) = (
        image.width as f64 / w as f64,
        image.height as f64 / h as f64,
    );
    let mut pixels = Vec::with_capacity(w * h);
    for y in 0..h {
        let (y0, y1) = span(y, sy, image.height);
        for x in 0..w {
            let (x0, x1) = span(x, sx, image.width);
            let mut sum = [0u64; 3];
            for row in y0..y1 {
                for p in &image.data[row * image.width + x0..row * image.width + x1] {
                    for c in 0..3 {
                        sum[c] += u64::from(p[c]);
                    }
                }
            }
            let n = ((y1 - y0) * (x1 - x0)) as u64;
            pixels.push(sum.map(|s| (s / n) as u8));
        }
    }
    Picture {
        width: w as u16,
        height: (h / 2) as u16,
        pixels,
    }
}

/// The source pixels `[from, to)` that new pixel `i` covers at `scale`
/// source pixels per new pixel (at least one).
fn span(i: usize, scale: f64, len: usize) -> (usize, usize) {
    let from = ((i as f64 * scale) as usize).min(len - 1);
    let to = (((i + 1) as f64 * scale).ceil() as usize).clamp(from + 1, len);
    (from, to)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG of `w × h` RGBA pixels from a function of (x, y).
    fn png(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 4]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().unwrap();
        let data: Vec<u8> = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .flat_map(|(x, y)| f(x, y))
            .collect();
        writer.write_image_data(&data).unwrap();
        drop(writer);
        out
    }

    #[test]
    fn a_png_is_fitted_keeping_its_proportions() {
        // 200 × 100 px: twice as wide as high; in 50 × 50 cells (50 × 100
        // pixels) it becomes 50 × 25 pixels, 13 cells high.
        let bytes = png(200, 100, |x, _| {
            if x < 100 {
                [255, 0, 0, 255]
            } else {
                [0, 0, 255, 255]
            }
        });
        let pic = fit(&decode(&bytes).unwrap(), Size::new(50, 50));
        assert_eq!((pic.width, pic.height), (50, 13));
        assert_eq!(pic.pixel(0, 0), [255, 0, 0]);
        assert_eq!(pic.pixel(49, 25), [0, 0, 255]);
        // The boundary column averages both halves' pixels it covers.
        let mut buf = Buffer::empty(Rect::new(0, 0, 50, 13));
        (&pic).render(buf.area, &mut buf);
        assert_eq!(buf[(0, 0)].bg, Color::Rgb(255, 0, 0));
        assert_eq!(buf[(49, 12)].bg, Color::Rgb(0, 0, 255));
    }

    #[test]
    fn transparency_is_shown_over_white_and_halves_differ() {
        // Top half transparent, bottom half black: one cell row of each.
        let bytes = png(
            4,
            4,
            |_, y| if y < 2 { [0, 0, 0, 0] } else { [0, 0, 0, 255] },
        );
        let pic = fit(&decode(&bytes).unwrap(), Size::new(4, 1));
        assert_eq!((pic.width, pic.height), (2, 1));
        let mut buf = Buffer::empty(Rect::new(0, 0, 4, 1));
        (&pic).render(buf.area, &mut buf);
        assert_eq!(buf[(0, 0)].symbol(), "▀");
        assert_eq!(buf[(0, 0)].fg, Color::Rgb(255, 255, 255));
        assert_eq!(buf[(0, 0)].bg, Color::Rgb(0, 0, 0));
    }

    #[test]
    fn damaged_and_foreign_files_give_a_message() {
        let mut bytes = png(10, 10, |_, _| [1, 2, 3, 255]);
        bytes.truncate(bytes.len() / 2);
        assert!(decode(&bytes).unwrap_err().starts_with("not a valid image"));
        assert!(
            decode(b"GIF89a...")
                .unwrap_err()
                .contains("only PNG and JPEG")
        );
        assert!(decode(&[0xFF, 0xD8, 0xFF, 0, 1]).is_err());
        assert!(decode(b"").is_err());
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("plot.png");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        assert_eq!(
            load(&fifo, Size::new(10, 10)).unwrap_err(),
            "not a regular file"
        );
        let link = dir.path().join("link.png");
        std::os::unix::fs::symlink("/etc/passwd", &link).unwrap();
        assert!(load(&link, Size::new(10, 10)).is_err());
    }

    #[test]
    fn the_demo_plots_decode() {
        let plots = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/outputs");
        let mut seen = 0;
        for e in walkdir::WalkDir::new(plots).into_iter().flatten() {
            let ext = e.path().extension().and_then(|x| x.to_str()).unwrap_or("");
            if matches!(ext, "png" | "jpg" | "jpeg") {
                let pic = load(e.path(), Size::new(80, 24)).unwrap();
                assert!(pic.width > 0 && pic.height > 0, "{}", e.path().display());
                seen += 1;
            }
        }
        assert!(seen > 0);
    }
}
