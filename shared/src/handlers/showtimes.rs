//! Showtimes of a performance and their seat maps.
//!
//! | route | who |
//! |---|---|
//! | `POST /performances/{performanceId}/showtimes` | its organizer or an ADMIN; creates every seat |
//! | `PUT /performances/{performanceId}/showtimes/{showtimeId}` | same; time, venue name, prices (not the layout) |
//! | `GET /performances/{performanceId}/showtimes` | anyone, for an approved performance |
//! | `GET /performances/{performanceId}/showtimes/{showtimeId}/seats` | anyone, for an approved performance |

use super::{path_showtime, performance_id};
use crate::app::performances::{load_for_change, PUBLISHERS};
use crate::app::showtimes::cancel_one;
use crate::auth::caller;
use crate::domain::seat::{grade_counts, GradeCounts, SeatId, SeatStatus};
use crate::domain::showtime::{Showtime, ShowtimeInput};
use crate::error::AppError;
use crate::http::{
    cursor_param, if_match_version, into_response, json_response, limit_param, parse_json,
    with_etag,
};
use crate::runtime::AppState;
use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use time::OffsetDateTime;

fn showtime_response(status: StatusCode, s: &Showtime) -> Response<Body> {
    with_etag(json_response(status, s), s.version)
}

/// The performance of a public route: it must exist and be approved.
async fn public_performance(state: &AppState, req: &Request) -> Result<String, AppError> {
    let id = performance_id(req)?;
    super::visible_performance(state, req, &id)
        .await
        .map(|p| p.id)
}

/// `POST /performances/{performanceId}/showtimes`
pub async fn create(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            caller.require(&PUBLISHERS)?;
            let performance = load_for_change(&state, &performance_id(&req)?, &caller).await?;
            let idempotent_id = super::idempotent_id(&req, &caller, "showtime")?;
            let input: ShowtimeInput = parse_json(&req)?;
            let created =
                crate::app::showtimes::create(&state, &performance, idempotent_id, input).await?;
            let mut response = showtime_response(StatusCode::CREATED, &created);
            let location = format!(
                "/performances/{}/showtimes/{}",
                created.performance_id, created.id
            );
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            Ok(response)
        }
        .await,
    )
}

/// `PUT /performances/{performanceId}/showtimes/{showtimeId}`. A new time or venue on a showtime with sales
/// publishes `ShowtimeChanged` listing the reservations it affects; their buyers may cancel without a fee for
/// [`CHANGE_FREE_DAYS`](crate::domain::refund::CHANGE_FREE_DAYS) days.
pub async fn update(routes: crate::runtime::CancelRouteState, req: Request) -> Response<Body> {
    let state = routes.app.clone();
    into_response(
        async {
            let caller = caller(&req)?;
            caller.require(&PUBLISHERS)?;
            let performance = load_for_change(&state, &performance_id(&req)?, &caller).await?;
            let expected = if_match_version(&req)?;
            let input: ShowtimeInput = parse_json(&req)?;
            let showtime_id = super::path_showtime_id(&req)?;
            let showtime = crate::app::showtimes::update(
                &state,
                &caller,
                (&performance.id, &showtime_id),
                expected,
                input,
            )
            .await?;
            Ok(showtime_response(StatusCode::OK, &showtime))
        }
        .await,
    )
}

/// `GET /performances/{performanceId}/showtimes`
pub async fn list(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let performance_id = public_performance(&state, &req).await?;
            let limit = limit_param(&req, 50)?;
            let cursor = cursor_param(&req)?;
            let page = state
                .store
                .list_showtimes(&performance_id, limit, cursor.as_deref())
                .await?;
            Ok(json_response(StatusCode::OK, &page))
        }
        .await,
    )
}

/// The seat map of a showtime: counts per grade, and each row's seats as one status string
/// (`A` available, `H` held, `S` sold; an expired hold reads `A`), which keeps a 50,000-seat map small.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeatMapView {
    pub showtime_id: String,
    pub currency: String,
    pub rows: u16,
    pub cols: u16,
    pub available: u32,
    pub held: u32,
    pub sold: u32,
    pub grades: Vec<GradeCounts>,
    pub seat_rows: Vec<SeatRow>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeatRow {
    pub row: u16,
    pub grade: String,
    pub price: u64,
    /// One character per column, column 1 first.
    pub seats: String,
}

