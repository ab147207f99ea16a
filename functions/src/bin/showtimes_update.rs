//! `PUT /performances/{performanceId}/showtimes/{showtimeId}`
#[tokio::main]
async fn main() -> Result<(), ticketing::runtime::Error> {
    ticketing::telemetry::init();
    let state = ticketing::handlers::cancellations::CancelRouteState::from_env().await?;
    ticketing::runtime::run_http(state, ticketing::handlers::showtimes::update).await
}
