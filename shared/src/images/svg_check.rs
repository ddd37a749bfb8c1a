//! Safety checks for uploaded SVG files.
//!
//! Badge SVGs are served to browsers and embedded in other pages, so an
//! upload must not run code or load anything from outside the file. The
//! check walks the whole document with quick-xml and rejects the first
//! construct that could do either, naming it.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};

use super::SVG_NAMESPACE;
use super::check::ImageRejected;
use super::unbake::shorten;
use super::xml::{resolve_reference, utf8_document};

/// Maximum length, in characters, of a value quoted in a rejection message.
const QUOTED_VALUE_CHARS: usize = 80;

/// Elements that run scripts: SVG `<script>` and SVG Tiny 1.2 `<handler>`.
const SCRIPT_ELEMENTS: [&str; 2] = ["script", "handler"];
/// HTML elements that embed another document.
const EMBEDDING_ELEMENTS: [&str; 6] = ["iframe", "embed", "object", "frame", "frameset", "applet"];
/// SVG animation elements, which can change another attribute's value
/// after the check has run.
const ANIMATION_ELEMENTS: [&str; 4] = ["set", "animate", "animateColor", "animateTransform"];

/// Checks that `bytes` is a well-formed UTF-8 SVG document with an `<svg>`
/// root in the SVG namespace and none of the constructs listed in
/// [`ImageRejected`].
pub(crate) fn check_svg(bytes: &[u8]) -> Result<(), ImageRejected> {
    let (text, _) = utf8_document(bytes).map_err(|_| invalid("the file is not UTF-8 text"))?;
    let mut reader = NsReader::from_str(text);
    let mut open_elements: Vec<String> = Vec::new();
    let mut root_seen = false;
    let mut stylesheet = String::new();

    loop {
        let (namespace, event) = match reader.read_resolved_event() {
            Ok(resolved) => resolved,
            Err(error) => {
                let at = reader.error_position();
                return Err(invalid(&format!("{error} at byte {at}")));
            }
        };
        let namespace = match namespace {
            ResolveResult::Bound(namespace) => Some(namespace.into_inner().to_owned()),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(prefix) => {
                return Err(invalid(&format!(
                    "the namespace prefix {prefix:?} is not declared"
                )));
            }
        };
        let in_style = open_elements.last().is_some_and(|name| name == "style");
        let is_empty_element = matches!(event, Event::Empty(_));

        match event {
            Event::DocType(doctype) if doctype.to_ascii_lowercase().contains("<!entity") => {
                return Err(ImageRejected::EntityDeclaration);
            }
            Event::PI(instruction) => {
                let target = instruction.target();
                if target.eq_ignore_ascii_case("xml-stylesheet") {
                    return Err(ImageRejected::StylesheetInstruction {
                        target: target.to_owned(),
                    });
                }
            }
            Event::Start(start) | Event::Empty(start) if open_elements.is_empty() => {
                if root_seen {
                    return Err(invalid("the document has more than one root element"));
                }
                check_root(&start, namespace.as_deref())?;
                check_element(&reader, &start)?;
                root_seen = true;
                if !is_empty_element {
                    open_elements.push(start.local_name().into_inner().to_owned());
                }
            }
            Event::Start(start) => {
                check_element(&reader, &start)?;
                open_elements.push(start.local_name().into_inner().to_owned());
            }
            Event::Empty(start) => check_element(&reader, &start)?,
            Event::End(_) => {
                if in_style {
                    check_css(&stylesheet, "style", "its stylesheet")?;
                    stylesheet.clear();
                }
                open_elements.pop();
            }
            Event::Text(content) if in_style => stylesheet.push_str(&content.xml10_content()),
            Event::CData(content) if in_style => stylesheet.push_str(&content.xml10_content()),
            Event::GeneralRef(reference) => {
                let Some(replacement) = resolve_reference(&reference) else {
                    let name = reference.xml10_content();
                    return Err(invalid(&format!(
                        "the entity reference &{name}; is not defined"
                    )));
                };
                if in_style {
                    stylesheet.push_str(&replacement);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }

    if !root_seen {
        return Err(invalid("the document has no root element"));
    }
    if !open_elements.is_empty() {
        return Err(invalid("the document ends before the </svg> end tag"));
    }

    // The walk above names the construct it finds. These byte scans are a
    // backstop for places it does not inspect, such as comments and text.
    let lowercase = text.to_ascii_lowercase();
    if lowercase.contains("<!entity") {
        return Err(ImageRejected::EntityDeclaration);
    }
    if lowercase.contains("javascript:") {
        return Err(ImageRejected::JavascriptUrl {
            location: "the document text".to_owned(),
        });
    }
    Ok(())
}

fn check_root(start: &BytesStart<'_>, namespace: Option<&str>) -> Result<(), ImageRejected> {
    let name = start.name().into_inner();
    if start.local_name().into_inner() == "svg" && namespace == Some(SVG_NAMESPACE) {
        return Ok(());
    }
    let found = match namespace {
        Some(namespace) if namespace != SVG_NAMESPACE => {
            format!("<{name}> in the namespace {namespace}")
        }
        None if start.local_name().into_inner() == "svg" => {
            format!("<{name}> without xmlns=\"{SVG_NAMESPACE}\"")
        }
        _ => format!("<{name}>"),
    };
    Err(ImageRejected::NotSvgRoot { found })
}

/// Checks one element's name and attributes.
fn check_element(reader: &NsReader<&[u8]>, start: &BytesStart<'_>) -> Result<(), ImageRejected> {
    let element = start.name().into_inner().to_owned();
    let local_name = start.local_name().into_inner();

    if SCRIPT_ELEMENTS
        .iter()
        .any(|name| local_name.eq_ignore_ascii_case(name))
    {
        return Err(ImageRejected::Script { element });
    }
    if local_name.eq_ignore_ascii_case("foreignObject") {
        return Err(ImageRejected::ForeignObject);
    }
    if EMBEDDING_ELEMENTS
        .iter()
        .any(|name| local_name.eq_ignore_ascii_case(name))
    {
        return Err(ImageRejected::EmbeddedDocument { element });
    }

    for attribute in start.attributes() {
        let attribute = attribute
            .map_err(|error| invalid(&format!("invalid attribute in <{element}>: {error}")))?;
        if attribute.key.as_namespace_binding().is_some() {
            continue;
        }
        let attribute_name = attribute.key.into_inner();
        let (_, attribute_local) = reader.resolver().resolve_attribute(attribute.key);
        let attribute_local = attribute_local.into_inner();

        if attribute_local.len() > 2 && attribute_local[..2].eq_ignore_ascii_case("on") {
            return Err(ImageRejected::EventHandler {
                element,
                attribute: attribute_name.to_owned(),
            });
        }

        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|error| {
                invalid(&format!(
                    "invalid value of {attribute_name} in <{element}>: {error}"
                ))
            })?;
        let location = format!("its {attribute_name} attribute");

        if has_script_url(&value) {
            return Err(ImageRejected::JavascriptUrl {
                location: format!("the {attribute_name} attribute of <{element}>"),
            });
        }
        if attribute_local == "href" {
            check_href(&element, local_name, &location, &value)?;
        }
        if ANIMATION_ELEMENTS.contains(&local_name) && attribute_local == "attributeName" {
            let target = value.trim();
            let target_local = target.rsplit(':').next().unwrap_or(target);
            if target_local == "href" {
                return Err(ImageRejected::AnimatedLink {
                    element,
                    attribute: target.to_owned(),
                });
            }
        }
        // Presentation attributes such as fill and filter take CSS values,
        // so every attribute gets the stylesheet check, not only `style`.
        check_css(&value, &element, &location)?;
    }
    Ok(())
}

/// Returns true when a URL scheme that runs code appears in `value`, also
/// when split by whitespace or control characters, which browsers strip
/// from URLs.
fn has_script_url(value: &str) -> bool {
    let compact: String = value
        .chars()
        .filter(|ch| !ch.is_ascii_whitespace() && !ch.is_control())
        .map(|ch| ch.to_ascii_lowercase())
        .collect();
    compact.contains("javascript:") || compact.contains("vbscript:")
}

/// Allows links to fragments of this document (`#id`), and `data:image/`
/// URLs everywhere except in `<use>`, which must point into this document.
/// An empty value references nothing and is allowed.
fn check_href(
    element: &str,
    local_name: &str,
    location: &str,
    value: &str,
) -> Result<(), ImageRejected> {
    let target = value.trim();
    let is_fragment = target.is_empty() || target.starts_with('#');
    let is_data_image = local_name != "use"
        && target.len() >= 11
        && target[..11].eq_ignore_ascii_case("data:image/");
    if is_fragment || is_data_image {
        return Ok(());
    }
    Err(ImageRejected::ExternalReference {
        element: element.to_owned(),
        location: location.to_owned(),
        value: shorten(target, QUOTED_VALUE_CHARS),
    })
}

/// Rejects CSS that loads another resource: `@import`, `image-set(`, and
/// `url(` whose target is not a `#fragment`. CSS escapes are decoded
/// first, because `\75 rl(` is also a URL.
fn check_css(css: &str, element: &str, location: &str) -> Result<(), ImageRejected> {
    let decoded = decode_css_escapes(css);
    let lowercase = decoded.to_ascii_lowercase();
    let external = |value: &str| ImageRejected::ExternalReference {
        element: element.to_owned(),
        location: location.to_owned(),
        value: shorten(value, QUOTED_VALUE_CHARS),
    };

    for keyword in ["@import", "image-set("] {
        if let Some(found) = lowercase.find(keyword) {
            return Err(external(&decoded[found..]));
        }
    }

    let mut search_from = 0;
    while let Some(found) = lowercase[search_from..].find("url(") {
        let argument_start = search_from + found + 4;
        let argument = decoded[argument_start..]
            .trim_start()
            .trim_start_matches(['"', '\''])
            .trim_start();
        if !argument.starts_with('#') {
            let quoted = match argument.find(')') {
                Some(end) => &argument[..=end],
                None => argument,
            };
            return Err(external(&format!("url({quoted}")));
        }
        search_from = argument_start;
    }
    Ok(())
}

/// Decodes CSS escapes: a backslash followed by one to six hex digits (and
/// one optional whitespace character) is that code point, and a backslash
/// before any other character is that character.
fn decode_css_escapes(css: &str) -> String {
    if !css.contains('\\') {
        return css.to_owned();
    }
    let mut decoded = String::with_capacity(css.len());
    let mut chars = css.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            decoded.push(ch);
            continue;
        }
        let mut hex = String::new();
        while hex.len() < 6 {
            match chars.peek() {
                Some(digit) if digit.is_ascii_hexdigit() => {
                    hex.push(*digit);
                    chars.next();
                }
                _ => break,
            }
        }
        if hex.is_empty() {
            if let Some(escaped) = chars.next() {
                decoded.push(escaped);
            }
            continue;
        }
        let code_point = u32::from_str_radix(&hex, 16).unwrap_or(0xFFFD);
        decoded.push(char::from_u32(code_point).unwrap_or('\u{FFFD}'));
        if chars.peek().is_some_and(char::is_ascii_whitespace) {
            chars.next();
        }
    }
    decoded
}

