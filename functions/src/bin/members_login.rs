//! `POST /login`
#[tokio::main]
async fn main() -> Result<(), ticketing::runtime::Error> {
    ticketing::telemetry::init();
    let state = ticketing::handlers::members::LoginState::from_env().await?;
    ticketing::runtime::run_http(state, ticketing::handlers::members::login).await
}
