//! The `$default` route: 405 with `Allow` for a method a path does not take, 404 for an unknown path.
#[tokio::main]
async fn main() -> Result<(), ticketing::runtime::Error> {
    ticketing::telemetry::init();
    ticketing::runtime::run_http((), |(), req| ticketing::openapi::fallback::handle(req)).await
}
