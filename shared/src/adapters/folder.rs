//! Image store on a local folder, served by the local binary under
//! `/images/{key}`.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use crate::domain::ImageKind;
use crate::ports::{ImageStore, StoreError, StoredImage};

/// Image store that keeps each image as a file below `root`.
pub struct FolderImageStore {
    root: PathBuf,
    /// URL prefix of the route that serves the folder, without a trailing slash.
    public_base: String,
}

impl FolderImageStore {
    pub fn new(root: impl Into<PathBuf>, public_base: &str) -> Self {
        Self { root: root.into(), public_base: public_base.trim_end_matches('/').to_owned() }
    }

    /// Maps a key to a path below the root. Keys come from the core (badge
    /// and award ids are validated slugs) or from a URL path, so anything
    /// that could leave the root is rejected here as well.
    fn path_of(&self, key: &str) -> Option<PathBuf> {
        let safe = !key.is_empty()
            && key.split('/').all(|part| {
                !part.is_empty()
                    && part != "."
                    && part != ".."
                    && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
            });
        safe.then(|| self.root.join(key))
    }
}

fn kind_of(path: &Path) -> Option<ImageKind> {
    match path.extension()?.to_str()? {
        "png" => Some(ImageKind::Png),
        "svg" => Some(ImageKind::Svg),
        _ => None,
    }
}

#[async_trait]
impl ImageStore for FolderImageStore {
    async fn put(&self, key: &str, bytes: Vec<u8>, kind: ImageKind) -> Result<(), StoreError> {
        let path = self
            .path_of(key)
            .filter(|path| kind_of(path) == Some(kind))
            .ok_or_else(|| StoreError::Backend(format!("invalid image key {key:?}").into()))?;
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(StoreError::backend)?;
        }
        // Write to a temporary file and rename, so a reader never sees half an image.
        let temporary = path.with_extension("partial");
        tokio::fs::write(&temporary, bytes).await.map_err(StoreError::backend)?;
        tokio::fs::rename(&temporary, &path).await.map_err(StoreError::backend)
    }

    async fn get(&self, key: &str) -> Result<Option<StoredImage>, StoreError> {
        let Some(path) = self.path_of(key) else { return Ok(None) };
        let Some(kind) = kind_of(&path) else { return Ok(None) };
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(StoredImage { bytes, kind })),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(StoreError::backend(error)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let Some(path) = self.path_of(key) else { return Ok(()) };
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(StoreError::backend(error)),
        }
    }

    fn public_url(&self, key: &str) -> String {
        format!("{}/{key}", self.public_base)
    }
}
