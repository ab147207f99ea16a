//! The nightly reconciliation, `statemachines/reconciliation.asl.json` (scheduled; `ticketing-admin
//! reconcile` runs the same checks in one process on demand): one file per state. The checks are the
//! use-case `app::reconciliation`.
//!
//! | state | file |
//! |---|---|
//! | `Segments` (a Map: one item per segment) → `ScanSegment` (a page run at a time), `MorePages`, `NextPage` | [`scan_segment`] |
//! | `Finish` (the report and its metric) | [`finish`] |

pub mod finish;
pub mod scan_segment;
