//! `GET /admin/payment-provider`
#[tokio::main]
async fn main() -> Result<(), ticketing::runtime::Error> {
    ticketing::telemetry::init();
    let state = ticketing::runtime::AppState::from_env().await?;
    ticketing::runtime::run_http(state, ticketing::handlers::payments::provider).await
}
