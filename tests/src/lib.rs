//! Harness for the integration tests. They run against the local stack that `infra/local/test.sh` starts:
//! LocalStack with our functions as real `bootstrap` processes, the stack deployed from `infra/template.yaml`,
//! and the local gateway serving the template's routes. The script passes where everything is through
//! `TICKETING_API_URL` and `TICKETING_OUTPUTS` (the deploy's outputs.json). Tests isolate their data with
//! unique ids, so they run in parallel and against a stack other runs have used.
//!
//! One module per concern, in the order a test uses them: the stack, members, the catalog, the events on the
//! bus, reservations through the sagas, fault and crash switches, the reconciliation every money test ends
//! with, and settlement statements. Everything is re-exported here, so a test imports `ticketing_tests::{...}`.

pub mod bench;
pub mod catalog;
pub mod events;
pub mod faults;
pub mod members;
pub mod reconciliation;
pub mod sagas;
pub mod settlement;
pub mod stack;

pub use catalog::*;
pub use events::*;
pub use faults::*;
pub use members::*;
pub use reconciliation::*;
pub use sagas::*;
pub use settlement::*;
pub use stack::*;
