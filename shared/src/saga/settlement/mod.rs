//! Closing a day's settlement statements, `statemachines/settlement.asl.json` (scheduled at Korean midnight
//! plus the settle delay; `ticketing-admin settle` starts it on demand): one file per state. The rules are
//! the use-case `app::settlement`.
//!
//! | state | file |
//! |---|---|
//! | `Plan` (a page of the statements still to close) | [`plan`] |
//! | `CloseEach` (a Map: one statement per item) | [`close`] |
//! | `MorePages` (a Choice), `Done` | the machine alone |

pub mod close;
pub mod plan;

use super::{SagaState, StepError};
use crate::error::AppError;

/// `force` (closing a day before its time) is for test stacks only.
pub(crate) fn forced(state: &SagaState, force: bool) -> Result<bool, StepError> {
    if force && !state.faults {
        return Err(StepError::Invalid(
            "force closes a day early on test stacks only".into(),
        ));
    }
    Ok(force)
}

/// A day that may not close yet, or a statement that is not one, is no reason to retry.
pub(crate) fn refusal(e: AppError) -> StepError {
    match e {
        AppError::Conflict(m) => StepError::Invalid(m),
        AppError::NotFound { .. } | AppError::Validation(_) => StepError::Invalid(e.to_string()),
        other => other.into(),
    }
}
