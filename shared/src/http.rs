//! HTTP helpers shared by every handler: JSON in and out, and the one place where [`AppError`] becomes an
//! `application/problem+json` response (RFC 9457) with a stable `type`.

use crate::error::{AppError, FieldError};
use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";
pub const JSON: &str = "application/json";

/// A problem document. `type` is a stable, relative URI that clients may switch on.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// With `/problems/seats-unavailable`: the requested seats someone else holds or bought.
    #[serde(rename = "unavailableSeats", skip_serializing_if = "Vec::is_empty")]
    pub unavailable_seats: Vec<crate::domain::seat::SeatId>,
    /// With `/problems/ticket-limit`: how many seats of the showtime the member holds and owns now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<u32>,
    /// With `/problems/ticket-limit`: the most the performance allows one member per showtime. With
    /// `/problems/rate-limited`: the requests one member may send on the route per 10 s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// With `/problems/payment-declined`: the provider's reason (`card_declined`, `insufficient_funds`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl Problem {
    fn new(slug: &str, title: &'static str, status: StatusCode, detail: String) -> Self {
        Problem {
            kind: format!("/problems/{slug}"),
            title,
            status: status.as_u16(),
            detail,
            errors: Vec::new(),
            unavailable_seats: Vec::new(),
            current: None,
            limit: None,
            code: None,
        }
    }
}

/// Maps an error to its problem document. Server-side failures are logged here and answered without internals.
pub fn problem_for(err: &AppError) -> Problem {
    match err {
        AppError::Validation(errors) if AppError::is_rule_violation(errors) => Problem {
            errors: errors.clone(),
            ..Problem::new(
                "unprocessable",
                "The request breaks a rule",
                StatusCode::UNPROCESSABLE_ENTITY,
                err.to_string(),
            )
        },
        AppError::Validation(errors) => Problem {
            errors: errors.clone(),
            ..Problem::new(
                "validation-error",
                "The request is invalid",
                StatusCode::BAD_REQUEST,
                err.to_string(),
            )
        },
        AppError::MalformedBody(_) => Problem::new(
            "malformed-body",
            "The request body is not valid",
            StatusCode::BAD_REQUEST,
            err.to_string(),
        ),
        AppError::UnsupportedMediaType => Problem::new(
            "unsupported-media-type",
            "Unsupported media type",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            err.to_string(),
        ),
        AppError::Unauthorized => Problem::new(
            "unauthorized",
            "Authentication required",
            StatusCode::UNAUTHORIZED,
            "a valid bearer token is required".to_string(),
        ),
        AppError::InvalidCredentials => Problem::new(
            "invalid-credentials",
            "Invalid credentials",
            StatusCode::UNAUTHORIZED,
            err.to_string(),
        ),
        AppError::Forbidden(_) => Problem::new(
            "forbidden",
            "Forbidden",
            StatusCode::FORBIDDEN,
            err.to_string(),
        ),
        AppError::AdmissionRefused(refusal) => Problem::new(
            refusal.problem_type(),
            refusal.title(),
            StatusCode::FORBIDDEN,
            err.to_string(),
        ),
        AppError::NotFound { .. } => Problem::new(
            "not-found",
            "Not found",
            StatusCode::NOT_FOUND,
            err.to_string(),
        ),
        AppError::MethodNotAllowed { .. } => Problem::new(
            "method-not-allowed",
            "Method not allowed",
            StatusCode::METHOD_NOT_ALLOWED,
            err.to_string(),
        ),
        AppError::PreconditionFailed { .. } => Problem::new(
            "precondition-failed",
            "The resource has changed",
            StatusCode::PRECONDITION_FAILED,
            err.to_string(),
        ),
        AppError::SeatsUnavailable(seats) => Problem {
            unavailable_seats: seats.clone(),
            ..Problem::new(
                "seats-unavailable",
                "Seats unavailable",
                StatusCode::CONFLICT,
                err.to_string(),
            )
        },
        AppError::TicketLimit(reached) => Problem {
            current: Some(reached.current),
            limit: Some(reached.limit),
            ..Problem::new(
                "ticket-limit",
                "Ticket limit reached",
                StatusCode::CONFLICT,
                err.to_string(),
            )
        },
        AppError::RateLimited(limited) => Problem {
            limit: Some(limited.limit.requests),
            ..Problem::new(
                "rate-limited",
                "Too many requests",
                StatusCode::TOO_MANY_REQUESTS,
                err.to_string(),
            )
        },
        AppError::Conflict(_) | AppError::Busy(_) => Problem::new(
            "conflict",
            "Conflict",
            StatusCode::CONFLICT,
            err.to_string(),
        ),
        AppError::PaymentDeclined { code } => Problem {
            code: Some(code.clone()),
            ..Problem::new(
                "payment-declined",
                "Payment declined",
                StatusCode::PAYMENT_REQUIRED,
                err.to_string(),
            )
        },
        AppError::ProviderUnavailable(_) => {
            tracing::error!(error = %err, "payment provider unavailable");
            Problem::new(
                "payment-provider-unavailable",
                "Payment provider unavailable",
                StatusCode::SERVICE_UNAVAILABLE,
                "the payment provider did not answer; nothing was charged twice, and a retry with the same \
                 Idempotency-Key is safe"
                    .to_string(),
            )
        }
        AppError::ProviderPaused { .. } => {
            tracing::warn!(error = %err, "card payment refused by the provider's breaker");
            Problem::new(
                "payment-provider-unavailable",
                "Payment provider unavailable",
                StatusCode::SERVICE_UNAVAILABLE,
                err.to_string(),
            )
        }
        AppError::Dependency(_) | AppError::Corrupt(_) => {
            tracing::error!(error = %err, "request failed on the server side");
            Problem::new(
                "internal",
                "Internal error",
                StatusCode::INTERNAL_SERVER_ERROR,
                "the request could not be completed; it is safe to retry".to_string(),
            )
        }
    }
}

