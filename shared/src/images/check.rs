//! Checks for uploaded badge images.

use std::io::Cursor;

use super::png_chunks::parse_chunks;
use super::svg_check::check_svg;
use super::{ImageFormat, MAX_IMAGE_BYTES, MAX_PNG_DIMENSION, sniff_format};

/// An image that passed [`check_upload`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckedImage {
    pub format: ImageFormat,
    /// Width and height in pixels, for PNG. SVG images have no pixel size.
    pub pixel_size: Option<(u32, u32)>,
}

/// Reasons why an uploaded image is rejected.
///
/// `Display` gives a short lower-case description; [`ImageRejected::message`]
/// gives a sentence for the person who uploaded the file, and
/// [`ImageRejected::code`] a stable identifier for API responses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageRejected {
    #[error("the image is {size} bytes, over the maximum of {max} bytes")]
    TooLarge { size: usize, max: usize },
    #[error("the file is {found}, but only PNG and SVG are accepted")]
    UnsupportedFormat { found: &'static str },
    #[error("the file was declared as {declared} but its content is {found}")]
    FormatMismatch {
        declared: ImageFormat,
        found: ImageFormat,
    },
    #[error("the PNG is invalid: {detail}")]
    InvalidPng { detail: String },
    #[error("the PNG is {width}×{height} pixels, over the maximum of {max}×{max}")]
    DimensionsTooLarge { width: u32, height: u32, max: u32 },
    #[error("the SVG is not well-formed XML: {detail}")]
    InvalidSvg { detail: String },
    #[error(
        "the root element is {found}, but an SVG needs an <svg> root in the namespace http://www.w3.org/2000/svg"
    )]
    NotSvgRoot { found: String },
    #[error("the SVG contains a <{element}> element, and scripts are not allowed")]
    Script { element: String },
    #[error(
        "the SVG element <{element}> has the event handler attribute {attribute}, and event handlers are not allowed"
    )]
    EventHandler { element: String, attribute: String },
    #[error("the SVG contains a <foreignObject> element, and embedded HTML is not allowed")]
    ForeignObject,
    #[error("the SVG contains an <{element}> element, and embedded documents are not allowed")]
    EmbeddedDocument { element: String },
    #[error("the SVG declares entities (<!ENTITY>), and entity declarations are not allowed")]
    EntityDeclaration,
    #[error(
        "the SVG element <{element}> references the external resource {value:?} in {location}, but only references inside the document (#id) and data:image/ URLs are allowed"
    )]
    ExternalReference {
        element: String,
        location: String,
        value: String,
    },
    #[error("the SVG contains a javascript: URL in {location}")]
    JavascriptUrl { location: String },
    #[error(
        "the SVG element <{element}> animates the {attribute} attribute, and animating links is not allowed"
    )]
    AnimatedLink { element: String, attribute: String },
    #[error(
        "the SVG contains the processing instruction <?{target}?>, and external stylesheets are not allowed"
    )]
    StylesheetInstruction { target: String },
}

impl ImageRejected {
    /// Returns a sentence for the uploader: what was found, and what to do.
    pub fn message(&self) -> String {
        let description = self.to_string();
        let mut sentence = String::with_capacity(description.len() + 80);
        let mut chars = description.chars();
        if let Some(first) = chars.next() {
            sentence.extend(first.to_uppercase());
            sentence.push_str(chars.as_str());
        }
        sentence.push_str(". ");
        sentence.push_str(self.advice());
        sentence
    }

