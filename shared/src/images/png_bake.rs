//! Baking a payload into a PNG as an `iTXt` chunk.

use super::bake::{BakeError, check_payload};
use super::png_chunks::{IDAT, ITXT, parse_chunks, write_chunk};
use super::unbake::BakedPayload;
use super::{ImageFormat, PNG_SIGNATURE, Spec};

/// Bakes an Open Badges 2.0 Assertion into a PNG.
///
/// Writes one uncompressed `iTXt` chunk with the keyword `openbadges`, an
/// empty language tag and translated keyword, and the JSON as its text,
/// just before the first IDAT chunk. Existing `openbadges` and
/// `openbadgecredential` text chunks (tEXt, zTXt or iTXt) are removed, so
/// baking again replaces the payload. All other chunks are copied byte for
/// byte; bytes after IEND are dropped.
///
/// Fails when the image is not a well-formed PNG (signature, IHDR first,
/// CRCs, IDAT and IEND present) or `assertion_json` is not a JSON object.
pub fn bake_png(image: &[u8], assertion_json: &str) -> Result<Vec<u8>, BakeError> {
    bake_png_with_spec(
        Spec::V2,
        image,
        &BakedPayload::Json(assertion_json.to_owned()),
    )
}

/// Bakes any payload into a PNG under the keyword of `spec`: `openbadges`
/// for [`Spec::V2`] or `openbadgecredential` for [`Spec::V3`].
///
/// The payload text is written as given, so it must already be the JSON,
/// compact JWS or URL that its variant names. See [`bake_png`] for the
/// chunk layout and validation.
pub fn bake_png_with_spec(
    spec: Spec,
    image: &[u8],
    payload: &BakedPayload,
) -> Result<Vec<u8>, BakeError> {
    check_payload(payload)?;
    let chunks = parse_chunks(image).map_err(|error| BakeError::InvalidImage {
        format: ImageFormat::Png,
        detail: error.to_string(),
    })?;

    let itxt = itxt_data(spec.png_keyword(), payload.as_str());
    let mut baked = Vec::with_capacity(image.len() + itxt.len() + 12);
    baked.extend_from_slice(&PNG_SIGNATURE);

    let mut inserted = false;
    for chunk in &chunks {
        let is_payload = chunk
            .text_keyword()
            .and_then(Spec::from_png_keyword)
            .is_some();
        if is_payload {
            continue;
        }
        if chunk.kind == IDAT && !inserted {
            write_chunk(&mut baked, &ITXT, &itxt);
            inserted = true;
        }
        baked.extend_from_slice(chunk.raw);
    }
    Ok(baked)
}

