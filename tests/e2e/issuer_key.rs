//! The Open Badges 3.0 issuer key loaded from Secrets Manager on the AWS
//! emulator: the same secret gives the same issuer DID, and a missing,
//! short or binary secret, or one without a value, fails with a message
//! that names it.

use aws_sdk_secretsmanager::primitives::Blob;
use badges_shared::adapters::aws::secrets::{SecretError, create_issuer_secret_if_missing, load_issuer_signer};
use badges_shared::ob3::Signer;
use badges_shared::ports::{OsRandom, RandomSource};

use crate::aws_support::{moto_config, random_name};

/// A fixed secret and the DID of the Ed25519 key whose seed is its SHA-256
/// digest, computed independently with Python's `hashlib` and
/// `cryptography` 48.0.0. A change of the derivation would change the
/// issuer DID of every deployment, so this pair must never change.
const KNOWN_SECRET: &str = "7Qm2vXc9LrT4kWz8NpB3hYd6FsJ1gVe5aUo0iKtRyHnCqMxZbEwPlOjSfGuDrA2";
const KNOWN_DID: &str = "did:key:z6MkmE8tifpcPk1Ryscr15GAzs6YDf1TGb3xHNomcqmDgtxY";

async fn secrets_client() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&moto_config().await)
}

/// Returns 64 random lowercase letters and digits, like the template's
/// generated secret.
fn random_secret() -> String {
    let mut bytes = [0u8; 40];
    OsRandom.fill(&mut bytes);
    badges_shared::encoding::base32_lower(&bytes)
}

