//! `GET /openapi.json`
#[tokio::main]
async fn main() -> Result<(), ticketing::runtime::Error> {
    ticketing::telemetry::init();
    ticketing::runtime::run_http((), |(), req| ticketing::openapi::get(req)).await
}
