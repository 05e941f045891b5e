//! Label images: which types the catalog accepts, judged by content rather than by the declared type, and the
//! limits an image must keep. Only the header is read (type and pixel size), never the whole image: a small file
//! claiming 100000 x 100000 pixels is refused before anything would decode it.

use sha2::{Digest, Sha256};

/// An accepted image type.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ImageKind {
    Png,
    Jpeg,
    Webp,
}

impl ImageKind {
    pub const ALL: [ImageKind; 3] = [ImageKind::Png, ImageKind::Jpeg, ImageKind::Webp];

    pub fn content_type(self) -> &'static str {
        match self {
            ImageKind::Png => "image/png",
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Webp => "image/webp",
        }
    }

    /// The file extension of this type in image URLs.
    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Png => "png",
            ImageKind::Jpeg => "jpg",
            ImageKind::Webp => "webp",
        }
    }

    pub fn from_content_type(content_type: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.content_type() == content_type)
    }

    pub fn from_extension(extension: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.extension() == extension)
    }
}

/// What a beer's image is known by: the SHA-256 of its bytes and its type. It is all an `image_url` needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    /// Lower-case hex.
    pub sha256: String,
    pub kind: ImageKind,
}

impl ImageRef {
    /// `<sha256>.<ext>`, the last segment of the image's URL.
    pub fn file_name(&self) -> String {
        format!("{}.{}", self.sha256, self.kind.extension())
    }

    /// Parses `<sha256>.<ext>` as served under `/images/`; `None` for anything else.
    pub fn parse_file_name(name: &str) -> Option<Self> {
        let (sha256, extension) = name.split_once('.')?;
        let is_hash = sha256.len() == 64 && sha256.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        Some(Self {
            sha256: is_hash.then(|| sha256.to_owned())?,
            kind: ImageKind::from_extension(extension)?,
        })
    }
}

/// An image as stored: its key, pixel size and length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageMeta {
    pub image: ImageRef,
    pub width: u32,
    pub height: u32,
    pub byte_length: u64,
}

/// An image checked against the limits, ready to store.
#[derive(Clone, PartialEq, Eq)]
pub struct NewImage {
    pub meta: ImageMeta,
    pub bytes: Vec<u8>,
    /// Its smaller copies, stored with it: empty until [`super::rendition::with_renditions`] has made them.
    pub renditions: Vec<super::rendition::Rendition>,
}

impl std::fmt::Debug for NewImage {
    // Not the bytes: a debug print of an import plan would otherwise dump megabytes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewImage")
            .field("meta", &self.meta)
            .field("renditions", &self.renditions)
            .finish_non_exhaustive()
    }
}

/// How large an image may be.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ImageLimits {
    pub max_bytes: usize,
    /// Largest width and largest height, in pixels.
    pub max_dimension: u32,
}

/// Why an image was refused; each message says what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageRejection {
    #[error("the image is {got} bytes, more than the limit of {limit} bytes (IMAGE_MAX_BYTES)")]
    TooLarge { got: usize, limit: usize },
    #[error("the image is {found}; accepted: PNG, JPEG or WebP (judged by content, not by Content-Type)")]
    UnsupportedType { found: String },
    #[error("the image's header cannot be read ({0}); send a complete PNG, JPEG or WebP file")]
    Unreadable(String),
    #[error("the image is {width} x {height} pixels; each side may be at most {limit} pixels (IMAGE_MAX_DIMENSION)")]
    TooManyPixels { width: u64, height: u64, limit: u32 },
    #[error("the image cannot be decoded ({0}); send a complete, valid PNG, JPEG or WebP file")]
    Undecodable(String),
}

impl ImageRejection {
    /// The HTTP status class of the refusal: size 413, type 415, content 422.
    pub fn status(&self) -> u16 {
        match self {
            ImageRejection::TooLarge { .. } => 413,
            ImageRejection::UnsupportedType { .. } => 415,
            ImageRejection::Unreadable(_) | ImageRejection::TooManyPixels { .. } | ImageRejection::Undecodable(_) => {
                422
            }
        }
    }
}

