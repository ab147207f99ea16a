//! The ticketing domain: every plain rule of the system (members, performances, showtimes and seat maps,
//! holds and reservations, refunds and their fees, payments, wallets, the waiting room's admissions, the
//! events and the read models folded from them) and the field rules the API states. Plain Rust: this crate
//! depends on no AWS, Lambda or HTTP crate, so Cargo keeps that promise, and `cargo test -p ticketing-domain`
//! runs without building the SDK. The `ticketing` library re-exports it as `ticketing::domain`.

pub mod admission;
pub mod breaker;
pub mod events;
pub mod field;
pub mod ids;
pub mod member;
pub mod my_page;
pub mod notification;
pub mod payment;
pub mod performance;
pub mod provider;
pub mod rate_limit;
pub mod reconciliation;
pub mod refund;
pub mod reservation;
pub mod rules;
pub mod seat;
pub mod settlement;
pub mod showtime;
pub mod ticket_limit;
pub mod waiting_room;
pub mod wallet;

pub use field::FieldError;
