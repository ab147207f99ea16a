//! The application's use-cases, one module per domain operation (as pretix's `base/services/`): what a
//! request, a saga step or a consumer asks the system to do, on top of the domain rules and the store. The
//! edges (HTTP handlers, saga steps, consumers) parse, call one of these, and present; no HTTP type is used
//! here, and no use-case imports an edge.

pub mod cancellations;
pub mod changes;
pub mod holds;
pub mod members;
pub mod payment_provider;
pub mod performances;
pub mod rate_limit;
pub mod reconciliation;
pub mod reservations;
pub mod resume;
pub mod settlement;
pub mod showtimes;
pub mod waiting_room;
pub mod wallet;