    /// Returns a stable snake_case code, for API responses and tests.
    pub fn code(&self) -> &'static str {
        match self {
            ImageRejected::TooLarge { .. } => "too_large",
            ImageRejected::UnsupportedFormat { .. } => "unsupported_format",
            ImageRejected::FormatMismatch { .. } => "format_mismatch",
            ImageRejected::InvalidPng { .. } => "invalid_png",
            ImageRejected::DimensionsTooLarge { .. } => "dimensions_too_large",
            ImageRejected::InvalidSvg { .. } => "invalid_svg",
            ImageRejected::NotSvgRoot { .. } => "not_svg_root",
            ImageRejected::Script { .. } => "svg_script",
            ImageRejected::EventHandler { .. } => "svg_event_handler",
            ImageRejected::ForeignObject => "svg_foreign_object",
            ImageRejected::EmbeddedDocument { .. } => "svg_embedded_document",
            ImageRejected::EntityDeclaration => "svg_entity_declaration",
            ImageRejected::ExternalReference { .. } => "svg_external_reference",
            ImageRejected::JavascriptUrl { .. } => "svg_javascript_url",
            ImageRejected::AnimatedLink { .. } => "svg_animated_link",
            ImageRejected::StylesheetInstruction { .. } => "svg_stylesheet_instruction",
        }
    }

    fn advice(&self) -> &'static str {
        match self {
            ImageRejected::TooLarge { .. } => "Reduce the file size and upload it again.",
            ImageRejected::UnsupportedFormat { .. } => "Convert the image to PNG or SVG.",
            ImageRejected::FormatMismatch { .. } => {
                "Upload the file with the type that matches its content."
            }
            ImageRejected::InvalidPng { .. } | ImageRejected::InvalidSvg { .. } => {
                "The file may be damaged; export it again from your editor."
            }
            ImageRejected::DimensionsTooLarge { .. } => "Scale the image down and upload it again.",
            ImageRejected::NotSvgRoot { .. } => "Export the image as a standalone SVG file.",
            ImageRejected::ExternalReference { .. } => {
                "Embed the resource in the SVG or remove the reference."
            }
            _ => "Remove it, or export the image as a plain SVG, and upload it again.",
        }
    }
}

/// Checks an uploaded badge image before it is stored.
///
/// Rejects files over [`MAX_IMAGE_BYTES`], content that is not PNG or SVG,
/// and content that does not match `declared`. A PNG must have valid chunk
/// structure and CRCs, decode completely with the `png` crate and be at most
/// [`MAX_PNG_DIMENSION`] pixels wide and high. An SVG must be well-formed
/// UTF-8 XML with an `<svg>` root in the SVG namespace. It must contain
/// nothing that runs code or loads other resources, as listed in
/// [`ImageRejected`].
pub fn check_upload(bytes: &[u8], declared: ImageFormat) -> Result<CheckedImage, ImageRejected> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(ImageRejected::TooLarge {
            size: bytes.len(),
            max: MAX_IMAGE_BYTES,
        });
    }
    let Some(found) = sniff_format(bytes) else {
        return Err(ImageRejected::UnsupportedFormat {
            found: describe_other_format(bytes),
        });
    };
    if found != declared {
        return Err(ImageRejected::FormatMismatch { declared, found });
    }

    match found {
        ImageFormat::Png => check_png(bytes),
        ImageFormat::Svg => {
            check_svg(bytes)?;
            Ok(CheckedImage {
                format: ImageFormat::Svg,
                pixel_size: None,
            })
        }
    }
}

/// Names common image formats that are not accepted, for the message.
fn describe_other_format(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        "a GIF image"
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "a JPEG image"
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "a WebP image"
    } else if bytes.starts_with(b"BM") {
        "a BMP image"
    } else if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        "an HEIF or AVIF image"
    } else if bytes.starts_with(&[0x1F, 0x8B]) {
        "gzip data (a compressed SVGZ file?)"
    } else {
        "not a recognised image"
    }
}

fn check_png(bytes: &[u8]) -> Result<CheckedImage, ImageRejected> {
    parse_chunks(bytes).map_err(|error| ImageRejected::InvalidPng {
        detail: error.to_string(),
    })?;

    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    let header = decoder.read_header_info().map_err(invalid_png)?;
    let (width, height) = (header.width, header.height);
    if width > MAX_PNG_DIMENSION || height > MAX_PNG_DIMENSION {
        return Err(ImageRejected::DimensionsTooLarge {
            width,
            height,
            max: MAX_PNG_DIMENSION,
        });
    }

    // Decoding row by row reads the whole compressed stream of the first
    // frame, which catches truncated or corrupt image data, with one row
    // of memory.
    let mut reader = decoder.read_info().map_err(invalid_png)?;
    while reader.next_row().map_err(invalid_png)?.is_some() {}
    reader.finish().map_err(invalid_png)?;

    Ok(CheckedImage {
        format: ImageFormat::Png,
        pixel_size: Some((width, height)),
    })
}

