//! Image store on an S3 bucket. Every object lives under the `images/`
//! key prefix, the only prefix that the bucket policy makes public.

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::operation::create_bucket::CreateBucketError;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};

use crate::domain::ImageKind;
use crate::ports::{ImageStore, StoreError, StoredImage};

/// Key prefix of every image object.
const KEY_PREFIX: &str = "images/";

/// `Cache-Control` of every image object. Badge images are replaced when
/// staff upload a new one and baked award images when an award is baked
/// again, under the same key, so caches keep a copy for 5 minutes only.
const CACHE_CONTROL: &str = "public, max-age=300";

/// Builds an S3 client from the shared SDK configuration. When the
/// configuration sets an endpoint (an emulator such as moto), the client
/// uses path-style addresses, because emulators do not resolve bucket host
/// names. It then also computes and validates checksums only where an
/// operation requires them, because emulators may not support the newer
/// checksum defaults.
pub fn s3_client(config: &SdkConfig) -> Client {
    let mut builder = aws_sdk_s3::config::Builder::from(config);
    if config.endpoint_url().is_some() {
        builder = builder
            .force_path_style(true)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
    }
    Client::from_conf(builder.build())
}

/// Creates the bucket in the client's region, for development set-ups and
/// tests. A bucket that this account already owns is not an error. The
/// bucket stays private: `allow_public_image_reads` makes `images/` public.
pub async fn create_bucket(client: &Client, bucket: &str) -> Result<(), StoreError> {
    let mut request = client.create_bucket().bucket(bucket);
    // us-east-1 is the default location and rejects an explicit constraint.
    if let Some(region) = client.config().region().map(|region| region.as_ref()).filter(|region| *region != "us-east-1")
    {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(region)).build(),
        );
    }
    match request.send().await {
        Ok(_) => Ok(()),
        Err(error) if matches!(error.as_service_error(), Some(CreateBucketError::BucketAlreadyOwnedByYou(_))) => Ok(()),
        Err(error) => Err(backend_error("CreateBucket", bucket, error)),
    }
}

/// Sets a bucket policy that lets anyone read the objects under `images/`
/// and nothing else, for development set-ups and tests. It replaces any
/// existing bucket policy. On AWS, the bucket's Block Public Access
/// settings must allow public bucket policies, or S3 rejects this call.
pub async fn allow_public_image_reads(client: &Client, bucket: &str) -> Result<(), StoreError> {
    // NOTE: the ARN uses the `aws` partition, so this does not work in the
    // China or GovCloud partitions.
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "PublicImageReads",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::{bucket}/{KEY_PREFIX}*"),
        }],
    });
    client
        .put_bucket_policy()
        .bucket(bucket)
        .policy(policy.to_string())
        .send()
        .await
        .map_err(|error| backend_error("PutBucketPolicy", bucket, error))?;
    Ok(())
}

/// Image store that keeps each image as the object `images/{key}` in one
/// bucket.
///
/// NOTE: S3 returns `NoSuchKey` for a missing key only when the caller may
/// list the bucket (`s3:ListBucket`). Without that permission it returns
/// `AccessDenied`, which `get` reports as a backend error.
pub struct S3ImageStore {
    client: Client,
    bucket: String,
    /// URL prefix under which the `images/` objects are public, without a
    /// trailing slash.
    public_base_url: String,
}

impl S3ImageStore {
    /// Creates the store. `public_base_url` is the public address of the
    /// `images/` prefix, such as `https://bucket.s3.us-east-1.amazonaws.com/images`
    /// or a CloudFront distribution whose origin path is `/images`.
    pub fn new(client: Client, bucket: String, public_base_url: String) -> Self {
        let public_base_url = public_base_url.trim_end_matches('/').to_owned();
        Self { client, bucket, public_base_url }
    }

    /// Returns the object key of an image key, or `None` when the image key
    /// is not the safe form that `FolderImageStore` also accepts. That form
    /// is segments of ASCII letters, digits, `-`, `_` and `.`, other than
    /// `.` and `..`, separated by single `/` and ending in `.png` or `.svg`.
    fn object_key(key: &str) -> Option<String> {
        let safe = !key.is_empty()
            && key.split('/').all(|segment| {
                !segment.is_empty()
                    && segment != "."
                    && segment != ".."
                    && segment.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
            });
        (safe && kind_from_extension(key).is_some()).then(|| format!("{KEY_PREFIX}{key}"))
    }
}

