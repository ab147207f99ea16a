//! Reservations: whose a reservation is, paying a hold that waits for its payment, waiting for the saga's
//! outcome, and a performance's sales per showtime.

use crate::auth::Caller;
use crate::domain::payment::PaymentInput;
use crate::domain::reservation::{Reservation, ReservationStatus};
use crate::domain::seat::grade_counts;
use crate::error::AppError;
use crate::runtime::AppState;
use crate::sfn::{Execution, Machine, SagaClient};
use crate::store::reservations::ReservationListing;
use crate::store::Store;
use serde::Serialize;
use time::OffsetDateTime;
use tracing::Instrument;

fn not_found(id: &str) -> AppError {
    AppError::NotFound {
        entity: "reservation",
        id: id.to_string(),
    }
}

/// The reservation `id` as `caller` may act on it: their own, or any for an admin; to anyone else it does
/// not exist (404).
pub async fn own_reservation(
    state: &AppState,
    id: &str,
    caller: &Caller,
) -> Result<Reservation, AppError> {
    state
        .store
        .get_reservation(id)
        .await?
        .filter(|r| caller.is_admin() || r.member_id == caller.member_id)
        .ok_or_else(|| not_found(id))
}

/// Waits up to `seconds` for the saga to end the reservation's HELD state (reading the reservation item, never
/// the execution). `None` when it is still HELD by then.
pub async fn wait_for_outcome(
    store: &Store,
    id: &str,
    seconds: u64,
) -> Result<Option<Reservation>, AppError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        if let Some(r) = store.get_reservation(id).await? {
            if r.status != ReservationStatus::Held {
                return Ok(Some(r));
            }
        }
        if std::time::Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    }
}

/// Hands `payment` to the saga of the HELD reservation `r`, which waits for it. A reservation whose request
/// died before it started its saga gets it started now, with this payment. The outcome is the saga's: read it
/// from the reservation.
pub async fn pay(
    state: &AppState,
    saga: &SagaClient,
    r: &Reservation,
    payment: &PaymentInput,
) -> Result<(), AppError> {
    let id = r.id.clone();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let status = r.effective_status(now);
    if status != ReservationStatus::Held {
        return Err(AppError::Conflict(format!(
            "reservation {id} is {status}: there is no hold to pay"
        )));
    }
    // While the provider's breaker is open a card is not taken (the hold goes on: pay with wallet points, or
    // by card after Retry-After).
    if let PaymentInput::Card { .. } = payment {
        if let Err(refused) = state.breaker.peek().await? {
            return Err(AppError::ProviderPaused {
                retry_after: refused.retry_after,
            });
        }
    }
    if state.store.get_payment(&id).await?.is_some() {
        return Err(AppError::Conflict(format!(
            "reservation {id} is being paid already"
        )));
    }
    // The saga keeps its task token a moment after the hold; a request that comes sooner waits for it.
    let mut token = None;
    for _ in 0..20 {
        token = state.store.payment_task(&id).await?;
        if token.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let span = tracing::info_span!("pay", correlation_id = %id);
    let Some(token) = token else {
        // The request that held the seats may have died before it started the saga: start it now, with
        // this payment (the execution is named after the reservation, so this is the one saga).
        if saga.execution(Machine::Reservation, &id).await? == Execution::Missing {
            saga.start(&id, Some(payment)).instrument(span).await?;
            return Ok(());
        }
        return Err(AppError::Conflict(format!(
            "reservation {id} is not waiting for a payment yet; retry"
        )));
    };
    let mut token = token;
    for attempt in 0..3 {
        if saga
            .send_payment(&token, payment)
            .instrument(span.clone())
            .await?
        {
            return Ok(());
        }
        // The token is over. If the wait's step died and ran again, it keeps a new one soon.
        if attempt == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        match state.store.payment_task(&id).await? {
            Some(newer) if newer != token => token = newer,
            _ => break,
        }
    }
    Err(AppError::Conflict(format!(
        "reservation {id} no longer waits for a payment"
    )))
}

/// Sales of one showtime, as the organizer sees them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShowtimeSales {
    pub showtime_id: String,
    pub starts_at: String,
    pub currency: String,
    pub capacity: u32,
    pub available: u32,
    pub held: u32,
    pub sold: u32,
    /// Sum of the confirmed reservations' totals, in minor units.
    pub revenue: u64,
}

/// Per showtime of performance `performance_id`: its seats available, held and sold now, and the revenue of
/// its confirmed reservations so far.
pub async fn sales(state: &AppState, performance_id: &str) -> Result<Vec<ShowtimeSales>, AppError> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let showtimes = state.store.all_showtimes(performance_id).await?;
    let mut revenue = std::collections::HashMap::<String, u64>::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = state
            .store
            .list_reservations(
                ReservationListing::Performance(performance_id),
                Some(ReservationStatus::Confirmed),
                crate::domain::rules::PAGE_LIMIT.max as u32,
                cursor.as_deref(),
            )
            .await?;
        for r in page.items {
            *revenue.entry(r.showtime_id).or_default() += r.total_price;
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut sales = Vec::with_capacity(showtimes.len());
    for s in showtimes {
        let seats = state.store.read_seats(&s).await?;
        let counts = grade_counts(&s.details.seat_map, seats, now);
        sales.push(ShowtimeSales {
            starts_at: crate::domain::performance::format_instant(s.details.starts_at),
            currency: s.details.currency.clone(),
            capacity: s.details.seat_map.capacity(),
            available: counts.iter().map(|c| c.available).sum(),
            held: counts.iter().map(|c| c.held).sum(),
            sold: counts.iter().map(|c| c.sold).sum(),
            revenue: revenue.get(&s.id).copied().unwrap_or(0),
            showtime_id: s.id,
        });
    }
    Ok(sales)
}