fn invalid(detail: &str) -> ImageRejected {
    ImageRejected::InvalidSvg {
        detail: detail.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use crate::images::{ImageFormat, ImageRejected, check_upload};

    /// Wraps `body` in an SVG root with the SVG and xlink namespaces.
    fn svg(body: &str) -> String {
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" viewBox=\"0 0 10 10\">{body}</svg>"
        )
    }

    fn reject(document: &str) -> ImageRejected {
        match check_upload(document.as_bytes(), ImageFormat::Svg) {
            Ok(_) => panic!("accepted: {document}"),
            Err(error) => error,
        }
    }

    fn accept(document: &str) {
        if let Err(error) = check_upload(document.as_bytes(), ImageFormat::Svg) {
            panic!("rejected ({error}): {document}");
        }
    }

    #[test]
    fn accepts_plain_shapes() {
        accept(&svg(
            "<title>A &amp; B</title><defs><linearGradient id=\"g\"/></defs><rect fill=\"url(#g)\" width=\"10\" height=\"10\"/><use href=\"#g\"/>",
        ));
    }

    #[test]
    fn accepts_data_image_href() {
        accept(&svg("<image href=\"data:image/png;base64,iVBORw0KGgo=\"/>"));
    }

    #[test]
    fn accepts_internal_stylesheet() {
        accept(&svg(
            "<style>rect { fill: url(#g); stroke: red }</style><rect/>",
        ));
    }

    #[test]
    fn accepts_doctype_without_entities() {
        accept(&format!(
            "<?xml version=\"1.0\"?><!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">{}",
            svg("<rect/>")
        ));
    }

    #[test]
    fn rejects_script_element() {
        let error = reject(&svg("<script>alert(1)</script>"));
        assert_eq!(error.code(), "svg_script");
        assert!(error.message().contains("<script>"), "{}", error.message());
    }

    #[test]
    fn rejects_prefixed_script_element() {
        let document = "<s:svg xmlns:s=\"http://www.w3.org/2000/svg\"><s:script/></s:svg>";
        let error = reject(document);
        assert_eq!(error.code(), "svg_script");
        assert!(
            error.message().contains("<s:script>"),
            "{}",
            error.message()
        );
    }

    #[test]
    fn rejects_event_handler_attribute() {
        let error = reject(&svg("<rect onclick=\"alert(1)\"/>"));
        assert_eq!(
            error,
            ImageRejected::EventHandler {
                element: "rect".to_owned(),
                attribute: "onclick".to_owned()
            }
        );
        assert!(error.message().contains("onclick"), "{}", error.message());
    }

    #[test]
    fn rejects_event_handler_on_root() {
        let document = "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>";
        assert_eq!(reject(document).code(), "svg_event_handler");
    }

    #[test]
    fn rejects_mixed_case_event_handler() {
        assert_eq!(
            reject(&svg("<g OnMouseOver=\"x()\"/>")).code(),
            "svg_event_handler"
        );
    }

    #[test]
    fn rejects_foreign_object() {
        let error = reject(&svg(
            "<foreignObject><div xmlns=\"http://www.w3.org/1999/xhtml\">hi</div></foreignObject>",
        ));
        assert_eq!(error, ImageRejected::ForeignObject);
        assert!(
            error.message().contains("<foreignObject>"),
            "{}",
            error.message()
        );
    }

    #[test]
    fn rejects_embedding_elements() {
        for element in ["iframe", "embed", "object"] {
            let error = reject(&svg(&format!("<{element}/>")));
            assert_eq!(error.code(), "svg_embedded_document", "{element}");
            assert!(
                error.message().contains(&format!("<{element}>")),
                "{}",
                error.message()
            );
        }
    }

    #[test]
    fn rejects_entity_declaration() {
        let document = format!(
            "<!DOCTYPE svg [<!ENTITY name \"value\">]>{}",
            svg("<title>&name;</title>")
        );
        let error = reject(&document);
        assert_eq!(error, ImageRejected::EntityDeclaration);
        assert!(error.message().contains("<!ENTITY>"), "{}", error.message());
    }

    #[test]
    fn rejects_entity_text_in_comment() {
        let error = reject(&svg("<!-- <!ENTITY x SYSTEM \"file:///etc/passwd\"> -->"));
        assert_eq!(error, ImageRejected::EntityDeclaration);
    }

    #[test]
    fn rejects_undefined_entity_reference() {
        assert_eq!(
            reject(&svg("<title>&undefined;</title>")).code(),
            "invalid_svg"
        );
    }

    #[test]
    fn rejects_external_image() {
        for url in [
            "https://example.org/a.png",
            "http://example.org/a.png",
            "file:///etc/passwd",
        ] {
            let error = reject(&svg(&format!("<image xlink:href=\"{url}\"/>")));
            assert_eq!(error.code(), "svg_external_reference", "{url}");
            assert!(
                error.message().contains("xlink:href"),
                "{}",
                error.message()
            );
            assert!(error.message().contains(url), "{}", error.message());
        }
    }

    #[test]
    fn rejects_relative_href() {
        assert_eq!(
            reject(&svg("<image href=\"logo.png\"/>")).code(),
            "svg_external_reference"
        );
    }

    #[test]
    fn rejects_use_of_external_document() {
        let error = reject(&svg("<use href=\"other.svg#icon\"/>"));
        assert_eq!(
            error,
            ImageRejected::ExternalReference {
                element: "use".to_owned(),
                location: "its href attribute".to_owned(),
                value: "other.svg#icon".to_owned()
            }
        );
    }

    #[test]
    fn rejects_use_of_data_url() {
        let error = reject(&svg("<use href=\"data:image/svg+xml;base64,PHN2Zy8+#x\"/>"));
        assert_eq!(error.code(), "svg_external_reference");
    }

    #[test]
    fn rejects_external_link() {
        assert_eq!(
            reject(&svg("<a href=\"https://example.org/\"><rect/></a>")).code(),
            "svg_external_reference"
        );
    }

    #[test]
    fn rejects_external_url_in_style_attribute() {
        let error = reject(&svg(
            "<rect style=\"fill: url('https://example.org/p.svg#a')\"/>",
        ));
        assert_eq!(error.code(), "svg_external_reference");
        assert!(error.message().contains("style"), "{}", error.message());
    }

    #[test]
    fn rejects_external_url_in_presentation_attribute() {
        let error = reject(&svg(
            "<rect filter=\"url(http://example.org/f.svg#blur)\"/>",
        ));
        assert_eq!(error.code(), "svg_external_reference");
    }

    #[test]
    fn rejects_external_url_in_style_element() {
        let error = reject(&svg(
            "<style><![CDATA[ rect { fill: url( \"//example.org/p.svg#a\" ) } ]]></style>",
        ));
        assert_eq!(error.code(), "svg_external_reference");
        assert!(
            error.message().contains("stylesheet"),
            "{}",
            error.message()
        );
    }

    #[test]
    fn rejects_css_import() {
        let error = reject(&svg("<style>@import 'https://example.org/x.css';</style>"));
        assert_eq!(error.code(), "svg_external_reference");
    }

    #[test]
    fn rejects_escaped_css_url() {
        let error = reject(&svg(
            "<rect style=\"fill: \\75 rl(http://example.org/p#a)\"/>",
        ));
        assert_eq!(error.code(), "svg_external_reference");
    }

    #[test]
    fn rejects_javascript_href() {
        let error = reject(&svg("<a href=\"javascript:alert(1)\"><rect/></a>"));
        assert_eq!(error.code(), "svg_javascript_url");
        assert!(error.message().contains("href"), "{}", error.message());
    }

    #[test]
    fn rejects_obfuscated_javascript_href() {
        let error = reject(&svg(
            "<a xlink:href=\" &#106;ava&#x09;script:alert(1)\"><rect/></a>",
        ));
        assert_eq!(error.code(), "svg_javascript_url");
    }

    #[test]
    fn rejects_javascript_in_text() {
        let error = reject(&svg("<desc>javascript:alert(1)</desc>"));
        assert_eq!(error.code(), "svg_javascript_url");
    }

    #[test]
    fn rejects_animated_href() {
        let error = reject(&svg(
            "<a href=\"#a\"><set attributeName=\"href\" to=\"#b\"/></a>",
        ));
        assert_eq!(error.code(), "svg_animated_link");
    }

    #[test]
    fn rejects_stylesheet_instruction() {
        let document = format!(
            "<?xml-stylesheet type=\"text/css\" href=\"https://example.org/x.css\"?>{}",
            svg("")
        );
        assert_eq!(reject(&document).code(), "svg_stylesheet_instruction");
    }

    #[test]
    fn rejects_missing_svg_namespace() {
        let error = reject("<svg viewBox=\"0 0 1 1\"/>");
        assert_eq!(error.code(), "not_svg_root");
        assert!(
            error.message().contains("without xmlns"),
            "{}",
            error.message()
        );
    }

    #[test]
    fn rejects_malformed_xml() {
        let error = reject(&svg("<g><rect></g>"));
        assert_eq!(error.code(), "invalid_svg");
    }

    #[test]
    fn rejects_unclosed_root() {
        let error = reject("<svg xmlns=\"http://www.w3.org/2000/svg\"><rect/>");
        assert_eq!(error.code(), "invalid_svg");
    }

    #[test]
    fn rejects_non_utf8() {
        let mut bytes = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><title>".to_vec();
        bytes.extend_from_slice(b"\xE9</title></svg>");
        let error = check_upload(&bytes, ImageFormat::Svg).unwrap_err();
        assert_eq!(error.code(), "invalid_svg");
    }
}
