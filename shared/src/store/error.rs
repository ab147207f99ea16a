//! The store's errors: what a conditional write, a transaction or a read of the table can end in. The store
//! owns every conversion from the AWS SDK and from `serde_dynamo`; the application turns a [`StoreError`] into
//! its own [`AppError`](crate::error::AppError) with `From` (the one place a failed condition becomes a
//! conflict), and the edges map that to HTTP problems and Step Functions error names.

use crate::domain::admission::Refusal;
use crate::error::AppError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// A conditional write found its items not as the change needs them (the reservation is no longer held,
    /// the email is taken, ...): the reason, in words a caller can be shown. Trying again does not help.
    #[error("{0}")]
    Conflict(String),
    /// Other writers kept working on the same items through every attempt: nothing was written, and the
    /// same change can be tried again.
    #[error("{0}")]
    Busy(String),
    /// Optimistic concurrency: the stored `version` is not the one the change was based on.
    #[error("{entity} {id} was changed by someone else (expected version {expected})")]
    Stale {
        entity: &'static str,
        id: String,
        expected: u64,
    },
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    /// The waiting-room admission a hold came with was used already (checked in the hold's transaction).
    #[error("{0}")]
    AdmissionRefused(Refusal),
    /// A listing's cursor that this listing did not give.
    #[error("is not a cursor returned by this listing")]
    BadCursor,
    /// DynamoDB (or the request to it) failed; never caused by client input.
    #[error("{0}")]
    Dependency(String),
    /// An item we cannot read back: a bug or a manual edit, never client input.
    #[error("{0}")]
    Corrupt(String),
}

impl<E: std::fmt::Debug, R: std::fmt::Debug> From<aws_sdk_dynamodb::error::SdkError<E, R>>
    for StoreError
{
    fn from(err: aws_sdk_dynamodb::error::SdkError<E, R>) -> Self {
        StoreError::Dependency(format!("{err:?}"))
    }
}

impl From<serde_dynamo::Error> for StoreError {
    fn from(err: serde_dynamo::Error) -> Self {
        StoreError::Corrupt(err.to_string())
    }
}

/// The one place a store error becomes the application's: a failed condition is a conflict, a stale version a
/// failed precondition, contention `Busy` (the same 409 to a client; a saga step retries it).
impl From<StoreError> for AppError {
    fn from(err: crate::store::StoreError) -> Self {
        match err {
            StoreError::Conflict(why) => AppError::Conflict(why),
            StoreError::Busy(why) => AppError::Busy(why),
            StoreError::Stale {
                entity,
                id,
                expected,
            } => AppError::PreconditionFailed {
                entity,
                id,
                expected,
            },
            StoreError::NotFound { entity, id } => AppError::NotFound { entity, id },
            StoreError::AdmissionRefused(refusal) => AppError::AdmissionRefused(refusal),
            e @ StoreError::BadCursor => AppError::unprocessable("cursor", e.to_string()),
            StoreError::Dependency(why) => AppError::Dependency(why),
            StoreError::Corrupt(why) => AppError::Corrupt(why),
        }
    }
}

/// The error of a single-item write that can say its condition failed.
pub(crate) trait ConditionalWriteError: std::fmt::Debug {
    fn condition_failed(&self) -> bool;
}

impl ConditionalWriteError for aws_sdk_dynamodb::operation::put_item::PutItemError {
    fn condition_failed(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

impl ConditionalWriteError for aws_sdk_dynamodb::operation::update_item::UpdateItemError {
    fn condition_failed(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

impl ConditionalWriteError for aws_sdk_dynamodb::operation::delete_item::DeleteItemError {
    fn condition_failed(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

/// The one reading of a conditional write, for the whole store: `Some(output)` when it was written, `None` when
/// its condition failed, and any other failure a [`StoreError::Dependency`]. What a failed condition means
/// (taken, stale, done already, a duplicate) is the caller's to say; transactions have theirs in
/// `Store::transact`.
pub(crate) fn conditional<O, E: ConditionalWriteError, R: std::fmt::Debug>(
    result: Result<O, aws_sdk_dynamodb::error::SdkError<E, R>>,
) -> Result<Option<O>, StoreError> {
    match result {
        Ok(out) => Ok(Some(out)),
        Err(err) if err.as_service_error().is_some_and(E::condition_failed) => Ok(None),
        Err(err) => Err(StoreError::Dependency(format!("{err:?}"))),
    }
}
