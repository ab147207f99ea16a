//! The OpenAPI 3.1 description of the HTTP API, generated from the Rust types with utoipa and served at
//! `GET /openapi.json`. The path declarations live here, one per route of `infra/template.yaml`; a test
//! (`tests/tests/openapi.rs`) fails when the two disagree. The route that serves it is [`get`], here, so the
//! document names the handlers' types and no handler names the document; so is the `$default` route
//! ([`fallback`]), which answers from the document's paths.

pub mod fallback;

use crate::app::payment_provider::{ProviderStatus, ProviderWindow};
use crate::app::reservations::ShowtimeSales;
use crate::app::waiting_room::{TicketStatus, TicketView, WaitingRoomView};
use crate::domain::member::{LoginInput, Member, Role, SignupInput, UpdateMemberInput};
use crate::domain::my_page::{MyReservation, TimelineEntry};
use crate::domain::notification::Locale;
use crate::domain::payment::{CardSummary, Payment, PaymentMethod, PaymentStatus};
use crate::domain::performance::{
    AgeRating, Category, Performance, PerformanceInput, PerformanceStatus, RejectRequest, Venue,
};
use crate::domain::refund::{FeeBasis, FeeTier, Quote, RefundPolicy};
use crate::domain::reservation::{
    Actor, Cancellation, CancellationStatus, Change, ReservationStatus, ReservationView,
    ReservedSeat,
};
use crate::domain::rules;
use crate::domain::seat::{GradeCounts, SeatId};
use crate::domain::settlement::{Line, Origin, SettlementStatus, Totals};
use crate::domain::showtime::{GradeInput, SeatMapInput, Showtime, ShowtimeInput};
use crate::domain::waiting_room::{Settings, SettingsInput};
use crate::domain::wallet::{LedgerKind, LedgerLine};
use crate::error::FieldError;
use crate::events::{Event, EventType};
use crate::handlers::cancellations::{
    CancelRequest, CancelSeatsRequest, CancellationQuote, CancellationResult, ChangeSeatsRequest,
};
use crate::handlers::members::LoginResponse;
use crate::handlers::performances::{CancelPerformanceRequest, PerformanceCancellation};
use crate::handlers::reservations::{HoldRequest, PayRequest, PerformanceReservations};
use crate::handlers::settlements::{CommissionRate, CommissionRequest, PayoutRequest};
use crate::handlers::showtimes::CancelShowtimeRequest;
use crate::handlers::showtimes::{SeatMapView, SeatRow};
use crate::handlers::views::NotificationPage;
use crate::handlers::wallet::{CardToken, TopUpRequest, TopUpResult, WalletView};
use crate::http::{Problem, PAGE_LIMIT, PROBLEM_JSON};
use crate::saga::PaymentInput;
use crate::store::cancellations::CancellationProgress;
use crate::store::cursor::Page;
use crate::store::settlements::Statement;
use crate::store::views::Notification;
use serde_json::{json, Value};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ticketing API",
        description = "Concert and performance ticketing: catalog, members, seat holds and payments. Errors are \
                       application/problem+json documents with a stable `type`.",
    ),
    paths(
        health, openapi_json,
        signup, login, logout, get_member, update_member, delete_member,
        create_showtime, update_showtime, list_showtimes, seat_map,
        create_reservation, get_reservation, list_reservations, performance_reservations, admin_list_reservations,
        list_performances, get_performance, create_performance, update_performance,
        list_organizer_performances, admin_list_performances, approve_performance, reject_performance,
        get_wallet, charge_wallet, pay_reservation, get_payment,
        cancel_reservation, change_reservation, cancel_seats, cancellation_quote,
        cancel_showtime, showtime_cancellation, cancel_performance, admin_list_payments, payment_provider,
        list_notifications, read_notification, my_reservations, my_reservation, admin_audit,
        configure_waiting_room, join_queue, poll_queue,
        list_organizer_settlements, get_settlement, admin_list_settlements, record_payout, set_commission,
    ),
    components(schemas(
        Performance, PerformanceInput, PerformanceStatus, Category, AgeRating, Venue, Page<Performance>,
        Problem, FieldError, RejectRequest, Health,
        Member, Role, SignupInput, LoginInput, LoginResponse, UpdateMemberInput,
        Showtime, ShowtimeInput, SeatMapInput, GradeInput, Page<Showtime>, SeatMapView, SeatRow, GradeCounts, SeatId,
        WalletView, TopUpRequest, TopUpResult, CardToken, LedgerLine, LedgerKind, Page<LedgerLine>,
        HoldRequest, PayRequest, PaymentInput, Payment, PaymentStatus, PaymentMethod, CardSummary,
        ReservationView, ReservedSeat, ReservationStatus, Page<ReservationView>, PerformanceReservations, ShowtimeSales, ProviderStatus, ProviderWindow,
        RefundPolicy, FeeTier, Quote, FeeBasis, Cancellation, CancellationStatus, Change, Actor,
        CancelRequest, CancelSeatsRequest, ChangeSeatsRequest, CancellationResult, CancellationQuote,
        CancellationProgress, CancelShowtimeRequest, CancelPerformanceRequest, PerformanceCancellation, Page<Payment>,
        Notification, NotificationPage, MyReservation, TimelineEntry, Page<MyReservation>, Event, EventType, Page<Event>, Locale,
        SettingsInput, Settings, TicketView, TicketStatus, WaitingRoomView,
        Statement, Page<Statement>, Line, Totals, Origin, SettlementStatus, PayoutRequest, CommissionRequest, CommissionRate,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "catalog", description = "Performances: public catalog, organizers' own, admins' review"),
        (name = "members", description = "Signup, login and logout, profiles"),
        (name = "showtimes", description = "Showtimes of a performance and their seat maps"),
        (name = "reservations", description = "Seat holds and reservations"),
        (name = "wallet", description = "Points: balance, ledger, top-ups by card"),
        (name = "me", description = "What the events told a member: notifications and my page"),
        (name = "audit", description = "Every reservation and payment event, for admins"),
        (name = "queue", description = "The waiting room of an on-sale rush: join, poll, admission"),
        (name = "settlement", description = "What organizers are owed: daily statements, payouts, commission rates"),
        (name = "system", description = "Health and this document"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".to_string());
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The document as JSON, built once per process.
pub fn document() -> &'static str {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DOC.get_or_init(|| serde_json::to_string(&value()).unwrap_or_else(|_| "{}".to_string()))
}

/// `GET /openapi.json`: the document, as it is served.
pub async fn get(_req: lambda_http::Request) -> lambda_http::Response<lambda_http::Body> {
    use lambda_http::http::{header, HeaderValue, StatusCode};
    let mut response = lambda_http::Response::new(lambda_http::Body::Text(document().to_string()));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The whole document: what the `#[utoipa::path]` declarations below say, completed by [`contract`].
pub fn value() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_else(|_| json!({}));
    contract(&mut doc);
    doc
}

/// The answers API Gateway itself gives, before or instead of our functions: `{"message": "..."}` as
/// `application/json`. A protected route without an `Authorization` header is refused with 401 before the
/// authorizer runs; a token the authorizer refuses gets 403; a body over the limit gets 413.
const GATEWAY_ERROR: &str = "GatewayError";

/// What every operation shares, stated once instead of on each route, from the same rules the handlers use:
/// - parameter schemas: `limit` ([`PAGE_LIMIT`]), `cursor` ([`rules::CURSOR`]), `Idempotency-Key`,
///   `If-Match`, and ids (path parameters, `*Id` query parameters) as UUIDs;
/// - refusals: 400 for any operation with parameters or a body (what the document states, broken), 415 and 413
///   for a body, 404 where a path names a resource, 422 where a listing takes a cursor, and for a protected
///   route the gateway's own 401 and 403 beside the handler's 403;
/// - `links` from each create operation to the operations that take the id it returns ([`LINKS`]).
fn contract(doc: &mut Value) {
    doc["components"]["schemas"][GATEWAY_ERROR] = json!({
        "type": "object",
        "description": "An answer of API Gateway itself (no token: 401; token refused by the authorizer: 403; \
                        body too large: 413), not of our functions.",
        "required": ["message"],
        "properties": {"message": {"type": "string"}},
    });
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for op in item.values_mut() {
            complete_operation(op);
        }
    }
    for link in LINKS {
        add_link(doc, link);
    }
}

