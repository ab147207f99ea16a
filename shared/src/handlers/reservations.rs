//! Reservations: seat holds and who sees them.
//!
//! | route | who |
//! |---|---|
//! | `POST /reservations` | any member: holds seats (201) or says which are taken (409) |
//! | `GET /reservations/{reservationId}` | the member who made it, or an ADMIN |
//! | `GET /reservations` | any member: their own |
//! | `GET /performances/{performanceId}/reservations` | its organizer or an ADMIN: per-showtime sales and the reservations |
//! | `GET /admin/reservations?performanceId=&showtimeId=&memberId=&status=` | ADMIN |

use super::{located, own_reservation, performance_id, prefer_wait};
use crate::app::performances::{load_for_change, PUBLISHERS};
use crate::app::reservations::ShowtimeSales;
use crate::auth::caller;
use crate::domain::ids::parse_id;
use crate::domain::member::Role;
use crate::domain::rate_limit::Route;
use crate::domain::reservation::{Reservation, ReservationStatus, ReservationView};
use crate::domain::seat::{SeatId, MAX_SEATS_PER_HOLD};
use crate::error::AppError;
use crate::http::{
    cursor_param, into_response, json_response, limit_param, parse_json, query_param,
};
use crate::runtime::AppState;
use crate::saga::{PaymentInput, SagaClient};
use crate::store::cursor::Page;
use crate::store::reservations::ReservationListing;
use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

const PAGE_DEFAULT: u32 = 20;

/// `POST /reservations` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HoldRequest {
    /// A showtime that is on sale (an unknown one is a 422).
    #[schema(schema_with = crate::domain::rules::uuid)]
    pub showtime_id: String,
    /// 1 to 10 seats of that showtime, each once; every seat on its map (422).
    #[schema(schema_with = seats_schema)]
    pub seats: Vec<SeatId>,
    /// Pay at once (wallet points or a card token). Without it the seats stay HELD for the hold window, and
    /// `POST /reservations/{reservationId}/payment` pays.
    #[serde(default)]
    pub payment: Option<PaymentInput>,
    /// The admission token from `GET /queue/{ticketId}`: required when the showtime has a waiting room
    /// (403 naming why when it is missing, forged, expired, another member's or another showtime's).
    #[serde(default)]
    #[schema(max_length = 4096)]
    pub admission_token: Option<String>,
}

/// `POST /reservations/{reservationId}/payment` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayRequest {
    pub payment: PaymentInput,
}

/// What the reservation routes that drive the saga need: the table and the saga.
#[derive(Clone, Debug)]
pub struct SagaRouteState {
    pub app: AppState,
    pub saga: SagaClient,
}

impl SagaRouteState {
    pub async fn from_env() -> Result<Self, crate::runtime::Error> {
        Ok(SagaRouteState {
            app: AppState::from_env().await?,
            saga: SagaClient::from_env().await,
        })
    }
}

pub use super::PREFER_WAIT_MAX;

/// The answer of a request that handed the saga a payment: 201 with the outcome when it came within the
/// client's `Prefer: wait`, else 202 with where to look.
async fn saga_answer(
    state: &AppState,
    req: &Request,
    held: Reservation,
) -> Result<Response<Body>, AppError> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let wait = prefer_wait(req);
    let outcome = match wait {
        Some(seconds) if seconds > 0 => {
            crate::app::reservations::wait_for_outcome(&state.store, &held.id, seconds).await?
        }
        _ => None,
    };
    let (status, body) = match outcome {
        Some(done) => (StatusCode::CREATED, present(done, now)),
        None => (StatusCode::ACCEPTED, present(held.clone(), now)),
    };
    Ok(located(json_response(status, &body), &held.id, wait))
}

fn seats_schema() -> utoipa::openapi::Array {
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(utoipa::openapi::Ref::from_schema_name("SeatId"))
        .min_items(Some(1))
        .max_items(Some(MAX_SEATS_PER_HOLD))
        .unique_items(true)
        .build()
}

/// The reservation as the client should see it: a lapsed hold reads EXPIRED.
fn present(r: Reservation, now: i64) -> ReservationView {
    r.view(now)
}

fn present_page(page: Page<Reservation>, now: i64) -> Page<ReservationView> {
    Page {
        items: page.items.into_iter().map(|r| present(r, now)).collect(),
        next_cursor: page.next_cursor,
    }
}

/// `POST /reservations`: holds the seats for the caller in one conditional transaction, then starts the saga
/// (which pays at once when the body has a payment, or waits for one as long as the hold lasts).
pub async fn create(state: SagaRouteState, req: Request) -> Response<Body> {
    into_response(create_inner(&state, &req).await)
}