/// Builds uncompressed iTXt data: keyword, NUL, compression flag 0,
/// compression method 0, empty language tag, NUL, empty translated
/// keyword, NUL, UTF-8 text.
fn itxt_data(keyword: &str, text: &str) -> Vec<u8> {
    let mut data = Vec::with_capacity(keyword.len() + 5 + text.len());
    data.extend_from_slice(keyword.as_bytes());
    data.extend_from_slice(&[0, 0, 0, 0, 0]);
    data.extend_from_slice(text.as_bytes());
    data
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::images::MAX_PAYLOAD_BYTES;
    use crate::images::png_chunks::{Chunk, IEND, TEXT};
    use crate::images::{Carrier, unbake};

    const PLAIN: &[u8] = include_bytes!("testdata/interop/v2/example.org/robotics-badge.png");
    const LEGACY: &[u8] = include_bytes!("testdata/interop/v2/mozbackpack_valid-baked.png");
    const JSON: &str = r#"{"@context":"https://w3id.org/openbadges/v2","type":"Assertion","id":"https://example.org/assertions/1"}"#;

    fn kinds(png: &[u8]) -> Vec<String> {
        parse_chunks(png)
            .unwrap()
            .iter()
            .map(Chunk::kind_name)
            .collect()
    }

    fn payload_chunks(png: &[u8]) -> usize {
        parse_chunks(png)
            .unwrap()
            .iter()
            .filter(|chunk| {
                chunk
                    .text_keyword()
                    .and_then(Spec::from_png_keyword)
                    .is_some()
            })
            .count()
    }

    #[test]
    fn round_trip_json() {
        let baked = bake_png(PLAIN, JSON).unwrap();
        let unbaked = unbake(&baked).unwrap();
        assert_eq!(unbaked.spec, Spec::V2);
        assert_eq!(unbaked.payload, BakedPayload::Json(JSON.to_owned()));
        assert_eq!(unbaked.carrier, Carrier::PngItxt);
    }

    #[test]
    fn itxt_placed_before_first_idat() {
        let baked = bake_png(PLAIN, JSON).unwrap();
        assert_eq!(
            kinds(&baked),
            ["IHDR", "bKGD", "pHYs", "iTXt", "IDAT", "IEND"]
        );
    }

    #[test]
    fn itxt_layout_is_exact() {
        let baked = bake_png(PLAIN, JSON).unwrap();
        let chunks = parse_chunks(&baked).unwrap();
        let itxt = chunks.iter().find(|chunk| chunk.kind == ITXT).unwrap();

        assert_eq!(&itxt.data[..11], b"openbadges\0");
        assert_eq!(itxt.data[11], 0, "compression flag must be 0");
        assert_eq!(itxt.data[12], 0, "compression method must be 0");
        assert_eq!(itxt.data[13], 0, "language tag must be empty");
        assert_eq!(itxt.data[14], 0, "translated keyword must be empty");
        assert_eq!(&itxt.data[15..], JSON.as_bytes());
    }

    #[test]
    fn other_chunks_copied_unchanged() {
        let baked = bake_png(PLAIN, JSON).unwrap();
        let original = parse_chunks(PLAIN).unwrap();
        let copied: Vec<Vec<u8>> = parse_chunks(&baked)
            .unwrap()
            .iter()
            .filter(|chunk| chunk.kind != ITXT)
            .map(|chunk| chunk.raw.to_vec())
            .collect();
        let expected: Vec<Vec<u8>> = original.iter().map(|chunk| chunk.raw.to_vec()).collect();
        assert_eq!(copied, expected);
    }

    #[test]
    fn baked_png_decodes_with_png_crate() {
        let baked = bake_png(PLAIN, JSON).unwrap();
        let decoder = png::Decoder::new(Cursor::new(baked.as_slice()));
        let mut reader = decoder.read_info().expect("header and CRCs are valid");
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut pixels).expect("image data decodes");
        reader.finish().expect("trailing chunks are valid");

        let text = &reader.info().utf8_text;
        assert_eq!(text.len(), 1);
        assert_eq!(text[0].keyword, "openbadges");
        assert_eq!(text[0].get_text().unwrap(), JSON);
    }

    #[test]
    fn rebake_keeps_one_chunk() {
        let first = bake_png(PLAIN, JSON).unwrap();
        let second_json = r#"{"id":"https://example.org/assertions/2"}"#;
        let second = bake_png(&first, second_json).unwrap();

        assert_eq!(payload_chunks(&second), 1);
        assert_eq!(unbake(&second).unwrap().payload.as_str(), second_json);
    }

    #[test]
    fn rebake_is_idempotent() {
        let once = bake_png(PLAIN, JSON).unwrap();
        let twice = bake_png(&once, JSON).unwrap();
        assert_eq!(once, twice);
    }

    #[test]
    fn rebake_replaces_legacy_text_chunk() {
        let baked = bake_png(LEGACY, JSON).unwrap();
        assert_eq!(payload_chunks(&baked), 1);
        assert_eq!(unbake(&baked).unwrap().carrier, Carrier::PngItxt);
        let software = parse_chunks(&baked)
            .unwrap()
            .iter()
            .filter(|chunk| chunk.kind == TEXT)
            .count();
        assert_eq!(software, 1, "the Software tEXt chunk stays");
    }

    #[test]
    fn v3_uses_credential_keyword() {
        let baked =
            bake_png_with_spec(Spec::V3, PLAIN, &BakedPayload::Json(JSON.to_owned())).unwrap();
        let chunks = parse_chunks(&baked).unwrap();
        let itxt = chunks.iter().find(|chunk| chunk.kind == ITXT).unwrap();
        assert_eq!(itxt.text_keyword(), Some(b"openbadgecredential".as_slice()));
        assert_eq!(unbake(&baked).unwrap().spec, Spec::V3);
    }

    #[test]
    fn v3_replaces_v2_payload() {
        let v2 = bake_png(PLAIN, JSON).unwrap();
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpZCI6IngifQ.c2ln";
        let v3 = bake_png_with_spec(Spec::V3, &v2, &BakedPayload::Jwt(jwt.to_owned())).unwrap();
        assert_eq!(payload_chunks(&v3), 1);
        assert_eq!(
            unbake(&v3).unwrap().payload,
            BakedPayload::Jwt(jwt.to_owned())
        );
    }

    #[test]
    fn non_ascii_json_round_trips() {
        let json = r#"{"name":"Ünïcödé 徽章 🎓","narrative":"\u00e9 and é"}"#;
        let baked = bake_png(PLAIN, json).unwrap();
        assert_eq!(unbake(&baked).unwrap().payload.as_str(), json);
    }

    #[test]
    fn rejects_invalid_json() {
        let error = bake_png(PLAIN, "{not json").unwrap_err();
        assert!(matches!(error, BakeError::InvalidPayload { .. }), "{error}");
    }

    #[test]
    fn rejects_mislabelled_payload() {
        let error = bake_png_with_spec(
            Spec::V2,
            PLAIN,
            &BakedPayload::Jwt("https://x.org/a".to_owned()),
        )
        .unwrap_err();
        assert!(matches!(error, BakeError::InvalidPayload { .. }), "{error}");
    }

    #[test]
    fn rejects_wrong_crc() {
        let mut broken = PLAIN.to_vec();
        broken[20] ^= 0x01;
        let error = bake_png(&broken, JSON).unwrap_err();
        assert!(matches!(error, BakeError::InvalidImage { .. }), "{error}");
    }

    #[test]
    fn rejects_non_png() {
        let error = bake_png(b"<svg/>", JSON).unwrap_err();
        assert!(matches!(error, BakeError::InvalidImage { .. }), "{error}");
    }

    #[test]
    fn rejects_missing_iend() {
        let chunks = parse_chunks(PLAIN).unwrap();
        let iend = chunks.iter().find(|chunk| chunk.kind == IEND).unwrap();
        let truncated = &PLAIN[..PLAIN.len() - iend.raw.len()];
        let error = bake_png(truncated, JSON).unwrap_err();
        assert!(matches!(error, BakeError::InvalidImage { .. }), "{error}");
    }

    #[test]
    fn rejects_oversized_payload() {
        let json = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_PAYLOAD_BYTES));
        let error = bake_png(PLAIN, &json).unwrap_err();
        assert!(
            matches!(error, BakeError::PayloadTooLarge { .. }),
            "{error}"
        );
    }
}