fn invalid_png(error: png::DecodingError) -> ImageRejected {
    ImageRejected::InvalidPng {
        detail: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::images::png_chunks::{IDAT, IEND, IHDR, write_chunk};

    const BADGE: &[u8] = include_bytes!("testdata/interop/v2/dcpv_simple-badge.png");

    /// Encodes a grey PNG of the given size with the png crate.
    fn grey_png(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer
            .write_image_data(&vec![128; (width * height) as usize])
            .unwrap();
        writer.finish().unwrap();
        bytes
    }

    #[test]
    fn accepts_valid_png() {
        let checked = check_upload(BADGE, ImageFormat::Png).unwrap();
        assert_eq!(checked.format, ImageFormat::Png);
        assert!(checked.pixel_size.is_some());
    }

    #[test]
    fn accepts_png_at_max_dimension() {
        let png = grey_png(MAX_PNG_DIMENSION, 1);
        let checked = check_upload(&png, ImageFormat::Png).unwrap();
        assert_eq!(checked.pixel_size, Some((MAX_PNG_DIMENSION, 1)));
    }

    #[test]
    fn rejects_png_over_max_dimension() {
        let png = grey_png(MAX_PNG_DIMENSION + 1, 1);
        let error = check_upload(&png, ImageFormat::Png).unwrap_err();
        assert_eq!(error.code(), "dimensions_too_large", "{error}");
    }

    #[test]
    fn rejects_oversized_file() {
        let mut bytes = BADGE.to_vec();
        bytes.resize(MAX_IMAGE_BYTES + 1, 0);
        let error = check_upload(&bytes, ImageFormat::Png).unwrap_err();
        assert_eq!(error.code(), "too_large");
    }

    #[test]
    fn rejects_truncated_png() {
        let error = check_upload(&BADGE[..BADGE.len() / 2], ImageFormat::Png).unwrap_err();
        assert_eq!(error.code(), "invalid_png", "{error}");
    }

    #[test]
    fn rejects_png_wrong_crc() {
        let mut broken = BADGE.to_vec();
        let last_crc_byte = broken.len() - 1;
        broken[last_crc_byte] ^= 0xFF;
        let error = check_upload(&broken, ImageFormat::Png).unwrap_err();
        assert_eq!(error.code(), "invalid_png", "{error}");
        assert!(error.message().contains("wrong CRC"), "{}", error.message());
    }

    #[test]
    fn rejects_corrupt_image_data() {
        // Valid chunk structure and CRCs, but the IDAT is not zlib data.
        let header = parse_chunks(BADGE).unwrap()[0].data.to_vec();
        let mut png = crate::images::PNG_SIGNATURE.to_vec();
        write_chunk(&mut png, &IHDR, &header);
        write_chunk(&mut png, &IDAT, b"this is not zlib");
        write_chunk(&mut png, &IEND, &[]);
        let error = check_upload(&png, ImageFormat::Png).unwrap_err();
        assert_eq!(error.code(), "invalid_png", "{error}");
    }

    #[test]
    fn rejects_png_declared_as_svg() {
        let error = check_upload(BADGE, ImageFormat::Svg).unwrap_err();
        assert_eq!(
            error,
            ImageRejected::FormatMismatch {
                declared: ImageFormat::Svg,
                found: ImageFormat::Png
            }
        );
        assert_eq!(
            error.message(),
            "The file was declared as SVG but its content is PNG. Upload the file with the type that matches its content."
        );
    }

    #[test]
    fn rejects_svg_declared_as_png() {
        let error = check_upload(
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            ImageFormat::Png,
        )
        .unwrap_err();
        assert_eq!(error.code(), "format_mismatch");
    }

    #[test]
    fn rejects_gif_and_jpeg() {
        let gif =
            check_upload(b"GIF89a\x01\x00\x01\x00\x00\x00\x00", ImageFormat::Png).unwrap_err();
        assert_eq!(gif.code(), "unsupported_format");
        assert!(
            gif.message().contains("only PNG and SVG are accepted"),
            "{}",
            gif.message()
        );
        assert!(gif.message().contains("GIF"), "{}", gif.message());

        let jpeg = check_upload(b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00", ImageFormat::Png).unwrap_err();
        assert_eq!(jpeg.code(), "unsupported_format");
        assert!(jpeg.message().contains("JPEG"), "{}", jpeg.message());
    }

    #[test]
    fn rejects_svgz_with_hint() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(b"<svg/>").unwrap();
        let error = check_upload(&encoder.finish().unwrap(), ImageFormat::Svg).unwrap_err();
        assert!(error.message().contains("SVGZ"), "{}", error.message());
    }

    #[test]
    fn message_is_a_sentence() {
        let error = ImageRejected::Script {
            element: "script".to_owned(),
        };
        assert_eq!(
            error.message(),
            "The SVG contains a <script> element, and scripts are not allowed. Remove it, or export the image as a plain SVG, and upload it again."
        );
    }
}
