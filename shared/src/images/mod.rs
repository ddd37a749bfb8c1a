//! Badge images: baking Open Badges payloads into PNG and SVG files,
//! reading them back, checking uploaded images, drawing demo badges and
//! rendering SVG badges to PNG.
//!
//! Baking follows the Open Badges 2.0 baking format: a PNG gets an `iTXt`
//! chunk with the keyword `openbadges`, and an SVG gets an
//! `<openbadges:assertion>` element in the `http://openbadges.org`
//! namespace. [`Spec::V3`] selects the Open Badges 3.0 names instead (keyword
//! `openbadgecredential`, element `credential` in
//! `https://purl.imsglobal.org/ob/v3p0`), through [`bake_png_with_spec`] and
//! [`bake_svg_with_spec`].

mod bake;
mod check;
mod demo;
mod png_bake;
mod png_chunks;
mod png_read;
mod render;
mod svg_bake;
mod svg_check;
mod svg_read;
mod unbake;
mod xml;

#[cfg(test)]
mod interop_tests;

pub use bake::BakeError;
pub use check::{CheckedImage, ImageRejected, check_upload};
pub use demo::demo_badge_svg;
pub use png_bake::{bake_png, bake_png_with_spec};
pub use render::{RenderError, render_png};
pub use svg_bake::{bake_svg, bake_svg_with_spec};
pub use unbake::{BakedPayload, Carrier, UnbakeError, Unbaked, unbake};

use std::fmt;

/// Maximum size of an uploaded badge image, in bytes (1 MiB).
///
/// Badge images are shown at a few hundred pixels, so a larger file is
/// almost always an unoptimised export rather than a useful image.
pub const MAX_IMAGE_BYTES: usize = 1024 * 1024;

/// Maximum width and maximum height of an uploaded PNG, in pixels.
///
/// This also bounds the `size` accepted by [`render_png`].
pub const MAX_PNG_DIMENSION: u32 = 2048;

/// Maximum size of an image given to [`unbake`], in bytes (8 MiB).
///
/// Images baked elsewhere are not bound by [`MAX_IMAGE_BYTES`], so the
/// reader accepts larger files, but it still keeps the whole file in memory.
pub const MAX_UNBAKE_BYTES: usize = 8 * 1024 * 1024;

/// Maximum size of a baked payload (JSON, URL or JWS), in bytes (1 MiB).
///
/// The bakers reject larger payloads, and the reader stops inflating a
/// compressed PNG text chunk at this size, so a small compressed chunk
/// cannot expand into an arbitrarily large string.
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;

/// Image formats that badges can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Png,
    Svg,
}

impl ImageFormat {
    /// Returns the media type, as used in `Content-Type` headers.
    pub fn media_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Svg => "image/svg+xml",
        }
    }

    /// Returns the usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Svg => "svg",
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageFormat::Png => f.write_str("PNG"),
            ImageFormat::Svg => f.write_str("SVG"),
        }
    }
}

/// Open Badges specification version whose baking names are used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Spec {
    /// Open Badges 2.0, which also covers the 0.5 and 1.x baking format.
    V2,
    /// Open Badges 3.0.
    V3,
}

/// PNG text keyword of Open Badges 2.0 (and 1.x) baked images.
pub const PNG_KEYWORD_V2: &str = "openbadges";
/// PNG text keyword of Open Badges 3.0 baked images.
pub const PNG_KEYWORD_V3: &str = "openbadgecredential";
/// XML namespace of the Open Badges 2.0 (and 1.x) SVG element.
pub const SVG_NAMESPACE_V2: &str = "http://openbadges.org";
/// XML namespace of the Open Badges 3.0 SVG element.
pub const SVG_NAMESPACE_V3: &str = "https://purl.imsglobal.org/ob/v3p0";
/// XML namespace of SVG documents.
pub const SVG_NAMESPACE: &str = "http://www.w3.org/2000/svg";

