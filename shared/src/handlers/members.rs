//! Members: `POST /signup`, `POST /login`, `POST /logout`, `GET|PUT|DELETE /members/{memberId}`.
//!
//! Signup and login are public routes; the others sit behind the Lambda authorizer, whose context names
//! the caller ([`crate::auth::caller`]). A member may read, change and delete only themself; an admin may
//! do so for anyone, and only an admin may change a role. Anybody else gets 403, decided from the path
//! before any read (so the answer is the same whether or not that member exists).

use crate::auth::{caller, jwt, token_of, Caller, SigningKeys};
use crate::domain::ids::parse_id;
use crate::domain::member::{LoginInput, SignupInput, UpdateMemberInput, SIGNUP_ROLES};
use crate::domain::performance::format_instant;
use crate::error::AppError;
use crate::http::{into_response, json_response, parse_json, path_param};
use crate::runtime::AppState;
use crate::store::Store;
use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use time::OffsetDateTime;

pub const ACCESS_TOKEN_TTL_ENV: &str = "ACCESS_TOKEN_TTL_SECONDS";
/// Accepted range of `ACCESS_TOKEN_TTL_SECONDS`: one minute to one day.
pub const ACCESS_TOKEN_TTL_RANGE: std::ops::RangeInclusive<u64> = 60..=86_400;

/// State of the login function: the table, the signing key, the token lifetime.
#[derive(Clone, Debug)]
pub struct LoginState {
    pub store: Store,
    pub keys: SigningKeys,
    pub access_token_ttl_seconds: u64,
}

impl LoginState {
    /// Reads `TABLE_NAME`, `SIGNING_KEY_SECRET_ARN` and `ACCESS_TOKEN_TTL_SECONDS` (default 3600). No
    /// network I/O: the key is fetched on the first login.
    pub async fn from_env() -> Result<Self, crate::runtime::Error> {
        let app = AppState::from_env().await?;
        let keys = SigningKeys::from_env().await?;
        let access_token_ttl_seconds = match std::env::var(ACCESS_TOKEN_TTL_ENV) {
            Err(_) => jwt::DEFAULT_TTL_SECONDS,
            Ok(raw) => raw
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|ttl| ACCESS_TOKEN_TTL_RANGE.contains(ttl))
                .ok_or_else(|| {
                    format!(
                        "{ACCESS_TOKEN_TTL_ENV} must be whole seconds from {} to {}",
                        ACCESS_TOKEN_TTL_RANGE.start(),
                        ACCESS_TOKEN_TTL_RANGE.end()
                    )
                })?,
        };
        Ok(LoginState {
            store: app.store,
            keys,
            access_token_ttl_seconds,
        })
    }
}

/// `POST /login` answer (OAuth 2.0 token response style, camelCase like the rest of the API).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub member_id: String,
    pub role: crate::domain::member::Role,
}

fn not_found(id: &str) -> AppError {
    AppError::NotFound {
        entity: "member",
        id: id.to_string(),
    }
}

/// The member id named in the path, or 404 when it cannot be one of ours.
fn member_id(req: &Request) -> Result<String, AppError> {
    let raw = path_param(req, "memberId")?;
    parse_id(&raw).ok_or_else(|| not_found(&raw))
}

/// The caller and the member they name: 401 without a caller; 403 when a non-admin names anyone but
/// themself (decided from the path alone, before any read, so it says nothing about whether that member
/// exists); 404 when an admin names an id that cannot exist.
fn caller_and_target(req: &Request) -> Result<(Caller, String), AppError> {
    let caller = caller(req)?;
    if !caller.is_admin() {
        let raw = path_param(req, "memberId")?;
        if parse_id(&raw).as_deref() != Some(caller.member_id.as_str()) {
            return Err(AppError::Forbidden(
                "a member may only see and change their own account".into(),
            ));
        }
    }
    let id = member_id(req)?;
    Ok((caller, id))
}

fn now() -> (OffsetDateTime, String) {
    let now = OffsetDateTime::now_utc();
    (now, format_instant(now))
}

fn no_content() -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

pub async fn signup(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let input: SignupInput = parse_json(&req)?;
            let new = input
                .validate(&SIGNUP_ROLES)
                .map_err(AppError::Validation)?;
            let member = crate::app::members::register(&state.store, new).await?;
            tracing::info!(member_id = %member.id, role = member.role.as_str(), "member signed up");
            let mut response = json_response(StatusCode::CREATED, &member);
            if let Ok(location) = HeaderValue::from_str(&format!("/members/{}", member.id)) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            Ok(response)
        }
        .await,
    )
}

/// `POST /login`. A wrong password, an unknown email and an email that cannot exist all get the same
/// 401, after the same amount of password hashing.
pub async fn login(state: LoginState, req: Request) -> Response<Body> {
    into_response(
        async {
            let input: LoginInput = parse_json(&req)?;
            let credentials = input.validate().map_err(AppError::Validation)?;
            let member = crate::app::members::authenticate(&state.store, credentials).await?;
            let key = state.keys.get().await?;
            let (now, _) = now();
            let issued = jwt::issue(
                key,
                &member.id,
                member.role,
                now.unix_timestamp(),
                state.access_token_ttl_seconds,
            )?;
            tracing::info!(member_id = %member.id, token_id = %issued.claims.jti, "logged in");
            let mut response = json_response(
                StatusCode::OK,
                &LoginResponse {
                    access_token: issued.token,
                    token_type: "Bearer",
                    expires_in: state.access_token_ttl_seconds,
                    member_id: member.id,
                    role: member.role,
                },
            );
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(response)
        }
        .await,
    )
}

/// `POST /logout`: the bearer token of this request is refused from now on (204).
pub async fn logout(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            let token = token_of(&req).ok_or(AppError::Unauthorized)?;
            state
                .store
                .revoke_token(&token.id, &caller.member_id, token.expires_at)
                .await?;
            tracing::info!(member_id = %caller.member_id, token_id = %token.id, "logged out");
            Ok(no_content())
        }
        .await,
    )
}

/// `GET /members/{memberId}`.
pub async fn get(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let (_, id) = caller_and_target(&req)?;
            let stored = state
                .store
                .get_member(&id)
                .await?
                .ok_or_else(|| not_found(&id))?;
            Ok(json_response(StatusCode::OK, &stored.member))
        }
        .await,
    )
}

/// `PUT /members/{memberId}`: name, email, password (with `currentPassword` when changing one's own email
/// or password) and, for admins, role. A password change also retires every token issued before it.
pub async fn update(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let (caller, id) = caller_and_target(&req)?;
            let input: UpdateMemberInput = parse_json(&req)?;
            if input.role.is_some() && !caller.is_admin() {
                return Err(AppError::Forbidden(
                    "only an admin may change a member's role".into(),
                ));
            }
            let change = input.validate().map_err(AppError::Validation)?;
            let (updated, update) =
                crate::app::members::update(&state.store, &caller, &id, change).await?;
            tracing::info!(
                member_id = %id,
                by = %caller.member_id,
                name = update.name.is_some(),
                email = update.email.is_some(),
                password = update.password_hash.is_some(),
                role = ?update.role,
                "member updated"
            );
            Ok(json_response(StatusCode::OK, &updated.member))
        }
        .await,
    )
}

/// `DELETE /members/{memberId}`: profile and email claim go together; the member's tokens stop working
/// because the authorizer requires the profile.
pub async fn delete(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let (caller, id) = caller_and_target(&req)?;
            state.store.delete_member(&id).await?;
            tracing::info!(member_id = %id, by = %caller.member_id, "member deleted");
            Ok(no_content())
        }
        .await,
    )
}
