//! `GET /health`
#[tokio::main]
async fn main() -> Result<(), ticketing::runtime::Error> {
    ticketing::telemetry::init();
    ticketing::runtime::run_http((), |(), req| ticketing::handlers::health::get(req)).await
}
