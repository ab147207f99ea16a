//! Event consumer: settlement, each money event booked in its organizer's statement (shared/src/app/settlement.rs).
#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ticketing::telemetry::init();
    let state = ticketing::consumers::ConsumerState::from_env(
        ticketing::consumers::ConsumerKind::Settlement,
    )
    .await?;
    ticketing::consumers::serve(state).await
}
