//! The HTTP API's Lambda authorizer (payload 2.0, simple responses).
#[tokio::main]
async fn main() -> Result<(), ticketing::runtime::Error> {
    ticketing::telemetry::init();
    let state = ticketing::handlers::authorizer::AuthorizerState::from_env().await?;
    ticketing::handlers::authorizer::run(state).await
}
