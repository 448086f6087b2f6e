//! The article's pipeline, kept exactly: `qrcode` at EC level L rendered 8-bit gray with a
//! minimum of 200 x 200 px, then the `image` crate's PNG encoder at default compression, no filter.

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder, Luma};
use qrcode::{EcLevel, QrCode};

use crate::{MIN_IMAGE_PX, QrError};

pub(crate) fn png(data: &[u8]) -> Result<Vec<u8>, QrError> {
    let code = QrCode::with_error_correction_level(data, EcLevel::L)
        .map_err(|e| QrError::Generation(format!("qrcode: {e}")))?;
    let image = code
        .render::<Luma<u8>>()
        .min_dimensions(MIN_IMAGE_PX, MIN_IMAGE_PX)
        .build();
    let mut out = Vec::with_capacity(1024);
    PngEncoder::new_with_quality(&mut out, CompressionType::Default, FilterType::NoFilter)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            ExtendedColorType::L8,
        )
        .map_err(|e| QrError::Generation(format!("png: {e}")))?;
    Ok(out)
}