impl Spec {
    /// Returns the PNG text chunk keyword that carries the payload.
    pub fn png_keyword(self) -> &'static str {
        match self {
            Spec::V2 => PNG_KEYWORD_V2,
            Spec::V3 => PNG_KEYWORD_V3,
        }
    }

    /// Returns the XML namespace of the SVG payload element.
    pub fn svg_namespace(self) -> &'static str {
        match self {
            Spec::V2 => SVG_NAMESPACE_V2,
            Spec::V3 => SVG_NAMESPACE_V3,
        }
    }

    /// Returns the local name of the SVG payload element.
    pub fn svg_element(self) -> &'static str {
        match self {
            Spec::V2 => "assertion",
            Spec::V3 => "credential",
        }
    }

    /// Returns the spec whose PNG keyword this is. Keywords are
    /// case-sensitive, as the PNG specification defines them.
    pub fn from_png_keyword(keyword: &[u8]) -> Option<Spec> {
        [Spec::V2, Spec::V3]
            .into_iter()
            .find(|spec| spec.png_keyword().as_bytes() == keyword)
    }

    /// Returns the spec whose SVG payload element has this namespace and
    /// local name.
    pub fn from_svg_element(namespace: &str, local_name: &str) -> Option<Spec> {
        [Spec::V2, Spec::V3]
            .into_iter()
            .find(|spec| spec.svg_namespace() == namespace && spec.svg_element() == local_name)
    }
}

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Detects PNG and SVG from the content, ignoring any file name or declared
/// type.
///
/// PNG is recognised by its 8-byte signature. SVG is recognised when the
/// first element is `svg` (with or without a namespace prefix), after an
/// optional UTF-8 byte order mark, XML declaration, comments, processing
/// instructions and DOCTYPE. UTF-16 SVG files return `None`.
pub fn sniff_format(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.starts_with(&PNG_SIGNATURE) {
        return Some(ImageFormat::Png);
    }
    if xml::root_is_svg(bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes)) {
        return Some(ImageFormat::Svg);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_png_signature() {
        let png = include_bytes!("testdata/interop/v2/dcpv_simple-badge.png");
        assert_eq!(sniff_format(png), Some(ImageFormat::Png));
    }

    #[test]
    fn sniff_svg_variants() {
        let cases: [&[u8]; 7] = [
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            b"\xEF\xBB\xBF<svg/>",
            b"<?xml version=\"1.0\"?>\n<svg>",
            b"<!-- made by hand -->\n<svg\n viewBox=\"0 0 1 1\">",
            b"<?xml version=\"1.0\"?><!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"x.dtd\"><svg>",
            b"<!DOCTYPE svg [ <!ELEMENT svg ANY> ]><svg>",
            b"  <s:svg xmlns:s=\"http://www.w3.org/2000/svg\">",
        ];
        for case in cases {
            let text = String::from_utf8_lossy(case);
            assert_eq!(sniff_format(case), Some(ImageFormat::Svg), "input: {text}");
        }
    }

    #[test]
    fn sniff_rejects_other_content() {
        let cases: [&[u8]; 7] = [
            b"GIF89a\x01\x00\x01\x00",
            b"\xFF\xD8\xFF\xE0\x00\x10JFIF",
            b"<html><svg></svg></html>",
            b"<svgfoo>",
            b"hello",
            b"",
            b"\x89PNG\r\n",
        ];
        for case in cases {
            let text = String::from_utf8_lossy(case);
            assert_eq!(sniff_format(case), None, "input: {text}");
        }
    }

    #[test]
    fn spec_lookup_by_keyword_and_element() {
        assert_eq!(Spec::from_png_keyword(b"openbadges"), Some(Spec::V2));
        assert_eq!(
            Spec::from_png_keyword(b"openbadgecredential"),
            Some(Spec::V3)
        );
        assert_eq!(Spec::from_png_keyword(b"OpenBadges"), None);
        assert_eq!(
            Spec::from_svg_element("http://openbadges.org", "assertion"),
            Some(Spec::V2)
        );
        assert_eq!(
            Spec::from_svg_element("https://purl.imsglobal.org/ob/v3p0", "credential"),
            Some(Spec::V3)
        );
        assert_eq!(
            Spec::from_svg_element("http://openbadges.org", "credential"),
            None
        );
    }
}
