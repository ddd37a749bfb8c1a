//! JSON-LD contexts bundled with the crate.
//!
//! Canonicalization resolves every `@context` URL through [`bundled_context`]
//! and fails on any other URL, so no context is ever fetched over the
//! network. `contexts/README.md` lists where each copy comes from.

/// VC Data Model 2.0 context.
pub const CREDENTIALS_V2: &str = "https://www.w3.org/ns/credentials/v2";
/// VC Data Model 1.1 context, used by older Open Badges 3.0 credentials.
pub const CREDENTIALS_V1: &str = "https://www.w3.org/2018/credentials/v1";
/// Open Badges 3.0 context, revision 3.0.3.
pub const OPEN_BADGES_V3: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";
/// Open Badges 3.0 context, revision 3.0.1.
pub const OPEN_BADGES_V3_0_1: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json";
/// Data Integrity context, version 1 (for VC Data Model 1.1 documents).
pub const DATA_INTEGRITY_V1: &str = "https://w3id.org/security/data-integrity/v1";
/// Data Integrity context, version 2.
pub const DATA_INTEGRITY_V2: &str = "https://w3id.org/security/data-integrity/v2";
/// Context of the `Ed25519Signature2020` proof type.
pub const ED25519_SIGNATURE_2020_V1: &str = "https://w3id.org/security/suites/ed25519-2020/v1";

const BUNDLED: &[(&str, &str)] = &[
    (
        CREDENTIALS_V2,
        include_str!("contexts/credentials-v2.jsonld"),
    ),
    (
        CREDENTIALS_V1,
        include_str!("contexts/credentials-v1.jsonld"),
    ),
    (
        OPEN_BADGES_V3,
        include_str!("contexts/ob-v3p0-context-3.0.3.json"),
    ),
    (
        OPEN_BADGES_V3_0_1,
        include_str!("contexts/ob-v3p0-context-3.0.1.json"),
    ),
    (
        DATA_INTEGRITY_V1,
        include_str!("contexts/data-integrity-v1.jsonld"),
    ),
    (
        DATA_INTEGRITY_V2,
        include_str!("contexts/data-integrity-v2.jsonld"),
    ),
    (
        ED25519_SIGNATURE_2020_V1,
        include_str!("contexts/ed25519-signature-2020-v1.jsonld"),
    ),
];

/// Returns the bundled copy of the context at `url`, or `None` when the
/// crate has no copy. URLs are compared exactly, without normalization.
pub fn bundled_context(url: &str) -> Option<&'static str> {
    BUNDLED
        .iter()
        .find(|(known, _)| *known == url)
        .map(|(_, text)| *text)
}

/// Lists the URLs of every bundled context.
pub fn bundled_context_urls() -> impl Iterator<Item = &'static str> {
    BUNDLED.iter().map(|(url, _)| *url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_context_is_a_json_ld_context() {
        for url in bundled_context_urls() {
            let text = bundled_context(url).unwrap();
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            assert!(
                value.get("@context").is_some_and(|c| c.is_object()),
                "{url}"
            );
        }
    }

    #[test]
    fn unknown_context_is_not_bundled() {
        assert_eq!(bundled_context("https://example.org/context.json"), None);
        assert_eq!(
            bundled_context("https://www.w3.org/ns/credentials/v2/"),
            None
        );
    }
}
