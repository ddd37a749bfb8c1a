//! Reading the Open Badges payload back out of a baked PNG or SVG.

use super::{ImageFormat, MAX_UNBAKE_BYTES, Spec, png_read, sniff_format, svg_read};

/// The raw content baked into an image.
///
/// The text is trimmed of surrounding whitespace but otherwise exactly as
/// stored, so a signed payload keeps its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BakedPayload {
    /// A JSON object (an Open Badges 2.0 Assertion or a 3.0 credential).
    /// The reader only returns this variant for text that parses as JSON.
    Json(String),
    /// A URL, usually of a hosted Assertion (Open Badges 0.5 to 2.0).
    Url(String),
    /// A compact JWS: an Open Badges 2.0 signed Assertion or a 3.0 VC-JWT.
    Jwt(String),
}

impl BakedPayload {
    /// Returns the payload text.
    pub fn as_str(&self) -> &str {
        match self {
            BakedPayload::Json(text) | BakedPayload::Url(text) | BakedPayload::Jwt(text) => text,
        }
    }

    /// Returns the name of the variant, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            BakedPayload::Json(_) => "JSON",
            BakedPayload::Url(_) => "URL",
            BakedPayload::Jwt(_) => "compact JWS",
        }
    }

    /// Classifies baked text as JSON, a compact JWS or a URL, in that order.
    ///
    /// Text starting with `{` (after trimming) must parse as JSON. A compact
    /// JWS is three dot-separated base64url segments whose first segment
    /// decodes to a JSON header. A URL is a scheme (`https:`, `urn:` and so
    /// on) followed by text without whitespace. Returns a description of the
    /// problem for anything else.
    pub fn classify(text: &str) -> Result<BakedPayload, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("the payload is empty".to_owned());
        }
        if text.starts_with('{') {
            // IgnoredAny checks the whole syntax without building a tree.
            return match serde_json::from_str::<serde::de::IgnoredAny>(text) {
                Ok(_) => Ok(BakedPayload::Json(text.to_owned())),
                Err(error) => Err(format!("the payload is not valid JSON: {error}")),
            };
        }
        if is_compact_jws(text) {
            return Ok(BakedPayload::Jwt(text.to_owned()));
        }
        if is_url(text) {
            return Ok(BakedPayload::Url(text.to_owned()));
        }
        Err(format!(
            "the payload {:?} is neither JSON, a compact JWS nor a URL",
            shorten(text, 80)
        ))
    }
}

/// Location in the image where the payload was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carrier {
    /// A PNG `iTXt` chunk (compressed or not).
    PngItxt,
    /// A PNG `zTXt` chunk.
    PngZtxt,
    /// A PNG `tEXt` chunk, as written by Open Badges 0.5 and 1.0 bakers.
    PngText,
    /// The text and CDATA content of the SVG payload element.
    SvgContent,
    /// The `verify` attribute of the SVG payload element, used when the
    /// element content is empty or is not a usable payload (such as invalid
    /// JSON).
    SvgVerifyAttribute,
}

/// The payload read from a baked image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unbaked {
    /// Open Badges version whose keyword or element carried the payload.
    pub spec: Spec,
    pub payload: BakedPayload,
    pub carrier: Carrier,
    /// The `verify` attribute of the SVG element, when it has one. For an
    /// Open Badges 2.0 hosted Assertion this is the Assertion URL. PNG
    /// images have no such attribute.
    pub verify_attribute: Option<String>,
}

/// Reasons why [`unbake`] returns no payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnbakeError {
    #[error("the file is not a PNG or SVG image")]
    NotAnImage,
    #[error("the image is {size} bytes, over the maximum of {max} bytes")]
    TooLarge { size: usize, max: usize },
    #[error("the image contains no Open Badges payload")]
    NotBaked,
    #[error("the Open Badges payload is larger than the maximum of {max} bytes")]
    PayloadTooLarge { max: usize },
    #[error("the {format} image is malformed: {detail}")]
    Malformed { format: ImageFormat, detail: String },
}

/// Reads the Open Badges payload from a PNG or SVG image.
///
/// PNG: the first `iTXt`, `zTXt` or `tEXt` chunk with the keyword
/// `openbadges` (Open Badges 0.5 to 2.0) or `openbadgecredential` (3.0),
/// before or after the image data. Compressed text is inflated up to
/// [`MAX_PAYLOAD_BYTES`](super::MAX_PAYLOAD_BYTES).
///
/// SVG: the first `assertion` element in the `http://openbadges.org`
/// namespace or `credential` element in
/// `https://purl.imsglobal.org/ob/v3p0`, with any prefix. The element
/// content (CDATA or text) is the payload. When the content is empty, or is
/// not valid JSON, the `verify` attribute is used instead, and
/// [`Unbaked::carrier`] records that. Without a usable `verify` attribute,
/// such content is reported as [`UnbakeError::Malformed`]. A DOCTYPE is skipped
/// and never fetched, and custom entities are never expanded.
pub fn unbake(bytes: &[u8]) -> Result<Unbaked, UnbakeError> {
    if bytes.len() > MAX_UNBAKE_BYTES {
        return Err(UnbakeError::TooLarge {
            size: bytes.len(),
            max: MAX_UNBAKE_BYTES,
        });
    }
    match sniff_format(bytes) {
        Some(ImageFormat::Png) => png_read::read_png_payload(bytes),
        Some(ImageFormat::Svg) => svg_read::read_svg_payload(bytes),
        None => Err(UnbakeError::NotAnImage),
    }
}

