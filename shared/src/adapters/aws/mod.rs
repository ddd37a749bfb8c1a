//! AWS adapters: DynamoDB award store, S3 image store, SES v2 mailer, and
//! the Open Badges 3.0 issuer key in Secrets Manager.
//!
//! Clients are built once per process from one `SdkConfig`. An emulator is
//! reached by setting `AWS_ENDPOINT_URL`; no code path differs for it,
//! except that S3 then uses path-style addressing.

pub mod dynamo;
pub mod s3;
pub mod secrets;
pub mod ses;
