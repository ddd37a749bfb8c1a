//! Errors and payload checks shared by the PNG and SVG bakers.

use super::unbake::BakedPayload;
use super::xml::is_xml_char;
use super::{ImageFormat, MAX_PAYLOAD_BYTES};

/// Reasons why an image cannot be baked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BakeError {
    #[error("the {format} image is invalid: {detail}")]
    InvalidImage { format: ImageFormat, detail: String },
    #[error("the payload is invalid: {detail}")]
    InvalidPayload { detail: String },
    #[error("the payload is {size} bytes, over the maximum of {max} bytes")]
    PayloadTooLarge { size: usize, max: usize },
}

/// Checks that the payload fits [`MAX_PAYLOAD_BYTES`] and that it reads back
/// as the variant it was given as, so the reader returns the same variant.
/// It must also contain only characters that XML allows, so the same
/// payload can be baked into PNG and SVG alike.
pub(crate) fn check_payload(payload: &BakedPayload) -> Result<(), BakeError> {
    let text = payload.as_str();
    if text.len() > MAX_PAYLOAD_BYTES {
        return Err(BakeError::PayloadTooLarge {
            size: text.len(),
            max: MAX_PAYLOAD_BYTES,
        });
    }
    if let Some(bad) = text.chars().find(|&ch| !is_xml_char(ch)) {
        return Err(BakeError::InvalidPayload {
            detail: format!(
                "it contains the character U+{:04X}, which XML does not allow",
                u32::from(bad)
            ),
        });
    }

    let classified =
        BakedPayload::classify(text).map_err(|detail| BakeError::InvalidPayload { detail })?;
    if std::mem::discriminant(&classified) != std::mem::discriminant(payload) {
        return Err(BakeError::InvalidPayload {
            detail: format!(
                "the text was given as {} but reads as {}",
                payload.kind(),
                classified.kind()
            ),
        });
    }
    Ok(())
}