fn problem() -> Value {
    json!({"schema": {"$ref": "#/components/schemas/Problem"}})
}

fn gateway() -> Value {
    json!({"schema": {"$ref": format!("#/components/schemas/{GATEWAY_ERROR}")}})
}

/// Adds a response with `content` (media type → media object) unless one is declared; merges the media types
/// into a declared one.
fn respond(op: &mut Value, status: &str, description: &str, content: &[(&str, Value)]) {
    let response = op["responses"].as_object_mut().map(|r| {
        r.entry(status)
            .or_insert_with(|| json!({"description": description}))
    });
    let Some(response) = response else {
        return;
    };
    for (media, schema) in content {
        if response["content"].get(*media).is_none() {
            response["content"][*media] = schema.clone();
        }
    }
}

fn param_schema(location: &str, name: &str) -> Option<Value> {
    let object = match (location, name) {
        ("query", "limit") => PAGE_LIMIT.schema(),
        ("query", "cursor") => rules::CURSOR.schema(),
        ("header", "Idempotency-Key") => rules::IDEMPOTENCY_KEY.schema(),
        ("header", "If-Match") => rules::IF_MATCH.schema(),
        ("header", "Prefer") => utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .max_length(Some(256))
            .build(),
        ("path", "settlementId") => rules::SETTLEMENT_ID.schema(),
        ("path", _) => rules::uuid(),
        ("query", n) if n.ends_with("Id") => rules::uuid(),
        _ => return None,
    };
    serde_json::to_value(object).ok()
}

fn complete_operation(op: &mut Value) {
    let mut has_path_param = false;
    let mut has_params = false;
    let mut has_cursor = false;
    if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
        for param in params {
            let location = param["in"].as_str().unwrap_or_default().to_string();
            let name = param["name"].as_str().unwrap_or_default().to_string();
            has_params = true;
            has_path_param |= location == "path";
            has_cursor |= name == "cursor";
            if let Some(schema) = param_schema(&location, &name) {
                param["schema"] = schema;
            }
        }
    }
    let has_body = op.get("requestBody").is_some();
    let security = op["security"].as_array().cloned().unwrap_or_default();
    // `[{}, {"bearer": []}]` is optional authentication: no token is fine, so there is no gateway refusal.
    let protected = !security.is_empty()
        && security
            .iter()
            .all(|req| req.as_object().is_some_and(|r| !r.is_empty()));

    if has_params || has_body {
        respond(
            op,
            "400",
            "The request does not match this document (`/problems/validation-error`, \
             `/problems/malformed-body`)",
            &[(PROBLEM_JSON, problem())],
        );
    }
    if has_body {
        respond(
            op,
            "415",
            "The body is not JSON (`/problems/unsupported-media-type`)",
            &[(PROBLEM_JSON, problem())],
        );
        respond(
            op,
            "413",
            "The body is larger than API Gateway accepts",
            &[("application/json", gateway())],
        );
    }
    if has_path_param {
        respond(
            op,
            "404",
            "No such resource, or not one the caller may see (`/problems/not-found`)",
            &[(PROBLEM_JSON, problem())],
        );
    }
    if has_cursor {
        respond(
            op,
            "422",
            "The cursor is not one this listing returned (`/problems/unprocessable`)",
            &[(PROBLEM_JSON, problem())],
        );
    }
    if protected {
        respond(
            op,
            "401",
            "No bearer token: API Gateway refuses the request before the authorizer runs",
            &[("application/json", gateway())],
        );
        respond(
            op,
            "403",
            "The authorizer refused the token (invalid, expired, revoked: from API Gateway), or the caller \
             may not do this (`/problems/forbidden`)",
            &[("application/json", gateway()), (PROBLEM_JSON, problem())],
        );
    }
}

/// A link from a create operation's 201 to an operation that takes the id the create returned.
struct LinkSpec {
    from: &'static str,
    status: &'static str,
    to: &'static str,
    /// Parameter of `to` → runtime expression on the create's response.
    parameters: &'static [(&'static str, &'static str)],
}

