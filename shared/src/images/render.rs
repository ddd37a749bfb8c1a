//! Rendering SVG badges to PNG, for sites that do not display SVG (most
//! social networks).

use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg::{self, ImageHrefResolver};

use super::check::{ImageRejected, check_upload};
use super::{ImageFormat, MAX_PNG_DIMENSION};

/// Reasons why an SVG cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("the output size {size} is invalid; it must be from 1 to {max} pixels")]
    InvalidSize { size: u32, max: u32 },
    #[error("the SVG did not pass the upload check: {0}")]
    Rejected(#[from] ImageRejected),
    #[error("the SVG cannot be rendered: {0}")]
    Unrenderable(String),
}

/// Renders an SVG to a square PNG of `size`×`size` pixels.
///
/// The SVG must pass [`check_upload`] first, so it cannot reference
/// anything outside itself. The drawing is scaled to fit and centred on a
/// transparent background. No fonts are loaded, so `<text>` is not drawn,
/// and `<image>` elements are not drawn either: the resolver refuses every
/// reference, including `data:` URLs, and resvg is built without its
/// raster-image decoders.
pub fn render_png(svg: &[u8], size: u32) -> Result<Vec<u8>, RenderError> {
    if size == 0 || size > MAX_PNG_DIMENSION {
        return Err(RenderError::InvalidSize {
            size,
            max: MAX_PNG_DIMENSION,
        });
    }
    check_upload(svg, ImageFormat::Svg)?;

    let options = usvg::Options {
        image_href_resolver: ImageHrefResolver {
            resolve_data: Box::new(|_, _, _| None),
            resolve_string: Box::new(|_, _| None),
        },
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_data(svg, &options)
        .map_err(|error| RenderError::Unrenderable(error.to_string()))?;

    let tree_size = tree.size();
    let target = size as f32;
    let scale = target / tree_size.width().max(tree_size.height());
    let offset_x = (target - tree_size.width() * scale) / 2.0;
    let offset_y = (target - tree_size.height() * scale) / 2.0;
    let transform = Transform::from_row(scale, 0.0, 0.0, scale, offset_x, offset_y);

    let mut pixmap = Pixmap::new(size, size).ok_or_else(|| {
        RenderError::Unrenderable(format!("cannot allocate {size}×{size} pixels"))
    })?;
    resvg::render(&tree, transform, &mut pixmap.as_mut());
    pixmap
        .encode_png()
        .map_err(|error| RenderError::Unrenderable(format!("PNG encoding failed: {error}")))
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    const SQUARE: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#ff0000"/></svg>"##;
    const WIDE: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 20 10"><rect width="20" height="10" fill="#0000ff"/></svg>"##;

    /// Decodes a PNG into RGBA pixels with the png crate.
    fn rgba_pixels(png: &[u8]) -> (u32, Vec<u8>) {
        let mut reader = png::Decoder::new(Cursor::new(png)).read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgba);
        (info.width, pixels)
    }

    #[test]
    fn output_passes_upload_check() {
        let png = render_png(SQUARE.as_bytes(), 64).unwrap();
        let checked = check_upload(&png, ImageFormat::Png).unwrap();
        assert_eq!(checked.pixel_size, Some((64, 64)));
    }

    #[test]
    fn fills_square_canvas() {
        let png = render_png(SQUARE.as_bytes(), 16).unwrap();
        let (_, pixels) = rgba_pixels(&png);
        assert_eq!(&pixels[..4], &[255, 0, 0, 255]);
    }

    #[test]
    fn wide_drawing_is_centred() {
        let png = render_png(WIDE.as_bytes(), 20).unwrap();
        let (width, pixels) = rgba_pixels(&png);
        let pixel = |x: u32, y: u32| {
            let start = ((y * width + x) * 4) as usize;
            pixels[start..start + 4].to_vec()
        };
        assert_eq!(pixel(10, 0), [0, 0, 0, 0], "top band is transparent");
        assert_eq!(pixel(10, 10), [0, 0, 255, 255], "middle is drawn");
        assert_eq!(pixel(10, 19), [0, 0, 0, 0], "bottom band is transparent");
    }

    #[test]
    fn rejects_zero_size() {
        assert_eq!(
            render_png(SQUARE.as_bytes(), 0),
            Err(RenderError::InvalidSize {
                size: 0,
                max: MAX_PNG_DIMENSION
            })
        );
    }

    #[test]
    fn rejects_size_over_max() {
        let error = render_png(SQUARE.as_bytes(), MAX_PNG_DIMENSION + 1).unwrap_err();
        assert!(matches!(error, RenderError::InvalidSize { .. }), "{error}");
    }

    #[test]
    fn rejects_unsafe_svg() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
        let error = render_png(svg.as_bytes(), 16).unwrap_err();
        assert!(
            matches!(error, RenderError::Rejected(ImageRejected::Script { .. })),
            "{error}"
        );
    }
}