fn kind_from_extension(key: &str) -> Option<ImageKind> {
    match key.rsplit_once('.')?.1 {
        "png" => Some(ImageKind::Png),
        "svg" => Some(ImageKind::Svg),
        _ => None,
    }
}

/// Returns the image kind of a `Content-Type` value, ignoring parameters and case.
fn kind_from_content_type(content_type: &str) -> Option<ImageKind> {
    let media_type = content_type.split(';').next()?.trim();
    if media_type.eq_ignore_ascii_case("image/png") {
        Some(ImageKind::Png)
    } else if media_type.eq_ignore_ascii_case("image/svg+xml") {
        Some(ImageKind::Svg)
    } else {
        None
    }
}

/// Converts an SDK error to a backend error whose message names the
/// operation and the key and contains the SDK's full error chain.
fn backend_error(operation: &str, target: &str, error: impl std::error::Error) -> StoreError {
    StoreError::Backend(format!("S3 {operation} on {target:?} failed: {}", DisplayErrorContext(&error)).into())
}

#[async_trait]
impl ImageStore for S3ImageStore {
    async fn put(&self, key: &str, bytes: Vec<u8>, kind: ImageKind) -> Result<(), StoreError> {
        let object_key = Self::object_key(key)
            .filter(|_| kind_from_extension(key) == Some(kind))
            .ok_or_else(|| {
                let expected = format!("segments of ASCII letters, digits, '-', '_' and '.' ending in .{}", kind.extension());
                StoreError::Backend(format!("invalid image key {key:?}: expected {expected}").into())
            })?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&object_key)
            .content_type(kind.content_type())
            .cache_control(CACHE_CONTROL)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|error| backend_error("PutObject", &object_key, error))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<StoredImage>, StoreError> {
        // put never stores an unsafe key, so such a key is simply not found.
        let Some(object_key) = Self::object_key(key) else { return Ok(None) };
        let output = match self.client.get_object().bucket(&self.bucket).key(&object_key).send().await {
            Ok(output) => output,
            Err(error) if matches!(error.as_service_error(), Some(GetObjectError::NoSuchKey(_))) => return Ok(None),
            Err(error) => return Err(backend_error("GetObject", &object_key, error)),
        };

        let kind = output
            .content_type()
            .and_then(kind_from_content_type)
            .or_else(|| kind_from_extension(key))
            .ok_or_else(|| StoreError::Backend(format!("the media type of {object_key:?} is unknown").into()))?;
        let bytes = output
            .body
            .collect()
            .await
            .map_err(|error| backend_error("GetObject body read", &object_key, error))?
            .into_bytes()
            .to_vec();
        Ok(Some(StoredImage { bytes, kind }))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let Some(object_key) = Self::object_key(key) else { return Ok(()) };
        // S3 returns success for DeleteObject on a missing key.
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(&object_key)
            .send()
            .await
            .map_err(|error| backend_error("DeleteObject", &object_key, error))?;
        Ok(())
    }

    fn public_url(&self, key: &str) -> String {
        format!("{}/{key}", self.public_base_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_key_adds_prefix() {
        assert_eq!(S3ImageStore::object_key("badges/x.png").as_deref(), Some("images/badges/x.png"));
        assert_eq!(
            S3ImageStore::object_key("awards/abc/badge.svg").as_deref(),
            Some("images/awards/abc/badge.svg")
        );
    }

    #[test]
    fn object_key_rejects_unsafe_keys() {
        for key in [
            "",
            "/badges/x.png",
            "badges//x.png",
            "badges/../x.png",
            "./x.png",
            "badges/x y.png",
            "badges/x%2e.png",
            "badges\\x.png",
            "badges/x.gif",
            "badges/x",
            "badges/",
        ] {
            assert_eq!(S3ImageStore::object_key(key), None, "key {key:?}");
        }
    }

    #[test]
    fn content_type_parameters_ignored() {
        assert_eq!(kind_from_content_type("image/png"), Some(ImageKind::Png));
        assert_eq!(kind_from_content_type("Image/SVG+XML; charset=utf-8"), Some(ImageKind::Svg));
        assert_eq!(kind_from_content_type("application/octet-stream"), None);
    }
}
