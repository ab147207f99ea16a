//! An organizer's showtime cancellation, `statemachines/showtime-cancellation.asl.json`: one file per state.
//! The route that starts it is the use-case `app::showtimes`.
//!
//! | state | file |
//! |---|---|
//! | `ListPage`, `SecondPass`, `Recheck` | [`list_page`] |
//! | `CancelPage` (a Map: an item per reservation; its Catch counts a failure) | [`cancel_page`] |
//! | `Finish` | [`finish`] |
//! | `MorePages` (a Choice), `LetTheIndexCatchUp` (a Wait), `Done` | the machine alone |

pub mod cancel_page;
pub mod finish;
pub mod list_page;

pub use list_page::SWEEP_PAGE;