fn seat_map_view(
    showtime: &Showtime,
    seats: Vec<(SeatId, crate::domain::seat::SeatState)>,
    now: i64,
) -> SeatMapView {
    let map = &showtime.details.seat_map;
    let mut grid = vec![vec![b'A'; usize::from(map.cols)]; usize::from(map.rows)];
    for (seat, state) in &seats {
        let mark = match state.effective_status(now) {
            SeatStatus::Available => b'A',
            SeatStatus::Held => b'H',
            SeatStatus::Sold => b'S',
        };
        if let Some(cell) = grid
            .get_mut(usize::from(seat.row).wrapping_sub(1))
            .and_then(|r| r.get_mut(usize::from(seat.col).wrapping_sub(1)))
        {
            *cell = mark;
        }
    }
    let grades = grade_counts(map, seats, now);
    let seat_rows = grid
        .into_iter()
        .enumerate()
        .filter_map(|(i, marks)| {
            let row = u16::try_from(i + 1).ok()?;
            let grade = map.grade_of_row(row)?;
            Some(SeatRow {
                row,
                grade: grade.grade.clone(),
                price: grade.price,
                seats: String::from_utf8(marks).ok()?,
            })
        })
        .collect();
    SeatMapView {
        showtime_id: showtime.id.clone(),
        currency: showtime.details.currency.clone(),
        rows: map.rows,
        cols: map.cols,
        available: grades.iter().map(|g| g.available).sum(),
        held: grades.iter().map(|g| g.held).sum(),
        sold: grades.iter().map(|g| g.sold).sum(),
        grades,
        seat_rows,
    }
}

/// `GET /performances/{performanceId}/showtimes/{showtimeId}/seats`
pub async fn seats(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let performance_id = public_performance(&state, &req).await?;
            let showtime = path_showtime(&state, &req, &performance_id).await?;
            let seats = state.store.read_seats(&showtime).await?;
            let now = OffsetDateTime::now_utc().unix_timestamp();
            Ok(json_response(
                StatusCode::OK,
                &seat_map_view(&showtime, seats, now),
            ))
        }
        .await,
    )
}

/// `POST /performances/{performanceId}/showtimes/{showtimeId}/cancel` body.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelShowtimeRequest {
    /// Told to every buyer.
    #[schema(schema_with = crate::domain::rules::reason_schema)]
    pub reason: String,
}

fn progress_response(
    status: StatusCode,
    progress: &crate::store::cancellations::CancellationProgress,
    performance_id: &str,
) -> Response<Body> {
    let mut response = json_response(status, progress);
    if let Ok(location) = HeaderValue::from_str(&format!(
        "/performances/{performance_id}/showtimes/{}/cancellation",
        progress.showtime_id
    )) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// `POST /performances/{performanceId}/showtimes/{showtimeId}/cancel`
pub async fn cancel(routes: crate::runtime::CancelRouteState, req: Request) -> Response<Body> {
    into_response(
        async {
            let state = &routes.app;
            let caller = caller(&req)?;
            caller.require(&PUBLISHERS)?;
            let performance = load_for_change(state, &performance_id(&req)?, &caller).await?;
            let body: CancelShowtimeRequest = parse_json(&req)?;
            let reason = crate::domain::rules::REASON
                .check("reason", &body.reason)
                .map_err(|e| AppError::Validation(vec![e]))?;
            let showtime = path_showtime(state, &req, &performance.id).await?;
            let progress = cancel_one(&routes, &caller, showtime, &reason).await?;
            Ok(progress_response(
                StatusCode::ACCEPTED,
                &progress,
                &performance.id,
            ))
        }
        .await,
    )
}

/// `GET /performances/{performanceId}/showtimes/{showtimeId}/cancellation`: how the organizer's
/// cancellation is going (its organizer or an admin).
pub async fn cancellation(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            caller.require(&PUBLISHERS)?;
            let performance = load_for_change(&state, &performance_id(&req)?, &caller).await?;
            let showtime = path_showtime(&state, &req, &performance.id).await?;
            let progress =
                state
                    .store
                    .sweep_progress(&showtime.id)
                    .await?
                    .ok_or(AppError::NotFound {
                        entity: "cancellation of showtime",
                        id: showtime.id,
                    })?;
            Ok(progress_response(
                StatusCode::OK,
                &progress,
                &performance.id,
            ))
        }
        .await,
    )
}
