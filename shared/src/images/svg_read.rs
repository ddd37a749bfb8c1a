//! Reading the payload of a baked SVG from its Open Badges element.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};

use super::unbake::{BakedPayload, Carrier, UnbakeError, Unbaked};
use super::xml::{resolve_reference, utf8_document};
use super::{ImageFormat, Spec};

/// Returns the payload of the first Open Badges element in the document.
///
/// Elements are matched by resolved namespace and local name, so any prefix
/// works. The DOCTYPE is skipped: quick-xml reports it as one event and never
/// loads external DTDs, and references to entities other than the five
/// predefined ones are reported as malformed rather than expanded.
pub(crate) fn read_svg_payload(bytes: &[u8]) -> Result<Unbaked, UnbakeError> {
    let (text, _) = utf8_document(bytes).map_err(|_| {
        malformed("the file is not UTF-8 text, and only UTF-8 SVG files can be read")
    })?;
    let mut reader = NsReader::from_str(text);

    loop {
        let (namespace, event) = match reader.read_resolved_event() {
            Ok(resolved) => resolved,
            Err(error) => {
                let at = reader.error_position();
                return Err(malformed(&format!("{error} at byte {at}")));
            }
        };
        let namespace = match namespace {
            ResolveResult::Bound(namespace) => Some(namespace.into_inner().to_owned()),
            _ => None,
        };

        let (start, is_empty) = match event {
            Event::Start(start) => (start, false),
            Event::Empty(start) => (start, true),
            Event::Eof => return Err(UnbakeError::NotBaked),
            _ => continue,
        };
        let Some(namespace) = namespace else {
            continue;
        };
        let Some(spec) = Spec::from_svg_element(&namespace, start.local_name().into_inner()) else {
            continue;
        };

        let verify = verify_attribute(&reader, &start, spec)?;
        let content = if is_empty {
            String::new()
        } else {
            read_element_content(&mut reader)?
        };
        return choose_payload(spec, &content, verify);
    }
}

/// Returns the unprefixed `verify` attribute, or one whose prefix is bound
/// to the element's own namespace.
fn verify_attribute(
    reader: &NsReader<&[u8]>,
    start: &BytesStart<'_>,
    spec: Spec,
) -> Result<Option<String>, UnbakeError> {
    for attribute in start.attributes() {
        let attribute =
            attribute.map_err(|error| malformed(&format!("invalid attribute: {error}")))?;
        let (namespace, local_name) = reader.resolver().resolve_attribute(attribute.key);
        let in_scope = match namespace {
            ResolveResult::Unbound => true,
            ResolveResult::Bound(namespace) => namespace.into_inner() == spec.svg_namespace(),
            ResolveResult::Unknown(_) => false,
        };
        if in_scope && local_name.into_inner() == "verify" {
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|error| malformed(&format!("invalid verify attribute: {error}")))?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

/// Joins the text, CDATA sections and character references directly inside
/// the current element, up to its end tag. Text of nested elements is
/// skipped.
fn read_element_content(reader: &mut NsReader<&[u8]>) -> Result<String, UnbakeError> {
    let mut content = String::new();
    let mut depth = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|error| malformed(&format!("{error} at byte {}", reader.error_position())))?;
        match event {
            Event::Text(text) if depth == 0 => content.push_str(&text.xml10_content()),
            Event::CData(cdata) if depth == 0 => content.push_str(&cdata.xml10_content()),
            Event::GeneralRef(reference) if depth == 0 => match resolve_reference(&reference) {
                Some(replacement) => content.push_str(&replacement),
                None => {
                    let name = reference.xml10_content();
                    return Err(malformed(&format!(
                        "the entity reference &{name}; is not defined, and custom entities are not expanded"
                    )));
                }
            },
            Event::Start(_) => depth += 1,
            Event::End(_) if depth == 0 => return Ok(content),
            Event::End(_) => depth -= 1,
            Event::Eof => {
                return Err(malformed(
                    "the document ends inside the Open Badges element",
                ));
            }
            _ => {}
        }
    }
}

