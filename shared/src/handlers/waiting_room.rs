//! The waiting room's routes (docs/waiting-room.md). Work in progress (issue 11): not yet behind routes.
//!
//! | route | who |
//! |---|---|
//! | `PUT /performances/{performanceId}/showtimes/{showtimeId}/waiting-room` | the performance's organizer, admins |
//! | `POST /showtimes/{showtimeId}/queue` | member |
//! | `GET /queue/{ticketId}` | the ticket's member |

use crate::auth::caller;
use crate::domain::ids::parse_id;
use crate::domain::member::Role;
use crate::domain::performance::{format_instant, parse_instant};
use crate::domain::waiting_room::{
    draw_shard, estimated_wait_seconds, poll_after_seconds, position, rank_in_slot, slot_of,
    SettingsInput,
};
use crate::error::AppError;
use crate::http::{into_response, json_response, parse_json, path_param};
use crate::runtime::AppState;
use crate::store::waiting_room::{Joined, Room, Ticket};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use time::OffsetDateTime;

/// Where a ticket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TicketStatus {
    /// Joined; its place is fixed once its second is over (or, in the pre-queue, at the opening).
    Counting,
    Waiting,
    Admitted,
    /// It did not poll for the room's `abandonSeconds`: join again, at the back.
    Lost,
}

/// A ticket, as joining and polling answer it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TicketView {
    pub ticket_id: String,
    pub showtime_id: String,
    pub status: TicketStatus,
    /// Place in the queue, from 1; absent while counting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<u64>,
    /// How many places have been let in so far.
    pub serving: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_wait_seconds: Option<u64>,
    pub poll_after_seconds: u64,
    /// Once admitted: the token `POST /reservations` takes, and until when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admission_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admission_expires_at: Option<String>,
}

/// A waiting room, as configuring it answers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WaitingRoomView {
    pub showtime_id: String,
    pub settings: crate::domain::waiting_room::Settings,
    #[schema(format = DateTime)]
    pub opens_at: String,
    pub serving: u64,
}

fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn no_room(showtime_id: &str) -> AppError {
    AppError::NotFound {
        entity: "waiting room",
        id: showtime_id.to_string(),
    }
}

/// `PUT /performances/{performanceId}/showtimes/{showtimeId}/waiting-room`: switches the room on (or changes
/// its settings); it opens with the performance's sale.
pub async fn configure(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            caller.require(&[Role::Organizer, Role::Admin])?;
            let performance_id = path_param(&req, "performanceId")?;
            let performance =
                super::performances::load_for_change(&state, &performance_id, &caller).await?;
            let showtime = super::showtimes::path_showtime(&state, &req, &performance.id).await?;
            let input: SettingsInput = parse_json(&req)?;
            let settings = input.validate().map_err(AppError::Validation)?;
            let opens_at = parse_instant(&performance.details.sale_opens_at)
                .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
                .ok_or_else(|| AppError::Corrupt("saleOpensAt".into()))?;
            let room = match state.store.get_room(&showtime.id).await? {
                Some(room) => Room { settings, ..room },
                None => Room {
                    showtime_id: showtime.id.clone(),
                    settings,
                    // A room switched on after the sale opened opens now: its seconds count from here.
                    opens_at_ms: opens_at.max(now_ms()),
                    // Drawn now, never shown: the pre-queue's order is unknown until the opening.
                    seed: (uuid::Uuid::new_v4().as_u128() >> 64) as u64,
                    serving: 0,
                    closed: 0,
                    positions_before: 0,
                    history: Vec::new(),
                    last_run_ms: 0,
                    version: 0,
                },
            };
            state.store.put_room(&room).await?;
            state.store.register_room(&room.showtime_id).await?;
            state
                .store
                .set_waiting_room(&room.showtime_id, true)
                .await?;
            Ok(json_response(
                StatusCode::OK,
                &WaitingRoomView {
                    showtime_id: room.showtime_id.clone(),
                    settings: room.settings,
                    opens_at: OffsetDateTime::from_unix_timestamp_nanos(
                        i128::from(room.opens_at_ms) * 1_000_000,
                    )
                    .map(format_instant)
                    .unwrap_or_default(),
                    serving: room.serving,
                },
            ))
        }
        .await,
    )
}

