//! JSON-LD to RDF and RDF Dataset Canonicalization (RDFC-1.0).
//!
//! [`canonicalize`] expands a JSON-LD document to an RDF dataset with the
//! `json-ld` crate (through `sophia_jsonld`) and writes it as canonical
//! N-Quads with `sophia_c14n`'s RDFC-1.0 implementation, using SHA-256.
//! Contexts come only from [`super::contexts`]: a document that names any
//! other context is rejected, and nothing is fetched over the network.

use std::collections::HashSet;
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

use json_syntax::Parse;
use locspan::{Location, Span};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sophia_api::quad::Spog;
use sophia_api::source::QuadSource;
use sophia_api::term::{SimpleTerm, Term};
use sophia_iri::Iri;
use sophia_jsonld::json_ld::RemoteDocument;
use sophia_jsonld::loader::StaticLoader;
use sophia_jsonld::vocabulary::ArcIri;
use sophia_jsonld::{JsonLdOptions, JsonLdParser, Policy};

use super::contexts;

/// Handling of JSON keys that the contexts do not define.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TermPolicy {
    /// Fail on any key that does not expand to an IRI. Issuing uses this,
    /// so that every signed value is covered by the signature.
    RejectUndefined,
    /// Drop such keys, as the JSON-LD expansion algorithm does. Verifying
    /// a proof uses this, because the signer hashed the dataset the same way.
    DropUndefined,
}

/// Failure to turn a document into canonical N-Quads.
#[derive(Debug, thiserror::Error)]
pub enum CanonError {
    #[error("the document is not a JSON object")]
    NotAnObject,
    #[error("the document names the context {0:?}, which is not bundled; only {list} can be used", list = bundled_list())]
    UnknownContext(String),
    #[error("JSON-LD expansion failed: {0}")]
    Expansion(String),
    #[error("RDF canonicalization failed: {0}")]
    Canonicalization(String),
}

fn bundled_list() -> String {
    contexts::bundled_context_urls()
        .collect::<Vec<_>>()
        .join(", ")
}

/// Expands `document` to RDF and returns its canonical N-Quads
/// (RDFC-1.0, SHA-256), one quad per line, each line ending in `\n`.
///
/// Expansion is CPU work that finishes without waiting on anything, so
/// this function blocks the calling thread and is safe to call inside an
/// async runtime. A credential of a few kilobytes takes milliseconds.
pub fn canonicalize(document: &Value, policy: TermPolicy) -> Result<String, CanonError> {
    if !document.is_object() {
        return Err(CanonError::NotAnObject);
    }
    check_context_urls(document)?;

    let dataset = to_rdf(document, policy)?;
    let mut nquads = Vec::new();
    sophia_c14n::rdfc10::normalize(&dataset, &mut nquads)
        .map_err(|error| CanonError::Canonicalization(error.to_string()))?;
    String::from_utf8(nquads).map_err(|error| CanonError::Canonicalization(error.to_string()))
}

/// Returns the SHA-256 digest of the canonical N-Quads of `document`.
pub fn canonical_hash(document: &Value, policy: TermPolicy) -> Result<[u8; 32], CanonError> {
    let nquads = canonicalize(document, policy)?;
    Ok(Sha256::digest(nquads.as_bytes()).into())
}

type Dataset = HashSet<Spog<SimpleTerm<'static>>>;

fn to_rdf(document: &Value, policy: TermPolicy) -> Result<Dataset, CanonError> {
    let text = document.to_string();
    let source = Iri::new_unchecked(Arc::<str>::from("urn:x-ob3:document"));
    let json = json_syntax::Value::parse_str(&text, |span| Location::new(source.clone(), span))
        .map_err(|error| CanonError::Expansion(error.to_string()))?;
    // No document URL, so relative IRIs stay unresolved and are dropped,
    // as JSON-LD processors do for a document without a base IRI.
    let remote = RemoteDocument::new(None, None, json);

    let expansion_policy = match policy {
        TermPolicy::RejectUndefined => Policy::Strictest,
        TermPolicy::DropUndefined => Policy::Standard,
    };
    let options = JsonLdOptions::new()
        .with_document_loader(static_loader().clone())
        .with_expansion_policy(expansion_policy);
    let parser = JsonLdParser::new_with_options(options);

    block_on(parser.parse_json(&remote))
        .collect_quads::<Dataset>()
        .map_err(|error| CanonError::Expansion(error.to_string()))
        .and_then(|dataset| reject_relative_iris(dataset, policy))
}

/// Rejects, under [`TermPolicy::RejectUndefined`], any IRI that the
/// processor could not resolve to an absolute IRI.
fn reject_relative_iris(dataset: Dataset, policy: TermPolicy) -> Result<Dataset, CanonError> {
    if policy == TermPolicy::DropUndefined {
        return Ok(dataset);
    }
    for (terms, graph) in &dataset {
        for term in terms.iter().chain(graph.iter()) {
            if let Some(iri) = term.iri()
                && !iri.as_str().contains(':')
            {
                return Err(CanonError::Expansion(format!(
                    "{:?} is not an absolute IRI",
                    iri.as_str()
                )));
            }
        }
    }
    Ok(dataset)
}