/// The lower-case hex SHA-256 of `bytes`: what content-addressed names and validators are made of.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Judges `bytes` by their content: an accepted type, within the limits. Reads the header only.
pub fn inspect(bytes: Vec<u8>, limits: ImageLimits) -> Result<NewImage, ImageRejection> {
    if bytes.len() > limits.max_bytes {
        return Err(ImageRejection::TooLarge {
            got: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let kind = match imagesize::image_type(&bytes) {
        Ok(imagesize::ImageType::Png) => ImageKind::Png,
        Ok(imagesize::ImageType::Jpeg) => ImageKind::Jpeg,
        Ok(imagesize::ImageType::Webp) => ImageKind::Webp,
        Ok(other) => {
            return Err(ImageRejection::UnsupportedType {
                found: format!("{other:?}").to_uppercase(),
            });
        }
        Err(_) if bytes.is_empty() => {
            return Err(ImageRejection::UnsupportedType { found: "empty".into() });
        }
        Err(_) => {
            return Err(ImageRejection::UnsupportedType {
                found: "not an image format the service knows".into(),
            });
        }
    };
    let size = imagesize::blob_size(&bytes).map_err(|e| ImageRejection::Unreadable(e.to_string()))?;
    let (width, height) = (size.width as u64, size.height as u64);
    let limit = u64::from(limits.max_dimension);
    if width > limit || height > limit {
        return Err(ImageRejection::TooManyPixels {
            width,
            height,
            limit: limits.max_dimension,
        });
    }
    if width == 0 || height == 0 {
        return Err(ImageRejection::Unreadable(format!(
            "it claims {width} x {height} pixels"
        )));
    }
    let sha256 = sha256_hex(&bytes);
    Ok(NewImage {
        meta: ImageMeta {
            image: ImageRef { sha256, kind },
            // Both fit: they are at most `max_dimension`, a u32.
            width: width as u32,
            height: height as u32,
            byte_length: bytes.len() as u64,
        },
        bytes,
        renditions: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ImageLimits = ImageLimits {
        max_bytes: 1024,
        max_dimension: 4096,
    };

    /// A PNG signature and IHDR chunk claiming `width` x `height` (imagesize reads no further).
    fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
        bytes.extend_from_slice(b"IHDR");
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        bytes
    }

    #[test]
    fn the_type_comes_from_the_content() {
        let image = inspect(png_header(2, 3), LIMITS).unwrap();
        assert_eq!(image.meta.image.kind, ImageKind::Png);
        assert_eq!((image.meta.width, image.meta.height), (2, 3));
        assert_eq!(image.meta.image.sha256.len(), 64);
        let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00".to_vec();
        let error = inspect(gif, LIMITS).unwrap_err();
        assert_eq!(error.status(), 415);
        assert!(error.to_string().contains("GIF"), "{error}");
        assert_eq!(inspect(b"hello, world".to_vec(), LIMITS).unwrap_err().status(), 415);
        assert_eq!(inspect(Vec::new(), LIMITS).unwrap_err().status(), 415);
    }

    #[test]
    fn limits_name_themselves() {
        let error = inspect(png_header(100_000, 100_000), LIMITS).unwrap_err();
        assert_eq!(error.status(), 422);
        assert!(error.to_string().contains("at most 4096 pixels"), "{error}");
        let error = inspect(vec![0; 2000], LIMITS).unwrap_err();
        assert_eq!(error.status(), 413);
        assert!(error.to_string().contains("1024 bytes"), "{error}");
        assert_eq!(inspect(png_header(0, 5), LIMITS).unwrap_err().status(), 422);
    }

    #[test]
    fn file_names_round_trip_and_reject_anything_else() {
        let image = ImageRef {
            sha256: "ab".repeat(32),
            kind: ImageKind::Webp,
        };
        assert_eq!(ImageRef::parse_file_name(&image.file_name()), Some(image));
        for bad in [
            "x.png",
            &format!("{}.gif", "a".repeat(64)),
            &format!("{}.png", "A".repeat(64)),
            "",
            "a.b.c",
        ] {
            assert_eq!(ImageRef::parse_file_name(bad), None, "{bad}");
        }
    }
}
