//! PNG chunk layout: splitting a file into chunks with validation, and
//! writing chunks with their CRC.
//!
//! A chunk is a 4-byte big-endian data length, a 4-byte type, the data and
//! a CRC-32 over type and data.

use super::PNG_SIGNATURE;

/// Largest chunk data length that the PNG specification allows (2^31 - 1).
const MAX_CHUNK_LENGTH: usize = 0x7FFF_FFFF;

pub(crate) const IHDR: [u8; 4] = *b"IHDR";
pub(crate) const IDAT: [u8; 4] = *b"IDAT";
pub(crate) const IEND: [u8; 4] = *b"IEND";
pub(crate) const TEXT: [u8; 4] = *b"tEXt";
pub(crate) const ZTXT: [u8; 4] = *b"zTXt";
pub(crate) const ITXT: [u8; 4] = *b"iTXt";

/// One chunk of a PNG file, borrowed from the file's bytes.
#[derive(Debug)]
pub(crate) struct Chunk<'a> {
    pub kind: [u8; 4],
    pub data: &'a [u8],
    /// The whole chunk as stored: length, type, data and CRC.
    pub raw: &'a [u8],
}

impl Chunk<'_> {
    pub fn kind_name(&self) -> String {
        String::from_utf8_lossy(&self.kind).into_owned()
    }

    /// Returns the keyword of a tEXt, zTXt or iTXt chunk: the bytes before
    /// the first NUL. Returns `None` for other chunk types and for text
    /// chunks without a NUL.
    pub fn text_keyword(&self) -> Option<&[u8]> {
        if !matches!(self.kind, TEXT | ZTXT | ITXT) {
            return None;
        }
        let nul = self.data.iter().position(|&b| b == 0)?;
        Some(&self.data[..nul])
    }
}

/// Structural problems found by [`parse_chunks`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ChunkError {
    #[error("the file does not start with the PNG signature")]
    MissingSignature,
    #[error("the file is truncated inside the chunk at byte {offset}")]
    Truncated { offset: usize },
    #[error("the chunk at byte {offset} has an invalid type {kind:?}")]
    InvalidType { offset: usize, kind: String },
    #[error(
        "the {kind} chunk at byte {offset} has a length of {length} bytes, over the PNG maximum"
    )]
    InvalidLength {
        offset: usize,
        kind: String,
        length: u32,
    },
    #[error("the {kind} chunk at byte {offset} has a wrong CRC")]
    WrongCrc { offset: usize, kind: String },
    #[error("the first chunk is {kind}, but a PNG must start with a 13-byte IHDR chunk")]
    MissingHeader { kind: String },
    #[error("the file has no IDAT chunk with image data")]
    MissingImageData,
    #[error("the file ends without an IEND chunk")]
    MissingEnd,
}

/// Splits a PNG file into chunks, up to and including IEND.
///
/// Checks the signature, every chunk's length, type and CRC, that IHDR comes
/// first with 13 bytes of data, that at least one IDAT exists and that IEND
/// is present. Bytes after IEND are ignored and not returned. The pixel data
/// itself is not decoded.
pub(crate) fn parse_chunks(bytes: &[u8]) -> Result<Vec<Chunk<'_>>, ChunkError> {
    let Some(mut rest) = bytes.strip_prefix(PNG_SIGNATURE.as_slice()) else {
        return Err(ChunkError::MissingSignature);
    };
    let mut offset = PNG_SIGNATURE.len();
    let mut chunks = Vec::new();

    loop {
        let chunk = split_chunk(rest, offset)?;
        let raw_len = chunk.raw.len();

        if chunks.is_empty() && (chunk.kind != IHDR || chunk.data.len() != 13) {
            return Err(ChunkError::MissingHeader {
                kind: chunk.kind_name(),
            });
        }
        let is_end = chunk.kind == IEND;
        chunks.push(chunk);
        if is_end {
            break;
        }
        rest = &rest[raw_len..];
        offset += raw_len;
        if rest.is_empty() {
            return Err(ChunkError::MissingEnd);
        }
    }

    if !chunks.iter().any(|chunk| chunk.kind == IDAT) {
        return Err(ChunkError::MissingImageData);
    }
    Ok(chunks)
}

