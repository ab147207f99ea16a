//! Invalid input, reported back to the client field by field.

/// One invalid input field, reported back to the client by name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON path of the offending field (`title`, `venue.name`, `saleWindow.opensAt`) or the parameter name.
    pub field: String,
    pub message: String,
    /// A rule the API description cannot state (422), rather than a breach of the document (400).
    #[serde(skip)]
    pub rule: bool,
}

impl FieldError {
    /// A breach of what the OpenAPI document states for the field (400).
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
            rule: false,
        }
    }

    /// A rule beyond the document: between fields, against stored state or the clock (422).
    pub fn rule(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            rule: true,
            ..Self::new(field, message)
        }
    }
}
