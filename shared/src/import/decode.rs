//! Character encoding detection, binary-file detection and the Excel
//! `sep=` line.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

use super::{BinaryKind, ImportError};

/// Upload text after decoding, without its byte order mark.
pub(crate) struct Decoded<'a> {
    pub text: Cow<'a, str>,
    /// encoding_rs name: "UTF-8", "UTF-16LE", "UTF-16BE" or "windows-1252".
    pub encoding: &'static str,
}

/// Decodes the upload.
///
/// A byte order mark selects UTF-8, UTF-16LE or UTF-16BE, and malformed
/// sequences after it become U+FFFD. Without one, valid UTF-8 is used as is
/// and anything else is read as Windows-1252, which maps every byte.
/// Files without a byte order mark are rejected as binary when they start
/// with a ZIP, OLE2, PDF or PNG signature or contain a NUL byte.
pub(crate) fn decode(bytes: &[u8]) -> Result<Decoded<'_>, ImportError> {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _had_errors) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        return Ok(Decoded {
            text,
            encoding: encoding.name(),
        });
    }

    if let Some(kind) = detect_binary(bytes) {
        return Err(ImportError::NotText { kind });
    }

    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(Decoded {
            text: Cow::Borrowed(text),
            encoding: UTF_8.name(),
        }),
        Err(_) => {
            let (text, _had_errors) = WINDOWS_1252.decode_without_bom_handling(bytes);
            Ok(Decoded {
                text,
                encoding: WINDOWS_1252.name(),
            })
        }
    }
}

fn detect_binary(bytes: &[u8]) -> Option<BinaryKind> {
    const SIGNATURES: [(&[u8], BinaryKind); 5] = [
        (b"PK\x03\x04", BinaryKind::Xlsx),
        (b"PK\x05\x06", BinaryKind::Xlsx),
        (b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", BinaryKind::Xls),
        (b"%PDF-", BinaryKind::Pdf),
        (b"\x89PNG\r\n\x1A\n", BinaryKind::Image),
    ];
    for (signature, kind) in SIGNATURES {
        if bytes.starts_with(signature) {
            return Some(kind);
        }
    }
    if bytes.contains(&0) {
        return Some(BinaryKind::Other);
    }
    None
}

/// Returns the delimiter named by an Excel `sep=;` first line, if any.
///
/// Excel writes the line unquoted, and other tools sometimes quote it.
/// Only a single ASCII punctuation character or a tab is accepted, and
/// the double quote is not.
pub(crate) fn excel_separator(text: &str) -> Option<u8> {
    let first_line = text.split(['\r', '\n']).next().unwrap_or("");
    let trimmed = first_line.trim_matches(|c| c == ' ' || c == '"');
    let prefix = trimmed.get(..4)?;
    if !prefix.eq_ignore_ascii_case("sep=") {
        return None;
    }
    match trimmed.as_bytes()[4..] {
        [b'\t'] => Some(b'\t'),
        [byte] if byte.is_ascii_punctuation() && byte != b'"' => Some(byte),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excel_separator_reads_sep_line() {
        assert_eq!(excel_separator("sep=;\r\nName;Email\r\n"), Some(b';'));
        assert_eq!(excel_separator("SEP=,\nName"), Some(b','));
        assert_eq!(excel_separator("\"sep=|\"\nName"), Some(b'|'));
        assert_eq!(excel_separator("sep=\t\nName"), Some(b'\t'));
    }

    #[test]
    fn excel_separator_ignores_other_lines() {
        assert_eq!(excel_separator("Name,Email\n"), None);
        assert_eq!(excel_separator("sep=ab\n"), None);
        assert_eq!(excel_separator("sep=\"\n"), None);
        assert_eq!(excel_separator("sep=\n"), None);
        assert_eq!(excel_separator(""), None);
    }

    #[test]
    fn decode_reports_utf8_without_copying() {
        let decoded = decode("Name,Email\n".as_bytes()).unwrap();
        assert_eq!(decoded.encoding, "UTF-8");
        assert!(matches!(decoded.text, Cow::Borrowed(_)));
    }

    #[test]
    fn decode_strips_utf8_bom() {
        let decoded = decode(b"\xEF\xBB\xBFEmail\n").unwrap();
        assert_eq!(decoded.text, "Email\n");
        assert_eq!(decoded.encoding, "UTF-8");
    }

    #[test]
    fn decode_reads_utf16be_with_bom() {
        let bytes: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("Email\n".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        let decoded = decode(&bytes).unwrap();
        assert_eq!(decoded.text, "Email\n");
        assert_eq!(decoded.encoding, "UTF-16BE");
    }

    #[test]
    fn decode_falls_back_to_windows_1252() {
        let decoded = decode(b"M\xFCller\x80").unwrap();
        assert_eq!(decoded.text, "Müller€");
        assert_eq!(decoded.encoding, "windows-1252");
    }

    #[test]
    fn decode_rejects_binary_signatures() {
        for (bytes, kind) in [
            (&b"PK\x03\x04\x14\x00"[..], BinaryKind::Xlsx),
            (
                &b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00"[..],
                BinaryKind::Xls,
            ),
            (&b"%PDF-1.7\n"[..], BinaryKind::Pdf),
            (&b"\x89PNG\r\n\x1A\n\x00\x00"[..], BinaryKind::Image),
            (&b"E\x00m\x00a\x00i\x00l\x00"[..], BinaryKind::Other),
        ] {
            let error = decode(bytes).err();
            assert_eq!(error, Some(ImportError::NotText { kind }), "{bytes:?}");
        }
    }
}
