//! How a plot file becomes something to draw: half-blocks from
//! [`super::picture`] by default (any terminal, any SSH link, small
//! decoders), or, with the `graphics` feature and `RUNYARD_GRAPHICS=auto`,
//! a terminal graphics protocol (kitty, sixel, iTerm2) through
//! `ratatui-image`, which pulls in the `image` crate.

use std::path::Path;

use ratatui::layout::{Rect, Size};

use super::picture::{self, Picture};

/// How images are drawn, chosen once at start.
#[derive(Debug, Clone, Default)]
pub enum Graphics {
    /// Unicode half-blocks, two pixels a cell.
    #[default]
    HalfBlocks,
    /// A terminal graphics protocol the terminal said it speaks.
    #[cfg(feature = "graphics")]
    Protocol(ratatui_image::picker::Picker),
}

/// A decoded plot, fitted to the size it is drawn at.
pub enum Image {
    /// Half-blocks.
    Blocks(Picture),
    /// Pixels for the terminal's graphics protocol.
    #[cfg(feature = "graphics")]
    Protocol(ratatui_image::protocol::Protocol),
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.size();
        write!(f, "Image({}×{})", s.width, s.height)
    }
}

impl Image {
    /// Its size in cells.
    pub fn size(&self) -> Size {
        match self {
            Image::Blocks(p) => p.size(),
            #[cfg(feature = "graphics")]
            Image::Protocol(p) => p.size(),
        }
    }

    /// Draws it at `area` (its top-left corner; it is already fitted).
    pub fn render(&self, frame: &mut ratatui::Frame, area: Rect) {
        match self {
            Image::Blocks(p) => frame.render_widget(p, area),
            #[cfg(feature = "graphics")]
            Image::Protocol(p) => frame.render_widget(ratatui_image::Image::new(p), area),
        }
    }
}

/// Reads a plot and fits it to `size` cells. A file that is not an image
/// gives a message, never a panic.
pub fn decode(graphics: &Graphics, path: &Path, size: Size) -> Result<Image, String> {
    match graphics {
        Graphics::HalfBlocks => picture::load(path, size).map(Image::Blocks),
        #[cfg(feature = "graphics")]
        Graphics::Protocol(picker) => decode_protocol(picker, path, size).map(Image::Protocol),
    }
}

#[cfg(feature = "graphics")]
fn decode_protocol(
    picker: &ratatui_image::picker::Picker,
    path: &Path,
    size: Size,
) -> Result<ratatui_image::protocol::Protocol, String> {
    let image = image::ImageReader::open(path)
        .map_err(|e| format!("cannot open: {e}"))?
        .with_guessed_format()
        .map_err(|e| format!("cannot read: {e}"))?
        .decode()
        .map_err(|e| format!("not a valid image: {e}"))?;
    // Scale to fill the space (a 200 px plot would otherwise be a stamp in
    // the middle of the screen), keeping its proportions.
    let font = picker.font_size();
    let (w, h) = (
        u32::from(size.width) * u32::from(font.width),
        u32::from(size.height) * u32::from(font.height),
    );
    let image = image.resize(w.max(1), h.max(1), image::imageops::FilterType::Triangle);
    picker
        .new_protocol(image, size, ratatui_image::Resize::Fit(None))
        .map_err(|e| format!("cannot draw it: {e}"))
}

/// Half-blocks, unless the `graphics` feature is built and
/// `RUNYARD_GRAPHICS=auto` asks the terminal for kitty, sixel or iTerm2
/// graphics. Asking is opt-in: when a terminal (or tmux in between) leaves
/// a query unanswered, the query's reader outlives its timeout and
/// swallowed the first keys in our tests. Must run before the input thread
/// reads stdin.
pub fn from_terminal() -> Graphics {
    #[cfg(feature = "graphics")]
    if std::env::var("RUNYARD_GRAPHICS").as_deref() == Ok("auto") {
        let options = ratatui_image::picker::cap_parser::QueryStdioOptions {
            timeout: std::time::Duration::from_millis(200),
            ..Default::default()
        };
        if let Ok(picker) = ratatui_image::picker::Picker::from_query_stdio_with_options(options) {
            return Graphics::Protocol(picker);
        }
    }
    Graphics::HalfBlocks
}
