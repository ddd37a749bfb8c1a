//! Baking a payload into an SVG as an Open Badges element.
//!
//! The document is parsed only to find byte offsets. The output is the
//! input with old payload elements cut out, a namespace declaration added to
//! the root start tag when needed, and the new element inserted right after
//! that tag. Every other byte is copied unchanged.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{PrefixDeclaration, ResolveResult};
use quick_xml::{NsReader, XmlVersion};

use super::bake::{BakeError, check_payload};
use super::unbake::BakedPayload;
use super::xml::{cdata, escape_attribute, utf8_document};
use super::{ImageFormat, Spec};

/// Prefix used for the Open Badges namespace when the root does not
/// already bind one.
const PREFERRED_PREFIX: &str = "openbadges";

/// Bakes an Open Badges 2.0 Assertion into an SVG.
///
/// Adds `xmlns:openbadges="http://openbadges.org"` to the root `<svg>` (if
/// no prefix is bound to that namespace yet) and inserts
/// `<openbadges:assertion verify="URL"><![CDATA[json]]></openbadges:assertion>`
/// as the first child of the root. Existing Open Badges 2.0 and 3.0
/// elements anywhere in the document are removed, so baking again replaces
/// the payload. A `]]>` inside the JSON is split across two CDATA sections.
///
/// Fails when the SVG is not well-formed UTF-8 XML with an `svg` root, when
/// `assertion_json` is not a JSON object, or when `verify_url` is not a URL.
pub fn bake_svg(
    image: &[u8],
    assertion_json: &str,
    verify_url: &str,
) -> Result<Vec<u8>, BakeError> {
    if !matches!(BakedPayload::classify(verify_url), Ok(BakedPayload::Url(_))) {
        return Err(BakeError::InvalidPayload {
            detail: format!("the verify URL {verify_url:?} is not a URL"),
        });
    }
    bake_svg_with_spec(
        Spec::V2,
        image,
        &BakedPayload::Json(assertion_json.to_owned()),
        Some(verify_url),
    )
}

/// Bakes any payload into an SVG, as the element of `spec`:
/// `assertion` in `http://openbadges.org` for [`Spec::V2`] or `credential` in
/// `https://purl.imsglobal.org/ob/v3p0` for [`Spec::V3`].
///
/// A JSON payload goes into CDATA, with `verify_url` (if given) as the
/// `verify` attribute. A JWS or URL payload goes into the `verify` attribute
/// of an empty element, which is how Open Badges bakes signed Assertions and
/// VC-JWTs, so `verify_url` must then be `None`.
///
/// When the root already binds the `openbadges` prefix to another
/// namespace (an image baked for the other version), the declaration is put
/// on the new element instead of the root, so the prefix stays
/// `openbadges` for readers that match it literally.
pub fn bake_svg_with_spec(
    spec: Spec,
    image: &[u8],
    payload: &BakedPayload,
    verify_url: Option<&str>,
) -> Result<Vec<u8>, BakeError> {
    check_payload(payload)?;
    if verify_url.is_some() && !matches!(payload, BakedPayload::Json(_)) {
        return Err(BakeError::InvalidPayload {
            detail: format!(
                "a {} payload is stored in the verify attribute, so verify_url must be None",
                payload.kind()
            ),
        });
    }

    let (text, bom_len) =
        utf8_document(image).map_err(|_| invalid_svg("the file is not UTF-8 text".to_owned()))?;
    let layout = scan_document(text)?;

    let root = &layout.root;
    let (prefix, declaration) = choose_prefix(spec, &root.bindings);
    let root_tag = &text[root.start..root.end];
    let root_declaration = match declaration {
        Declaration::OnRoot => Some(format!(" xmlns:{prefix}=\"{}\"", spec.svg_namespace())),
        _ => None,
    };
    let element = payload_element(spec, &prefix, declaration, payload, verify_url);

    let mut baked = String::with_capacity(text.len() + element.len() + 64);
    baked.push_str(&text[..root.start]);
    if root.is_empty {
        // `<svg .../>` has no content, so it becomes `<svg ...>` + element + `</svg>`.
        let open_tag = root_tag.trim_end_matches('>').trim_end_matches('/');
        baked.push_str(open_tag);
        baked.push_str(root_declaration.as_deref().unwrap_or(""));
        baked.push('>');
        baked.push_str(&element);
        baked.push_str(&format!("</{}>", root.name));
    } else {
        let open_tag = &root_tag[..root_tag.len() - 1];
        baked.push_str(open_tag);
        baked.push_str(root_declaration.as_deref().unwrap_or(""));
        baked.push('>');
        baked.push_str(&element);
    }

    let mut copied_until = root.end;
    for &(start, end) in &layout.removals {
        baked.push_str(&text[copied_until..start]);
        copied_until = end;
    }
    baked.push_str(&text[copied_until..]);

    let mut output = image[..bom_len].to_vec();
    output.extend_from_slice(baked.as_bytes());
    Ok(output)
}

