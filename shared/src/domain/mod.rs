//! Domain rules: plain Rust, no AWS types, unit-tested without a server.

pub mod ids;
pub mod member;
pub mod my_page;
pub mod notification;
pub mod payment;
pub mod performance;
pub mod refund;
pub mod reservation;
pub mod rules;
pub mod seat;
pub mod showtime;
pub mod waiting_room;
pub mod wallet;
