//! DynamoDB single-table store.
//!
//! One table, generic keys `PK`/`SK`, and sparse secondary indexes `GSI1`, `GSI2` and `GSI3` (`GSInPK`/`GSInSK`),
//! all projecting all attributes, and `GSI4` (keys only), the repairer's index of what is under way. Every item has a `type` attribute naming its entity.
//! TTL attribute: `expiresAt` (epoch seconds).
//!
//! Every key builder (the `PK`/`SK` of each item type and the index keys it carries) is in [`keys`]; pages
//! of a listing and their opaque cursors are in [`cursor`]. The item layouts and access patterns of each
//! entity are in its module's table.
//!
//! # Access patterns
//!
//! | # | access pattern | operation | key condition |
//! |---|---|---|---|
//! | 1 | get a performance by id | `GetItem` | `PK = PERF#<id>`, `SK = META` |
//! | 2 | create a performance | `PutItem`, `attribute_not_exists(PK)` | same key |
//! | 3 | change a performance (revise, approve, reject) | `PutItem`, `version = :previous` (optimistic) | same key |
//! | 4 | public catalog, by first day of the run | `Query` GSI1 | `GSI1PK = CATALOG`, `GSI1SK = <runStartDate>#<id>` |
//! | 5 | public catalog of one category | `Query` GSI2 | `GSI2PK = CATALOG#<CATEGORY>`, `GSI2SK = <runStartDate>#<id>` |
//! | 6 | admins' review queue: performances in a status | `Query` GSI2 (GSI1 for APPROVED) | `GSI2PK = PERFSTATUS#<STATUS>`, `GSI2SK = <createdAt>#<id>` |
//! | 7 | an organizer's performances, any status | `Query` GSI3 | `GSI3PK = ORG#<organizerId>`, `GSI3SK = <createdAt>#<id>` |
//! | M1 | sign up (and the admin bootstrap) | `TransactWriteItems`: Put profile + Put email item, both `attribute_not_exists(PK)` | `MEMBER#<id>`/`PROFILE`, `EMAIL#<email>`/`EMAIL`; taken email → 409 |
//! | M2 | get a member by id | `GetItem`, consistent | `MEMBER#<id>`/`PROFILE` |
//! | M3 | login: member by email | `GetItem` of the email item, then M2 | `EMAIL#<email>`/`EMAIL` (holds `memberId`) |
//! | M4 | change name, password or role | `UpdateItem`, `attribute_exists(PK) AND passwordHash = :seen AND email = :seen` | profile |
//! | M5 | change email | `TransactWriteItems`: Update profile (M4's condition) + Delete old email item (`memberId = :id`) + Put new (`attribute_not_exists(PK)`) | profile, `EMAIL#<old>`, `EMAIL#<new>` |
//! | M6 | delete a member | `TransactWriteItems`: Delete profile (`email = :email`) + Delete email item (`memberId = :id`) | profile, `EMAIL#<email>` |
//! | M7 | logout: revoke a token | `PutItem`, TTL `expiresAt` = the token's expiry | `REVOKED#<jti>`/`REVOKED` |
//! | M8 | authorizer: is this session valid | `BatchGetItem`, consistent, 2 keys | `MEMBER#<sub>`/`PROFILE` + `REVOKED#<jti>`/`REVOKED` |
//! | S1 | get a showtime by id | `GetItem`, consistent | `PK = SHOW#<id>`, `SK = META` |
//! | S2 | create a showtime | `PutItem`, `attribute_not_exists(PK)`; no seat items (created by their first hold; no item = AVAILABLE) | `SHOW#<id>`/`META` |
//! | S3 | a performance's showtimes, earliest first | `Query` GSI3 | `GSI3PK = PERF#<performanceId>#SHOWS`, `GSI3SK = <startsAt>#<id>` |
//! | S4 | change a showtime (cancel, revise) | `PutItem`, `version = :previous` (optimistic) | `SHOW#<id>`/`META` |
//! | H1 | hold seats | `TransactWriteItems` (≤ 14 items): Put reservation `attribute_not_exists(PK)` + per seat Update `attribute_not_exists(#status) OR #status = :available OR (#status = :held AND holdExpiresAt < :now)` → HELD, `holder`, `holdExpiresAt` (creates the seat item on its first hold), + the outbox's event puts, + under a waiting-room admission a ConditionCheck that it is unused (W12) + the member's count (H7) | `RES#<id>`/`META`; `SHOW#<showtimeId>#B#<block>`/`SEAT#<row:03>-<col:03>`; `QUEUE#<showtimeId>#M#<memberId>`/`TICKET`; `MEMBER#<memberId>`/`TICKETS#<showtimeId>` |
//! | H2 | confirm a hold | `TransactWriteItems`: Update reservation `#status = :held AND version = :seen` → CONFIRMED + per seat Update `#status = :held AND holder = :res AND holdExpiresAt >= :now` → SOLD | same items |
//! | H3 | release a hold (cancel, expire, fail) | `GetItem` reservation, per seat `UpdateItem` `#status = :held AND holder = :res` → AVAILABLE (failed condition = nothing to release), then `UpdateItem` reservation `#status = :held AND version = :seen` → final status | same items |
//! | H4 | a showtime's seat map: the seats with an item (missing = AVAILABLE) | `Query` per block partition (blocks concurrently, paginated), eventually consistent | `PK = SHOW#<showtimeId>#B#<block>` for each block of the map |
//! | H5 | some seats' states (hold failed without reasons) | `BatchGetItem`, consistent | seat keys |
//! | H6 | change a hold's seats | `TransactWriteItems`: Put reservation `#status = :held AND version = :seen AND holdExpiresAt >= :now` + ConditionCheck no payment item + per gained seat the H1 update + per given-up seat the H3 release | `RES#<id>`/`META`, `RES#<id>`/`PAY#pay-<id>`, seat items |
//! | H7 | a member's seats on a showtime (the ticket limit): changed in the transaction of every change of them (H1 +n, H3 and C2 −n, H6 by the difference) | `Update` `ADD seats :n`; when adding under a limit, `attribute_not_exists(seats) OR seats <= :room` (`room` = limit − n); read back consistently to name the count in a refusal | `MEMBER#<memberId>`/`TICKETS#<showtimeId>` |
//! | BK1–BK7 | the payment provider's circuit breaker (state, transitions, probes, outcome buckets, the window) and the test-mode provider's fault switch: see [`breaker`] | | `PSP#BREAKER`/`STATE`; `PSP#BREAKER#<shard>`/`W#<bucket>`; `PSP#FAULT`/`SWITCH` |
//! | C1–C4 | cancellations and an organizer's sweep: see [`cancellations`] | | `RES#<id>`/`META`, seat items, `SHOW#<showtimeId>`/`CANCELLATION`, `SHOW#<showtimeId>`/`CXLFAIL#<run>#<reservationId>` |
//! | E1–E3 | events: recorded in the transaction of the change they report, published from the table's stream, a member's history: see [`outbox`] | | `<aggregate>`/`EVT#<eventId>`; GSI1 `MEMBER#<memberId>#EVT` |
//! | PY1–PY7 | payments (start on the hold's version, outcome, refunds, by status / member / performance): see [`payments`] | | `RES#<id>`/`PAY#pay-<id>`; GSI1 `MEMBER#<memberId>#PAY`, GSI2 `PAYSTATUS#<STATUS>`, GSI3 `PERF#<performanceId>#PAY` |
//! | R1 | get a reservation by id | `GetItem`, consistent | `PK = RES#<id>`, `SK = META` |
//! | R2 | a member's reservations, newest first | `Query` GSI1, descending; optional status `FilterExpression` | `GSI1PK = MEMBER#<memberId>#RES`, `GSI1SK = <createdAt>#<id>` |
//! | R3 | a showtime's reservations, newest first | `Query` GSI2, descending; same filter | `GSI2PK = SHOW#<showtimeId>#RES`, `GSI2SK = <createdAt>#<id>` |
//! | RP1 | the repairer: holds, cancellations and sweeps still under way after they should be over | `Query` GSI4 per shard, `GSI4SK < :before`: see [`repairs`] | `GSI4PK = REPAIR#<0..15>`, `GSI4SK = <dueEpoch:010>#<id>` |
//! | R4 | a performance's reservations, newest first | `Query` GSI3, descending; same filter | `GSI3PK = PERF#<performanceId>#RES`, `GSI3SK = <createdAt>#<id>` |
//! | R5 | a HELD reservation's card deferred (the provider's breaker was open when its Pay step came): `fallback = PAY_LATER` with `PaymentDeferred` | `TransactWriteItems`: `Put` conditional on `version`, the event's `Put` (E1) | `RES#<id>`/`META` |
//! | R6 | a member's requests on a rate-limited route (the hold, joining a queue) in one fixed window: see [`rates`] | `UpdateItem` `ADD requests :1` if `attribute_not_exists(requests) OR requests < :limit`, TTL `expiresAt` | `MEMBER#<memberId>`/`RATE#<route>#<windowStart>` |
//!
//! The catalog keys (4, 5) exist only on approved performances and the review-queue keys (6) only on pending
//! or rejected ones, so the indexes are sparse and a status change moves a performance between them in the
//! same write. The catalog partition is read-heavy and written rarely (on review), so one partition per
//! listing is fine; seat and reservation items, written in bursts, spread over many partitions.
//!
//! GSI3 is overloaded: performances by organizer (`ORG#...`), showtimes by performance (`PERF#<id>#SHOWS`) and
//! reservations by performance (`PERF#<id>#RES`) never share a partition. Seats live in blocks of
//! [`ROWS_PER_BLOCK`](crate::domain::showtime::ROWS_PER_BLOCK) rows (`SHOW#<id>#B#<block>`), so one show's holds
//! spread over up to 50 partitions; nothing every hold writes is shared (no per-show counter), and a
//! status filter on reservations uses the effective status (a HELD reservation past `holdExpiresAt` is EXPIRED).

