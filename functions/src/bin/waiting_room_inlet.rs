//! The waiting room's inlet (shared/src/waiting_room.rs), on a schedule.
#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ticketing::telemetry::init();
    ticketing::inlet::serve().await
}
