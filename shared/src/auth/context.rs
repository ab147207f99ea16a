//! What the authorizer hands to the route's function (`requestContext.authorizer.lambda`).
//!
//! `{"memberId": "...", "role": "USER", "tokenId": "<jti>", "tokenExpiresAt": <epoch seconds>}`.
//! [`super::caller`] reads the first two; [`token_of`] reads the token fields (logout needs them).

use crate::domain::member::Role;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerContext {
    pub member_id: String,
    pub role: String,
    pub token_id: String,
    pub token_expires_at: i64,
}

impl AuthorizerContext {
    pub fn new(member_id: &str, role: Role, token_id: &str, token_expires_at: i64) -> Self {
        AuthorizerContext {
            member_id: member_id.to_string(),
            role: role.as_str().to_string(),
            token_id: token_id.to_string(),
            token_expires_at,
        }
    }
}

/// The bearer token behind a request, as the authorizer described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRef {
    /// The token's `jti`.
    pub id: String,
    /// The token's `exp`, epoch seconds.
    pub expires_at: i64,
}

/// The token of a protected route's request, or `None` when the authorizer did not describe one.
pub fn token_of(req: &Request) -> Option<TokenRef> {
    let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() else {
        return None;
    };
    let fields = &ctx.authorizer.as_ref()?.fields;
    let id = fields.get("tokenId")?.as_str()?.to_string();
    let expires_at = match fields.get("tokenExpiresAt")? {
        serde_json::Value::Number(n) => n.as_i64()?,
        serde_json::Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    (!id.is_empty()).then_some(TokenRef { id, expires_at })
}