async fn create_inner(routes: &SagaRouteState, req: &Request) -> Result<Response<Body>, AppError> {
    let state = &routes.app;
    let caller = caller(req)?;
    // Counted before anything else: a script cannot spend the budget faster with bad requests.
    crate::app::rate_limit::admit(state, &caller.member_id, Route::Hold).await?;
    let idempotent_id = super::idempotent_id(req, &caller, "reservation")?;
    let body: HoldRequest = parse_json(req)?;
    let showtime_id = parse_id(&body.showtime_id)
        .ok_or_else(|| AppError::invalid("showtimeId", "must be a UUID"))?;
    let held = crate::app::holds::hold(
        state,
        &routes.saga,
        crate::app::holds::HoldInput {
            id: idempotent_id,
            member_id: &caller.member_id,
            showtime_id: &showtime_id,
            seats: &body.seats,
            admission_token: body.admission_token.as_deref(),
            payment: body.payment.as_ref(),
        },
    )
    .await?;
    let crate::app::holds::Held {
        reservation: held,
        retry_after,
    } = held;
    if body.payment.is_some() && retry_after.is_none() {
        return saga_answer(state, req, held).await;
    }
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let mut response = json_response(StatusCode::CREATED, &present(held.clone(), now));
    if let Ok(location) = HeaderValue::from_str(&format!("/reservations/{}", held.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    // The card fell back to pay-later (`fallback: PAY_LATER` in the body): when to try it again.
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    Ok(response)
}

/// `GET /reservations/{reservationId}`: the member who made it, or an admin. Anybody else: 404.
pub async fn get(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            let r = own_reservation(&state, &req, &caller).await?;
            Ok(json_response(
                StatusCode::OK,
                &present(r, OffsetDateTime::now_utc().unix_timestamp()),
            ))
        }
        .await,
    )
}

fn status_param(req: &Request) -> Result<Option<ReservationStatus>, AppError> {
    query_param(req, "status")
        .map(|raw| {
            ReservationStatus::parse(&raw).ok_or_else(|| {
                let allowed: Vec<_> = ReservationStatus::ALL.iter().map(|s| s.as_str()).collect();
                AppError::invalid("status", format!("must be one of {}", allowed.join(", ")))
            })
        })
        .transpose()
}

async fn list_page(
    state: &AppState,
    req: &Request,
    listing: ReservationListing<'_>,
) -> Result<Page<ReservationView>, AppError> {
    let status = status_param(req)?;
    let limit = limit_param(req, PAGE_DEFAULT)?;
    let cursor = cursor_param(req)?;
    let page = state
        .store
        .list_reservations(listing, status, limit, cursor.as_deref())
        .await?;
    Ok(present_page(
        page,
        OffsetDateTime::now_utc().unix_timestamp(),
    ))
}

/// `GET /reservations?status=&limit=&cursor=`: the caller's own reservations.
pub async fn list_mine(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            let page =
                list_page(&state, &req, ReservationListing::Member(&caller.member_id)).await?;
            Ok(json_response(StatusCode::OK, &page))
        }
        .await,
    )
}

/// `GET /admin/reservations`: by showtime, member or performance (the first one given picks the index; the
/// others filter the page), optionally by status.
pub async fn admin_list(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            caller(&req)?.require(&[Role::Admin])?;
            let param = |name: &str| -> Result<Option<String>, AppError> {
                query_param(&req, name)
                    .map(|raw| {
                        parse_id(&raw).ok_or_else(|| AppError::invalid(name, "must be an id"))
                    })
                    .transpose()
            };
            let (showtime, member, performance) = (
                param("showtimeId")?,
                param("memberId")?,
                param("performanceId")?,
            );
            let listing = match (&showtime, &member, &performance) {
                (Some(s), _, _) => ReservationListing::Showtime(s),
                (None, Some(m), _) => ReservationListing::Member(m),
                (None, None, Some(p)) => ReservationListing::Performance(p),
                (None, None, None) => {
                    return Err(AppError::unprocessable(
                        "performanceId",
                        "name a performanceId, showtimeId or memberId to list reservations by",
                    ))
                }
            };
            let mut page = list_page(&state, &req, listing).await?;
            page.items.retain(|r| {
                member.as_ref().is_none_or(|m| &r.member_id == m)
                    && performance.as_ref().is_none_or(|p| &r.performance_id == p)
            });
            Ok(json_response(StatusCode::OK, &page))
        }
        .await,
    )
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PerformanceReservations {
    pub performance_id: String,
    pub showtimes: Vec<ShowtimeSales>,
    /// One page of the performance's reservations, newest first.
    pub reservations: Page<ReservationView>,
}

/// `GET /performances/{performanceId}/reservations`: per showtime available/held/sold and revenue so far,
/// and the reservations themselves (paginated).
pub async fn for_performance(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            caller.require(&PUBLISHERS)?;
            let performance = load_for_change(&state, &performance_id(&req)?, &caller).await?;
            let sales = crate::app::reservations::sales(&state, &performance.id).await?;
            let reservations = list_page(
                &state,
                &req,
                ReservationListing::Performance(&performance.id),
            )
            .await?;
            Ok(json_response(
                StatusCode::OK,
                &PerformanceReservations {
                    performance_id: performance.id,
                    showtimes: sales,
                    reservations,
                },
            ))
        }
        .await,
    )
}

/// `POST /reservations/{reservationId}/payment`: pays a HELD reservation that waits for its payment; with
/// `Prefer: wait=N` the answer is the outcome (201), else 202.
pub async fn pay(routes: SagaRouteState, req: Request) -> Response<Body> {
    into_response(
        async {
            let state = &routes.app;
            let caller = caller(&req)?;
            let body: PayRequest = parse_json(&req)?;
            let r = own_reservation(state, &req, &caller).await?;
            crate::app::reservations::pay(state, &routes.saga, &r, &body.payment).await?;
            saga_answer(state, &req, r).await
        }
        .await,
    )
}

/// `GET /reservations/{reservationId}/payment`: the payment of a reservation (its buyer, or an admin).
pub async fn payment(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            let r = own_reservation(&state, &req, &caller).await?;
            let p = state
                .store
                .get_payment(&r.id)
                .await?
                .ok_or(AppError::NotFound {
                    entity: "payment of reservation",
                    id: r.id.clone(),
                })?;
            Ok(json_response(StatusCode::OK, &p))
        }
        .await,
    )
}