const fn link(
    from: &'static str,
    status: &'static str,
    to: &'static str,
    parameters: &'static [(&'static str, &'static str)],
) -> LinkSpec {
    LinkSpec {
        from,
        status,
        to,
        parameters,
    }
}

const PERF_ID: &[(&str, &str)] = &[("performanceId", "$response.body#/id")];
const SHOWTIME_IDS: &[(&str, &str)] = &[
    ("performanceId", "$response.body#/performanceId"),
    ("showtimeId", "$response.body#/id"),
];
const MEMBER_ID: &[(&str, &str)] = &[("memberId", "$response.body#/id")];
const RESERVATION_ID: &[(&str, &str)] = &[("reservationId", "$response.body#/id")];

/// Every create operation and what takes its id. A test checks that every operation with a path parameter is
/// the target of one, so a new route gets its link or fails the build.
const LINKS: &[LinkSpec] = &[
    link("create_performance", "201", "get_performance", PERF_ID),
    link("create_performance", "201", "update_performance", PERF_ID),
    link("create_performance", "201", "approve_performance", PERF_ID),
    link("create_performance", "201", "reject_performance", PERF_ID),
    link("create_performance", "201", "create_showtime", PERF_ID),
    link("create_performance", "201", "list_showtimes", PERF_ID),
    link(
        "create_performance",
        "201",
        "performance_reservations",
        PERF_ID,
    ),
    link("create_showtime", "201", "update_showtime", SHOWTIME_IDS),
    link("create_showtime", "201", "seat_map", SHOWTIME_IDS),
    link("signup", "201", "get_member", MEMBER_ID),
    link("signup", "201", "update_member", MEMBER_ID),
    link("signup", "201", "delete_member", MEMBER_ID),
    link(
        "create_reservation",
        "201",
        "get_reservation",
        RESERVATION_ID,
    ),
    link(
        "create_reservation",
        "201",
        "pay_reservation",
        RESERVATION_ID,
    ),
    link("create_reservation", "201", "get_payment", RESERVATION_ID),
    link(
        "create_reservation",
        "202",
        "get_reservation",
        RESERVATION_ID,
    ),
    link("create_reservation", "202", "get_payment", RESERVATION_ID),
    link(
        "create_reservation",
        "201",
        "cancel_reservation",
        RESERVATION_ID,
    ),
    link(
        "create_reservation",
        "201",
        "change_reservation",
        RESERVATION_ID,
    ),
    link("create_reservation", "201", "cancel_seats", RESERVATION_ID),
    link(
        "create_reservation",
        "201",
        "cancellation_quote",
        RESERVATION_ID,
    ),
    link("create_showtime", "201", "cancel_showtime", SHOWTIME_IDS),
    link(
        "create_showtime",
        "201",
        "showtime_cancellation",
        SHOWTIME_IDS,
    ),
    link("create_performance", "201", "cancel_performance", PERF_ID),
    link(
        "create_reservation",
        "201",
        "my_reservation",
        RESERVATION_ID,
    ),
    link(
        "list_notifications",
        "200",
        "read_notification",
        &[("notificationId", "$response.body#/items/0/id")],
    ),
    link(
        "create_showtime",
        "201",
        "configure_waiting_room",
        SHOWTIME_IDS,
    ),
    link(
        "create_showtime",
        "201",
        "join_queue",
        &[("showtimeId", "$response.body#/id")],
    ),
    link(
        "join_queue",
        "201",
        "poll_queue",
        &[("ticketId", "$response.body#/ticketId")],
    ),
    link(
        "list_organizer_settlements",
        "200",
        "get_settlement",
        SETTLEMENT_ID,
    ),
    link(
        "admin_list_settlements",
        "200",
        "get_settlement",
        SETTLEMENT_ID,
    ),
    link(
        "admin_list_settlements",
        "200",
        "record_payout",
        SETTLEMENT_ID,
    ),
    link(
        "signup",
        "201",
        "set_commission",
        &[("organizerId", "$response.body#/id")],
    ),
];

const SETTLEMENT_ID: &[(&str, &str)] = &[("settlementId", "$response.body#/items/0/settlementId")];

fn add_link(doc: &mut Value, spec: &LinkSpec) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for op in item.values_mut() {
            if op["operationId"] == spec.from {
                let parameters: serde_json::Map<String, Value> = spec
                    .parameters
                    .iter()
                    .map(|(name, expr)| (name.to_string(), json!(expr)))
                    .collect();
                op["responses"][spec.status]["links"][spec.to] =
                    json!({"operationId": spec.to, "parameters": parameters});
            }
        }
    }
}

#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Health {
    status: String,
    service: String,
    version: String,
}

#[utoipa::path(get, path = "/health", tag = "system", responses((status = 200, body = Health)))]
#[allow(dead_code)]
fn health() {}

#[utoipa::path(get, path = "/openapi.json", tag = "system", responses((status = 200, description = "This document", body = Object)))]
#[allow(dead_code)]
fn openapi_json() {}

#[utoipa::path(
    get, path = "/performances", tag = "catalog",
    description = "The public catalog: approved performances by the first day of their run.",
    params(
        ("category" = Option<Category>, Query),
        ("limit" = Option<u32>, Query, description = "1 to 100, default 20"),
        ("cursor" = Option<String>, Query, description = "`nextCursor` of the previous page"),
    ),
    responses(
        (status = 200, body = Page<Performance>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    )
)]
#[allow(dead_code)]
fn list_performances() {}

#[utoipa::path(
    get, path = "/performances/{performanceId}", tag = "catalog",
    description = "An approved performance, for anyone. With a bearer token its organizer and admins also see it \
                   in any other status; to everyone else such a performance does not exist (404).",
    params(("performanceId" = String, Path)),
    responses(
        (status = 200, body = Performance, headers(("ETag" = String, description = "the version"))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = []))
)]
#[allow(dead_code)]
fn get_performance() {}