/// `POST /showtimes/{showtimeId}/queue`: a ticket (201), or the one the member holds already (200).
pub async fn join(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            let raw = path_param(&req, "showtimeId")?;
            let showtime_id = parse_id(&raw).ok_or_else(|| no_room(&raw))?;
            let room = state
                .store
                .get_room(&showtime_id)
                .await?
                .ok_or_else(|| no_room(&showtime_id))?;
            let now = now_ms();
            let joined = state
                .store
                .join_queue(
                    &showtime_id,
                    &caller.member_id,
                    (slot_of(now, room.opens_at_ms), draw_shard()),
                    now,
                )
                .await?;
            let (status, ticket) = match joined {
                Joined::New(t) => (StatusCode::CREATED, t),
                Joined::Existing(t) => (StatusCode::OK, t),
            };
            let view = view_of(&state, &room, &ticket, now, false).await?;
            Ok(json_response(status, &view))
        }
        .await,
    )
}

/// `GET /queue/{ticketId}`: the ticket's place, and once admitted its admission token.
pub async fn poll(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            let raw = path_param(&req, "ticketId")?;
            let not_found = || AppError::NotFound {
                entity: "ticket",
                id: raw.clone(),
            };
            let (showtime_id, member_id) = Ticket::parse_id(&raw).ok_or_else(not_found)?;
            if member_id != caller.member_id {
                return Err(not_found());
            }
            let room = state
                .store
                .get_room(showtime_id)
                .await?
                .ok_or_else(not_found)?;
            let now = now_ms();
            let (ticket, previous_poll) = state
                .store
                .poll_ticket(showtime_id, member_id, now)
                .await?
                .ok_or_else(not_found)?;
            let abandoned = now - previous_poll
                > i64::try_from(room.settings.abandon_seconds * 1000).unwrap_or(i64::MAX);
            let view = view_of(&state, &room, &ticket, now, abandoned).await?;
            Ok(json_response(StatusCode::OK, &view))
        }
        .await,
    )
}

async fn view_of(
    state: &AppState,
    room: &Room,
    ticket: &Ticket,
    now: i64,
    abandoned: bool,
) -> Result<TicketView, AppError> {
    let per_minute = room.settings.admit_per_minute;
    let mut view = TicketView {
        ticket_id: ticket.id(),
        showtime_id: ticket.showtime_id.clone(),
        status: TicketStatus::Counting,
        position: None,
        serving: room.serving,
        estimated_wait_seconds: None,
        poll_after_seconds: 2,
        admission_token: None,
        admission_expires_at: None,
    };
    let (Some(slot_ticket), Some((total, before))) = (
        ticket.slot_ticket(),
        state
            .store
            .slot_total(&ticket.showtime_id, ticket.slot)
            .await?,
    ) else {
        return Ok(view);
    };
    let counts = state
        .store
        .slot_counts(&ticket.showtime_id, ticket.slot)
        .await?;
    let place = position(
        ticket.slot,
        rank_in_slot(&counts, slot_ticket),
        before,
        total,
        room.seed,
    );
    view.position = Some(place + 1);
    if place < room.serving {
        view.status = TicketStatus::Admitted;
        let keys = state
            .keys
            .as_ref()
            .ok_or_else(|| AppError::Dependency("no signing key configured".into()))?;
        let key = keys.get().await?;
        let ttl = i64::try_from(room.settings.admission_minutes * 60).unwrap_or(600);
        // The lifetime runs from the first admitted poll: polling again does not extend it.
        let admitted = state
            .store
            .admitted_at(&ticket.showtime_id, &ticket.member_id, now)
            .await?
            / 1000;
        let token = crate::auth::admission::issue(
            key,
            (&ticket.member_id, &ticket.showtime_id, &ticket.id()),
            admitted,
            ttl,
        )?;
        view.admission_token = Some(token);
        view.admission_expires_at = OffsetDateTime::from_unix_timestamp(admitted + ttl)
            .ok()
            .map(format_instant);
        view.poll_after_seconds = 60;
        return Ok(view);
    }
    if abandoned {
        view.status = TicketStatus::Lost;
        return Ok(view);
    }
    let ahead = place - room.serving;
    view.status = TicketStatus::Waiting;
    view.estimated_wait_seconds = Some(estimated_wait_seconds(ahead, per_minute));
    view.poll_after_seconds = poll_after_seconds(ahead, per_minute);
    Ok(view)
}