fn is_compact_jws(text: &str) -> bool {
    let segments: Vec<&str> = text.split('.').collect();
    if segments.len() != 3 || segments[0].is_empty() || segments[1].is_empty() {
        return false;
    }
    let all_base64url = segments
        .iter()
        .all(|segment| segment.bytes().all(is_base64url_byte));
    if !all_base64url {
        return false;
    }
    // A host name such as "www.example.org" also has three such segments,
    // so require the first segment to decode to a JSON object header.
    match decode_base64url(segments[0]) {
        Some(header) => header.trim_ascii_start().starts_with(b"{"),
        None => false,
    }
}

fn is_url(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let mut scheme_bytes = scheme.bytes();
    let scheme_valid = scheme_bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && scheme_bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    scheme_valid && !rest.is_empty() && !text.chars().any(char::is_whitespace)
}

fn is_base64url_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}

/// Decodes unpadded base64url (RFC 4648 section 5). Returns `None` for any
/// other byte, padding included, or an impossible length.
pub(crate) fn decode_base64url(text: &str) -> Option<Vec<u8>> {
    if text.len() % 4 == 1 {
        return None;
    }
    let mut output = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0u32;
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            output.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(output)
}

/// Cuts `text` to at most `max_chars` characters for use in a message.
pub(crate) fn shorten(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_json_object() {
        let payload = BakedPayload::classify("  {\"id\": \"x\"}\n").unwrap();
        assert_eq!(payload, BakedPayload::Json("{\"id\": \"x\"}".to_owned()));
    }

    #[test]
    fn classify_invalid_json_fails() {
        let error = BakedPayload::classify("{verify:{}}").unwrap_err();
        assert!(error.contains("not valid JSON"), "{error}");
    }

    #[test]
    fn classify_rejects_broken_json_text() {
        for text in ["{\"a\": 1} trailing", "{\"a\": \"\\q\"}", "{\"a\": \"\u{1}\"}", "{\"a\": [1,]}"] {
            let error = BakedPayload::classify(text).unwrap_err();
            assert!(error.contains("not valid JSON"), "{text}: {error}");
        }
    }

    #[test]
    fn classify_url() {
        let payload = BakedPayload::classify("https://example.org/assertion").unwrap();
        assert_eq!(
            payload,
            BakedPayload::Url("https://example.org/assertion".to_owned())
        );
    }

    #[test]
    fn classify_compact_jws() {
        let jws = "eyJhbGciOiJSUzI1NiJ9.eyJpZCI6IngifQ.c2ln";
        assert_eq!(
            BakedPayload::classify(jws).unwrap(),
            BakedPayload::Jwt(jws.to_owned())
        );
    }

    #[test]
    fn classify_host_name_is_not_jws() {
        let error = BakedPayload::classify("www.example.org").unwrap_err();
        assert!(error.contains("neither JSON"), "{error}");
    }

    #[test]
    fn classify_empty_fails() {
        assert_eq!(
            BakedPayload::classify(" \n ").unwrap_err(),
            "the payload is empty"
        );
    }

    #[test]
    fn base64url_decodes_unpadded() {
        assert_eq!(decode_base64url("eyJhIjoxfQ").unwrap(), b"{\"a\":1}");
        assert_eq!(decode_base64url("_-8"), Some(vec![0xFF, 0xEF]));
        assert_eq!(decode_base64url("ab=c"), None);
    }

    #[test]
    fn unbake_rejects_non_image() {
        assert_eq!(unbake(b"GIF89a"), Err(UnbakeError::NotAnImage));
    }

    #[test]
    fn unbake_rejects_oversized_input() {
        let mut bytes = b"<svg>".to_vec();
        bytes.resize(MAX_UNBAKE_BYTES + 1, b' ');
        let error = unbake(&bytes).unwrap_err();
        assert!(matches!(error, UnbakeError::TooLarge { .. }), "{error}");
    }

    #[test]
    fn shorten_cuts_on_char_boundary() {
        assert_eq!(shorten("ääää", 2), "ää…");
        assert_eq!(shorten("ab", 2), "ab");
    }
}
