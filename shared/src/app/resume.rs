//! Resuming what stalled: a reservation's pending cancellation or an organizer's sweep whose run never
//! started or ended before finishing, started again as a new run of the same idempotent steps. What a later
//! cancel of a stuck reservation, an organizer asking again and the repairer do.

use crate::domain::reservation::{organizer_cancellation_id, Cancellation};
use crate::error::AppError;
use crate::sfn::{sweep_run_name, Execution, Machine, SagaClient};
use crate::store::Store;
use crate::store::StoreError;

/// What [`resume`] or [`resume_sweep`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resumed {
    /// Nothing is pending any more.
    Nothing,
    /// Its run is still going: left alone.
    UnderWay,
    /// Its run had never started (whoever began it died first): started now, under that name.
    Started(String),
    /// Its run ended without finishing it: a new run of the same idempotent steps, under this name.
    Restarted(String),
    /// The cancellation is an organizer's sweep's: resuming the sweep resumes it.
    OwnedBySweep,
}

/// Makes sure the pending cancellation of a reservation is being worked on: its run still going is left
/// alone; a run never started is started under its name (a late start by whoever began it then finds it,
/// the same execution); a run that ended while the cancellation is still pending (its process died for good,
/// or the execution was stopped or timed out) is followed by a new run `<cancellationId>-<n>`, counted on the
/// cancellation first so that two resumers start one run. Never two runs at once: every start is guarded by
/// DescribeExecution. What a later cancel of a stuck reservation and the repairer both do.
pub async fn resume(
    store: &Store,
    saga: &SagaClient,
    reservation_id: &str,
) -> Result<Resumed, AppError> {
    for _ in 0..3 {
        let Some(r) = store.get_reservation(reservation_id).await? else {
            return Ok(Resumed::Nothing);
        };
        let Some(pending) = r.pending_cancellation.clone() else {
            return Ok(Resumed::Nothing);
        };
        if pending.id == organizer_cancellation_id(&r.id) {
            return Ok(Resumed::OwnedBySweep);
        }
        match saga
            .execution(Machine::Cancellation, &pending.run_name())
            .await?
        {
            Execution::Running => return Ok(Resumed::UnderWay),
            Execution::Missing => {
                saga.start_cancellation(&r.id, &pending).await?;
                return Ok(Resumed::Started(pending.run_name()));
            }
            Execution::Ended(_) => {
                let mut next = r.clone();
                let again = Cancellation {
                    resumed: pending.resumed + 1,
                    ..pending
                };
                next.pending_cancellation = Some(again.clone());
                next.version += 1;
                match store.replace_reservation(&next, r.version).await {
                    Ok(()) => {
                        saga.start_cancellation(&r.id, &again).await?;
                        return Ok(Resumed::Restarted(again.run_name()));
                    }
                    // Changed meanwhile (finished, or resumed by someone else): look again.
                    Err(StoreError::Stale { .. }) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    Ok(Resumed::UnderWay)
}

/// [`resume`] for an organizer's sweep of a showtime: a RUNNING run whose execution never started or ended
/// is started again where its progress stands (the steps are idempotent and counted once), as
/// `<showtimeId>-<run>-<n>`.
pub async fn resume_sweep(
    store: &Store,
    saga: &SagaClient,
    showtime_id: &str,
) -> Result<Resumed, AppError> {
    let Some(p) = store.sweep_progress(showtime_id).await? else {
        return Ok(Resumed::Nothing);
    };
    if p.status != "RUNNING" {
        return Ok(Resumed::Nothing);
    }
    let name = sweep_run_name(showtime_id, p.run, p.resumed);
    match saga.execution(Machine::Sweep, &name).await? {
        Execution::Running => Ok(Resumed::UnderWay),
        Execution::Missing => {
            saga.start_sweep(showtime_id, (p.run, p.resumed), &p.reason)
                .await?;
            Ok(Resumed::Started(name))
        }
        Execution::Ended(_) => {
            if !store
                .count_sweep_resume(showtime_id, p.run, p.resumed)
                .await?
            {
                return Ok(Resumed::UnderWay);
            }
            saga.start_sweep(showtime_id, (p.run, p.resumed + 1), &p.reason)
                .await?;
            Ok(Resumed::Restarted(sweep_run_name(
                showtime_id,
                p.run,
                p.resumed + 1,
            )))
        }
    }
}