/// Picks the element content when it is a usable payload, and otherwise the
/// `verify` attribute.
///
/// Content that starts with `{` but is not valid JSON falls back to the
/// `verify` attribute as well: the attribute is the hosted URL or JWS that a
/// verifier checks anyway, and Open Badges 1.x bakers wrote such content.
/// [`Unbaked::carrier`] records which one was used.
fn choose_payload(
    spec: Spec,
    content: &str,
    verify: Option<String>,
) -> Result<Unbaked, UnbakeError> {
    let content_problem = if content.trim().is_empty() {
        "the element has no content".to_owned()
    } else {
        match BakedPayload::classify(content) {
            Ok(payload) => {
                return Ok(Unbaked {
                    spec,
                    payload,
                    carrier: Carrier::SvgContent,
                    verify_attribute: verify,
                });
            }
            Err(problem) => problem,
        }
    };

    let Some(verify) = verify else {
        return Err(malformed(&format!(
            "{content_problem} and no verify attribute"
        )));
    };
    match BakedPayload::classify(&verify) {
        Ok(payload) => Ok(Unbaked {
            spec,
            payload,
            carrier: Carrier::SvgVerifyAttribute,
            verify_attribute: Some(verify),
        }),
        Err(problem) => Err(malformed(&format!(
            "{content_problem}, and in the verify attribute {problem}"
        ))),
    }
}

fn malformed(detail: &str) -> UnbakeError {
    UnbakeError::Malformed {
        format: ImageFormat::Svg,
        detail: detail.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(svg: &str) -> Result<Unbaked, UnbakeError> {
        read_svg_payload(svg.as_bytes())
    }

    #[test]
    fn any_prefix_is_resolved() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:ob="http://openbadges.org">
            <ob:assertion verify="https://example.org/a"><![CDATA[{"id":"https://example.org/a"}]]></ob:assertion></svg>"#;
        let unbaked = read(svg).unwrap();
        assert_eq!(unbaked.spec, Spec::V2);
        assert_eq!(
            unbaked.payload,
            BakedPayload::Json(r#"{"id":"https://example.org/a"}"#.to_owned())
        );
        assert_eq!(
            unbaked.verify_attribute.as_deref(),
            Some("https://example.org/a")
        );
    }

    #[test]
    fn default_namespace_element_is_found() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg">
            <credential xmlns="https://purl.imsglobal.org/ob/v3p0">{"id":"urn:x"}</credential></svg>"#;
        let unbaked = read(svg).unwrap();
        assert_eq!(unbaked.spec, Spec::V3);
        assert_eq!(
            unbaked.payload,
            BakedPayload::Json(r#"{"id":"urn:x"}"#.to_owned())
        );
    }

    #[test]
    fn prefix_without_namespace_is_ignored() {
        // The prefix is the usual one, but it is bound to another namespace.
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://example.org/other">
            <openbadges:assertion verify="https://example.org/a"/></svg>"#;
        assert_eq!(read(svg), Err(UnbakeError::NotBaked));
    }

    #[test]
    fn escaped_text_content_is_unescaped() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">
            <openbadges:assertion>{&quot;name&quot;:&quot;A &amp; B&#x21;&quot;}</openbadges:assertion></svg>"#;
        let unbaked = read(svg).unwrap();
        assert_eq!(
            unbaked.payload,
            BakedPayload::Json(r#"{"name":"A & B!"}"#.to_owned())
        );
    }

    #[test]
    fn custom_entity_is_not_expanded() {
        let svg = r#"<!DOCTYPE svg [<!ENTITY id "https://evil.example/">]>
            <svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">
            <openbadges:assertion>{"id":"&id;"}</openbadges:assertion></svg>"#;
        let error = read(svg).unwrap_err();
        assert!(matches!(error, UnbakeError::Malformed { .. }), "{error}");
    }

    #[test]
    fn empty_element_without_verify_is_malformed() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">
            <openbadges:assertion/></svg>"#;
        let error = read(svg).unwrap_err();
        assert!(matches!(error, UnbakeError::Malformed { .. }), "{error}");
    }

    #[test]
    fn invalid_json_without_verify_is_malformed() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">
            <openbadges:assertion><![CDATA[{bad}]]></openbadges:assertion></svg>"#;
        let error = read(svg).unwrap_err();
        assert!(matches!(error, UnbakeError::Malformed { .. }), "{error}");
    }

    #[test]
    fn split_cdata_is_joined() {
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">
            <openbadges:assertion><![CDATA[{"a":"]]]]><![CDATA[>"}]]></openbadges:assertion></svg>"#;
        let unbaked = read(svg).unwrap();
        assert_eq!(
            unbaked.payload,
            BakedPayload::Json(r#"{"a":"]]>"}"#.to_owned())
        );
    }

    #[test]
    fn malformed_xml_is_reported() {
        let error = read(r#"<svg xmlns="http://www.w3.org/2000/svg"><g></svg>"#).unwrap_err();
        assert!(matches!(error, UnbakeError::Malformed { .. }), "{error}");
    }
}
