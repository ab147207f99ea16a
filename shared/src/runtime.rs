//! What every Lambda binary does: install logging, build its clients once, run the handler loop.

use crate::auth::SigningKeys;
use crate::cache::TtlCache;
use crate::store::Store;
pub use lambda_http::Error;
use lambda_http::{service_fn, Body, Request, RequestExt, Response};
use std::convert::Infallible;
use std::future::Future;
use tracing::Instrument;

/// Shared, cheaply clonable state handed to every request of an API function.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    /// The token key, for the public reads that show more to a signed-in viewer (their functions get
    /// `SIGNING_KEY_SECRET_ARN`); `None` elsewhere.
    pub keys: Option<SigningKeys>,
    /// Per-container caches (each states its staleness bound).
    pub caches: Caches,
    /// The card provider's circuit breaker (its state cached a second per container).
    pub breaker: crate::payments::breaker::CircuitBreaker,
}

/// What one container keeps between requests.
#[derive(Clone, Debug)]
pub struct Caches {
    /// Waiting rooms, for joins and polls: a poll sees the serving number at most [`ROOM_TTL`] late.
    pub rooms: TtlCache<crate::store::waiting_room::Room>,
    /// Performances, for holds: a hold sees a change of the sale window, hold length or publication at most
    /// [`PERFORMANCE_TTL`] late. A cancellation is seen at once: it cancels every showtime, and holds read
    /// the showtime fresh.
    pub performances: TtlCache<crate::domain::performance::Performance>,
    /// Closed queue slots (total, tickets before, shard counts): they never change once closed.
    pub slot_counts: TtlCache<crate::store::waiting_room::ClosedSlot>,
}

/// How stale a performance a hold reads may be.
pub const PERFORMANCE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// How stale a cached waiting room may be.
pub const ROOM_TTL: std::time::Duration = std::time::Duration::from_secs(1);

impl Default for Caches {
    fn default() -> Self {
        Caches {
            rooms: TtlCache::new(ROOM_TTL, 256),
            performances: TtlCache::new(PERFORMANCE_TTL, 256),
            slot_counts: TtlCache::new(std::time::Duration::from_secs(600), 512),
        }
    }
}

impl AppState {
    pub fn new(store: Store, keys: Option<SigningKeys>) -> Self {
        AppState {
            breaker: crate::payments::breaker::CircuitBreaker::from_env(store.clone()),
            store,
            keys,
            caches: Caches::default(),
        }
    }

    /// Reads `TABLE_NAME` (and `SIGNING_KEY_SECRET_ARN` when set) and builds the clients. No network I/O
    /// happens here: the key is fetched on first use.
    pub async fn from_env() -> Result<Self, Error> {
        let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;
        let config = crate::aws::sdk_config().await;
        let keys = match std::env::var(crate::auth::keys::SECRET_ARN_ENV) {
            Ok(arn) => Some(SigningKeys::from_secrets_manager(
                crate::aws::Lazy::new(&config, aws_sdk_secretsmanager::Client::new),
                arn,
            )),
            Err(_) => None,
        };
        Ok(AppState::new(
            Store::new(
                crate::aws::Lazy::new(&config, aws_sdk_dynamodb::Client::new),
                table,
            ),
            keys,
        ))
    }
}

/// Runs an HTTP API handler under the Lambda runtime. Each request is handled inside a span that carries
/// the Lambda request id and API Gateway's request id, so every log line can be correlated.
pub async fn run_http<S, H, Fut>(state: S, handler: H) -> Result<(), Error>
where
    S: Clone + Send + Sync + 'static,
    H: Fn(S, Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    lambda_http::run(service_fn(move |req: Request| {
        let request_id = req
            .lambda_context_ref()
            .map(|ctx| ctx.request_id.clone())
            .unwrap_or_default();
        let api_request_id = match req.request_context_ref() {
            Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) => {
                ctx.request_id.clone().unwrap_or_default()
            }
            _ => String::new(),
        };
        let span = tracing::info_span!(
            "request",
            request_id = %request_id,
            api_request_id = %api_request_id,
            method = %req.method(),
            path = %req.uri().path(),
        );
        let fut = handler(state.clone(), req);
        async move {
            let response = fut.instrument(span.clone()).await;
            span.in_scope(|| tracing::info!(status = response.status().as_u16(), "request done"));
            Ok::<_, Infallible>(response)
        }
    }))
    .await
}

/// What the cancellation routes need: the table and the sagas.
#[derive(Clone, Debug)]
pub struct CancelRouteState {
    pub app: AppState,
    pub saga: crate::sfn::SagaClient,
}

impl CancelRouteState {
    pub async fn from_env() -> Result<Self, Error> {
        Ok(CancelRouteState {
            app: AppState::from_env().await?,
            saga: crate::sfn::SagaClient::from_env().await,
        })
    }
}
