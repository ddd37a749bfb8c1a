//! XML helpers shared by the SVG baker, reader and upload check.

use quick_xml::XmlVersion;
use quick_xml::events::BytesRef;

/// Returns true when the first element of `bytes` is named `svg`, with or
/// without a namespace prefix.
///
/// This is a byte scan, not a parser: it skips whitespace, the XML
/// declaration, processing instructions, comments and one DOCTYPE (with its
/// internal subset), and never follows anything a DOCTYPE points to.
pub(crate) fn root_is_svg(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    loop {
        rest = rest.trim_ascii_start();
        if rest.starts_with(b"<?") {
            let Some(end) = find(rest, b"?>") else {
                return false;
            };
            rest = &rest[end + 2..];
        } else if rest.starts_with(b"<!--") {
            let Some(end) = find(&rest[4..], b"-->") else {
                return false;
            };
            rest = &rest[4 + end + 3..];
        } else if rest.len() >= 9 && rest[..9].eq_ignore_ascii_case(b"<!DOCTYPE") {
            let Some(end) = doctype_end(rest) else {
                return false;
            };
            rest = &rest[end..];
        } else {
            break;
        }
    }

    let Some(after_lt) = rest.strip_prefix(b"<") else {
        return false;
    };
    let name_len = after_lt
        .iter()
        .position(|&b| b.is_ascii_whitespace() || b == b'>' || b == b'/')
        .unwrap_or(after_lt.len());
    if name_len == after_lt.len() {
        // The tag never ends, so this is not a complete start tag.
        return false;
    }
    let name = &after_lt[..name_len];
    let local_name = match name.iter().rposition(|&b| b == b':') {
        Some(colon) => &name[colon + 1..],
        None => name,
    };
    local_name == b"svg"
}

/// Returns the offset just past the `>` that closes the DOCTYPE starting at
/// `bytes[0]`, skipping quoted strings and the bracketed internal subset.
fn doctype_end(bytes: &[u8]) -> Option<usize> {
    let mut quote: Option<u8> = None;
    let mut subset_depth = 0usize;
    for (index, &byte) in bytes.iter().enumerate() {
        if let Some(open) = quote {
            if byte == open {
                quote = None;
            }
            continue;
        }
        match byte {
            b'"' | b'\'' => quote = Some(byte),
            b'[' => subset_depth += 1,
            b']' => subset_depth = subset_depth.saturating_sub(1),
            b'>' if subset_depth == 0 => return Some(index + 1),
            _ => {}
        }
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Strips a UTF-8 byte order mark and checks that the rest is UTF-8.
/// Returns the text and the length of the stripped mark.
pub(crate) fn utf8_document(bytes: &[u8]) -> Result<(&str, usize), std::str::Utf8Error> {
    let (body, bom_len) = match bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()) {
        Some(body) => (body, 3),
        None => (bytes, 0),
    };
    Ok((std::str::from_utf8(body)?, bom_len))
}

/// Returns the replacement text of a predefined entity (`&lt;` and so on) or
/// a character reference, or `None` for any other entity. Custom entities
/// are never expanded, because this module never reads DTDs.
pub(crate) fn resolve_reference(reference: &BytesRef<'_>) -> Option<String> {
    if reference.is_char_ref() {
        return reference
            .resolve_char_ref()
            .ok()
            .flatten()
            .map(String::from);
    }
    let name = reference.xml_content(XmlVersion::Implicit1_0);
    quick_xml::escape::resolve_predefined_entity(&name).map(str::to_owned)
}

/// Escapes text for a double-quoted XML attribute value. Tabs and line
/// breaks become character references, so attribute-value normalisation
/// does not turn them into spaces.
pub(crate) fn escape_attribute(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for ch in value.chars() {
        match ch {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\t' => escaped.push_str("&#9;"),
            '\n' => escaped.push_str("&#10;"),
            '\r' => escaped.push_str("&#13;"),
            _ => escaped.push(ch),
        }
    }
    escaped
}

/// Escapes text for element content, removing characters that XML 1.0 does
/// not allow in a document at all (most C0 controls, U+FFFE and U+FFFF).
pub(crate) fn escape_text(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for ch in value.chars().filter(|&ch| is_xml_char(ch)) {
        match ch {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            _ => escaped.push(ch),
        }
    }
    escaped
}

/// Returns true for characters allowed by the XML 1.0 `Char` production.
pub(crate) fn is_xml_char(ch: char) -> bool {
    matches!(ch, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Wraps `text` in CDATA sections. A `]]>` inside the text would end the
/// section early, so it is split across two sections. A reader that joins
/// adjacent sections gets the original text back.
pub(crate) fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_text_handles_markup() {
        assert_eq!(
            escape_text("<b>Tom & \"Jerry\"'s</b>"),
            "&lt;b&gt;Tom &amp; &quot;Jerry&quot;&apos;s&lt;/b&gt;"
        );
    }

    #[test]
    fn escape_text_drops_invalid_chars() {
        assert_eq!(escape_text("a\u{0}b\u{1b}c\u{FFFE}d\ne"), "abcd\ne");
    }

    #[test]
    fn escape_attribute_keeps_line_breaks() {
        assert_eq!(
            escape_attribute("a\"b\n<c>&"),
            "a&quot;b&#10;&lt;c&gt;&amp;"
        );
    }

    #[test]
    fn cdata_splits_terminator() {
        assert_eq!(cdata("a]]>b"), "<![CDATA[a]]]]><![CDATA[>b]]>");
    }

    #[test]
    fn doctype_end_skips_internal_subset() {
        let doctype = b"<!DOCTYPE svg [ <!ATTLIST svg a CDATA \">\"> ]><svg>";
        assert_eq!(doctype_end(doctype), Some(doctype.len() - 5));
    }

    #[test]
    fn root_is_svg_needs_complete_tag() {
        assert!(!root_is_svg(b"<svg"));
        assert!(root_is_svg(b"<svg>"));
    }
}
