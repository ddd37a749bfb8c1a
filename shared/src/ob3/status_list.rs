//! Bitstring Status List: one bit per credential,
//! set when the credential is revoked.
//!
//! Bit `i` is the `i % 8`-th bit from the most significant end of byte
//! `i / 8`, so index 0 is the leftmost bit of the list, as the
//! specification orders them. `encodedList` is the list compressed with
//! GZIP, in base64url without padding, with the multibase prefix `u`.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

use super::contexts::CREDENTIALS_V2;
use super::credential::xsd_date_time;

/// Minimum length of a list, in bits (16 KiB uncompressed), as the Bitstring
/// Status List specification requires. A long list hides which of its
/// credentials a verifier asked about.
pub const MIN_LIST_BITS: usize = 131_072;

/// Maximum decompressed size of a list that [`StatusList::decode`] reads,
/// in bytes (16 MiB, over 134 million entries). It stops a small
/// compressed value from expanding without bound.
pub const MAX_DECODED_BYTES: usize = 16 * 1024 * 1024;

/// A status list or status-list credential that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusListError {
    #[error("a status list needs at least {MIN_LIST_BITS} bits and a multiple of 8, not {0}")]
    InvalidLength(usize),
    #[error("index {index} is outside the status list of {len} bits")]
    IndexOutOfRange { index: u64, len: usize },
    #[error("encodedList is not multibase base64url: {0}")]
    InvalidEncoding(String),
    #[error("encodedList is not GZIP data: {0}")]
    InvalidCompression(String),
    #[error("encodedList expands to more than {MAX_DECODED_BYTES} bytes")]
    TooLarge,
    #[error("the status-list credential has no {0}")]
    MissingField(&'static str),
    #[error("the status-list credential's subject has type {0:?}, not BitstringStatusList")]
    WrongSubjectType(String),
}

/// A bitstring of credential statuses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusList {
    bytes: Vec<u8>,
}

impl StatusList {
    /// Allocates a list of `bits` entries, all clear. `bits` must be at
    /// least [`MIN_LIST_BITS`] and a multiple of 8.
    pub fn new(bits: usize) -> Result<Self, StatusListError> {
        if bits < MIN_LIST_BITS || !bits.is_multiple_of(8) || bits / 8 > MAX_DECODED_BYTES {
            return Err(StatusListError::InvalidLength(bits));
        }
        Ok(Self {
            bytes: vec![0; bits / 8],
        })
    }

    /// Number of entries (bits).
    pub fn len(&self) -> usize {
        self.bytes.len() * 8
    }

    /// Always false: a list has at least [`MIN_LIST_BITS`] entries.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Returns whether the bit at `index` is set.
    pub fn get(&self, index: u64) -> Result<bool, StatusListError> {
        let (byte, mask) = self.position(index)?;
        Ok(self.bytes[byte] & mask != 0)
    }

    /// Sets (`true`) or clears (`false`) the bit at `index`.
    pub fn set(&mut self, index: u64, value: bool) -> Result<(), StatusListError> {
        let (byte, mask) = self.position(index)?;
        if value {
            self.bytes[byte] |= mask;
        } else {
            self.bytes[byte] &= !mask;
        }
        Ok(())
    }

    fn position(&self, index: u64) -> Result<(usize, u8), StatusListError> {
        let out_of_range = || StatusListError::IndexOutOfRange {
            index,
            len: self.len(),
        };
        let index = usize::try_from(index).map_err(|_| out_of_range())?;
        if index >= self.len() {
            return Err(out_of_range());
        }
        Ok((index / 8, 0x80 >> (index % 8)))
    }

    /// Encodes the list as the `encodedList` value: `u` and the base64url
    /// (no padding) of the GZIP-compressed bytes.
    pub fn encode(&self) -> String {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder
            .write_all(&self.bytes)
            .expect("writing to a Vec cannot fail");
        let compressed = encoder.finish().expect("writing to a Vec cannot fail");
        format!("u{}", URL_SAFE_NO_PAD.encode(compressed))
    }

    /// Decodes an `encodedList` value. The `u` prefix is optional, because
    /// lists made for the earlier Status List 2021 draft omit it.
    pub fn decode(encoded: &str) -> Result<Self, StatusListError> {
        let text = encoded.strip_prefix('u').unwrap_or(encoded);
        let compressed = URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|error| StatusListError::InvalidEncoding(error.to_string()))?;

        let mut bytes = Vec::new();
        GzDecoder::new(compressed.as_slice())
            .take(MAX_DECODED_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|error| StatusListError::InvalidCompression(error.to_string()))?;
        if bytes.len() > MAX_DECODED_BYTES {
            return Err(StatusListError::TooLarge);
        }
        if bytes.len() * 8 < MIN_LIST_BITS {
            return Err(StatusListError::InvalidLength(bytes.len() * 8));
        }
        Ok(Self { bytes })
    }
}

/// Builds the unsigned `BitstringStatusListCredential` for revocation,
/// to be signed with [`super::proof::add_proof`] and served at `list_url`.
/// `issuer` is the issuer's DID, the same as in the credentials it covers.
pub fn build_status_list_credential(
    list_url: &str,
    issuer: &str,
    valid_from: DateTime<Utc>,
    list: &StatusList,
) -> Value {
    json!({
        "@context": [CREDENTIALS_V2],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": xsd_date_time(valid_from),
        "credentialSubject": {
            "id": format!("{list_url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": list.encode(),
        },
    })
}

/// The parts of a status-list credential that a status check needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusListCredential {
    pub id: Option<String>,
    pub issuer: Option<String>,
    /// Every `statusPurpose` the list declares (a string or a list of them).
    pub purposes: Vec<String>,
    pub list: StatusList,
}

