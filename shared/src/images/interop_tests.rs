//! Reads images baked by other Open Badges implementations and checks the
//! values that each file's source project (or the Open Badges spec) expects.
//! Sources and licences of the files are in testdata/interop/NOTICE.md.

use serde_json::Value;

use super::unbake::decode_base64url;
use super::{
    BakedPayload, Carrier, ImageFormat, Spec, UnbakeError, Unbaked, bake_png, bake_svg,
    check_upload, render_png, unbake,
};

const DCPV_SIMPLE_BADGE_PNG: &[u8] = include_bytes!("testdata/interop/v2/dcpv_simple-badge.png");
const MOZBACKPACK_VALID_BAKED_PNG: &[u8] =
    include_bytes!("testdata/interop/v2/mozbackpack_valid-baked.png");
const CSBAKERY_BAKED_HEART_PNG: &[u8] =
    include_bytes!("testdata/interop/v2/csbakery_baked_heart.png");
const CSBAKERY_BAKED_EXAMPLE_SVG: &[u8] =
    include_bytes!("testdata/interop/v2/csbakery_baked_example.svg");
const MOZBAKERY_BAKED_SVG: &[u8] = include_bytes!("testdata/interop/v2/mozbakery_baked.svg");
const MOZBAKERY_NO_JSON_SVG: &[u8] = include_bytes!("testdata/interop/v2/mozbakery_no-json.svg");
const MOZBAKERY_BAD_JSON_SVG: &[u8] = include_bytes!("testdata/interop/v2/mozbakery_bad-json.svg");
const MOZBAKERY_UNBAKED_SVG: &[u8] = include_bytes!("testdata/interop/v2/mozbakery_unbaked.svg");
const DCPV_ROBOTICS_BADGE_PNG: &[u8] =
    include_bytes!("testdata/interop/v2/example.org/robotics-badge.png");
const DCPV_SIMPLE_JSON_PNG: &[u8] = include_bytes!("testdata/interop/v3/dcpv_simple-json.png");
const DCPV_SIMPLE_JWT_PNG: &[u8] = include_bytes!("testdata/interop/v3/dcpv_simple-jwt.png");
const DCPV_SIMPLE_JWT_V1_PNG: &[u8] = include_bytes!("testdata/interop/v3/dcpv_simple-jwt_v1.png");
const DCPV_SIMPLE_JSON_SVG: &[u8] = include_bytes!("testdata/interop/v3/dcpv_simple-json.svg");
const DCPV_SIMPLE_JWT_SVG: &[u8] = include_bytes!("testdata/interop/v3/dcpv_simple-jwt.svg");
const DCPV_SIMPLE_JWT_V1_SVG: &[u8] = include_bytes!("testdata/interop/v3/dcpv_simple-jwt_v1.svg");

/// Every interop image, for checks that apply to all of them.
const ALL_IMAGES: [(&str, &[u8]); 15] = [
    ("dcpv_simple-badge.png", DCPV_SIMPLE_BADGE_PNG),
    ("mozbackpack_valid-baked.png", MOZBACKPACK_VALID_BAKED_PNG),
    ("csbakery_baked_heart.png", CSBAKERY_BAKED_HEART_PNG),
    ("csbakery_baked_example.svg", CSBAKERY_BAKED_EXAMPLE_SVG),
    ("mozbakery_baked.svg", MOZBAKERY_BAKED_SVG),
    ("mozbakery_no-json.svg", MOZBAKERY_NO_JSON_SVG),
    ("mozbakery_bad-json.svg", MOZBAKERY_BAD_JSON_SVG),
    ("mozbakery_unbaked.svg", MOZBAKERY_UNBAKED_SVG),
    ("robotics-badge.png", DCPV_ROBOTICS_BADGE_PNG),
    ("dcpv_simple-json.png", DCPV_SIMPLE_JSON_PNG),
    ("dcpv_simple-jwt.png", DCPV_SIMPLE_JWT_PNG),
    ("dcpv_simple-jwt_v1.png", DCPV_SIMPLE_JWT_V1_PNG),
    ("dcpv_simple-json.svg", DCPV_SIMPLE_JSON_SVG),
    ("dcpv_simple-jwt.svg", DCPV_SIMPLE_JWT_SVG),
    ("dcpv_simple-jwt_v1.svg", DCPV_SIMPLE_JWT_V1_SVG),
];

fn unbake_ok(bytes: &[u8]) -> Unbaked {
    match unbake(bytes) {
        Ok(unbaked) => unbaked,
        Err(error) => panic!("unbake failed: {error}"),
    }
}

fn json_payload(unbaked: &Unbaked) -> Value {
    let BakedPayload::Json(text) = &unbaked.payload else {
        panic!("expected a JSON payload, got {:?}", unbaked.payload);
    };
    serde_json::from_str(text).expect("JSON payloads parse")
}

