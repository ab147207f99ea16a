//! `POST /reservations/{reservationId}/payment`
#[tokio::main]
async fn main() -> Result<(), ticketing::runtime::Error> {
    ticketing::telemetry::init();
    let state = ticketing::handlers::reservations::SagaRouteState::from_env().await?;
    ticketing::runtime::run_http(state, ticketing::handlers::reservations::pay).await
}
