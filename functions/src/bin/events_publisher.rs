//! The outbox publisher: new event items from the table's stream, onto the bus (shared/src/outbox.rs).
#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ticketing::telemetry::init();
    let state = ticketing::outbox::OutboxState::from_env().await?;
    ticketing::outbox::serve(state).await
}