/// Creates a secret with a random name and the string `value`, and returns
/// its name and ARN.
async fn create_string_secret(client: &aws_sdk_secretsmanager::Client, value: &str) -> (String, String) {
    let name = random_name("badges-issuer-key");
    let output = client
        .create_secret()
        .name(&name)
        .secret_string(value)
        .send()
        .await
        .expect("create the secret on moto");
    let arn = output.arn().expect("CreateSecret returns the ARN").to_owned();
    (name, arn)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_key_same_secret_same_did() {
    let client = secrets_client().await;
    let (name, arn) = create_string_secret(&client, &random_secret()).await;

    let first = load_issuer_signer(&client, &name).await.expect("first load");
    let second = load_issuer_signer(&client, &name).await.expect("second load");
    let by_arn = load_issuer_signer(&client, &arn).await.expect("load by ARN");

    assert!(first.did().starts_with("did:key:z6Mk"), "{}", first.did());
    assert_eq!(second.did(), first.did());
    assert_eq!(by_arn.did(), first.did());
    assert_eq!(second.public_key(), first.public_key());
    assert_eq!(second.sign(b"data").unwrap(), first.sign(b"data").unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_key_seed_is_secret_digest() {
    let client = secrets_client().await;
    let (name, _arn) = create_string_secret(&client, KNOWN_SECRET).await;

    let signer = load_issuer_signer(&client, &name).await.expect("load the known secret");

    assert_eq!(signer.did(), KNOWN_DID);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_key_different_secret_different_did() {
    let client = secrets_client().await;
    let (first_name, _) = create_string_secret(&client, &random_secret()).await;
    let (second_name, _) = create_string_secret(&client, &random_secret()).await;

    let first = load_issuer_signer(&client, &first_name).await.expect("load the first secret");
    let second = load_issuer_signer(&client, &second_name).await.expect("load the second secret");

    assert_ne!(second.did(), first.did());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_key_missing_secret_named() {
    let client = secrets_client().await;
    let name = random_name("badges-missing-key");

    let error = load_issuer_signer(&client, &name).await.expect_err("a missing secret fails");

    assert!(matches!(&error, SecretError::NotFound { secret_id, .. } if *secret_id == name), "{error}");
    assert!(error.to_string().contains(&name), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_key_short_secret_rejected() {
    let client = secrets_client().await;
    let short = "0123456789abcdefghijklmnopqrstu";
    let (name, _) = create_string_secret(&client, short).await;

    let error = load_issuer_signer(&client, &name).await.expect_err("a 31-character secret fails");

    assert!(matches!(&error, SecretError::TooShort { length: 31, .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains(&name), "{message}");
    assert!(message.contains("at least 32"), "{message}");
    assert!(!message.contains(short), "the message contains the secret value: {message}");
    assert!(!format!("{error:?}").contains(short), "the Debug form contains the secret value: {error:?}");
}

/// A secret created without a value has no current version, which Secrets
/// Manager reports with the same error as a missing secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_key_secret_without_value() {
    let client = secrets_client().await;
    let name = random_name("badges-issuer-key");
    client.create_secret().name(&name).send().await.expect("create the secret without a value on moto");

    let error = load_issuer_signer(&client, &name).await.expect_err("a secret without a value fails");

    assert!(matches!(&error, SecretError::NotFound { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains(&name), "{message}");
    assert!(message.contains("has a value"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_key_binary_secret_rejected() {
    let client = secrets_client().await;
    let name = random_name("badges-issuer-key");
    client
        .create_secret()
        .name(&name)
        .secret_binary(Blob::new(random_secret().into_bytes()))
        .send()
        .await
        .expect("create the binary secret on moto");

    let error = load_issuer_signer(&client, &name).await.expect_err("a binary secret fails");

    assert!(matches!(&error, SecretError::NotAString { .. }), "{error}");
    assert!(error.to_string().contains(&name), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_secret_created_once() {
    let client = secrets_client().await;
    let name = random_name("badges-issuer-key");

    let created = create_issuer_secret_if_missing(&client, &name).await.expect("first create");
    let first = load_issuer_signer(&client, &name).await.expect("load the created secret");
    let created_again = create_issuer_secret_if_missing(&client, &name).await.expect("second create");
    let second = load_issuer_signer(&client, &name).await.expect("load after the second create");

    assert!(created, "the first call creates the secret");
    assert!(!created_again, "the second call finds the secret");
    assert_eq!(second.did(), first.did(), "the second call keeps the value");

    let value = client.get_secret_value().secret_id(&name).send().await.expect("read the created secret");
    let value = value.secret_string().expect("the created secret is a string");
    assert_eq!(value.len(), 64, "length of the generated value");
    assert!(value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()), "the generated value has only letters and digits");
}

/// The awards function's signer: the secret wins over a seed, a did:web
/// identity applies to the secret's key, and an unreadable secret fails
/// start-up naming the variable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_signer_prefers_the_secret() {
    use badges_shared::aws::{IssuerKeySource, issuer_signer};

    let config = moto_config().await;
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let (name, _) = create_string_secret(&client, KNOWN_SECRET).await;
    let issuer = badges_shared::domain::Issuer {
        name: "Test Association".into(),
        url: "https://www.example.org".into(),
        email: "badges@example.org".into(),
    };
    let settings = badges_shared::settings::Settings::new("https://badges.example.org", issuer);

    let from_secret = IssuerKeySource { secret_id: Some(name.clone()), seed: Some("ab".repeat(32)), identity: None };
    let signer = issuer_signer(&config, &settings, &from_secret).await.unwrap().expect("a signer");
    assert_eq!(signer.did(), KNOWN_DID);

    let as_web = IssuerKeySource { secret_id: Some(name), seed: None, identity: Some("web".into()) };
    let signer = issuer_signer(&config, &settings, &as_web).await.unwrap().expect("a signer");
    assert_eq!(signer.did(), "did:web:badges.example.org");

    let from_seed = IssuerKeySource { secret_id: None, seed: Some("ab".repeat(32)), identity: None };
    let signer = issuer_signer(&config, &settings, &from_seed).await.unwrap().expect("a signer");
    assert_ne!(signer.did(), KNOWN_DID);

    assert!(issuer_signer(&config, &settings, &IssuerKeySource::default()).await.unwrap().is_none());

    let missing = IssuerKeySource { secret_id: Some(random_name("badges-missing-key")), seed: None, identity: None };
    let error = issuer_signer(&config, &settings, &missing).await.unwrap_err().to_string();
    assert!(error.contains("BADGES_ISSUER_KEY_SECRET"), "{error}");
    assert!(error.contains("badges-missing-key"), "{error}");
}
