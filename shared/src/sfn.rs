//! The Step Functions client: starts the state machines' executions, hands a waiting execution its payment,
//! and says where an execution stands. An adapter beside the store; the sagas' steps are in [`crate::saga`].

use crate::domain::payment::PaymentInput;
use crate::domain::reservation::Cancellation;
use crate::error::AppError;
use serde_json::{json, Value};
use time::OffsetDateTime;

/// The state machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Machine {
    /// `reservation.asl.json`, an execution per reservation, named after it.
    Reservation,
    /// `cancellation.asl.json`, an execution per run of a cancellation ([`Cancellation::run_name`]).
    Cancellation,
    /// `showtime-cancellation.asl.json`, an execution per run of a sweep ([`sweep_run_name`]).
    Sweep,
}

/// Where an execution stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Execution {
    /// Running (or waiting to be redriven): its steps may still write.
    Running,
    /// Over: SUCCEEDED, FAILED, TIMED_OUT or ABORTED. Nothing of it runs any more.
    Ended(String),
    /// Never started (its starter died first).
    Missing,
}

/// The execution of run `run` of a showtime's sweep: `<showtimeId>-<run>`, `<showtimeId>-<run>-<n>` once
/// resumed `n` times.
pub fn sweep_run_name(showtime_id: &str, run: u64, resumed: u64) -> String {
    if resumed == 0 {
        format!("{showtime_id}-{run}")
    } else {
        format!("{showtime_id}-{run}-{resumed}")
    }
}

/// Starts the sagas and hands them payments: what the reservation, cancellation and showtime routes use.
#[derive(Clone, Debug)]
pub struct SagaClient {
    client: crate::aws::Lazy<aws_sdk_sfn::Client>,
    state_machine_arn: Option<String>,
    cancellation_arn: Option<String>,
    sweep_arn: Option<String>,
}

impl SagaClient {
    /// Reads `STATE_MACHINE_ARN`, `CANCELLATION_STATE_MACHINE_ARN` and `SWEEP_STATE_MACHINE_ARN` (those of
    /// the machines this function starts). No network I/O.
    pub async fn from_env() -> Self {
        let config = crate::aws::sdk_config().await;
        SagaClient {
            client: crate::aws::Lazy::new(&config, aws_sdk_sfn::Client::new),
            state_machine_arn: std::env::var("STATE_MACHINE_ARN").ok(),
            cancellation_arn: std::env::var("CANCELLATION_STATE_MACHINE_ARN").ok(),
            sweep_arn: std::env::var("SWEEP_STATE_MACHINE_ARN").ok(),
        }
    }