fn split_chunk(rest: &[u8], offset: usize) -> Result<Chunk<'_>, ChunkError> {
    if rest.len() < 12 {
        return Err(ChunkError::Truncated { offset });
    }
    let length = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
    let kind = [rest[4], rest[5], rest[6], rest[7]];
    let kind_name = String::from_utf8_lossy(&kind).into_owned();

    if !kind.iter().all(u8::is_ascii_alphabetic) {
        return Err(ChunkError::InvalidType {
            offset,
            kind: kind_name,
        });
    }
    let data_len = length as usize;
    if data_len > MAX_CHUNK_LENGTH {
        return Err(ChunkError::InvalidLength {
            offset,
            kind: kind_name,
            length,
        });
    }
    let total = 12 + data_len;
    if rest.len() < total {
        return Err(ChunkError::Truncated { offset });
    }

    let data = &rest[8..8 + data_len];
    let stored_crc = u32::from_be_bytes([
        rest[8 + data_len],
        rest[9 + data_len],
        rest[10 + data_len],
        rest[11 + data_len],
    ]);
    if stored_crc != crc32(&kind, data) {
        return Err(ChunkError::WrongCrc {
            offset,
            kind: kind_name,
        });
    }

    Ok(Chunk {
        kind,
        data,
        raw: &rest[..total],
    })
}

/// Computes the chunk CRC: CRC-32 (the zlib/ISO 3309 polynomial) over the
/// chunk type followed by the data.
pub(crate) fn crc32(kind: &[u8; 4], data: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    crc.sum()
}

/// Appends one chunk with its length and CRC to `out`.
///
/// Callers keep `data` under the 2^31 - 1 byte chunk limit; the payload
/// limit of the bakers is far below it.
pub(crate) fn write_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    debug_assert!(data.len() <= MAX_CHUNK_LENGTH);
    let length = u32::try_from(data.len()).expect("chunk data fits in u32");
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(kind, data).to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    const BADGE: &[u8] = include_bytes!("testdata/interop/v2/dcpv_simple-badge.png");

    #[test]
    fn crc_matches_known_iend_value() {
        // Every PNG ends with the same IEND chunk, whose CRC is AE 42 60 82.
        assert_eq!(crc32(&IEND, &[]), 0xAE42_6082);
    }

    #[test]
    fn parse_lists_chunks_in_order() {
        let chunks = parse_chunks(BADGE).expect("interop PNG is valid");
        let kinds: Vec<String> = chunks.iter().map(Chunk::kind_name).collect();
        assert_eq!(kinds, ["IHDR", "iTXt", "bKGD", "pHYs", "IDAT", "IEND"]);
    }

    #[test]
    fn parse_rejects_wrong_crc() {
        let mut broken = BADGE.to_vec();
        // Byte 20 is inside the IHDR data, so the stored CRC no longer matches.
        broken[20] ^= 0x01;
        let error = parse_chunks(&broken).unwrap_err();
        assert!(
            matches!(error, ChunkError::WrongCrc { offset: 8, .. }),
            "{error}"
        );
    }

    #[test]
    fn parse_rejects_truncated_file() {
        let error = parse_chunks(&BADGE[..BADGE.len() - 20]).unwrap_err();
        assert!(matches!(error, ChunkError::Truncated { .. }), "{error}");
    }

    #[test]
    fn parse_rejects_missing_signature() {
        assert_eq!(
            parse_chunks(&BADGE[1..]).unwrap_err(),
            ChunkError::MissingSignature
        );
    }

    #[test]
    fn write_chunk_round_trips() {
        let mut bytes = PNG_SIGNATURE.to_vec();
        let header = parse_chunks(BADGE).unwrap()[0].data.to_vec();
        write_chunk(&mut bytes, &IHDR, &header);
        write_chunk(&mut bytes, &IDAT, b"not really zlib");
        write_chunk(&mut bytes, &IEND, &[]);

        let chunks = parse_chunks(&bytes).expect("written chunks parse");
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[1].data, b"not really zlib");
    }
}
