//! The waiting room, as a member and an organizer meet it (docs/waiting-room.md): switching a showtime's
//! room on, joining its queue, and polling a ticket until it is admitted (with the admission token the hold
//! takes). The inlet that lets the queue in, a second at a time, is [`crate::inlet`].

use crate::domain::ids::parse_id;
use crate::domain::performance::{format_instant, parse_instant, Performance};
use crate::domain::showtime::Showtime;
use crate::domain::waiting_room::{
    admitted_at, draw_shard, estimated_wait_seconds, poll_after_seconds, position, rank_in_slot,
    slot_of, SettingsInput, CLOSE_GRACE_MS,
};
use crate::error::AppError;
use crate::runtime::AppState;
use crate::store::waiting_room::{Joined, PollOutcome, PollStatus, Room, Ticket};
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
    /// It did not poll for the room's `abandonSeconds` before its admission: join again, at the back.
    Lost,
    /// Its admission's lifetime is over: join again, at the back.
    Expired,
    /// Its admission was used for a purchase (its capacity went back to the queue): to buy more, join again,
    /// at the back.
    Finished,
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

/// Switches `showtime`'s room on (or changes its settings); it opens with `performance`'s sale. The caller
/// was checked to be allowed to change the performance.
pub async fn configure(
    state: &AppState,
    performance: &Performance,
    showtime: &Showtime,
    input: SettingsInput,
) -> Result<WaitingRoomView, AppError> {
    let settings = input.validate().map_err(AppError::Validation)?;
    let opens_at = parse_instant(&performance.details.sale_opens_at)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .ok_or_else(|| AppError::Corrupt("saleOpensAt".into()))?;
    let closes_at = parse_instant(&performance.details.sale_closes_at)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .unwrap_or_default();
    let room = match state.store.get_room(&showtime.id).await? {
        Some(room) => Room {
            settings,
            closes_at_ms: closes_at,
            ..room
        },
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
            closes_at_ms: closes_at,
            version: 0,
        },
    };
    state.store.put_room(&room).await?;
    state.store.register_room(&room.showtime_id).await?;
    state
        .store
        .set_waiting_room(&room.showtime_id, true)
        .await?;
    Ok(WaitingRoomView {
        showtime_id: room.showtime_id.clone(),
        settings: room.settings,
        opens_at: OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(room.opens_at_ms) * 1_000_000,
        )
        .map(format_instant)
        .unwrap_or_default(),
        serving: room.serving,
    })
}

/// The room, read at most [`crate::runtime::ROOM_TTL`] ago by this container (joins and polls come in
/// thousands a second; the serving number moves once a second).
async fn room_of(state: &AppState, showtime_id: &str) -> Result<Option<Room>, AppError> {
    if let Some(room) = state.caches.rooms.get(showtime_id) {
        return Ok(Some(room));
    }
    let room = state.store.get_room(showtime_id).await?;
    if let Some(room) = &room {
        state.caches.rooms.put(showtime_id, room.clone());
    }
    Ok(room)
}

fn lifetime_ms(room: &Room) -> i64 {
    i64::try_from(room.settings.admission_minutes * 60_000).unwrap_or(i64::MAX)
}

/// What joining answers: a new ticket, or the one the member holds already (as a poll of it).
pub enum Queued {
    New(TicketView),
    Existing(TicketView),
}

/// `member_id` joins the queue of showtime `raw_showtime_id`. A member whose ticket was lost, whose admission
/// lapsed or was used for a purchase gets a new one, at the back.
pub async fn join(
    state: &AppState,
    member_id: &str,
    raw_showtime_id: &str,
) -> Result<Queued, AppError> {
    let showtime_id = parse_id(raw_showtime_id).ok_or_else(|| no_room(raw_showtime_id))?;
    let room = room_of(state, &showtime_id)
        .await?
        .ok_or_else(|| no_room(&showtime_id))?;
    let now = now_ms();
    let joined = state
        .store
        .join_queue(
            &showtime_id,
            member_id,
            (room.opens_at_ms, draw_shard()),
            (now, now - lifetime_ms(&room)),
        )
        .await?;
    Ok(match joined {
        Joined::New(ticket) => Queued::New(counting(&room, &ticket, now)),
        Joined::Existing(ticket) => Queued::Existing(polled(state, &room, ticket, now).await?),
    })
}

/// `member_id` polls ticket `raw_ticket_id`: its place, and once admitted its admission token. Someone
/// else's ticket is not found.
pub async fn poll(
    state: &AppState,
    member_id: &str,
    raw_ticket_id: &str,
) -> Result<TicketView, AppError> {
    let not_found = || AppError::NotFound {
        entity: "ticket",
        id: raw_ticket_id.to_string(),
    };
    let (showtime_id, ticket_member) = Ticket::parse_id(raw_ticket_id).ok_or_else(not_found)?;
    if ticket_member != member_id {
        return Err(not_found());
    }
    let ticket = state
        .store
        .get_ticket(showtime_id, ticket_member)
        .await?
        .ok_or_else(not_found)?;
    let room = room_of(state, showtime_id).await?.ok_or_else(not_found)?;
    polled(state, &room, ticket, now_ms()).await
}

/// A ticket whose place is not known yet: the pre-queue's before the opening, or one whose second has not
/// been closed by the inlet.
fn counting(room: &Room, ticket: &Ticket, now: i64) -> TicketView {
    let to_opening = u64::try_from((room.opens_at_ms - now) / 1000).unwrap_or(0);
    TicketView {
        ticket_id: ticket.id(),
        showtime_id: ticket.showtime_id.clone(),
        status: TicketStatus::Counting,
        position: None,
        serving: room.serving,
        estimated_wait_seconds: None,
        poll_after_seconds: to_opening.clamp(2, room.settings.abandon_seconds / 3),
        admission_token: None,
        admission_expires_at: None,
    }
}