pub mod breaker;
pub mod cancellations;
pub mod cursor;
pub mod error;
pub mod keys;
pub mod members;
pub mod outbox;
pub mod payments;
pub mod performances;
pub mod psp;
pub mod rates;
pub mod reconciliation;
pub mod repairs;
pub mod reservations;
pub mod seats;
pub mod settlements;
pub mod showtimes;
pub mod views;
pub mod waiting_room;
pub mod wallets;

use error::conditional;
pub use error::StoreError;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, KeysAndAttributes, TransactWriteItem,
};
use std::collections::HashMap;
use std::time::Duration;

pub type Item = HashMap<String, AttributeValue>;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1: &str = "GSI1";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const GSI2: &str = "GSI2";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";
pub const GSI3: &str = "GSI3";
pub const GSI3PK: &str = "GSI3PK";
pub const GSI3SK: &str = "GSI3SK";
/// The repairer's sparse, keys-only index ([`repairs`]).
pub const GSI4: &str = "GSI4";
pub const GSI4PK: &str = "GSI4PK";
pub const GSI4SK: &str = "GSI4SK";
pub const TYPE: &str = "type";

/// The table adapter: one DynamoDB client and the table name, built once per process.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) client: crate::aws::Lazy<aws_sdk_dynamodb::Client>,
    pub(crate) table: String,
}

