//! Event consumer: the notifier: notifications and mail (shared/src/consumers.rs).
#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ticketing::telemetry::init();
    let state =
        ticketing::consumers::ConsumerState::from_env(ticketing::consumers::ConsumerKind::Notifier)
            .await?;
    ticketing::consumers::serve(state).await
}