/// The ticket's place: on the ticket once a poll recorded it, else from its closed slot's total and shard
/// counts (kept per container: they never change); `None` while its slot is open.
async fn place_of(state: &AppState, room: &Room, ticket: &Ticket) -> Result<Option<u64>, AppError> {
    if ticket.position.is_some() {
        return Ok(ticket.position);
    }
    let Some(slot_ticket) = ticket.slot_ticket() else {
        return Ok(None);
    };
    if ticket.slot >= room.closed {
        return Ok(None);
    }
    let key = format!("{}#{}", ticket.showtime_id, ticket.slot);
    let closed = match state.caches.slot_counts.get(&key) {
        Some(closed) => closed,
        None => {
            let Some(closed) = state
                .store
                .closed_slot(&ticket.showtime_id, ticket.slot)
                .await?
            else {
                return Ok(None);
            };
            state.caches.slot_counts.put(&key, closed.clone());
            closed
        }
    };
    if closed
        .counts
        .get(ticket.shard as usize)
        .copied()
        .unwrap_or(0)
        < slot_ticket.seq
    {
        // Its count landed after the slot closed (a request slower than the grace): the slot's total does
        // not hold it. Count it in the current second.
        return Err(AppError::Conflict("uncounted".into()));
    }
    Ok(Some(position(
        ticket.slot,
        rank_in_slot(&closed.counts, slot_ticket),
        closed.before,
        closed.total,
        room.seed,
    )))
}

/// A poll of `ticket` (a reload's join is one too): what it learnt is recorded on the ticket.
async fn polled(
    state: &AppState,
    room: &Room,
    ticket: Ticket,
    now: i64,
) -> Result<TicketView, AppError> {
    let mut view = counting(room, &ticket, now);
    if ticket.lost {
        view.status = TicketStatus::Lost;
        return Ok(view);
    }
    if ticket.finished {
        view.status = TicketStatus::Finished;
        view.position = ticket.position.map(|p| p + 1);
        return Ok(view);
    }
    let abandon_ms = i64::try_from(room.settings.abandon_seconds * 1000).unwrap_or(i64::MAX);
    let abandoned = ticket.admitted_at_ms.is_none() && now - ticket.last_poll_at_ms > abandon_ms;
    let uncounted = |t: &Ticket| t.seq.is_none() && now > t.joined_at_ms + CLOSE_GRACE_MS;
    let place = match place_of(state, room, &ticket).await {
        Err(AppError::Conflict(_) | AppError::Busy(_)) => None,
        Ok(place) if !uncounted(&ticket) => place,
        Ok(_) => None,
        Err(e) => return Err(e),
    };
    let mut ticket = ticket;
    if place.is_none()
        && ticket.position.is_none()
        && ((ticket.seq.is_some() && ticket.slot < room.closed) || uncounted(&ticket))
        && !abandoned
    {
        // Counted too late for its slot, or never counted (a crash between the claim and the count): it
        // joins the current second now. Its late count, if any, is in no total: no place is left empty.
        let slot = slot_of(now, room.opens_at_ms);
        ticket.seq = Some(
            state
                .store
                .count_ticket(&ticket, (slot, ticket.shard), now)
                .await?,
        );
        ticket.slot = slot;
    }
    let let_in = ticket
        .admitted_at_ms
        .or_else(|| place.and_then(|p| admitted_at(p, &room.history)));
    let status = if abandoned {
        PollStatus::Lost
    } else if let Some(at) = let_in {
        PollStatus::Admitted(at)
    } else {
        PollStatus::Waiting
    };
    let learnt = PollOutcome {
        position: place.filter(|_| ticket.position.is_none()),
        status,
    };
    let ticket = state.store.record_poll(&ticket, now, learnt).await?;
    view.position = place.map(|p| p + 1);
    let Some(place) = place else {
        if status == PollStatus::Lost {
            view.status = TicketStatus::Lost;
        }
        return Ok(view);
    };
    match status {
        PollStatus::Lost => view.status = TicketStatus::Lost,
        PollStatus::Admitted(at) => {
            let admitted = ticket.admitted_at_ms.unwrap_or(at);
            let ttl = i64::try_from(room.settings.admission_minutes * 60).unwrap_or(600);
            let expires = admitted / 1000 + ttl;
            // Expired once the hold refuses it (after the same leeway), when the inlet counts it no more.
            if expires + i64::try_from(crate::auth::jwt::LEEWAY_SECONDS).unwrap_or(0) < now / 1000 {
                view.status = TicketStatus::Expired;
                return Ok(view);
            }
            let keys = state
                .keys
                .as_ref()
                .ok_or_else(|| AppError::Dependency("no signing key configured".into()))?;
            let token = crate::auth::admission::issue(
                keys.get().await?,
                (&ticket.member_id, &ticket.showtime_id, &ticket.id()),
                admitted / 1000,
                ttl,
            )?;
            view.status = TicketStatus::Admitted;
            view.admission_token = Some(token);
            view.admission_expires_at = OffsetDateTime::from_unix_timestamp(expires)
                .ok()
                .map(format_instant);
            view.poll_after_seconds = u64::try_from(expires - now / 1000).unwrap_or(60).min(60);
        }
        PollStatus::Waiting => {
            let ahead = place - room.serving;
            let per_minute = room.settings.admit_per_minute;
            view.status = TicketStatus::Waiting;
            view.estimated_wait_seconds = Some(estimated_wait_seconds(ahead, per_minute));
            view.poll_after_seconds =
                poll_after_seconds(ahead, per_minute, room.settings.abandon_seconds);
        }
    }
    Ok(view)
}