    /// The client of an operator's tool: the state machines of stage `stage` (`ticketing-<stage>-...`), found
    /// by name.
    pub async fn for_stage(stage: &str) -> Result<Self, AppError> {
        let config = crate::aws::sdk_config().await;
        let client = aws_sdk_sfn::Client::new(&config);
        let mut machines = std::collections::HashMap::new();
        let mut pages = client.list_state_machines().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AppError::Dependency(format!("ListStateMachines: {e:?}")))?;
            for m in page.state_machines() {
                machines.insert(m.name().to_string(), m.state_machine_arn().to_string());
            }
        }
        let arn = |suffix: &str| {
            machines
                .get(&format!("ticketing-{stage}-{suffix}"))
                .cloned()
                .ok_or_else(|| {
                    AppError::Dependency(format!(
                        "no state machine ticketing-{stage}-{suffix}: is stage {stage} deployed?"
                    ))
                })
        };
        Ok(SagaClient {
            state_machine_arn: Some(arn("reservation")?),
            cancellation_arn: Some(arn("cancellation")?),
            sweep_arn: Some(arn("showtime-cancellation")?),
            client: client.into(),
        })
    }

    /// Starts an execution named `name`: a second start (a retried request) is the same execution.
    async fn start_named(
        &self,
        arn: Option<&str>,
        env: &str,
        name: &str,
        input: Value,
    ) -> Result<(), AppError> {
        let arn = arn.ok_or_else(|| AppError::Dependency(format!("{env} is not set")))?;
        match self
            .client
            .start_execution()
            .state_machine_arn(arn)
            .name(name)
            .input(input.to_string())
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_execution_already_exists()) =>
            {
                Ok(())
            }
            Err(err) => Err(AppError::Dependency(format!("StartExecution: {err:?}"))),
        }
    }

    /// Where the execution `name` of `machine` stands (DescribeExecution): the guard before anything is
    /// started again, so that two runs of the same steps never overlap.
    pub async fn execution(&self, machine: Machine, name: &str) -> Result<Execution, AppError> {
        let (arn, env) = match machine {
            Machine::Reservation => (self.state_machine_arn.as_deref(), "STATE_MACHINE_ARN"),
            Machine::Cancellation => (
                self.cancellation_arn.as_deref(),
                "CANCELLATION_STATE_MACHINE_ARN",
            ),
            Machine::Sweep => (self.sweep_arn.as_deref(), "SWEEP_STATE_MACHINE_ARN"),
        };
        let arn = arn.ok_or_else(|| AppError::Dependency(format!("{env} is not set")))?;
        let execution_arn = format!(
            "{}:{name}",
            arn.replacen(":stateMachine:", ":execution:", 1)
        );
        match self
            .client
            .describe_execution()
            .execution_arn(execution_arn)
            .send()
            .await
        {
            Ok(out) => Ok(match out.status() {
                aws_sdk_sfn::types::ExecutionStatus::Running
                | aws_sdk_sfn::types::ExecutionStatus::PendingRedrive => Execution::Running,
                other => Execution::Ended(other.as_str().to_string()),
            }),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_execution_does_not_exist()) =>
            {
                Ok(Execution::Missing)
            }
            Err(err) => Err(AppError::Dependency(format!("DescribeExecution: {err:?}"))),
        }
    }

    /// Starts the saga of a held reservation, named after it.
    pub async fn start(
        &self,
        reservation_id: &str,
        payment: Option<&PaymentInput>,
    ) -> Result<(), AppError> {
        let mut input = json!({"reservationId": reservation_id});
        if let Some(p) = payment {
            input["payment"] =
                serde_json::to_value(p).map_err(|e| AppError::Corrupt(e.to_string()))?;
        }
        self.start_named(
            self.state_machine_arn.as_deref(),
            "STATE_MACHINE_ARN",
            reservation_id,
            input,
        )
        .await
    }

    /// Starts the cancellation saga of a pending cancellation, named [`Cancellation::run_name`] (its id, or
    /// `<id>-<n>` once resumed).
    pub async fn start_cancellation(
        &self,
        reservation_id: &str,
        cancellation: &Cancellation,
    ) -> Result<(), AppError> {
        self.start_named(
            self.cancellation_arn.as_deref(),
            "CANCELLATION_STATE_MACHINE_ARN",
            &cancellation.run_name(),
            json!({"reservationId": reservation_id, "cancellationId": cancellation.id}),
        )
        .await
    }

    /// Starts run `run` of an organizer's sweep over a cancelled showtime, named
    /// [`sweep_run_name`] (`<showtimeId>-<run>`, then `<showtimeId>-<run>-<n>` once resumed).
    pub async fn start_sweep(
        &self,
        showtime_id: &str,
        (run, resumed): (u64, u64),
        reason: &str,
    ) -> Result<(), AppError> {
        self.start_named(
            self.sweep_arn.as_deref(),
            "SWEEP_STATE_MACHINE_ARN",
            &sweep_run_name(showtime_id, run, resumed),
            json!({
                "showtimeId": showtime_id,
                "run": run,
                "reason": reason,
                "page": {"cursor": "", "seen": 0, "since": ""},
                // The second pass looks at reservations made from 10 s before the showtime was
                // cancelled on (the index is eventually consistent).
                "recheckSince": crate::domain::performance::format_instant(
                    OffsetDateTime::now_utc() - time::Duration::seconds(10)
                ),
            }),
        )
        .await
    }

    /// Ends a pay-later wait whose hold was cancelled: the wait fails with `HoldEnded`, and the saga releases
    /// (a no-op on a released hold) and ends. A wait that is over already is left alone.
    ///
    /// Bounded: a request must not hang on it. A wait not ended here ends when the hold would have run out
    /// (its Expire step is a no-op on a released hold), so the seats and money are right either way.
    pub async fn end_wait(&self, task_token: &str) -> Result<(), AppError> {
        let call = self
            .client
            .send_task_failure()
            .task_token(task_token)
            .error("HoldEnded")
            .cause("the hold was cancelled")
            .send();
        let Ok(result) = tokio::time::timeout(std::time::Duration::from_secs(3), call).await else {
            tracing::warn!("SendTaskFailure took over 3 s; the wait ends with the hold instead");
            return Ok(());
        };
        match result {
            Ok(_) => Ok(()),
            Err(err)
                if err.as_service_error().is_some_and(|e| {
                    e.is_task_timed_out() || e.is_task_does_not_exist() || e.is_invalid_token()
                }) =>
            {
                Ok(())
            }
            Err(err) => Err(AppError::Dependency(format!("SendTaskFailure: {err:?}"))),
        }
    }

    /// Ends the pay-later wait with `payment`. `Ok(false)` when the wait is over (paid already, or the hold
    /// ran out): the token no longer answers.
    pub async fn send_payment(
        &self,
        task_token: &str,
        payment: &PaymentInput,
    ) -> Result<bool, AppError> {
        let output =
            serde_json::to_string(payment).map_err(|e| AppError::Corrupt(e.to_string()))?;
        match self
            .client
            .send_task_success()
            .task_token(task_token)
            .output(output)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(err)
                if err.as_service_error().is_some_and(|e| {
                    e.is_task_timed_out() || e.is_task_does_not_exist() || e.is_invalid_token()
                }) =>
            {
                Ok(false)
            }
            Err(err) => Err(AppError::Dependency(format!("SendTaskSuccess: {err:?}"))),
        }
    }
}