/// Reads a `BitstringStatusListCredential` (or a `StatusList2021Credential`)
/// without checking its proof.
pub fn read_status_list_credential(
    credential: &Value,
) -> Result<StatusListCredential, StatusListError> {
    let subject = credential
        .get("credentialSubject")
        .ok_or(StatusListError::MissingField("credentialSubject"))?;
    let subject_type = subject
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !matches!(subject_type, "BitstringStatusList" | "StatusList2021") {
        return Err(StatusListError::WrongSubjectType(subject_type.to_owned()));
    }
    let encoded =
        subject
            .get("encodedList")
            .and_then(Value::as_str)
            .ok_or(StatusListError::MissingField(
                "credentialSubject.encodedList",
            ))?;
    let purposes = match subject.get("statusPurpose") {
        Some(Value::String(purpose)) => vec![purpose.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => {
            return Err(StatusListError::MissingField(
                "credentialSubject.statusPurpose",
            ));
        }
    };
    let issuer = match credential.get("issuer") {
        Some(Value::String(id)) => Some(id.clone()),
        Some(other) => other.get("id").and_then(Value::as_str).map(str::to_owned),
        None => None,
    };
    Ok(StatusListCredential {
        id: credential
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_owned),
        issuer,
        purposes,
        list: StatusList::decode(encoded)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn bits_are_ordered_from_the_left() {
        let mut list = StatusList::new(MIN_LIST_BITS).unwrap();
        list.set(0, true).unwrap();
        list.set(9, true).unwrap();
        assert_eq!(list.bytes[0], 0b1000_0000);
        assert_eq!(list.bytes[1], 0b0100_0000);
        assert!(list.get(9).unwrap());
        list.set(9, false).unwrap();
        assert!(!list.get(9).unwrap());
    }

    #[test]
    fn list_round_trips_through_encoding() {
        let mut list = StatusList::new(MIN_LIST_BITS).unwrap();
        for index in [0, 7, 8, 94_567, MIN_LIST_BITS as u64 - 1] {
            list.set(index, true).unwrap();
        }
        let encoded = list.encode();
        assert!(encoded.starts_with('u'));
        assert!(!encoded.contains(['+', '/', '=']), "{encoded}");
        let decoded = StatusList::decode(&encoded).unwrap();
        assert_eq!(decoded, list);
        assert!(decoded.get(94_567).unwrap());
        assert!(!decoded.get(94_566).unwrap());
    }

    #[test]
    fn lengths_and_indexes_are_checked() {
        assert!(StatusList::new(MIN_LIST_BITS - 8).is_err());
        assert!(StatusList::new(MIN_LIST_BITS + 4).is_err());
        let mut list = StatusList::new(MIN_LIST_BITS).unwrap();
        assert_eq!(list.len(), MIN_LIST_BITS);
        assert_eq!(
            list.set(MIN_LIST_BITS as u64, true),
            Err(StatusListError::IndexOutOfRange {
                index: MIN_LIST_BITS as u64,
                len: MIN_LIST_BITS
            })
        );
    }

    #[test]
    fn decode_rejects_bad_input() {
        assert!(matches!(
            StatusList::decode("u!!"),
            Err(StatusListError::InvalidEncoding(_))
        ));
        assert!(matches!(
            StatusList::decode("uAAAA"),
            Err(StatusListError::InvalidCompression(_))
        ));

        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(&[0; 16]).unwrap();
        let short = format!("u{}", URL_SAFE_NO_PAD.encode(encoder.finish().unwrap()));
        assert_eq!(
            StatusList::decode(&short),
            Err(StatusListError::InvalidLength(128))
        );

        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(&vec![0; MAX_DECODED_BYTES + 1]).unwrap();
        let huge = format!("u{}", URL_SAFE_NO_PAD.encode(encoder.finish().unwrap()));
        assert_eq!(StatusList::decode(&huge), Err(StatusListError::TooLarge));
    }

    #[test]
    fn third_party_list_has_only_bit_23_set() {
        let credential: Value =
            serde_json::from_str(include_str!("testdata/v3/dcpv_bsl_testlist.json")).unwrap();
        let read = read_status_list_credential(&credential).unwrap();
        assert_eq!(read.purposes, ["revocation"]);
        assert_eq!(read.list.len(), MIN_LIST_BITS);
        let set: Vec<u64> = (0..read.list.len() as u64)
            .filter(|&i| read.list.get(i).unwrap())
            .collect();
        assert_eq!(set, [23]);
    }

    #[test]
    fn status_list_credential_reads_back() {
        let mut list = StatusList::new(MIN_LIST_BITS).unwrap();
        list.set(42, true).unwrap();
        let issued = Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap();
        let credential = build_status_list_credential(
            "https://badges.example.org/status/1",
            "did:key:z6MkX",
            issued,
            &list,
        );
        assert_eq!(
            credential["credentialSubject"]["id"],
            "https://badges.example.org/status/1#list"
        );
        crate::ob3::canon::canonicalize(
            &credential,
            crate::ob3::canon::TermPolicy::RejectUndefined,
        )
        .unwrap();

        let read = read_status_list_credential(&credential).unwrap();
        assert_eq!(read.issuer.as_deref(), Some("did:key:z6MkX"));
        assert!(read.list.get(42).unwrap());
        assert!(!read.list.get(41).unwrap());
    }
}
