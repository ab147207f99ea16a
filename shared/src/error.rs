//! Typed errors of the library, mapped once to HTTP problem responses in [`crate::http`].

use thiserror::Error;

pub use ticketing_domain::FieldError;

#[derive(Debug, Error)]
pub enum AppError {
    /// The request is well-formed JSON but breaks one or more rules: 400 when any of them is stated by the
    /// API description, 422 when all of them are rules beyond it ([`FieldError::rule`]).
    #[error("invalid request: {}", summary(.0))]
    Validation(Vec<FieldError>),
    /// The body is not the JSON we expect (syntax, wrong type, unknown field).
    #[error("malformed request body: {0}")]
    MalformedBody(String),
    #[error("unsupported media type: expected application/json")]
    UnsupportedMediaType,
    /// No valid credentials (missing, expired, revoked or forged token; wrong password).
    #[error("authentication required")]
    Unauthorized,
    /// Login refused: unknown email or wrong password (deliberately not saying which).
    #[error("the email or password is incorrect")]
    InvalidCredentials,
    /// Authenticated, but this caller may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A showtime with a waiting room, and no valid admission for this member and showtime (403, a problem
    /// type per reason).
    #[error("{0}")]
    AdmissionRefused(crate::domain::admission::Refusal),
    /// The path exists, the method does not (the `$default` route).
    #[error("{method} is not a method of this path; it takes {allow}")]
    MethodNotAllowed { method: String, allow: String },
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    /// Optimistic concurrency: the client's `If-Match` version is not the stored one.
    #[error("{entity} {id} was changed by someone else (expected version {expected})")]
    PreconditionFailed {
        entity: &'static str,
        id: String,
        expected: u64,
    },
    /// The change cannot be made as things stand (the reservation is no longer held, the email is taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Others were changing the same items through every attempt: nothing was done, and trying the same
    /// change again is safe (the same 409 as [`AppError::Conflict`] to a client; a saga step retries it).
    #[error("conflict: {0}")]
    Busy(String),
    /// Some of the requested seats are held or sold by someone else.
    #[error("seats unavailable: {}", .0.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", "))]
    SeatsUnavailable(Vec<crate::domain::seat::SeatId>),
    /// The member would hold or own more seats of the showtime than the performance allows (409 with the
    /// count and the limit).
    #[error("{0}")]
    TicketLimit(crate::domain::ticket_limit::LimitReached),
    /// The card was refused (or its token is unknown to the provider): 402 with the provider's code.
    #[error("the payment was declined: {code}")]
    PaymentDeclined { code: String },
    /// The payment provider kept failing transiently; nothing was charged twice, and a retry with the same
    /// `Idempotency-Key` is safe.
    #[error("the payment provider is unavailable: {0}")]
    ProviderUnavailable(String),
    /// The member spent their request budget on this route for now (429 with `Retry-After`).
    #[error("{0}")]
    RateLimited(crate::domain::rate_limit::Limited),
    /// The payment provider's circuit breaker is open: no card is charged for now (503 with `Retry-After`);
    /// a wallet payment goes on.
    #[error("card payments are paused while the payment provider recovers; try again in {retry_after} s or pay with wallet points")]
    ProviderPaused { retry_after: u32 },
    /// A dependency (DynamoDB, ...) failed; never caused by client input.
    #[error("dependency failure: {0}")]
    Dependency(String),
    /// Stored data we cannot read back: a bug or a manual edit, never client input.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

fn summary(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl AppError {
    /// Seconds after which the same request may succeed (`Retry-After`), where the error says so.
    pub fn retry_after(&self) -> Option<u32> {
        match self {
            AppError::ProviderPaused { retry_after } => Some(*retry_after),
            AppError::RateLimited(limited) => Some(limited.retry_after),
            _ => None,
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    /// One broken rule that the document cannot state (422).
    pub fn unprocessable(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::rule(field, message)])
    }

    /// Whether a validation failure is only of rules beyond the document (422) and not of the document (400).
    pub fn is_rule_violation(errors: &[FieldError]) -> bool {
        !errors.is_empty() && errors.iter().all(|e| e.rule)
    }
}
