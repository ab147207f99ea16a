//! Ticketing backend library.
//!
//! * [`domain`]: plain-Rust rules (validation, states), the crate `ticketing-domain` (`shared/domain/`).
//! * [`store`]: the DynamoDB single-table adapter; its module docs list every access pattern and key.
//! * [`http`]: JSON bodies, `application/problem+json` errors, pagination cursors.
//! * [`handlers`]: one async function per API route, called in-process by tests and by the `functions/` binaries.
//! * [`runtime`]: what every Lambda binary does at start-up (logging, clients built once, the runtime loop).

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
