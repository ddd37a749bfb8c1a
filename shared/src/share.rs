//! Sharing an accepted award: the server key, the owner cookie, learner
//! page ids, LinkedIn and social links, and the embed and email-signature
//! snippets.

mod key;
pub mod learner;
pub mod links;
pub mod owner;
pub mod snippets;

pub use key::{InvalidServerKey, ServerKey};

/// Reads the width and height from a PNG's `IHDR` chunk, which the PNG
/// specification places first, right after the 8-byte signature.
pub fn png_pixel_size(bytes: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
    if bytes.len() < 24 || bytes[..8] != SIGNATURE || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let width = u32::from_be_bytes(bytes[16..20].try_into().ok()?);
    let height = u32::from_be_bytes(bytes[20..24].try_into().ok()?);
    (width > 0 && height > 0).then_some((width, height))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_size_from_header() {
        let png = crate::images::render_png(b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>", 40).unwrap();
        assert_eq!(png_pixel_size(&png), Some((40, 40)));
        assert_eq!(png_pixel_size(b"\x89PNG\r\n\x1a\n"), None);
        assert_eq!(png_pixel_size(b"<svg/>"), None);
    }
}