/// Decodes the claims (middle segment) of a compact JWS payload.
fn jwt_claims(unbaked: &Unbaked) -> Value {
    let BakedPayload::Jwt(token) = &unbaked.payload else {
        panic!("expected a JWT payload, got {:?}", unbaked.payload);
    };
    let claims = token.split('.').nth(1).expect("JWS has a payload segment");
    let bytes = decode_base64url(claims).expect("JWS payload is base64url");
    serde_json::from_slice(&bytes).expect("JWS payload is JSON")
}

#[test]
fn dcpv_simple_badge_png() {
    let unbaked = unbake_ok(DCPV_SIMPLE_BADGE_PNG);
    assert_eq!(unbaked.spec, Spec::V2);
    assert_eq!(unbaked.carrier, Carrier::PngItxt);

    let assertion = json_payload(&unbaked);
    assert_eq!(
        assertion["id"],
        "https://example.org/beths-robotics-badge.json"
    );
    assert_eq!(
        assertion["badge"],
        "https://example.org/robotics-badge.json"
    );
    assert_eq!(assertion["verification"]["type"], "hosted");
}

#[test]
fn mozbackpack_legacy_text_chunk_url() {
    let unbaked = unbake_ok(MOZBACKPACK_VALID_BAKED_PNG);
    assert_eq!(unbaked.spec, Spec::V2);
    assert_eq!(unbaked.carrier, Carrier::PngText);
    assert_eq!(
        unbaked.payload,
        BakedPayload::Url("https://example.org/assertion".to_owned())
    );
}

#[test]
fn csbakery_heart_png_json() {
    let unbaked = unbake_ok(CSBAKERY_BAKED_HEART_PNG);
    assert_eq!(unbaked.spec, Spec::V2);
    assert_eq!(unbaked.carrier, Carrier::PngItxt);
    assert_eq!(
        unbaked.payload.as_str(),
        r#"{"uid":"123","issuedOn":"2015-04-01","badge":"http://example.org/badge1","recipient":{"identity":"test@example.com","hashed":false},"verify":{"type":"hosted","url":"http://example.org/badgeinstance1"}}"#
    );

    let assertion = json_payload(&unbaked);
    assert_eq!(assertion["uid"], "123");
    assert_eq!(assertion["recipient"]["identity"], "test@example.com");
    assert_eq!(
        assertion["verify"]["url"],
        "http://example.org/badgeinstance1"
    );
}

#[test]
fn csbakery_example_svg_verify_url() {
    let unbaked = unbake_ok(CSBAKERY_BAKED_EXAMPLE_SVG);
    assert_eq!(unbaked.spec, Spec::V2);
    assert_eq!(
        unbaked.verify_attribute.as_deref(),
        Some("https://example.org/assertion.json")
    );

    // The CDATA JSON is also returned; it is non-standard (`identity`
    // instead of `recipient`) but parses.
    assert_eq!(unbaked.carrier, Carrier::SvgContent);
    let assertion = json_payload(&unbaked);
    assert_eq!(assertion["uid"], "abcdef12345");
    assert_eq!(
        assertion["verify"]["url"],
        "https://example.org/assertion.json"
    );
}

