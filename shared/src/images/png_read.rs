//! Reading the payload of a baked PNG from its text chunks.

use std::io::Read;

use super::png_chunks::{Chunk, ITXT, TEXT, ZTXT, parse_chunks};
use super::unbake::{BakedPayload, Carrier, UnbakeError, Unbaked};
use super::{ImageFormat, MAX_PAYLOAD_BYTES, Spec};

/// Returns the payload of the first Open Badges text chunk, wherever it is
/// in the file.
pub(crate) fn read_png_payload(bytes: &[u8]) -> Result<Unbaked, UnbakeError> {
    let chunks = parse_chunks(bytes).map_err(|error| malformed(error.to_string()))?;

    for chunk in &chunks {
        let Some(spec) = chunk.text_keyword().and_then(Spec::from_png_keyword) else {
            continue;
        };
        let (text, carrier) = decode_text_chunk(chunk)?;
        let payload = BakedPayload::classify(&text).map_err(|detail| {
            malformed(format!(
                "the {} chunk {:?}: {detail}",
                chunk.kind_name(),
                spec.png_keyword()
            ))
        })?;
        return Ok(Unbaked {
            spec,
            payload,
            carrier,
            verify_attribute: None,
        });
    }
    Err(UnbakeError::NotBaked)
}

/// Decodes the text of a tEXt, zTXt or iTXt chunk whose keyword is known
/// to be present.
fn decode_text_chunk(chunk: &Chunk<'_>) -> Result<(String, Carrier), UnbakeError> {
    let keyword_len = chunk.text_keyword().map_or(0, <[u8]>::len);
    let after_keyword = &chunk.data[keyword_len + 1..];

    match chunk.kind {
        TEXT => Ok((decode_latin1(after_keyword)?, Carrier::PngText)),
        ZTXT => {
            let Some((&method, compressed)) = after_keyword.split_first() else {
                return Err(malformed(
                    "the zTXt chunk has no compression method".to_owned(),
                ));
            };
            if method != 0 {
                return Err(malformed(format!(
                    "the zTXt chunk uses unknown compression method {method}"
                )));
            }
            let inflated = inflate(compressed)?;
            Ok((decode_latin1(&inflated)?, Carrier::PngZtxt))
        }
        ITXT => Ok((decode_itxt(after_keyword)?, Carrier::PngItxt)),
        _ => unreachable!("text_keyword returns None for other chunk types"),
    }
}

/// Decodes the iTXt fields after the keyword: compression flag, compression
/// method, language tag, translated keyword and UTF-8 text. The language tag
/// and translated keyword may hold anything; they are not used.
fn decode_itxt(fields: &[u8]) -> Result<String, UnbakeError> {
    let [flag, method, rest @ ..] = fields else {
        return Err(malformed(
            "the iTXt chunk ends before its compression fields".to_owned(),
        ));
    };
    let Some(language_end) = rest.iter().position(|&b| b == 0) else {
        return Err(malformed(
            "the iTXt chunk has no end to its language tag".to_owned(),
        ));
    };
    let rest = &rest[language_end + 1..];
    let Some(translated_end) = rest.iter().position(|&b| b == 0) else {
        return Err(malformed(
            "the iTXt chunk has no end to its translated keyword".to_owned(),
        ));
    };
    let text = &rest[translated_end + 1..];

    let text = match (*flag, *method) {
        (0, _) => text.to_vec(),
        (1, 0) => inflate(text)?,
        (1, other) => {
            return Err(malformed(format!(
                "the iTXt chunk uses unknown compression method {other}"
            )));
        }
        (other, _) => {
            return Err(malformed(format!(
                "the iTXt chunk has invalid compression flag {other}"
            )));
        }
    };
    if text.len() > MAX_PAYLOAD_BYTES {
        return Err(UnbakeError::PayloadTooLarge {
            max: MAX_PAYLOAD_BYTES,
        });
    }
    String::from_utf8(text).map_err(|_| malformed("the iTXt text is not valid UTF-8".to_owned()))
}

/// Inflates zlib data, stopping with an error past [`MAX_PAYLOAD_BYTES`].
fn inflate(compressed: &[u8]) -> Result<Vec<u8>, UnbakeError> {
    let limit = MAX_PAYLOAD_BYTES as u64 + 1;
    let mut output = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(limit)
        .read_to_end(&mut output)
        .map_err(|error| malformed(format!("the compressed text cannot be inflated: {error}")))?;
    if output.len() > MAX_PAYLOAD_BYTES {
        return Err(UnbakeError::PayloadTooLarge {
            max: MAX_PAYLOAD_BYTES,
        });
    }
    Ok(output)
}

/// Decodes tEXt and zTXt text, which the PNG specification defines as
/// ISO 8859-1: each byte is the Unicode code point of the same value.
fn decode_latin1(bytes: &[u8]) -> Result<String, UnbakeError> {
    if bytes.len() > MAX_PAYLOAD_BYTES {
        return Err(UnbakeError::PayloadTooLarge {
            max: MAX_PAYLOAD_BYTES,
        });
    }
    Ok(bytes.iter().map(|&b| char::from(b)).collect())
}

