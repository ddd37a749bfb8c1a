//! Access to the AWS emulator (moto in server mode) that scripts/test.sh
//! starts on a free loopback port.

use aws_config::{BehaviorVersion, Region, SdkConfig};

/// Returns the emulator's address from `BADGES_TEST_AWS_ENDPOINT`.
pub fn moto_endpoint() -> String {
    std::env::var("BADGES_TEST_AWS_ENDPOINT").expect(
        "BADGES_TEST_AWS_ENDPOINT is not set: run the tests with scripts/test.sh, which starts the AWS emulator",
    )
}

/// Builds an SDK configuration for the emulator, with fixed test credentials.
pub async fn moto_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(moto_endpoint())
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("testing", "testing", None, None, "tests"))
        .load()
        .await
}

/// Returns a resource name unique to this test run, such as `badges-test-3f9a…`.
pub fn random_name(prefix: &str) -> String {
    let mut bytes = [0u8; 6];
    badges_shared::ports::RandomSource::fill(&badges_shared::ports::OsRandom, &mut bytes);
    format!("{prefix}-{}", badges_shared::encoding::base32_lower(&bytes))
}

/// Reads moto's state dump. moto answers with an error now and then when
/// other tests change its state during the dump, so a few attempts are made.
pub async fn moto_state() -> serde_json::Value {
    let url = format!("{}/moto-api/data.json", moto_endpoint());
    let mut last_error = String::new();
    for _ in 0..10 {
        match reqwest::get(&url).await {
            Ok(response) if response.status().is_success() => match response.json().await {
                Ok(state) => return state,
                Err(error) => last_error = error.to_string(),
            },
            Ok(response) => last_error = format!("status {}", response.status()),
            Err(error) => last_error = error.to_string(),
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("moto's /moto-api/data.json did not answer with JSON: {last_error}");
}