pub fn problem_response(err: &AppError) -> Response<Body> {
    let problem = problem_for(err);
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_client_error() {
        tracing::info!(status = problem.status, kind = %problem.kind, detail = %problem.detail, "request refused");
    }
    let mut response = respond(status, PROBLEM_JSON, &problem);
    if let Some(seconds) = err.retry_after() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

pub fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    respond(status, JSON, value)
}

fn respond<T: Serialize>(
    status: StatusCode,
    content_type: &'static str,
    value: &T,
) -> Response<Body> {
    // Serializing our own plain structs cannot fail; fall back to an empty object rather than panic.
    let body = serde_json::to_string(value).unwrap_or_else(|_| "{}".to_string());
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Turns a handler result into the HTTP response; the only place errors become responses.
pub fn into_response(result: Result<Response<Body>, AppError>) -> Response<Body> {
    result.unwrap_or_else(|err| problem_response(&err))
}

/// Parses a JSON body into `T`, naming the offending field on failure (`venue.name: invalid type ...`).
pub fn parse_json<T: DeserializeOwned>(req: &Request) -> Result<T, AppError> {
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
        let essence = ct.split(';').next().unwrap_or_default().trim();
        if essence != JSON && !essence.ends_with("+json") {
            return Err(AppError::UnsupportedMediaType);
        }
    }
    let bytes: &[u8] = match req.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AppError::MalformedBody(
            "the body is empty; a JSON object is required".into(),
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if path == "." || path.is_empty() {
            AppError::MalformedBody(inner.to_string())
        } else {
            AppError::MalformedBody(format!("{path}: {inner}"))
        }
    })
}

/// A path parameter the route guarantees; a missing one means the route and handler disagree.
pub fn path_param(req: &Request, name: &str) -> Result<String, AppError> {
    req.path_parameters_ref()
        .and_then(|params| params.first(name))
        .map(str::to_owned)
        .ok_or_else(|| AppError::invalid(name, "path parameter is missing"))
}

/// An optional query string parameter.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref()
        .and_then(|params| params.first(name))
        .map(str::to_owned)
}

pub use crate::domain::rules::PAGE_LIMIT;

/// `?limit=` ([`PAGE_LIMIT`]), `default` when absent.
pub fn limit_param(req: &Request, default: u32) -> Result<u32, AppError> {
    match query_param(req, "limit") {
        None => Ok(default),
        Some(raw) => PAGE_LIMIT
            .parse("limit", &raw)
            .map(|n| u32::try_from(n).unwrap_or(default))
            .map_err(|e| AppError::Validation(vec![e])),
    }
}

/// `?cursor=`: the `nextCursor` of a previous page, checked for its shape here and for its content by the
/// listing (422 when it names no position of that listing).
pub fn cursor_param(req: &Request) -> Result<Option<String>, AppError> {
    query_param(req, "cursor")
        .map(|raw| {
            crate::domain::rules::CURSOR
                .check("cursor", &raw)
                .map(|()| raw)
                .map_err(|e| AppError::Validation(vec![e]))
        })
        .transpose()
}

/// An optional query parameter that must be one of an enum's values, spelled exactly.
pub fn enum_param<T>(
    req: &Request,
    name: &str,
    parse: impl Fn(&str) -> Option<T>,
    allowed: &[&str],
) -> Result<Option<T>, AppError> {
    query_param(req, name)
        .map(|raw| {
            parse(&raw).ok_or_else(|| {
                AppError::invalid(name, format!("must be one of {}", allowed.join(", ")))
            })
        })
        .transpose()
}

/// `If-Match: "3"` (or `3`, or a weak `W/"3"`): the version the client last saw.
pub fn if_match_version(req: &Request) -> Result<Option<u64>, AppError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let raw = value.to_str().unwrap_or_default();
    let rule = &crate::domain::rules::IF_MATCH;
    rule.check("If-Match", raw)
        .map_err(|e| AppError::Validation(vec![e]))?;
    let digits = raw.strip_prefix("W/").unwrap_or(raw).trim_matches('"');
    digits
        .parse::<u64>()
        .map(Some)
        .map_err(|_| AppError::invalid("If-Match", rule.message))
}

/// Adds `ETag: "<version>"` to a response.
pub fn with_etag(mut response: Response<Body>, version: u64) -> Response<Body> {
    if let Ok(value) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}