fn malformed(detail: String) -> UnbakeError {
    UnbakeError::Malformed {
        format: ImageFormat::Png,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::images::PNG_SIGNATURE;
    use crate::images::png_chunks::{IEND, write_chunk};

    const PLAIN: &[u8] = include_bytes!("testdata/interop/v2/example.org/robotics-badge.png");

    /// Rebuilds `PLAIN` with `extra` chunks inserted after IHDR (when
    /// `before_data` is true) or just before IEND.
    fn png_with_chunks(extra: &[([u8; 4], Vec<u8>)], before_data: bool) -> Vec<u8> {
        let chunks = parse_chunks(PLAIN).unwrap();
        let mut out = PNG_SIGNATURE.to_vec();
        for (index, chunk) in chunks.iter().enumerate() {
            let insert_here = (before_data && index == 1) || (!before_data && chunk.kind == IEND);
            if insert_here {
                for (kind, data) in extra {
                    write_chunk(&mut out, kind, data);
                }
            }
            out.extend_from_slice(chunk.raw);
        }
        out
    }

    fn zlib(text: &[u8]) -> Vec<u8> {
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(text).unwrap();
        encoder.finish().unwrap()
    }

    fn itxt(
        keyword: &str,
        compressed: bool,
        language: &str,
        translated: &str,
        text: &str,
    ) -> Vec<u8> {
        let mut data = keyword.as_bytes().to_vec();
        data.extend_from_slice(&[0, u8::from(compressed), 0]);
        data.extend_from_slice(language.as_bytes());
        data.push(0);
        data.extend_from_slice(translated.as_bytes());
        data.push(0);
        if compressed {
            data.extend_from_slice(&zlib(text.as_bytes()));
        } else {
            data.extend_from_slice(text.as_bytes());
        }
        data
    }

    #[test]
    fn compressed_itxt_with_language_tag() {
        let json = r#"{"id":"urn:uuid:1","name":"Größe"}"#;
        let data = itxt("openbadges", true, "de-DE", "Offene Abzeichen", json);
        let png = png_with_chunks(&[(ITXT, data)], true);

        let unbaked = read_png_payload(&png).unwrap();
        assert_eq!(unbaked.payload, BakedPayload::Json(json.to_owned()));
        assert_eq!(unbaked.carrier, Carrier::PngItxt);
        assert_eq!(unbaked.spec, Spec::V2);
    }

    #[test]
    fn itxt_after_image_data() {
        let json = r#"{"id":"http://example.com/credentials/1"}"#;
        let data = itxt("openbadgecredential", false, "", "", json);
        let png = png_with_chunks(&[(ITXT, data)], false);

        let unbaked = read_png_payload(&png).unwrap();
        assert_eq!(unbaked.spec, Spec::V3);
        assert_eq!(unbaked.payload, BakedPayload::Json(json.to_owned()));
    }

    #[test]
    fn ztxt_url() {
        let mut data = b"openbadges\0\0".to_vec();
        data.extend_from_slice(&zlib(b"https://example.org/a/1"));
        let png = png_with_chunks(&[(ZTXT, data)], true);

        let unbaked = read_png_payload(&png).unwrap();
        assert_eq!(
            unbaked.payload,
            BakedPayload::Url("https://example.org/a/1".to_owned())
        );
        assert_eq!(unbaked.carrier, Carrier::PngZtxt);
    }

    #[test]
    fn other_keywords_ignored() {
        let png = png_with_chunks(&[(TEXT, b"Comment\0{\"id\":\"x\"}".to_vec())], true);
        assert_eq!(read_png_payload(&png), Err(UnbakeError::NotBaked));
    }

    #[test]
    fn invalid_json_is_malformed() {
        let png = png_with_chunks(&[(TEXT, b"openbadges\0{id:1}".to_vec())], true);
        let error = read_png_payload(&png).unwrap_err();
        assert!(matches!(error, UnbakeError::Malformed { .. }), "{error}");
    }

    #[test]
    fn truncated_itxt_is_malformed() {
        let png = png_with_chunks(&[(ITXT, b"openbadges\0\0".to_vec())], true);
        let error = read_png_payload(&png).unwrap_err();
        assert!(matches!(error, UnbakeError::Malformed { .. }), "{error}");
    }

    #[test]
    fn corrupt_compressed_text_is_malformed() {
        let mut data = b"openbadges\0\x01\0\0\0".to_vec();
        data.extend_from_slice(b"not zlib data");
        let png = png_with_chunks(&[(ITXT, data)], true);
        let error = read_png_payload(&png).unwrap_err();
        assert!(matches!(error, UnbakeError::Malformed { .. }), "{error}");
    }

    #[test]
    fn compressed_text_over_limit_rejected() {
        let text = format!("{{\"padding\":\"{}\"}}", " ".repeat(MAX_PAYLOAD_BYTES));
        let data = itxt("openbadges", true, "", "", &text);
        let png = png_with_chunks(&[(ITXT, data)], true);
        assert_eq!(
            read_png_payload(&png),
            Err(UnbakeError::PayloadTooLarge {
                max: MAX_PAYLOAD_BYTES
            })
        );
    }
}
