//! The domain error: a validation failure with a bilingual message.

use serde::Serialize;

/// A user-facing message, Vietnamese first, with English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Msg {
    pub vi: String,
    pub en: String,
}

impl Msg {
    pub fn new(vi: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            vi: vi.into(),
            en: en.into(),
        }
    }
}

impl std::fmt::Display for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}", self.vi, self.en)
    }
}

/// One invalid field of an input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field's name as the client sent it (JSON path or CSV column).
    pub field: String,
    pub message: Msg,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// One or more fields are invalid.
    #[error("invalid input: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message.en)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// A value is outside the range this system supports.
    #[error("{0}")]
    OutOfRange(Msg),
}

impl Error {
    pub fn field(field: impl Into<String>, vi: impl Into<String>, en: impl Into<String>) -> Self {
        Error::Invalid(vec![FieldError {
            field: field.into(),
            message: Msg::new(vi, en),
        }])
    }

    /// The bilingual summary of the error.
    pub fn message(&self) -> Msg {
        match self {
            Error::Invalid(errs) => Msg::new(
                errs.iter()
                    .map(|e| format!("{}: {}", e.field, e.message.vi))
                    .collect::<Vec<_>>()
                    .join("; "),
                errs.iter()
                    .map(|e| format!("{}: {}", e.field, e.message.en))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            Error::OutOfRange(m) => m.clone(),
        }
    }
}

/// Collects field errors while validating a whole input, so a client sees every problem at once.
#[derive(Debug, Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, vi: impl Into<String>, en: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: Msg::new(vi, en),
        });
    }

    /// Records the error of `r` under `field`'s prefix, and returns its value if any.
    pub fn take<T>(&mut self, r: Result<T, Error>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(Error::Invalid(errs)) => {
                self.0.extend(errs);
                None
            }
            Err(Error::OutOfRange(m)) => {
                self.0.push(FieldError {
                    field: String::new(),
                    message: m,
                });
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(self.0))
        }
    }
}