/// Checks every context URL in the document, so that a missing context
/// produces a clear error instead of a loader message.
fn check_context_urls(document: &Value) -> Result<(), CanonError> {
    let mut stack = vec![document];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let Some(context) = map.get("@context") {
                    let entries = match context {
                        Value::Array(items) => items.iter().collect(),
                        other => vec![other],
                    };
                    for entry in entries {
                        if let Value::String(url) = entry
                            && contexts::bundled_context(url).is_none()
                        {
                            return Err(CanonError::UnknownContext(url.clone()));
                        }
                    }
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    Ok(())
}

type ContextLoader = StaticLoader<ArcIri, Span>;

fn static_loader() -> &'static ContextLoader {
    static LOADER: OnceLock<ContextLoader> = OnceLock::new();
    LOADER.get_or_init(|| {
        let mut loader = StaticLoader::new();
        for url in contexts::bundled_context_urls() {
            let iri = Iri::new_unchecked(Arc::<str>::from(url));
            let text = contexts::bundled_context(url).expect("listed context is bundled");
            let json = json_syntax::Value::parse_str(text, |span| Location::new(iri.clone(), span))
                .unwrap_or_else(|error| panic!("bundled context {url} is not valid JSON: {error}"));
            loader = loader.with(iri, json);
        }
        loader
    })
}

/// Runs a future to completion on the current thread.
///
/// The JSON-LD processor is async because document loaders may do I/O, but
/// the static loader never waits, so a parking executor is enough and no
/// runtime is started. `sophia_jsonld`'s synchronous parser starts a Tokio
/// runtime, and Tokio's `Runtime::block_on` panics inside async code.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }

    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        match future.as_mut().poll(&mut context) {
            Poll::Ready(output) => return output,
            Poll::Pending => thread::park(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonicalize_simple_credential() {
        let document = json!({
            "@context": [contexts::CREDENTIALS_V2],
            "id": "urn:uuid:00000000-0000-4000-8000-000000000000",
            "type": ["VerifiableCredential"],
            "issuer": "did:example:issuer",
            "validFrom": "2024-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:subject"}
        });
        // The same bytes as pyld 3.3's URDNA2015 output for this document.
        let expected = concat!(
            "<urn:uuid:00000000-0000-4000-8000-000000000000> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://www.w3.org/2018/credentials#VerifiableCredential> .\n",
            "<urn:uuid:00000000-0000-4000-8000-000000000000> <https://www.w3.org/2018/credentials#credentialSubject> <did:example:subject> .\n",
            "<urn:uuid:00000000-0000-4000-8000-000000000000> <https://www.w3.org/2018/credentials#issuer> <did:example:issuer> .\n",
            "<urn:uuid:00000000-0000-4000-8000-000000000000> <https://www.w3.org/2018/credentials#validFrom> \"2024-01-01T00:00:00Z\"^^<http://www.w3.org/2001/XMLSchema#dateTime> .\n",
        );
        assert_eq!(
            canonicalize(&document, TermPolicy::RejectUndefined).unwrap(),
            expected
        );
    }

    #[test]
    fn canonicalize_is_independent_of_key_order() {
        let first = json!({"@context": [contexts::CREDENTIALS_V2], "type": "VerifiableCredential", "name": "A", "description": "B"});
        let second = json!({"description": "B", "name": "A", "type": ["VerifiableCredential"], "@context": contexts::CREDENTIALS_V2});
        assert_eq!(
            canonicalize(&first, TermPolicy::RejectUndefined).unwrap(),
            canonicalize(&second, TermPolicy::RejectUndefined).unwrap()
        );
    }

    #[test]
    fn undefined_term_rejected_or_dropped() {
        let document = json!({"@context": [contexts::CREDENTIALS_V2], "type": "VerifiableCredential", "colour": "crimson-colour"});
        let error = canonicalize(&document, TermPolicy::RejectUndefined).unwrap_err();
        assert!(matches!(error, CanonError::Expansion(_)), "{error}");

        let dropped = canonicalize(&document, TermPolicy::DropUndefined).unwrap();
        assert!(!dropped.contains("crimson-colour"), "{dropped}");
    }

    #[test]
    fn unknown_context_rejected() {
        let document = json!({"@context": ["https://example.org/context.json"], "name": "A"});
        let error = canonicalize(&document, TermPolicy::DropUndefined).unwrap_err();
        assert!(
            matches!(error, CanonError::UnknownContext(ref url) if url == "https://example.org/context.json"),
            "{error}"
        );
    }

    #[test]
    fn block_on_works_inside_a_thread_without_runtime() {
        assert_eq!(block_on(async { 7 }), 7);
    }
}
