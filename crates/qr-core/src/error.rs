use std::fmt;

/// Why [`crate::png`] gave no image. `Display` is the exact one-line message of the HTTP contract.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum QrError {
    /// The text is empty (HTTP 400).
    Missing,
    /// The text has more than [`crate::MAX_TEXT_BYTES`] UTF-8 bytes (HTTP 400).
    TooLong,
    /// The engine failed; the detail is for logs, never for clients (HTTP 500).
    Generation(String),
}

impl QrError {
    /// True when the caller's input is at fault (a 400), false when the generator is (a 500).
    pub fn is_bad_input(&self) -> bool {
        matches!(self, QrError::Missing | QrError::TooLong)
    }
}

impl fmt::Display for QrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QrError::Missing => "missing \"text\" query param",
            QrError::TooLong => "text must be <= 512 bytes",
            QrError::Generation(_) => "failed to generate qr code",
        })
    }
}

impl std::error::Error for QrError {}
