//! The reservation machine, `statemachines/reservation.asl.json`: one file per state.
//!
//! | state | file |
//! |---|---|
//! | `ReserveSeats` | [`reserve_seats`] |
//! | `PaymentGiven` (a Choice) | the machine alone |
//! | `WaitForPayment` | [`wait_for_payment`] |
//! | `Pay` | [`pay`] (and [`pay::settle_waiting`] for a payment a dead Pay left WAITING) |
//! | `ConfirmSeats` | [`confirm_seats`] |
//! | `Refund` | [`refund`] |
//! | `ReleaseFailed`, `Expire` | [`release`] |
//! | `Confirmed`, `Failed`, `Expired` | end states |

pub mod confirm_seats;
pub mod pay;
pub mod refund;
pub mod release;
pub mod reserve_seats;
pub mod wait_for_payment;

pub use pay::PAYMENT_INTERRUPTED;
pub use release::release_unsold;