/// Byte offsets (in the text after any byte order mark) found by
/// [`scan_document`].
struct Layout {
    root: RootTag,
    /// Spans of Open Badges elements (either version), in document order.
    /// Nested ones are covered by the span of the outer one.
    removals: Vec<(usize, usize)>,
}

/// The start tag of the root element.
struct RootTag {
    start: usize,
    end: usize,
    /// True for a self-closing `<svg .../>`.
    is_empty: bool,
    /// Qualified name as written, for the end tag.
    name: String,
    /// Prefixes declared on the root, with their namespace names.
    bindings: Vec<(String, String)>,
}

fn scan_document(text: &str) -> Result<Layout, BakeError> {
    let mut reader = NsReader::from_str(text);
    let mut depth = 0usize;
    let mut root: Option<RootTag> = None;
    let mut open_removal: Option<(usize, usize)> = None;
    let mut removals = Vec::new();

    loop {
        let before = position(&reader);
        let (namespace, event) = match reader.read_resolved_event() {
            Ok(resolved) => resolved,
            Err(error) => {
                let at = reader.error_position();
                return Err(invalid_svg(format!("{error} at byte {at}")));
            }
        };
        let is_payload_element = match (&namespace, &event) {
            (ResolveResult::Bound(namespace), Event::Start(start) | Event::Empty(start)) => {
                Spec::from_svg_element(namespace.into_inner(), start.local_name().into_inner())
                    .is_some()
            }
            _ => false,
        };
        let after = position(&reader);

        match event {
            Event::Decl(declaration) => check_encoding(&declaration)?,
            Event::Start(start) | Event::Empty(start) if depth == 0 => {
                if root.is_some() {
                    return Err(invalid_svg(
                        "the document has more than one root element".to_owned(),
                    ));
                }
                // The tag text distinguishes `<svg>` from `<svg/>` without a second match.
                let is_empty = text[before..after].ends_with("/>");
                root = Some(RootTag {
                    start: before,
                    end: after,
                    is_empty,
                    name: start.name().into_inner().to_owned(),
                    bindings: namespace_bindings(&start)?,
                });
                if !is_empty {
                    depth += 1;
                }
            }
            Event::Start(_) => {
                if is_payload_element && open_removal.is_none() {
                    open_removal = Some((before, depth));
                }
                depth += 1;
            }
            Event::Empty(_) if is_payload_element && open_removal.is_none() => {
                removals.push((before, after));
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if let Some((start, open_depth)) = open_removal
                    && open_depth == depth
                {
                    removals.push((start, after));
                    open_removal = None;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }

    let Some(root) = root else {
        return Err(invalid_svg("the document has no root element".to_owned()));
    };
    if depth != 0 {
        return Err(invalid_svg(format!(
            "the document ends before </{}>",
            root.name
        )));
    }
    let local_name = root.name.rsplit(':').next().unwrap_or(&root.name);
    if local_name != "svg" {
        return Err(invalid_svg(format!(
            "the root element is <{}>, not <svg>",
            root.name
        )));
    }

    Ok(Layout { root, removals })
}

fn position(reader: &NsReader<&[u8]>) -> usize {
    // The input is a &str held in memory, so the offset fits in usize.
    usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX)
}

/// Rejects a declared encoding other than UTF-8, because the baked payload
/// is inserted as UTF-8.
fn check_encoding(declaration: &quick_xml::events::BytesDecl<'_>) -> Result<(), BakeError> {
    let Some(encoding) = declaration.encoding() else {
        return Ok(());
    };
    let encoding =
        encoding.map_err(|error| invalid_svg(format!("invalid XML declaration: {error}")))?;
    let supported = ["utf-8", "utf8", "us-ascii", "ascii"]
        .iter()
        .any(|name| encoding.eq_ignore_ascii_case(name));
    if supported {
        Ok(())
    } else {
        Err(invalid_svg(format!(
            "the XML declaration names the encoding {encoding:?}; save the SVG as UTF-8"
        )))
    }
}

/// Returns the `xmlns:prefix="namespace"` declarations of a start tag.
fn namespace_bindings(start: &BytesStart<'_>) -> Result<Vec<(String, String)>, BakeError> {
    let mut bindings = Vec::new();
    for attribute in start.attributes() {
        let attribute =
            attribute.map_err(|error| invalid_svg(format!("invalid attribute: {error}")))?;
        if let Some(PrefixDeclaration::Named(prefix)) = attribute.key.as_namespace_binding() {
            let namespace = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|error| invalid_svg(format!("invalid namespace declaration: {error}")))?;
            bindings.push((prefix.to_owned(), namespace.into_owned()));
        }
    }
    Ok(bindings)
}

/// Place of the namespace declaration for the new element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Declaration {
    /// The root already binds a prefix to the namespace.
    Existing,
    /// A new `xmlns:openbadges` goes on the root start tag.
    OnRoot,
    /// The root binds `openbadges` to another namespace, so the new element
    /// declares the prefix itself.
    OnElement,
}