impl Store {
    pub fn new(
        client: impl Into<crate::aws::Lazy<aws_sdk_dynamodb::Client>>,
        table: impl Into<String>,
    ) -> Self {
        Store {
            client: client.into(),
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

impl Store {
    /// Puts an item whose key is free: `false`, and nothing written, when an item has that key already.
    pub(crate) async fn put_if_absent(&self, item: Item) -> Result<bool, StoreError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        Ok(conditional(put)?.is_some())
    }

    /// Puts a new item; when its key is taken, [`StoreError::Conflict`] naming `what`.
    pub(crate) async fn put_new(
        &self,
        item: Item,
        what: impl std::fmt::Display,
    ) -> Result<(), StoreError> {
        if self.put_if_absent(item).await? {
            Ok(())
        } else {
            Err(StoreError::Conflict(format!("{what} already exists")))
        }
    }

    /// Replaces an item only if its stored `version` is still `previous_version` (optimistic concurrency);
    /// otherwise [`StoreError::Stale`] and nothing is written. With `events`, the put and the
    /// events' items are one transaction (E1).
    pub(crate) async fn put_if_version(
        &self,
        item: Item,
        previous_version: u64,
        (entity, id): (&'static str, &str),
        events: &[crate::events::Event],
    ) -> Result<(), StoreError> {
        let stale = || StoreError::Stale {
            entity,
            id: id.to_string(),
            expected: previous_version,
        };
        if !events.is_empty() {
            let put = built(
                aws_sdk_dynamodb::types::Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression("version = :previous")
                    .expression_attribute_values(":previous", n(previous_version))
                    .build(),
            )?;
            // A transaction takes 100 items: events beyond 99 (a showtime change touching more than 49,500
            // reservations) are recorded right after it.
            let (now, later) = events.split_at(events.len().min(99));
            let mut items = vec![TransactWriteItem::builder().put(put).build()];
            items.extend(self.event_puts(now)?);
            self.transact(items, &format!("{entity} {id} is being changed; try again"))
                .await?
                .map_err(|_| stale())?;
            return self.record_events(later).await;
        }
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("version = :previous")
            .expression_attribute_values(
                ":previous",
                AttributeValue::N(previous_version.to_string()),
            )
            .send()
            .await;
        conditional(put)?.map(|_| ()).ok_or_else(stale)
    }

    /// What `read` makes of every item a query finds, page after page (for the few partitions that are read
    /// whole: a view's events, a showtime's seat block, the open rooms, a member's history); `read` may skip
    /// an item (`None`). Each page is converted as it comes, so the raw items of one page are held at a time.
    pub(crate) async fn query_all<T>(
        &self,
        query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        mut read: impl FnMut(Item) -> Result<Option<T>, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let out = query.clone().set_exclusive_start_key(start).send().await?;
            for item in out.items.unwrap_or_default() {
                found.extend(read(item)?);
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(found),
            }
        }
    }

    /// One page of a secondary index's partition, in sort-key order, resuming at a cursor this listing gave.
    pub(crate) async fn index_page(
        &self,
        index: (&str, &str, &str),
        partition: String,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<(Vec<Item>, Option<String>), StoreError> {
        self.index_page_in(index, partition, limit, cursor, true)
            .await
    }

    /// [`Store::index_page`], highest sort key first.
    pub(crate) async fn index_page_desc(
        &self,
        index: (&str, &str, &str),
        partition: String,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<(Vec<Item>, Option<String>), StoreError> {
        self.index_page_in(index, partition, limit, cursor, false)
            .await
    }

    async fn index_page_in(
        &self,
        (index, pk_name, sk_name): (&str, &str, &str),
        partition: String,
        limit: u32,
        cursor: Option<&str>,
        forward: bool,
    ) -> Result<(Vec<Item>, Option<String>), StoreError> {
        let start_key = cursor
            .map(|raw| cursor::decode(raw, &[PK, SK, pk_name, sk_name], pk_name, &partition))
            .transpose()?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", pk_name)
            .expression_attribute_values(":pk", s(partition))
            .scan_index_forward(forward)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start_key)
            .send()
            .await?;
        let next_cursor = out.last_evaluated_key.as_ref().and_then(cursor::encode);
        Ok((out.items.unwrap_or_default(), next_cursor))
    }

    /// The items stored under `keys` (at most 100), strongly consistent, in one `BatchGetItem`; keys DynamoDB
    /// leaves unprocessed (throttling) are asked for again with backoff. Missing items are simply absent.
    pub(crate) async fn batch_get_consistent(
        &self,
        keys: Vec<Item>,
    ) -> Result<Vec<Item>, StoreError> {
        const ATTEMPTS: u32 = 4;
        let mut found = Vec::with_capacity(keys.len());
        let mut pending = keys;
        for attempt in 0..ATTEMPTS {
            let request = built(
                KeysAndAttributes::builder()
                    .set_keys(Some(pending))
                    .consistent_read(true)
                    .build(),
            )?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await?;
            found.extend(
                out.responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default(),
            );
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default();
            if pending.is_empty() {
                return Ok(found);
            }
            backoff(attempt).await;
        }
        Err(StoreError::Dependency(
            "BatchGetItem left keys unprocessed after retries".into(),
        ))
    }

    /// One item by key, strongly consistent.
    pub(crate) async fn get_consistent(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await?;
        Ok(out.item)
    }
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(crate) fn built<T>(
    result: Result<T, aws_sdk_dynamodb::error::BuildError>,
) -> Result<T, StoreError> {
    result.map_err(|e| StoreError::Dependency(format!("request build: {e}")))
}

/// Attempts of a transaction that DynamoDB cancelled because another transaction touched the same items.
pub(crate) const TX_ATTEMPTS: u32 = 3;

/// The code DynamoDB gives an operation of a cancelled transaction whose condition failed.
pub(crate) const CONDITION_FAILED: &str = "ConditionalCheckFailed";

/// Why a transaction was cancelled.
pub(crate) enum TxFailure {
    /// Conditions failed: one reason per operation, in request order (code `ConditionalCheckFailed` on each
    /// operation whose condition failed, `None` on the others); empty when DynamoDB gave no reasons.
    Condition(Vec<CancellationReason>),
    /// Another transaction was working on the same items: worth retrying.
    Contention,
    Other(StoreError),
}

/// `true` at the index of each operation whose condition failed.
pub(crate) fn failed_flags(reasons: &[CancellationReason]) -> Vec<bool> {
    reasons
        .iter()
        .map(|r| r.code() == Some(CONDITION_FAILED))
        .collect()
}

pub(crate) fn classify<R: std::fmt::Debug + Send + Sync + 'static>(
    err: SdkError<TransactWriteItemsError, R>,
) -> TxFailure {
    match err.into_service_error() {
        TransactWriteItemsError::TransactionCanceledException(e) => {
            let reasons = e.cancellation_reasons().to_vec();
            let codes: Vec<&str> = reasons.iter().map(|r| r.code().unwrap_or("None")).collect();
            if codes.contains(&CONDITION_FAILED) || codes.is_empty() {
                TxFailure::Condition(reasons)
            } else if codes.contains(&"TransactionConflict") {
                TxFailure::Contention
            } else {
                TxFailure::Other(StoreError::Dependency(format!(
                    "transaction cancelled: {codes:?}"
                )))
            }
        }
        TransactWriteItemsError::TransactionInProgressException(_) => TxFailure::Contention,
        e => TxFailure::Other(StoreError::Dependency(format!("{e:?}"))),
    }
}

/// Waits before retry `attempt + 1`: 25 ms, 50 ms, 75 ms, ... plus up to 25 ms of jitter, so that transactions
/// that collided do not collide again in lockstep.
pub(crate) async fn backoff(attempt: u32) {
    let jitter = (uuid::Uuid::new_v4().as_u128() % 25) as u64;
    tokio::time::sleep(Duration::from_millis(25 * u64::from(attempt + 1) + jitter)).await;
}

impl Store {
    /// Runs one transaction, retrying with backoff while another transaction holds its items. `Ok(Err(failed))`
    /// lists which operations' conditions failed; still contended after the attempts, it is a 409 saying `busy`.
    pub(crate) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
        busy: &str,
    ) -> Result<Result<(), Vec<bool>>, StoreError> {
        Ok(self
            .transact_detailed(items, TX_ATTEMPTS, busy)
            .await?
            .map_err(|reasons| failed_flags(&reasons)))
    }

    /// [`Store::transact`] with DynamoDB's cancellation reasons (one per operation, with the item as it was when
    /// the operation asked for `ReturnValuesOnConditionCheckFailure = ALL_OLD`), up to `attempts` tries.
    pub(crate) async fn transact_detailed(
        &self,
        items: Vec<TransactWriteItem>,
        attempts: u32,
        busy: &str,
    ) -> Result<Result<(), Vec<CancellationReason>>, StoreError> {
        for attempt in 0..attempts {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            match result.map_err(classify) {
                Ok(_) => return Ok(Ok(())),
                Err(TxFailure::Condition(reasons)) => return Ok(Err(reasons)),
                Err(TxFailure::Contention) if attempt + 1 < attempts => backoff(attempt).await,
                Err(TxFailure::Contention) => break,
                Err(TxFailure::Other(e)) => return Err(e),
            }
        }
        Err(StoreError::Busy(busy.to_string()))
    }
}
