//! Label renditions: smaller copies of a stored image, so a page drawing a label 64 pixels wide downloads about
//! that, not the original (the Punk labels are ~270 x 1060 pixels, ~300 KB each). Made once per image, when it is
//! stored, and kept beside it; the original stays exactly as uploaded (`image_url` in the API names it).
//!
//! Decoding happens only after [`super::image::inspect`] has judged the header, and under the same pixel bounds
//! (the decoder is told the size the header claims), so a file cannot make the decoder allocate more than the
//! limits allow. It is CPU work of tens of milliseconds: callers run it off the async workers.

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits, imageops::FilterType};

use super::image::{ImageKind, ImageRejection, NewImage};

/// The widths made, in pixels: 64 and 128 for the catalog list (a label drawn 64 CSS pixels wide, at 1x and 2x),
/// 256 for a beer's page (135 CSS pixels) and 3x phones. Every image has all three, so a page can name them
/// without knowing the original's size: an image narrower than a width gets its own size there (never enlarged).
pub const RENDITION_WIDTHS: [u32; 3] = [64, 128, 256];

/// The renditions' type: WebP, which every browser the pages support decodes, with an alpha channel (the Punk
/// labels are transparent PNGs).
pub const RENDITION_KIND: ImageKind = ImageKind::Webp;

/// Lossy (libwebp, through the `webp` crate: the `image` crate encodes lossless WebP only, which keeps a 256-pixel
/// Punk label at 288 KB, as heavy as the original; at quality 80 it is 61 KB,
/// 20 KB at 128 pixels and 6 KB at 64, with no visible loss at those sizes).
const WEBP_QUALITY: f32 = 80.0;

/// One smaller copy of an image.
#[derive(Clone, PartialEq, Eq)]
pub struct Rendition {
    /// The width it is named by, one of [`RENDITION_WIDTHS`].
    pub nominal_width: u32,
    /// Its pixel size: at most `nominal_width` wide, the original's aspect ratio.
    pub width: u32,
    pub height: u32,
    /// WebP.
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Rendition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rendition")
            .field("nominal_width", &self.nominal_width)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// `image` with its renditions made: the whole file decoded, so one whose header is fine but whose pixels are not
/// is refused here.
pub fn with_renditions(mut image: NewImage) -> Result<NewImage, ImageRejection> {
    image.renditions = make_renditions(&image).map_err(ImageRejection::Undecodable)?;
    Ok(image)
}

/// Every rendition of `image`, one per [`RENDITION_WIDTHS`], or why it cannot be decoded.
pub fn make_renditions(image: &NewImage) -> Result<Vec<Rendition>, String> {
    let meta = &image.meta;
    let format = match meta.image.kind {
        ImageKind::Png => ImageFormat::Png,
        ImageKind::Jpeg => ImageFormat::Jpeg,
        ImageKind::Webp => ImageFormat::WebP,
    };
    let mut limits = Limits::default();
    limits.max_image_width = Some(meta.width);
    limits.max_image_height = Some(meta.height);
    // The decoded pixels (RGBA, 16 bits a channel at most) plus the decoder's own buffers.
    limits.max_alloc = Some(u64::from(meta.width) * u64::from(meta.height) * 8 + 16 * 1024 * 1024);
    let mut reader = ImageReader::with_format(Cursor::new(&image.bytes), format);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|error| error.to_string())?;
    // Largest first, each made from the one before: a halving costs a fraction of a resize of the original.
    let mut source = decoded;
    let mut renditions: Vec<Rendition> = RENDITION_WIDTHS
        .into_iter()
        .rev()
        .map(|nominal_width| {
            let width = nominal_width.min(meta.width);
            let height = scaled_height(meta.width, meta.height, width);
            if (source.width(), source.height()) != (width, height) {
                source = source.resize_exact(width, height, FilterType::Triangle);
            }
            let pixels = source.to_rgba8();
            let bytes = webp::Encoder::from_rgba(pixels.as_raw(), width, height)
                .encode_simple(false, WEBP_QUALITY)
                .map_err(|error| format!("encoding WebP: {error:?}"))?
                .to_vec();
            Ok(Rendition {
                nominal_width,
                width,
                height,
                bytes,
            })
        })
        .collect::<Result<_, String>>()?;
    renditions.reverse();
    Ok(renditions)
}

/// The height that keeps the aspect ratio at `width`, at least one pixel.
fn scaled_height(original_width: u32, original_height: u32, width: u32) -> u32 {
    let height =
        (u64::from(original_height) * u64::from(width) + u64::from(original_width) / 2) / u64::from(original_width);
    u32::try_from(height).unwrap_or(u32::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::image::{ImageLimits, inspect};

    fn png(width: u32, height: u32) -> Vec<u8> {
        let pixels = image::RgbaImage::from_fn(width, height, |x, y| image::Rgba([x as u8, y as u8, 128, 255]));
        let mut bytes = Vec::new();
        image::DynamicImage::ImageRgba8(pixels)
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .unwrap();
        bytes
    }

    const LIMITS: ImageLimits = ImageLimits {
        max_bytes: 1 << 20,
        max_dimension: 4096,
    };

    #[test]
    fn renditions_keep_the_aspect_ratio_and_are_webp() {
        let image = inspect(png(300, 1000), LIMITS).unwrap();
        let renditions = make_renditions(&image).unwrap();
        let sizes: Vec<_> = renditions.iter().map(|r| (r.width, r.height)).collect();
        assert_eq!(sizes, [(64, 213), (128, 427), (256, 853)]);
        for rendition in &renditions {
            let decoded = image::load_from_memory_with_format(&rendition.bytes, ImageFormat::WebP).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (rendition.width, rendition.height));
        }
    }

    #[test]
    fn a_narrow_image_is_never_enlarged() {
        let image = inspect(png(100, 40), LIMITS).unwrap();
        let renditions = make_renditions(&image).unwrap();
        let sizes: Vec<_> = renditions
            .iter()
            .map(|r| (r.nominal_width, r.width, r.height))
            .collect();
        assert_eq!(sizes, [(64, 64, 26), (128, 100, 40), (256, 100, 40)]);
    }

    /// Prints what the renditions of a Punk label weigh (`cargo test --lib punk_label_renditions -- --ignored
    /// --nocapture`), the numbers in docs/performance.md.
    #[test]
    #[ignore = "reads the Punk dataset from ../shared"]
    fn punk_label_renditions() {
        let bytes = std::fs::read("../shared/data/punkapi/images/10.png").unwrap();
        let original = bytes.len();
        let limits = ImageLimits {
            max_bytes: 8 << 20,
            max_dimension: 4096,
        };
        let image = inspect(bytes, limits).unwrap();
        let started = std::time::Instant::now();
        let renditions = make_renditions(&image).unwrap();
        println!("made in {:?}", started.elapsed());
        for rendition in renditions {
            println!("{rendition:?} of {original} bytes");
        }
    }

    #[test]
    fn a_corrupt_body_behind_a_valid_header_is_an_error() {
        let mut bytes = png(200, 200);
        let len = bytes.len();
        bytes.truncate(len / 2);
        let image = inspect(bytes, LIMITS).unwrap();
        assert!(make_renditions(&image).is_err());
    }
}