fn choose_prefix(spec: Spec, root_bindings: &[(String, String)]) -> (String, Declaration) {
    if let Some((prefix, _)) = root_bindings
        .iter()
        .find(|(_, namespace)| namespace == spec.svg_namespace())
    {
        return (prefix.clone(), Declaration::Existing);
    }
    let preferred_taken = root_bindings
        .iter()
        .any(|(prefix, _)| prefix == PREFERRED_PREFIX);
    let declaration = if preferred_taken {
        Declaration::OnElement
    } else {
        Declaration::OnRoot
    };
    (PREFERRED_PREFIX.to_owned(), declaration)
}

fn payload_element(
    spec: Spec,
    prefix: &str,
    declaration: Declaration,
    payload: &BakedPayload,
    verify_url: Option<&str>,
) -> String {
    let name = format!("{prefix}:{}", spec.svg_element());
    let mut element = format!("<{name}");
    if declaration == Declaration::OnElement {
        element.push_str(&format!(" xmlns:{prefix}=\"{}\"", spec.svg_namespace()));
    }
    match payload {
        BakedPayload::Json(json) => {
            if let Some(url) = verify_url {
                element.push_str(&format!(" verify=\"{}\"", escape_attribute(url)));
            }
            element.push('>');
            element.push_str(&cdata(json));
        }
        BakedPayload::Url(value) | BakedPayload::Jwt(value) => {
            element.push_str(&format!(" verify=\"{}\">", escape_attribute(value)));
        }
    }
    element.push_str(&format!("</{name}>"));
    element
}

