//! Ticketing backend library.
//!
//! # Layout
//!
//! Layers from the bottom up; each imports only the layers below it (the exceptions still being worked off
//! are named).
//!
//! 1. **Domain**: [`domain`], the crate `ticketing-domain` (`shared/domain/`): every plain rule, the field
//!    rules, the events, the payment provider's port. No AWS, Lambda or HTTP crate.
//! 2. **Errors and infrastructure**: [`error`] (`AppError`), [`aws`] (one HTTP client for every SDK
//!    client), [`cache`] (per-container caches), [`telemetry`] (JSON logs).
//! 3. **Adapters**: [`store`] (the DynamoDB single table; every key in `store::keys`, every access pattern
//!    in its module's table), [`sfn`] (Step Functions), [`events`] (putting events on the bus),
//!    [`payments`] (the provider: the local test mode), [`auth`] (tokens, password hashes), [`faults`]
//!    (test stacks' crash switches).
//! 4. **Use-cases**: [`app`], one module per domain operation; [`waiting_room`], [`repair`].
//! 5. **Edges**: [`handlers`] (one async function per API route; they share only `handlers/mod.rs`'s edge
//!    helpers, never each other), [`saga`] (the state machines' steps: `saga/mod.rs` dispatches, one child
//!    module per machine, so far [`cancellation`]), [`consumers`] (the event consumers), [`outbox`] (the
//!    publisher), [`dlq`]; [`http`] maps errors to problem responses once; [`openapi`] is the document
//!    of the edge's types; [`runtime`] is what every Lambda binary does at start-up.
//!
//! Still crossing a layer (issue 22): [`app`] resumes a stalled sweep through [`saga`]'s
//! [`cancellation`]; [`openapi`] and the `openapi` handler name each other; the hold use-case is still in
//! `handlers::reservations`.

pub mod app;
pub mod auth;
pub mod aws;
pub mod cache;
pub mod consumers;
pub mod dlq;
/// The domain rules, in their own crate (`shared/domain`): plain Rust, no AWS types.
pub use ticketing_domain as domain;
pub mod error;
pub mod events;
pub mod faults;
pub mod handlers;
pub mod http;
pub mod openapi;
pub mod outbox;
pub mod payments;
pub mod repair;
pub mod runtime;
pub mod saga;
/// The cancellation machine's steps, under the sagas (`saga::cancellation`).
pub use saga::cancellation;
pub mod sfn;
pub mod store;
pub mod telemetry;
pub mod waiting_room;

pub use error::{AppError, FieldError};
