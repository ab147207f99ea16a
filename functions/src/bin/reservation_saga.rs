//! The steps of the reservation saga (statemachines/reservation.asl.json).
#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ticketing::telemetry::init();
    let state = ticketing::saga::SagaState::from_env().await?;
    ticketing::saga::serve(state).await
}