fn invalid_svg(detail: String) -> BakeError {
    BakeError::InvalidImage {
        format: ImageFormat::Svg,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::{Carrier, unbake};

    const PLAIN: &str = include_str!("testdata/interop/v2/mozbakery_unbaked.svg");
    const BAKED_V2: &[u8] = include_bytes!("testdata/interop/v2/mozbakery_baked.svg");
    const JSON: &str = r#"{"@context":"https://w3id.org/openbadges/v2","type":"Assertion","id":"https://example.org/assertions/1"}"#;
    const URL: &str = "https://example.org/assertions/1";

    fn bake_plain(json: &str) -> String {
        String::from_utf8(bake_svg(PLAIN.as_bytes(), json, URL).unwrap()).unwrap()
    }

    #[test]
    fn round_trip_json() {
        let baked = bake_plain(JSON);
        let unbaked = unbake(baked.as_bytes()).unwrap();
        assert_eq!(unbaked.spec, Spec::V2);
        assert_eq!(unbaked.payload, BakedPayload::Json(JSON.to_owned()));
        assert_eq!(unbaked.carrier, Carrier::SvgContent);
        assert_eq!(unbaked.verify_attribute.as_deref(), Some(URL));
    }

    #[test]
    fn element_is_first_child_of_root() {
        let baked = bake_plain(JSON);
        let expected = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 512 512\" xmlns:openbadges=\"http://openbadges.org\"><openbadges:assertion verify=\"{URL}\"><![CDATA[{JSON}]]></openbadges:assertion>\n  <title>"
        );
        assert!(baked.contains(&expected), "{baked}");
    }

    #[test]
    fn rest_of_document_unchanged() {
        let baked = bake_plain(JSON);
        let root_end = PLAIN.find("512\">").unwrap() + 5;
        let element_end = baked.find("</openbadges:assertion>").unwrap() + 23;
        assert_eq!(&baked[element_end..], &PLAIN[root_end..]);
        assert!(baked.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "));
    }

    #[test]
    fn json_with_cdata_terminator_round_trips() {
        let json = r#"{"narrative":"a]]>b ]]]]> <![CDATA[ end"}"#;
        let baked = bake_plain(json);
        assert_eq!(unbake(baked.as_bytes()).unwrap().payload.as_str(), json);
    }

    #[test]
    fn non_ascii_json_round_trips() {
        let json = r#"{"name":"Ünïcödé 徽章 🎓 <b>&amp;</b>"}"#;
        let baked = bake_plain(json);
        assert_eq!(unbake(baked.as_bytes()).unwrap().payload.as_str(), json);
    }

    #[test]
    fn rebake_keeps_one_element() {
        let first = bake_plain(JSON);
        let second_json = r#"{"id":"https://example.org/assertions/2"}"#;
        let second =
            String::from_utf8(bake_svg(first.as_bytes(), second_json, URL).unwrap()).unwrap();

        assert_eq!(second.matches("<openbadges:assertion").count(), 1);
        assert_eq!(second.matches("xmlns:openbadges=").count(), 1);
        assert_eq!(
            unbake(second.as_bytes()).unwrap().payload.as_str(),
            second_json
        );
    }

    #[test]
    fn rebake_is_idempotent() {
        let once = bake_plain(JSON);
        let twice = bake_svg(once.as_bytes(), JSON, URL).unwrap();
        assert_eq!(once.as_bytes(), twice.as_slice());
    }

    #[test]
    fn rebake_replaces_third_party_element() {
        let baked = String::from_utf8(bake_svg(BAKED_V2, JSON, URL).unwrap()).unwrap();
        assert_eq!(baked.matches(":assertion ").count(), 1);
        assert!(!baked.contains("{\"verify\":{\"url\":\"http://example.org\"}}"));
        assert_eq!(unbake(baked.as_bytes()).unwrap().payload.as_str(), JSON);
    }

    #[test]
    fn existing_prefix_is_reused() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:ob="http://openbadges.org"><ob:assertion verify="x:y"/><g/></svg>"#;
        let baked = String::from_utf8(bake_svg(svg.as_bytes(), JSON, URL).unwrap()).unwrap();
        assert_eq!(
            baked,
            format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:ob=\"http://openbadges.org\"><ob:assertion verify=\"{URL}\"><![CDATA[{JSON}]]></ob:assertion><g/></svg>"
            )
        );
    }

    #[test]
    fn self_closing_root_is_expanded() {
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\"/>";
        let baked = String::from_utf8(bake_svg(svg.as_bytes(), JSON, URL).unwrap()).unwrap();
        assert!(baked.ends_with("</openbadges:assertion></svg>"), "{baked}");
        assert_eq!(unbake(baked.as_bytes()).unwrap().payload.as_str(), JSON);
    }

    #[test]
    fn byte_order_mark_is_kept() {
        let mut svg = b"\xEF\xBB\xBF".to_vec();
        svg.extend_from_slice(PLAIN.as_bytes());
        let baked = bake_svg(&svg, JSON, URL).unwrap();
        assert!(baked.starts_with(b"\xEF\xBB\xBF<?xml"));
        assert_eq!(unbake(&baked).unwrap().payload.as_str(), JSON);
    }

    #[test]
    fn verify_url_is_escaped() {
        let url = "https://example.org/a?b=1&c=\"2\"";
        let baked = String::from_utf8(bake_svg(PLAIN.as_bytes(), JSON, url).unwrap()).unwrap();
        assert!(baked.contains("verify=\"https://example.org/a?b=1&amp;c=&quot;2&quot;\""));
        assert_eq!(
            unbake(baked.as_bytes())
                .unwrap()
                .verify_attribute
                .as_deref(),
            Some(url)
        );
    }

    #[test]
    fn v3_jwt_goes_in_verify_attribute() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpZCI6IngifQ.c2ln";
        let baked = bake_svg_with_spec(
            Spec::V3,
            PLAIN.as_bytes(),
            &BakedPayload::Jwt(jwt.to_owned()),
            None,
        )
        .unwrap();
        let text = String::from_utf8(baked.clone()).unwrap();
        assert!(text.contains("xmlns:openbadges=\"https://purl.imsglobal.org/ob/v3p0\""));
        assert!(text.contains(&format!(
            "<openbadges:credential verify=\"{jwt}\"></openbadges:credential>"
        )));

        let unbaked = unbake(&baked).unwrap();
        assert_eq!(unbaked.spec, Spec::V3);
        assert_eq!(unbaked.payload, BakedPayload::Jwt(jwt.to_owned()));
        assert_eq!(unbaked.carrier, Carrier::SvgVerifyAttribute);
    }

    #[test]
    fn v3_over_v2_declares_prefix_on_element() {
        let v2 = bake_plain(JSON);
        let v3 = bake_svg_with_spec(
            Spec::V3,
            v2.as_bytes(),
            &BakedPayload::Json(JSON.to_owned()),
            None,
        )
        .unwrap();
        let text = String::from_utf8(v3.clone()).unwrap();
        assert!(!text.contains("<openbadges:assertion"));
        assert!(text.contains(
            "<openbadges:credential xmlns:openbadges=\"https://purl.imsglobal.org/ob/v3p0\">"
        ));
        assert_eq!(unbake(&v3).unwrap().spec, Spec::V3);
    }

    #[test]
    fn rejects_verify_url_with_jwt() {
        let error = bake_svg_with_spec(
            Spec::V3,
            PLAIN.as_bytes(),
            &BakedPayload::Jwt("eyJhbGciOiJSUzI1NiJ9.eyJpZCI6IngifQ.c2ln".to_owned()),
            Some(URL),
        )
        .unwrap_err();
        assert!(matches!(error, BakeError::InvalidPayload { .. }), "{error}");
    }

    #[test]
    fn rejects_invalid_verify_url() {
        let error = bake_svg(PLAIN.as_bytes(), JSON, "not a url").unwrap_err();
        assert!(matches!(error, BakeError::InvalidPayload { .. }), "{error}");
    }

    #[test]
    fn rejects_malformed_svg() {
        let error = bake_svg(b"<svg><g></svg>", JSON, URL).unwrap_err();
        assert!(matches!(error, BakeError::InvalidImage { .. }), "{error}");
    }

    #[test]
    fn rejects_unclosed_root() {
        let error = bake_svg(b"<svg><g/>", JSON, URL).unwrap_err();
        assert!(matches!(error, BakeError::InvalidImage { .. }), "{error}");
    }

    #[test]
    fn rejects_non_svg_root() {
        let error = bake_svg(b"<html/>", JSON, URL).unwrap_err();
        assert!(matches!(error, BakeError::InvalidImage { .. }), "{error}");
    }

    #[test]
    fn rejects_other_encoding() {
        let svg = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><svg/>";
        let error = bake_svg(svg, JSON, URL).unwrap_err();
        assert!(matches!(error, BakeError::InvalidImage { .. }), "{error}");
    }
}
