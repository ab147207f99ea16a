//! The OpenAPI 3.1 description of the HTTP API, generated from the Rust types with utoipa and served at
//! `GET /openapi.json`. The path declarations live here, one per route of `infra/template.yaml`; a test
//! (`tests/tests/openapi.rs`) fails when the two disagree.

use crate::domain::member::{LoginInput, Member, Role, SignupInput, UpdateMemberInput};
use crate::domain::performance::{
    AgeRating, Category, Performance, PerformanceInput, PerformanceStatus, RejectRequest, Venue,
};
use crate::domain::reservation::{Reservation, ReservationStatus, ReservedSeat};
use crate::domain::seat::{GradeCounts, SeatId};
use crate::domain::showtime::{GradeInput, SeatMapInput, Showtime, ShowtimeInput};
use crate::error::FieldError;
use crate::handlers::members::LoginResponse;
use crate::handlers::reservations::{HoldRequest, PerformanceReservations, ShowtimeSales};
use crate::handlers::showtimes::{SeatMapView, SeatRow};
use crate::http::Problem;
use crate::store::performances::Page;
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
    ),
    components(schemas(
        Performance, PerformanceInput, PerformanceStatus, Category, AgeRating, Venue, Page<Performance>,
        Problem, FieldError, RejectRequest, Health,
        Member, Role, SignupInput, LoginInput, LoginResponse, UpdateMemberInput,
        Showtime, ShowtimeInput, SeatMapInput, GradeInput, Page<Showtime>, SeatMapView, SeatRow, GradeCounts, SeatId,
        HoldRequest, Reservation, ReservedSeat, ReservationStatus, Page<Reservation>, PerformanceReservations, ShowtimeSales,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "catalog", description = "Performances: public catalog, organizers' own, admins' review"),
        (name = "members", description = "Signup, login and logout, profiles"),
        (name = "showtimes", description = "Showtimes of a performance and their seat maps"),
        (name = "reservations", description = "Seat holds and reservations"),
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
    DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_json()
            .unwrap_or_else(|_| "{}".to_string())
    })
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

#[utoipa::path(get, path = "/openapi.json", tag = "system", responses((status = 200, description = "This document")))]
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
    params(("performanceId" = String, Path)),
    responses(
        (status = 200, body = Performance, headers(("ETag" = String, description = "the version"))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
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
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
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
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn update_showtime() {}

#[utoipa::path(
    get, path = "/performances/{performanceId}/showtimes", tag = "showtimes",
    params(("performanceId" = String, Path), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = Page<Showtime>), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
#[allow(dead_code)]
fn list_showtimes() {}

#[utoipa::path(
    get, path = "/performances/{performanceId}/showtimes/{showtimeId}/seats", tag = "showtimes",
    description = "Counts per grade and each row's seats as a status string (A available, H held, S sold).",
    params(("performanceId" = String, Path), ("showtimeId" = String, Path)),
    responses((status = 200, body = SeatMapView), (status = 404, body = Problem, content_type = "application/problem+json"))
)]
#[allow(dead_code)]
fn seat_map() {}

#[utoipa::path(
    post, path = "/reservations", tag = "reservations",
    description = "Hold 1 to 10 seats of a showtime that is on sale, all or none, for the performance's hold window.",
    request_body = HoldRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the same hold")),
    responses(
        (status = 201, body = Reservation, headers(("Location" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "seats taken (`unavailableSeats`), showtime cancelled or started, not on sale", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn create_reservation() {}

#[utoipa::path(
    get, path = "/reservations/{reservationId}", tag = "reservations",
    params(("reservationId" = String, Path)),
    responses((status = 200, body = Reservation), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn get_reservation() {}

#[utoipa::path(
    get, path = "/reservations", tag = "reservations",
    params(("status" = Option<ReservationStatus>, Query), ("limit" = Option<u32>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = Page<Reservation>), (status = 400, body = Problem, content_type = "application/problem+json")),
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
    responses((status = 200, body = Page<Reservation>), (status = 400, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[allow(dead_code)]
fn admin_list_reservations() {}
