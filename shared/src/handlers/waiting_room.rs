//! The waiting room's routes (docs/waiting-room.md).
//!
//! | route | who |
//! |---|---|
//! | `PUT /performances/{performanceId}/showtimes/{showtimeId}/waiting-room` | the performance's organizer, admins |
//! | `POST /showtimes/{showtimeId}/queue` | member |
//! | `GET /queue/{ticketId}` | the ticket's member |

use crate::app::waiting_room::Queued;
use crate::auth::caller;
use crate::domain::member::Role;
use crate::domain::waiting_room::SettingsInput;
use crate::http::{into_response, json_response, parse_json, path_param};
use crate::runtime::AppState;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

/// `PUT /performances/{performanceId}/showtimes/{showtimeId}/waiting-room`: switches the room on (or changes
/// its settings); it opens with the performance's sale.
pub async fn configure(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            caller.require(&[Role::Organizer, Role::Admin])?;
            let performance_id = path_param(&req, "performanceId")?;
            let performance =
                crate::app::performances::load_for_change(&state, &performance_id, &caller).await?;
            let showtime = super::path_showtime(&state, &req, &performance.id).await?;
            let input: SettingsInput = parse_json(&req)?;
            let room =
                crate::app::waiting_room::configure(&state, &performance, &showtime, input).await?;
            Ok(json_response(StatusCode::OK, &room))
        }
        .await,
    )
}

/// `POST /showtimes/{showtimeId}/queue`: a ticket (201), or the one the member holds already (200, as a
/// poll would answer it). A member whose ticket was lost, whose admission lapsed or was used for a purchase
/// gets a new one, at the back.
pub async fn join(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            crate::app::rate_limit::admit(
                &state,
                &caller.member_id,
                crate::domain::rate_limit::Route::QueueJoin,
            )
            .await?;
            let showtime_id = path_param(&req, "showtimeId")?;
            Ok(
                match crate::app::waiting_room::join(&state, &caller.member_id, &showtime_id)
                    .await?
                {
                    Queued::New(ticket) => json_response(StatusCode::CREATED, &ticket),
                    Queued::Existing(ticket) => json_response(StatusCode::OK, &ticket),
                },
            )
        }
        .await,
    )
}

/// `GET /queue/{ticketId}`: the ticket's place, and once admitted its admission token.
pub async fn poll(state: AppState, req: Request) -> Response<Body> {
    into_response(
        async {
            let caller = caller(&req)?;
            let ticket_id = path_param(&req, "ticketId")?;
            let ticket =
                crate::app::waiting_room::poll(&state, &caller.member_id, &ticket_id).await?;
            Ok(json_response(StatusCode::OK, &ticket))
        }
        .await,
    )
}
