//! Event consumer: the my-page projector (CQRS read model) (shared/src/consumers.rs).
#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ticketing::telemetry::init();
    let state =
        ticketing::consumers::ConsumerState::from_env(ticketing::consumers::ConsumerKind::MyPage)
            .await?;
    ticketing::consumers::serve(state).await
}
