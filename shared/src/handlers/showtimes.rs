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
use crate::domain::ids::new_id;
use crate::domain::seat::{grade_counts, GradeCounts, SeatId, SeatStatus};
use crate::domain::showtime::{SeatMap, Showtime, ShowtimeInput};
use crate::error::AppError;
use crate::http::{
    cursor_param, if_match_version, into_response, json_response, limit_param, parse_json,
    with_etag,
};
use crate::runtime::AppState;
use crate::store::StoreError;
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
            let now = OffsetDateTime::now_utc();
            let details = input.validate(now).map_err(AppError::Validation)?;
            let id = idempotent_id.clone().unwrap_or_else(new_id);
            let showtime = Showtime::new(id.clone(), performance.id.clone(), details, now);
            let created = match state.store.create_showtime(&showtime).await {
                Ok(()) => showtime,
                Err(StoreError::Conflict(_)) if idempotent_id.is_some() => {
                    match state.store.get_showtime(&id).await? {
                        Some(existing) if existing.details == showtime.details => existing,
                        _ => {
                            return Err(AppError::Conflict(
                                "Idempotency-Key was already used for a different request".into(),
                            ))
                        }
                    }
                }
                Err(err) => return Err(err.into()),
            };
            tracing::info!(
                showtime_id = %created.id,
                performance_id = %created.performance_id,
                seats = created.details.seat_map.capacity(),
                "showtime created"
            );
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

/// The layout (rows, columns, which rows are which grade) is fixed once seats exist; prices, grade names,
/// time and venue name may change.
fn same_layout(a: &SeatMap, b: &SeatMap) -> bool {
    a.rows == b.rows
        && a.cols == b.cols
        && a.grades.len() == b.grades.len()
        && a.grades
            .iter()
            .zip(&b.grades)
            .all(|(x, y)| x.from_row == y.from_row && x.to_row == y.to_row)
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
            let now = OffsetDateTime::now_utc();
            let details = input.validate(now).map_err(AppError::Validation)?;
            let mut showtime = path_showtime(&state, &req, &performance.id).await?;
            if let Some(expected) = expected.filter(|v| *v != showtime.version) {
                return Err(AppError::PreconditionFailed { entity: "showtime", id: showtime.id, expected });
            }
            if !same_layout(&showtime.details.seat_map, &details.seat_map) {
                return Err(AppError::Conflict(
                    "the seat layout (rows, columns, the rows of each grade) cannot change once the showtime exists; \
                     prices, grade names, time and venue name can"
                        .into(),
                ));
            }
            if showtime.status == crate::domain::showtime::ShowtimeStatus::Cancelled {
                return Err(AppError::Conflict(format!("showtime {} is cancelled", showtime.id)));
            }
            let previous = showtime.version;
            let moved = showtime.details.starts_at != details.starts_at
                || showtime.details.venue_name != details.venue_name;
            let before = (
                crate::domain::performance::format_instant(showtime.details.starts_at),
                showtime.details.venue_name.clone(),
            );
            let affected = if moved { sold_reservations(&state, &showtime.id).await? } else { Vec::new() };
            showtime.details = details;
            showtime.version += 1;
            showtime.updated_at = crate::domain::performance::format_instant(now);
            if !affected.is_empty() {
                showtime.changed_at = Some(showtime.updated_at.clone());
                showtime.fee_free_until = Some(crate::domain::performance::format_instant(
                    now + time::Duration::days(crate::domain::refund::CHANGE_FREE_DAYS),
                ));
            }
            // One event per 500 reservations keeps each well under EventBridge's 256 KB.
            let events: Vec<_> = affected
                .chunks(500)
                .enumerate()
                .map(|(i, chunk)| {
                    crate::events::Event::keyed(
                        crate::events::EventType::ShowtimeChanged,
                        &showtime.id,
                        &format!("{}-{i}", showtime.version),
                        &caller.member_id,
                        &showtime.updated_at,
                        serde_json::json!({
                            "showtimeId": showtime.id,
                            "performanceId": showtime.performance_id,
                            "previous": {"startsAt": before.0, "venueName": before.1},
                            "startsAt": crate::domain::performance::format_instant(showtime.details.starts_at),
                            "venueName": showtime.details.venue_name,
                            "feeFreeUntil": showtime.fee_free_until,
                            "affectedReservations": chunk,
                        }),
                    )
                })
                .collect();
            state.store.replace_showtime(&showtime, previous, &events).await?;
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

/// The reservations a change of time or venue affects: every CONFIRMED one, as `{reservationId, memberId}`.
async fn sold_reservations(
    state: &AppState,
    showtime_id: &str,
) -> Result<Vec<serde_json::Value>, AppError> {
    let mut affected = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = state
            .store
            .list_reservations(
                crate::store::reservations::ReservationListing::Showtime(showtime_id),
                Some(crate::domain::reservation::ReservationStatus::Confirmed),
                crate::http::PAGE_LIMIT.max as u32,
                cursor.as_deref(),
            )
            .await?;
        affected.extend(
            page.items
                .into_iter()
                .map(|r| serde_json::json!({"reservationId": r.id, "memberId": r.member_id})),
        );
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(affected),
        }
    }
}