#[test]
fn mozbakery_baked_svg_trimmed_json() {
    let unbaked = unbake_ok(MOZBAKERY_BAKED_SVG);
    assert_eq!(unbaked.spec, Spec::V2);
    assert_eq!(unbaked.carrier, Carrier::SvgContent);
    assert_eq!(
        unbaked.payload,
        BakedPayload::Json(r#"{"verify":{"url":"http://example.org"}}"#.to_owned())
    );
    assert_eq!(
        json_payload(&unbaked)["verify"]["url"],
        "http://example.org"
    );
}

#[test]
fn mozbakery_empty_cdata_uses_verify() {
    let unbaked = unbake_ok(MOZBAKERY_NO_JSON_SVG);
    assert_eq!(unbaked.carrier, Carrier::SvgVerifyAttribute);
    assert_eq!(
        unbaked.payload,
        BakedPayload::Url("http://example.org".to_owned())
    );
}

#[test]
fn mozbakery_bad_json_uses_verify() {
    let unbaked = unbake_ok(MOZBAKERY_BAD_JSON_SVG);
    assert_eq!(unbaked.carrier, Carrier::SvgVerifyAttribute);
    assert_eq!(
        unbaked.payload,
        BakedPayload::Url("http://example.org".to_owned())
    );
}

#[test]
fn unbaked_images_not_baked() {
    assert_eq!(unbake(MOZBAKERY_UNBAKED_SVG), Err(UnbakeError::NotBaked));
    assert_eq!(unbake(DCPV_ROBOTICS_BADGE_PNG), Err(UnbakeError::NotBaked));
}

#[test]
fn dcpv_v3_json_png_after_idat() {
    let unbaked = unbake_ok(DCPV_SIMPLE_JSON_PNG);
    assert_eq!(unbaked.spec, Spec::V3);
    assert_eq!(unbaked.carrier, Carrier::PngItxt);
    assert_eq!(
        json_payload(&unbaked)["id"],
        "http://example.com/credentials/3527"
    );
}

#[test]
fn dcpv_v3_jwt_png() {
    let unbaked = unbake_ok(DCPV_SIMPLE_JWT_PNG);
    assert_eq!(unbaked.spec, Spec::V3);
    let claims = jwt_claims(&unbaked);
    assert_eq!(claims["id"], "http://example.com/credentials/3527");
    assert_eq!(claims["issuer"]["id"], "https://1edtech.edu/issuers/565049");
}

#[test]
fn dcpv_v3_jwt_vc_claim_png() {
    let unbaked = unbake_ok(DCPV_SIMPLE_JWT_V1_PNG);
    assert_eq!(unbaked.spec, Spec::V3);
    assert_eq!(
        jwt_claims(&unbaked)["vc"]["id"],
        "http://example.edu/credentials/3732"
    );
}

#[test]
fn dcpv_v3_json_svg_with_doctype() {
    let unbaked = unbake_ok(DCPV_SIMPLE_JSON_SVG);
    assert_eq!(unbaked.spec, Spec::V3);
    assert_eq!(unbaked.carrier, Carrier::SvgContent);
    assert_eq!(
        json_payload(&unbaked)["id"],
        "http://example.com/credentials/3527"
    );
}

#[test]
fn dcpv_v3_jwt_svg_verify_attribute() {
    let unbaked = unbake_ok(DCPV_SIMPLE_JWT_SVG);
    assert_eq!(unbaked.spec, Spec::V3);
    assert_eq!(unbaked.carrier, Carrier::SvgVerifyAttribute);
    assert_eq!(
        jwt_claims(&unbaked)["id"],
        "http://example.com/credentials/3527"
    );
}

#[test]
fn dcpv_v3_jwt_vc_claim_svg() {
    let unbaked = unbake_ok(DCPV_SIMPLE_JWT_V1_SVG);
    assert_eq!(unbaked.spec, Spec::V3);
    assert_eq!(unbaked.carrier, Carrier::SvgVerifyAttribute);
    assert_eq!(
        jwt_claims(&unbaked)["vc"]["id"],
        "http://example.edu/credentials/3732"
    );
}

#[test]
fn interop_images_pass_upload_check() {
    for (name, bytes) in ALL_IMAGES {
        let format = if name.ends_with(".png") {
            ImageFormat::Png
        } else {
            ImageFormat::Svg
        };
        let checked = check_upload(bytes, format);
        assert!(checked.is_ok(), "{name}: {checked:?}");
    }
}

#[test]
fn interop_svgs_render_to_png() {
    for (name, bytes) in ALL_IMAGES.iter().filter(|(name, _)| name.ends_with(".svg")) {
        let png = match render_png(bytes, 128) {
            Ok(png) => png,
            Err(error) => panic!("{name}: {error}"),
        };
        let checked = check_upload(&png, ImageFormat::Png);
        assert!(checked.is_ok(), "{name}: {checked:?}");
    }
}

#[test]
fn rebake_v3_png_leaves_one_payload() {
    let json = r#"{"id":"https://example.org/assertions/9"}"#;
    let baked = bake_png(DCPV_SIMPLE_JSON_PNG, json).unwrap();
    let unbaked = unbake_ok(&baked);
    assert_eq!(unbaked.spec, Spec::V2);
    assert_eq!(unbaked.payload.as_str(), json);
    assert!(
        !baked
            .windows(19)
            .any(|window| window == b"openbadgecredential")
    );
}

#[test]
fn rebake_third_party_svg() {
    let json = r#"{"id":"https://example.org/assertions/9"}"#;
    let url = "https://example.org/assertions/9";
    let baked = bake_svg(CSBAKERY_BAKED_EXAMPLE_SVG, json, url).unwrap();
    let unbaked = unbake_ok(&baked);
    assert_eq!(unbaked.payload.as_str(), json);
    assert_eq!(unbaked.verify_attribute.as_deref(), Some(url));
    let text = String::from_utf8(baked).unwrap();
    assert_eq!(text.matches("<openbadges:assertion").count(), 1);
    assert!(
        text.contains("<text x=\"150\" y=\"125\""),
        "rest of the drawing stays"
    );
}