#[utoipa::path(
    post, path = "/performances", tag = "catalog",
    description = "ORGANIZER or ADMIN. The new performance is PENDING_APPROVAL until an admin approves it.",
    request_body = PerformanceInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key and body returns the first result")),
    responses(
        (status = 201, body = Performance, headers(("Location" = String), ("ETag" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the Idempotency-Key was used for another request", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "dates out of order", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn create_performance() {}

#[utoipa::path(
    put, path = "/performances/{performanceId}", tag = "catalog",
    description = "Its organizer or an ADMIN. A rejected performance goes back to PENDING_APPROVAL.",
    request_body = PerformanceInput,
    params(("performanceId" = String, Path), ("If-Match" = Option<String>, Header, description = "the ETag last read")),
    responses(
        (status = 200, body = Performance),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "dates out of order", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn update_performance() {}

#[utoipa::path(
    get, path = "/organizer/performances", tag = "catalog",
    description = "ORGANIZER or ADMIN: the caller's own performances in every status, with rejection reasons.",
    params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = Page<Performance>), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn list_organizer_performances() {}

#[utoipa::path(
    get, path = "/admin/performances", tag = "catalog",
    description = "ADMIN: performances in one status; the review queue (PENDING_APPROVAL) by default.",
    params(("status" = Option<PerformanceStatus>, Query), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = Page<Performance>), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn admin_list_performances() {}

#[utoipa::path(
    post, path = "/admin/performances/{performanceId}/approve", tag = "catalog",
    params(("performanceId" = String, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = Performance),
        (status = 409, description = "not PENDING_APPROVAL", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match is not the current version", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn approve_performance() {}

#[utoipa::path(
    post, path = "/admin/performances/{performanceId}/reject", tag = "catalog",
    request_body = RejectRequest,
    params(("performanceId" = String, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = Performance),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "not PENDING_APPROVAL", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match is not the current version", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn reject_performance() {}

#[utoipa::path(
    post, path = "/signup", tag = "members",
    description = "Create a member: USER (default) or ORGANIZER. The email is unique.",
    request_body = SignupInput,
    responses(
        (status = 201, body = Member),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the email is taken", body = Problem, content_type = "application/problem+json"),
    )
)]
#[allow(dead_code)]
fn signup() {}

#[utoipa::path(
    post, path = "/login", tag = "members",
    description = "Exchange email and password for a bearer token. A wrong password and an unknown email get the same answer.",
    request_body = LoginInput,
    responses(
        (status = 200, body = LoginResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
#[allow(dead_code)]
fn login() {}

#[utoipa::path(
    post, path = "/logout", tag = "members",
    description = "Revoke the token of this request; it stops working at once.",
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn logout() {}

#[utoipa::path(
    get, path = "/members/{memberId}", tag = "members",
    description = "The member themself, or an ADMIN.",
    params(("memberId" = String, Path)),
    responses(
        (status = 200, body = Member),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn get_member() {}

#[utoipa::path(
    put, path = "/members/{memberId}", tag = "members",
    description = "Change name, email or password (own account: `currentPassword` required for email and password); `role` is ADMIN only. A password change ends existing sessions.",
    request_body = UpdateMemberInput,
    params(("memberId" = String, Path)),
    responses(
        (status = 200, body = Member),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the new email is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "nothing to change", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn update_member() {}

#[utoipa::path(
    delete, path = "/members/{memberId}", tag = "members",
    description = "Delete a member (themself or an ADMIN); their tokens stop working and the email is free again.",
    params(("memberId" = String, Path)),
    responses(
        (status = 204),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn delete_member() {}

#[utoipa::path(
    post, path = "/performances/{performanceId}/showtimes", tag = "showtimes",
    description = "Its organizer or an ADMIN. Creates the showtime and every seat of its map (up to 100,000).",
    request_body = ShowtimeInput,
    params(("performanceId" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, body = Showtime, headers(("Location" = String), ("ETag" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the Idempotency-Key was used for another request", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "not in the future, grades not covering the map, too many seats", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn create_showtime() {}

#[utoipa::path(
    put, path = "/performances/{performanceId}/showtimes/{showtimeId}", tag = "showtimes",
    description = "Time, venue name, prices and grade names; the seat layout cannot change (409).",
    request_body = ShowtimeInput,
    params(("performanceId" = String, Path), ("showtimeId" = String, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = Showtime),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "not in the future, grades not covering the map", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn update_showtime() {}

#[utoipa::path(
    get, path = "/performances/{performanceId}/showtimes", tag = "showtimes",
    params(("performanceId" = String, Path), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    description = "Showtimes of an approved performance; with a bearer token its organizer and admins also see those of a performance in any other status.",
    responses((status = 200, body = Page<Showtime>), (status = 404, body = Problem, content_type = "application/problem+json")),
    security((), ("bearer" = []))
)]
#[allow(dead_code)]
fn list_showtimes() {}

#[utoipa::path(
    get, path = "/performances/{performanceId}/showtimes/{showtimeId}/seats", tag = "showtimes",
    description = "Counts per grade and each row's seats as a status string (A available, H held, S sold). \
                   With a bearer token its organizer and admins also see a performance in any other status.",
    params(("performanceId" = String, Path), ("showtimeId" = String, Path)),
    responses((status = 200, body = SeatMapView), (status = 404, body = Problem, content_type = "application/problem+json")),
    security((), ("bearer" = []))
)]
#[allow(dead_code)]
fn seat_map() {}

#[utoipa::path(
    post, path = "/reservations", tag = "reservations",
    description = "Hold 1 to 10 seats of a showtime that is on sale, all or none, for the performance's hold window, and \
                   start the reservation saga. Without `payment`: 201 HELD; pay within the window with \
                   `POST /reservations/{reservationId}/payment`, or the seats are released (EXPIRED). With `payment`: \
                   the saga pays at once; with `Prefer: wait=N` (N up to 10) the answer is 201 with the outcome \
                   (CONFIRMED, or FAILED with `failureReason`) when it comes within N seconds, else 202 HELD with \
                   `Location`. A card given while the payment provider's circuit breaker is open is not charged: 201 \
                   HELD with `fallback: PAY_LATER` and `Retry-After` (pay within the window, by card after that many \
                   seconds or with wallet points now; a `PaymentDeferred` notification says so).",
    request_body = HoldRequest,
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "a retry (or a concurrent repeat) with the same key returns the same reservation: one hold, one saga, one charge"),
        ("Prefer" = Option<String>, Header, description = "`wait=N`: wait up to N seconds (at most 10) for the outcome of a payment; other preferences are ignored"),
    ),
    responses(
        (status = 201, description = "HELD (no payment, or a card that fell back to pay-later: `fallback: PAY_LATER` with `Retry-After`), or the outcome of the payment", body = ReservationView, headers(("Location" = String), ("Preference-Applied" = String), ("Retry-After" = u32, description = "with `fallback: PAY_LATER`: seconds until the payment provider may take cards again"))),
        (status = 202, description = "HELD while the saga pays; the outcome comes at `Location`", body = ReservationView, headers(("Location" = String), ("Preference-Applied" = String))),
        (status = 403, description = "the showtime has a waiting room and `admissionToken` is missing (`/problems/admission-required`), forged (`admission-invalid`), expired (`admission-expired`), another member's (`admission-other-member`), another showtime's (`admission-other-showtime`) or already used for a purchase (`admission-used`: join the queue again)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "seats taken (`unavailableSeats`), the performance's ticket limit per member passed (`/problems/ticket-limit` with `current` and `limit`), showtime cancelled or started, not on sale", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "no such showtime, or seats off its map", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "the caller sent more holds than one member may per 10 s (`/problems/rate-limited` with `limit`; the stack's `HoldRateLimit`, 10 by default), counted before the request is read", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u32, description = "seconds until the next window"))),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn create_reservation() {}

#[utoipa::path(
    get, path = "/reservations/{reservationId}", tag = "reservations",
    params(("reservationId" = String, Path)),
    responses((status = 200, body = ReservationView), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn get_reservation() {}

#[utoipa::path(
    get, path = "/reservations", tag = "reservations",
    params(("status" = Option<ReservationStatus>, Query), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = Page<ReservationView>), (status = 400, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn list_reservations() {}

#[utoipa::path(
    get, path = "/performances/{performanceId}/reservations", tag = "reservations",
    description = "Its organizer or an ADMIN: per showtime available, held, sold and revenue; and the reservations.",
    params(("performanceId" = String, Path), ("status" = Option<ReservationStatus>, Query), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = PerformanceReservations), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn performance_reservations() {}

#[utoipa::path(
    get, path = "/admin/reservations", tag = "reservations",
    params(
        ("performanceId" = Option<String>, Query), ("showtimeId" = Option<String>, Query), ("memberId" = Option<String>, Query),
        ("status" = Option<ReservationStatus>, Query), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query),
    ),
    responses((status = 200, body = Page<ReservationView>), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn admin_list_reservations() {}

#[utoipa::path(
    delete, path = "/reservations/{reservationId}", tag = "reservations",
    description = "Cancel a whole reservation (its buyer, or an admin with a `reason`). A HELD one is released at once (200, \
                   nothing was paid). A CONFIRMED one is refunded per the performance's fee schedule (see \
                   `GET /reservations/{reservationId}/cancellation-quote`; an admin may `waiveFee`) by the cancellation \
                   saga: 200 with the outcome when it comes within `Prefer: wait=N`, else 202 with the pending \
                   cancellation. The body is optional.",
    request_body(content = Option<CancelRequest>, description = "optional: why, and (admins) whether to waive the fee"),
    params(
        ("reservationId" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key is the same cancellation"),
        ("Prefer" = Option<String>, Header, description = "`wait=N`: wait up to N seconds (at most 10) for the refund"),
    ),
    responses(
        (status = 200, description = "cancelled (and refunded)", body = CancellationResult, headers(("Location" = String), ("Preference-Applied" = String))),
        (status = 202, description = "cancellation under way", body = CancellationResult, headers(("Location" = String), ("Preference-Applied" = String))),
        (status = 403, description = "a buyer asked to waive the fee", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "already cancelled, expired or failed; a cancellation under way; too close to the show", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn cancel_reservation() {}

#[utoipa::path(
    post, path = "/reservations/{reservationId}/cancellations", tag = "reservations",
    description = "Cancel some seats of a CONFIRMED reservation (its buyer, or an admin with a `reason`), refunded per the \
                   fee schedule; the payment becomes PART_CANCELED with its refunded amount (CANCELED when no seat is left).",
    request_body = CancelSeatsRequest,
    params(
        ("reservationId" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key is the same cancellation"),
        ("Prefer" = Option<String>, Header, description = "`wait=N`: wait up to N seconds (at most 10) for the refund"),
    ),
    responses(
        (status = 200, description = "cancelled and refunded", body = CancellationResult, headers(("Location" = String), ("Preference-Applied" = String))),
        (status = 202, description = "cancellation under way", body = CancellationResult, headers(("Location" = String), ("Preference-Applied" = String))),
        (status = 403, description = "a buyer asked to waive the fee", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "not CONFIRMED, a cancellation under way, too close to the show", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "seats that are not (or no longer) in the reservation", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn cancel_seats() {}

#[utoipa::path(
    get, path = "/reservations/{reservationId}/cancellation-quote", tag = "reservations",
    description = "What cancelling now would cost: fee, refund and why (schedule, grace after booking, showtime changed, \
                   waived), for every remaining seat or those in `seats`; the same figures a cancellation then refunds, \
                   until `validUntil`.",
    params(
        ("reservationId" = String, Path),
        ("seats" = Option<String>, Query, description = "seats as row-col, comma-separated (`1-1,1-2`); all remaining seats without it", pattern = r"^[1-9][0-9]{0,3}-[1-9][0-9]{0,3}(,[1-9][0-9]{0,3}-[1-9][0-9]{0,3}){0,9}$"),
        ("waiveFee" = Option<bool>, Query, description = "admins: the quote with the fee waived"),
    ),
    responses(
        (status = 200, body = CancellationQuote),
        (status = 403, description = "a buyer asked for a waived fee", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "not CONFIRMED, or too close to the show", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "a seat listed twice, or seats that are not in the reservation", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn cancellation_quote() {}

#[utoipa::path(
    put, path = "/reservations/{reservationId}", tag = "reservations",
    description = "Other seats for a HELD reservation (its buyer, or an admin with a `reason`): the new seats are held and \
                   the old released in one transaction, the price recomputed, the hold's expiry kept. A paid reservation \
                   is not changed (409): cancel it, or some seats, and book again.",
    request_body = ChangeSeatsRequest,
    params(("reservationId" = String, Path)),
    responses(
        (status = 200, body = ReservationView),
        (status = 409, description = "seats taken (`unavailableSeats`), more seats than the ticket limit per member allows (`/problems/ticket-limit`), not HELD, being paid, showtime cancelled or started", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "seats off the showtime's map", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn change_reservation() {}

#[utoipa::path(
    post, path = "/performances/{performanceId}/showtimes/{showtimeId}/cancel", tag = "showtimes",
    description = "Its organizer or an ADMIN calls a showtime off: it takes no new holds, `ShowtimeCancelled` is published, \
                   and a sweep releases every hold and refunds every confirmed reservation in full. On a cancelled \
                   showtime, a new sweep (retrying failures; nobody is refunded twice) once the last one is done.",
    request_body = CancelShowtimeRequest,
    params(("performanceId" = String, Path), ("showtimeId" = String, Path)),
    responses(
        (status = 202, body = CancellationProgress, headers(("Location" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "a sweep of this showtime is under way", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn cancel_showtime() {}

#[utoipa::path(
    get, path = "/performances/{performanceId}/showtimes/{showtimeId}/cancellation", tag = "showtimes",
    description = "Its organizer or an ADMIN: how the cancellation of the showtime is going (holds released, reservations \
                   cancelled and refunded, failures).",
    params(("performanceId" = String, Path), ("showtimeId" = String, Path)),
    responses(
        (status = 200, body = CancellationProgress, headers(("Location" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn showtime_cancellation() {}

#[utoipa::path(
    post, path = "/performances/{performanceId}/cancel", tag = "catalog",
    description = "Its organizer or an ADMIN cancels every showtime of the performance, as \
                   `POST /performances/{performanceId}/showtimes/{showtimeId}/cancel` does for one.",
    request_body = CancelPerformanceRequest,
    params(("performanceId" = String, Path)),
    responses(
        (status = 202, body = PerformanceCancellation),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn cancel_performance() {}

#[utoipa::path(
    get, path = "/admin/payments", tag = "reservations",
    description = "ADMIN: payments by member, performance or status (one of them is required; the first given picks the \
                   index and a status then filters), created (for a status: last changed) within `from`..`to` (default \
                   the last 30 days, at most 366), newest first.",
    params(
        ("status" = Option<PaymentStatus>, Query), ("memberId" = Option<String>, Query), ("performanceId" = Option<String>, Query),
        ("from" = Option<String>, Query, format = DateTime), ("to" = Option<String>, Query, format = DateTime),
        ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query),
    ),
    responses(
        (status = 200, body = Page<Payment>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "no filter, or `from` after `to`, or a period over 366 days", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn admin_list_payments() {}

#[utoipa::path(
    get, path = "/admin/payment-provider", tag = "reservations",
    description = "ADMIN: the card provider's circuit breaker, shared by every function: CLOSED (cards are charged), OPEN \
                   (no card is charged: holds with a card fall back to pay-later, card payments and top-ups answer 503 \
                   with `Retry-After`, wallet payments go on) or HALF_OPEN (a few probe payments decide); and the window \
                   of recent calls that decides it.",
    responses(
        (status = 200, body = ProviderStatus),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn payment_provider() {}

#[utoipa::path(
    get, path = "/notifications", tag = "me",
    description = "The caller's notifications (one per reservation, payment, expiry, cancellation, refund and organizer \
                   change of their shows), newest first, in their language (`locale`), and how many are unread.",
    params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = NotificationPage)),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn list_notifications() {}

#[utoipa::path(
    post, path = "/notifications/{notificationId}/read", tag = "me",
    description = "Mark one of the caller's notifications read (once; again changes nothing). Answers it.",
    params(("notificationId" = String, Path, description = "letters, digits, '-', ':', '_'; at most 200")),
    responses((status = 200, body = Notification), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn read_notification() {}

#[utoipa::path(
    get, path = "/me/reservations", tag = "me",
    description = "My page: the caller's reservations, newest first, each with its show, seats, amounts and progress \
                   timeline, as the events told them (a read model: a step appears within moments of happening).",
    params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = Page<MyReservation>)),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn my_reservations() {}

#[utoipa::path(
    get, path = "/me/reservations/{reservationId}", tag = "me",
    params(("reservationId" = String, Path)),
    responses((status = 200, body = MyReservation), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn my_reservation() {}

#[utoipa::path(
    get, path = "/admin/audit", tag = "audit",
    description = "ADMIN: the audit log of one reservation (`reservationId`) or one member (`memberId`; with both, the \
                   reservation's entries of that member), every reservation and payment event within `from`..`to` \
                   (default: all kept), oldest first. Entries are kept for the operator's retention (`AuditRetentionDays`).",
    params(
        ("reservationId" = Option<String>, Query), ("memberId" = Option<String>, Query),
        ("from" = Option<String>, Query, format = DateTime), ("to" = Option<String>, Query, format = DateTime),
        ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query),
    ),
    responses(
        (status = 200, body = Page<Event>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "neither reservationId nor memberId, or `from` after `to`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn admin_audit() {}

#[utoipa::path(
    put, path = "/performances/{performanceId}/showtimes/{showtimeId}/waiting-room", tag = "queue",
    description = "ORGANIZER (the performance's) or ADMIN: switch the showtime's waiting room on, or change its settings. \
                   It opens with the performance's sale; arrivals before then are shuffled at the opening. Holds then \
                   need an admission token.",
    params(("performanceId" = String, Path), ("showtimeId" = String, Path)),
    request_body = SettingsInput,
    responses(
        (status = 200, body = WaitingRoomView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn configure_waiting_room() {}

#[utoipa::path(
    post, path = "/showtimes/{showtimeId}/queue", tag = "queue",
    description = "Join the showtime's waiting room: a ticket with its place (201), or the one the caller holds already \
                   (200). Whoever joined in an earlier second is ahead; within a second, arrivals interleave by shard.",
    params(("showtimeId" = String, Path)),
    responses(
        (status = 201, body = TicketView),
        (status = 200, description = "the caller's ticket from before", body = TicketView),
        (status = 404, description = "no waiting room on this showtime", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "the caller sent more joins than one member may per 10 s (`/problems/rate-limited` with `limit`)", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u32, description = "seconds until the next window"))),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn join_queue() {}

#[utoipa::path(
    get, path = "/queue/{ticketId}", tag = "queue",
    description = "The caller's ticket: its place, the number being served, an estimated wait and when to poll again; \
                   once admitted, the admission token for `POST /reservations`.",
    params(("ticketId" = String, Path, description = "as joining answered it")),
    responses(
        (status = 200, body = TicketView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn poll_queue() {}

/// The document is exact, not loose: every request input it describes is bounded the way the handlers bound
/// it, every refusal the platform can give is declared, and every id a create returns leads somewhere. A new
/// route that skips any of this fails here, before the contract run (infra/local/contract) even starts.
#[cfg(test)]
mod tests {
    use super::*;

    fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str() {
            Some(r) => {
                let name = r.trim_start_matches("#/components/schemas/");
                resolve(doc, &doc["components"]["schemas"][name])
            }
            None => schema,
        }
    }

    fn types(schema: &Value) -> Vec<String> {
        match &schema["type"] {
            Value::String(t) => vec![t.clone()],
            Value::Array(ts) => ts
                .iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect(),
            _ => vec![],
        }
    }

    /// Every way `schema` is loose, at `at`.
    fn looseness(doc: &Value, schema: &Value, at: &str, out: &mut Vec<String>) {
        let schema = resolve(doc, schema);
        if let Some(variants) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
            for (i, v) in variants.iter().enumerate() {
                looseness(doc, v, &format!("{at}|{i}"), out);
            }
            return;
        }
        if schema.get("enum").is_some() {
            return;
        }
        for t in types(schema) {
            match t.as_str() {
                "string" => {
                    let bounded = schema.get("maxLength").is_some()
                        || schema.get("format").is_some()
                        || schema.get("pattern").is_some_and(|p| {
                            p.as_str()
                                .is_some_and(|p| p.starts_with('^') && p.ends_with('$'))
                        });
                    if !bounded {
                        out.push(format!(
                            "{at}: a string without maxLength, format or anchored pattern"
                        ));
                    }
                }
                "integer" | "number"
                    if schema.get("minimum").is_none() || schema.get("maximum").is_none() =>
                {
                    out.push(format!("{at}: a number without minimum and maximum"));
                }
                "array" => {
                    if schema.get("maxItems").is_none() {
                        out.push(format!("{at}: an array without maxItems"));
                    }
                    looseness(doc, &schema["items"], &format!("{at}[]"), out);
                }
                "object" => {
                    if schema["additionalProperties"] != json!(false) {
                        out.push(format!(
                            "{at}: an object that does not refuse unknown properties"
                        ));
                    }
                    for (name, prop) in schema["properties"].as_object().into_iter().flatten() {
                        looseness(doc, prop, &format!("{at}.{name}"), out);
                    }
                }
                _ => {}
            }
        }
    }

    fn operations(doc: &Value) -> Vec<(String, &Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                out.push((format!("{} {path}", method.to_uppercase()), op));
            }
        }
        out
    }

    #[test]
    fn the_looseness_check_sees_loose_inputs() {
        let doc = json!({});
        for loose in [
            json!({"type": "string"}),
            json!({"type": "integer", "minimum": 1}),
            json!({"type": "array", "items": {"type": "string", "maxLength": 3}}),
            json!({"type": "object", "properties": {"a": {"type": "string", "pattern": "x"}}}),
        ] {
            let mut out = Vec::new();
            looseness(&doc, &loose, "x", &mut out);
            assert!(!out.is_empty(), "{loose}");
        }
        let mut out = Vec::new();
        looseness(
            &doc,
            &json!({"type": "object", "additionalProperties": false,
                    "properties": {"a": {"type": ["string", "null"], "maxLength": 3}}}),
            "x",
            &mut out,
        );
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn every_input_is_bounded() {
        let doc = value();
        let mut loose = Vec::new();
        for (route, op) in operations(&doc) {
            for param in op["parameters"].as_array().into_iter().flatten() {
                let at = format!("{route} {} {}", param["in"], param["name"]);
                looseness(&doc, &param["schema"], &at, &mut loose);
            }
            for (media, content) in op["requestBody"]["content"]
                .as_object()
                .into_iter()
                .flatten()
            {
                looseness(
                    &doc,
                    &content["schema"],
                    &format!("{route} body {media}"),
                    &mut loose,
                );
            }
        }
        assert!(loose.is_empty(), "loose inputs:\n{}", loose.join("\n"));
    }

    #[test]
    fn every_refusal_is_declared() {
        let doc = value();
        let mut missing = Vec::new();
        for (route, op) in operations(&doc) {
            let declared =
                |status: &str, media: &str| op["responses"][status]["content"].get(media).is_some();
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let has_body = op.get("requestBody").is_some();
            let mut need: Vec<(&str, &str)> = Vec::new();
            if has_body || !params.is_empty() {
                need.push(("400", PROBLEM_JSON));
            }
            if has_body {
                need.extend([("415", PROBLEM_JSON), ("413", "application/json")]);
            }
            if params.iter().any(|p| p["in"] == "path") {
                need.push(("404", PROBLEM_JSON));
            }
            let security = op["security"].as_array().cloned().unwrap_or_default();
            if !security.is_empty() && !security.contains(&json!({})) {
                need.extend([
                    ("401", "application/json"),
                    ("403", "application/json"),
                    ("403", PROBLEM_JSON),
                ]);
            }
            for (status, media) in need {
                if !declared(status, media) {
                    missing.push(format!("{route}: {status} {media}"));
                }
            }
            for (status, response) in op["responses"].as_object().into_iter().flatten() {
                if status != "204" && response.get("content").is_none() {
                    missing.push(format!("{route}: {status} has no body schema"));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "undeclared answers:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn every_path_parameter_is_reached_by_a_link() {
        let doc = value();
        let mut linked = std::collections::BTreeSet::new();
        for (_, op) in operations(&doc) {
            for response in op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(_, r)| r)
            {
                for (_, link) in response["links"].as_object().into_iter().flatten() {
                    let target = link["operationId"].as_str().unwrap_or_default();
                    assert!(
                        operations(&doc)
                            .iter()
                            .any(|(_, o)| o["operationId"] == target),
                        "a link to an unknown operation {target}"
                    );
                    linked.insert(target.to_string());
                }
            }
        }
        let unreached: Vec<_> = operations(&doc)
            .into_iter()
            .filter(|(_, op)| {
                op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|p| p["in"] == "path")
            })
            .filter(|(_, op)| !linked.contains(op["operationId"].as_str().unwrap_or_default()))
            .map(|(route, _)| route)
            .collect();
        assert!(unreached.is_empty(), "no link leads to: {unreached:?}");
    }
}

#[utoipa::path(
    get, path = "/wallet", tag = "wallet",
    description = "The caller's points and ledger, newest line first. The balance is always the sum of the ledger.",
    params(("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = WalletView)),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn get_wallet() {}

#[utoipa::path(
    post, path = "/wallet/charge", tag = "wallet",
    description = "Buy points with a card token. With an `Idempotency-Key`, a retry (or a concurrent repeat) charges \
                   once and answers 200 with the first top-up. Test tokens: see the README.",
    request_body = TopUpRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key charges once")),
    responses(
        (status = 201, body = TopUpResult),
        (status = 200, description = "a repeat of a top-up already made with this Idempotency-Key", body = TopUpResult),
        (status = 402, description = "the card was declined (`code`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "the wallet kept changing; retry", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "the balance would pass 100,000,000 points", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "the payment provider did not answer (a retry with the same key is safe), or its circuit breaker is open (nothing was charged; try again after `Retry-After` seconds)", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u32, description = "while the breaker is open"))),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn charge_wallet() {}

#[utoipa::path(
    post, path = "/reservations/{reservationId}/payment", tag = "reservations",
    description = "Pay a HELD reservation that waits for its payment (one made without `payment`). With `Prefer: wait=N` \
                   the answer is 201 with the outcome when it comes within N seconds, else 202.",
    request_body = PayRequest,
    params(
        ("reservationId" = String, Path),
        ("Prefer" = Option<String>, Header, description = "`wait=N`: wait up to N seconds (at most 10) for the outcome"),
    ),
    responses(
        (status = 201, description = "the outcome: CONFIRMED, or FAILED with `failureReason`", body = ReservationView, headers(("Location" = String), ("Preference-Applied" = String))),
        (status = 202, description = "paying; the outcome comes at `Location`", body = ReservationView, headers(("Location" = String), ("Preference-Applied" = String))),
        (status = 409, description = "not HELD (expired, confirmed, failed), already being paid, or not waiting for a payment", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "a card while the payment provider's circuit breaker is open (`/problems/payment-provider-unavailable`): nothing was charged and the hold goes on; pay by card after `Retry-After` seconds, or with wallet points now", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u32))),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn pay_reservation() {}

#[utoipa::path(
    get, path = "/reservations/{reservationId}/payment", tag = "reservations",
    description = "The payment of a reservation (its buyer, or an admin): status, amount, refunded amount, method, the \
                   provider's reference, and for a card its brand and last four digits.",
    params(("reservationId" = String, Path)),
    responses((status = 200, body = Payment)),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn get_payment() {}

#[utoipa::path(
    get, path = "/organizer/settlements", tag = "settlement",
    description = "ORGANIZER or ADMIN: the caller's settlement statements (one per Korean day and currency with money) \
                   of the days `from`..`to` (default: the last 31 days, at most 366), oldest first, without their lines. \
                   An open statement's totals are shown on the statement itself (`GET` one).",
    params(
        ("from" = Option<String>, Query, format = Date, description = "a Korean day, YYYY-MM-DD"),
        ("to" = Option<String>, Query, format = Date, description = "a Korean day, YYYY-MM-DD; default today"),
        ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query),
    ),
    responses(
        (status = 200, body = Page<Statement>),
        (status = 422, description = "`from` after `to`, or more than 366 days", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn list_organizer_settlements() {}

#[utoipa::path(
    get, path = "/organizer/settlements/{settlementId}", tag = "settlement",
    description = "A statement with its lines (per performance and showtime, then the adjustments: money of an earlier, \
                   closed day), for its organizer or an ADMIN; to other organizers it does not exist (404). An open statement \
                   shows its figures so far. With `Accept: text/csv`, the lines as CSV (RFC 4180, a header row, one \
                   row per line, the same figures as the JSON).",
    params(("settlementId" = String, Path, description = "`<day>_<currency>_<organizerId>`, as listings answer it")),
    responses(
        (status = 200, content((Statement = "application/json"), (String = "text/csv"))),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn get_settlement() {}

#[utoipa::path(
    get, path = "/admin/settlements", tag = "settlement",
    description = "ADMIN: statements of the Korean days `from`..`to` (default: the last 31 days, at most 366), oldest \
                   first, without their lines: one organizer's (`organizerId`, optionally in a `status`), else those in \
                   a `status` (default CLOSED: the payouts to make).",
    params(
        ("status" = Option<SettlementStatus>, Query), ("organizerId" = Option<String>, Query),
        ("from" = Option<String>, Query, format = Date, description = "a Korean day, YYYY-MM-DD"),
        ("to" = Option<String>, Query, format = Date, description = "a Korean day, YYYY-MM-DD; default today"),
        ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query),
    ),
    responses(
        (status = 200, body = Page<Statement>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`from` after `to`, or more than 366 days", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn admin_list_settlements() {}

#[utoipa::path(
    post, path = "/admin/settlements/{settlementId}/payout", tag = "settlement",
    description = "ADMIN: records the payout of a CLOSED statement with the transfer's reference; it becomes PAID. Once: \
                   a second payout, or one of a statement still open, is a 409.",
    params(("settlementId" = String, Path)),
    request_body = PayoutRequest,
    responses(
        (status = 200, body = Statement),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "paid already, or not closed yet", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn record_payout() {}

#[utoipa::path(
    put, path = "/admin/organizers/{organizerId}/commission", tag = "settlement",
    description = "ADMIN: an organizer's own commission rate, in basis points of net sales (the stack's \
                   `CommissionRateBps` otherwise). Statements closed from now on use it; closed ones keep theirs.",
    params(("organizerId" = String, Path)),
    request_body = CommissionRequest,
    responses(
        (status = 200, body = CommissionRate),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "a rate out of range, or a member who does not publish", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn set_commission() {}
