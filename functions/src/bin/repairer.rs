//! The repairer (shared/src/repair.rs): finishes what dead processes left half-done; scheduled once a minute.
#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ticketing::telemetry::init();
    let state = ticketing::saga::SagaState::from_env().await?;
    ticketing::repair::serve(state).await
}
