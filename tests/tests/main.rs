//! The integration tests: one binary, one module per area, all against the local stack (LocalStack, our
//! functions as real binaries, the local gateway) named by `TICKETING_API_URL` and `TICKETING_OUTPUTS`.
//! Every test isolates its data (its own members, performances and showtimes), so they run in parallel.
//! The helpers they share are the modules of `ticketing_tests` (stack, members, catalog, events, sagas,
//! reconciliation). `chaos.rs` and `repair.rs` are binaries of their own (see `tests/Cargo.toml`).
//!
//! Run one area with `cargo test -p ticketing-tests --test integration holds::`.

mod access;
mod catalog;
mod consumers;
mod dynamodb_strictness;
mod events;
mod holds;
mod members;
mod openapi;
mod outbox;
mod rate_limits;
mod reconciliation;
mod saga;
mod saga_cancellations;
mod saga_crashes;
mod settlement;
mod ticket_limit;
mod waiting_room;
mod wallet;
