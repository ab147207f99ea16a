//! The Lambda authorizer of the HTTP API (payload format 2.0, simple responses).
//!
//! For every request to a protected route API Gateway sends the request (identity source: the
//! `Authorization` header) and gets back `{"isAuthorized": bool, "context": {...}}`. A request is allowed
//! when its bearer token verifies ([`crate::auth::jwt::verify`]: HS256 under our key, issuer, audience,
//! expiry) **and** one consistent `BatchGetItem` (store pattern M8) shows that the member still exists, the
//! token was not revoked (logout), and it was not issued before the member's last password change. The
//! role in the context comes from the stored profile, so role changes apply to the next request.
//!
//! A bad token is never an error: the answer is `isAuthorized: false` (API Gateway: 403). Failing to reach
//! DynamoDB or Secrets Manager is an error (API Gateway: 500), logged here. Tokens are never logged.

use crate::auth::jwt::{bearer_token, verify};
use crate::auth::{AuthorizerContext, SigningKeys};
use crate::error::AppError;
use crate::runtime::AppState;
use crate::store::Store;
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request,
};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;
use tracing::Instrument;

pub type Request = ApiGatewayV2CustomAuthorizerV2Request;
pub type Response = ApiGatewayV2CustomAuthorizerSimpleResponse<Value>;

/// The authorizer's state: the table and the signing key (fetched on first use).
#[derive(Clone, Debug)]
pub struct AuthorizerState {
    pub store: Store,
    pub keys: SigningKeys,
}

impl AuthorizerState {
    /// Reads `TABLE_NAME` and `SIGNING_KEY_SECRET_ARN`. No network I/O.
    pub async fn from_env() -> Result<Self, crate::runtime::Error> {
        let app = AppState::from_env().await?;
        let keys = match app.keys {
            Some(keys) => keys,
            None => SigningKeys::from_env().await?,
        };
        Ok(AuthorizerState {
            store: app.store,
            keys,
        })
    }
}

/// The decision for one request, with the reason of a refusal (for the log, never for the client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow(AuthorizerContext),
    Deny(&'static str),
}

impl Decision {
    pub fn into_response(self) -> Response {
        let mut response = Response::default();
        match self {
            Decision::Allow(context) => {
                response.is_authorized = true;
                response.context = serde_json::to_value(context)
                    .unwrap_or_else(|_| Value::Object(Default::default()));
            }
            Decision::Deny(_) => {
                response.is_authorized = false;
                response.context = Value::Object(Default::default());
            }
        }
        response
    }
}

/// The raw `Authorization` value: the identity source API Gateway resolved, else the header itself.
fn authorization(event: &Request) -> Option<&str> {
    event
        .identity_source
        .as_ref()
        .and_then(|sources| sources.iter().find(|s| !s.trim().is_empty()))
        .map(String::as_str)
        .or_else(|| {
            event
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
        })
}

/// Decides one request. `Err` only when a dependency failed.
pub async fn decide(state: &AuthorizerState, event: &Request) -> Result<Decision, AppError> {
    decide_authorization(&state.store, &state.keys, authorization(event)).await
}

/// Decides an `Authorization` value (the authorizer's rule, also used by public reads that show more to a
/// signed-in viewer). `Err` only when a dependency failed.
pub async fn decide_authorization(
    store: &Store,
    keys: &SigningKeys,
    authorization: Option<&str>,
) -> Result<Decision, AppError> {
    let Some(token) = authorization.and_then(bearer_token) else {
        return Ok(Decision::Deny("no bearer token"));
    };
    let key = keys.get().await?;
    let claims = match verify(key, token) {
        Ok(claims) => claims,
        Err(AppError::Unauthorized) => return Ok(Decision::Deny("token did not verify")),
        Err(other) => return Err(other),
    };
    let session = store.session(&claims.sub, &claims.jti).await?;
    let Some(member) = session.member else {
        return Ok(Decision::Deny("member no longer exists"));
    };
    if session.revoked {
        return Ok(Decision::Deny("token was revoked"));
    }
    if member
        .tokens_valid_after
        .is_some_and(|after| claims.iat < after)
    {
        return Ok(Decision::Deny("token predates the last password change"));
    }
    Ok(Decision::Allow(AuthorizerContext::new(
        &member.member.id,
        member.member.role,
        &claims.jti,
        claims.exp,
    )))
}

/// One invocation: the decision as API Gateway expects it, logged.
pub async fn handle(state: &AuthorizerState, event: &Request) -> Result<Response, Diagnostic> {
    match decide(state, event).await {
        Ok(decision) => {
            match &decision {
                Decision::Allow(ctx) => tracing::info!(
                    decision = "allow",
                    member_id = %ctx.member_id,
                    role = %ctx.role,
                    token_id = %ctx.token_id,
                    "authorized"
                ),
                Decision::Deny(reason) => tracing::info!(decision = "deny", reason, "refused"),
            }
            Ok(decision.into_response())
        }
        Err(err) => {
            tracing::error!(error = %err, "authorizer failed");
            Err(Diagnostic {
                error_type: "AuthorizerError".into(),
                error_message: "the authorizer could not reach a dependency".into(),
            })
        }
    }
}

/// Runs the authorizer under the Lambda runtime.
pub async fn run(state: AuthorizerState) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Request>| {
        let state = state.clone();
        // Boxed: the SDK futures nest deep enough to overflow the compiler's layout recursion limit.
        Box::pin(async move {
            let span = tracing::info_span!(
                "authorize",
                request_id = %event.context.request_id,
                api_request_id = %event.payload.request_context.request_id.as_deref().unwrap_or_default(),
                route = %event.payload.route_key.as_deref().unwrap_or_default(),
            );
            handle(&state, &event.payload).instrument(span).await
        })
    }))
    .await
}
