//! The payment provider's circuit breaker (rules in [`crate::domain::breaker`]) and the test-mode provider's
//! fault switch.
//!
//! | # | access pattern | operation | key |
//! |---|---|---|---|
//! | BK1 | the breaker's state | `GetItem` (eventually consistent; each process keeps it for a second) | `PSP#BREAKER` / `STATE` |
//! | BK2 | a transition (CLOSED → OPEN, OPEN → HALF_OPEN, HALF_OPEN → CLOSED or OPEN), its event with it | `TransactWriteItems`: Put state `attribute_not_exists(PK) OR version = :seen` (`version` + 1, `writes` + 1) [+ the outbox's event put] | same |
//! | BK3 | take a probe in HALF_OPEN | `UpdateItem` `ADD probesLeft :-1, writes :1`, `version = :seen AND probesLeft > :zero` | same |
//! | BK4 | a probe passed | `UpdateItem` `ADD probesPassed :1, writes :1`, `version = :seen`, `ALL_NEW` (the last one needed then closes it, BK2) | same |
//! | BK5 | count a provider call's outcome | `UpdateItem` `ADD calls :1, failures :f`, TTL `expiresAt` | `PSP#BREAKER#<shard>` / `W#<bucket:012>`, shard random of `shards` |
//! | BK6 | the window: calls and failures since a second | `Query` per shard, concurrently, `SK BETWEEN W#<from> AND W#<now>` | `PK = PSP#BREAKER#<shard>` |
//! | BK7 | the test-mode provider's fault switch (test stacks only): set, clear, read; each call it faults counted (`ADD calls :1`), so a test can tell whether the provider was called | `PutItem` / `DeleteItem` / `GetItem` (read on every call of a test stack) / `UpdateItem` | `PSP#FAULT` / `SWITCH` |
//!
//! Only transitions and probes write the state item: a rush of payments writes the outcome buckets, each
//! bucket spread over `shards` items, so no item takes more than its share (`writes` on the state item counts
//! every write it ever took).

use super::error::conditional;
use super::keys::{breaker_bucket_pk, breaker_bucket_sk, breaker_key, provider_fault_key};
use super::StoreError;
use super::{built, n, s, Item, Store, PK, SK, TYPE};
use crate::domain::breaker::{Breaker, Settings, State, Window};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};

fn number(item: &Item, name: &str) -> u64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .map_or(0, |v| u64::try_from(v).unwrap_or(0))
}

fn breaker_of(item: &Item) -> Breaker {
    Breaker {
        state: item
            .get("state")
            .and_then(|v| v.as_s().ok())
            .and_then(|v| State::parse(v))
            .unwrap_or_default(),
        since: i64::try_from(number(item, "since")).unwrap_or(0),
        probes_left: u32::try_from(number(item, "probesLeft")).unwrap_or(0),
        probes_passed: u32::try_from(number(item, "probesPassed")).unwrap_or(0),
        version: number(item, "version"),
    }
}

/// What the test-mode provider does while its fault switch is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderFault {
    /// Every call fails (as a 5xx would).
    Fail,
    /// Every call answers after this many milliseconds.
    Delay(u64),
}

/// The breaker as stored, with the writes its item has taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBreaker {
    pub breaker: Breaker,
    pub writes: u64,
}

impl Store {
    /// BK1: the breaker (CLOSED since the epoch when it was never written).
    pub async fn breaker(&self, consistent: bool) -> Result<StoredBreaker, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(breaker_key()))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(|e| StoreError::Dependency(format!("{e:?}")))?;
        Ok(out.item().map_or(
            StoredBreaker {
                breaker: Breaker::default(),
                writes: 0,
            },
            |item| StoredBreaker {
                breaker: breaker_of(item),
                writes: number(item, "writes"),
            },
        ))
    }

    /// BK2: moves the breaker from `seen` to `next` (with `events`); `false` when someone else moved it first.
    pub async fn transition_breaker(
        &self,
        seen: &Breaker,
        next: &Breaker,
        events: &[crate::events::Event],
    ) -> Result<bool, StoreError> {
        let mut item = breaker_key();
        item.insert(TYPE.into(), s("Breaker"));
        item.insert("state".into(), s(next.state.as_str()));
        item.insert("since".into(), n(next.since));
        item.insert("probesLeft".into(), n(next.probes_left));
        item.insert("probesPassed".into(), n(next.probes_passed));
        item.insert("version".into(), n(next.version));
        // `writes` is carried over by the caller's read, plus one: a put cannot ADD.
        let writes = self.breaker(true).await?.writes + 1;
        item.insert("writes".into(), n(writes));
        let mut items = vec![TransactWriteItem::builder()
            .put(built(
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(PK) OR version = :seen")
                    .expression_attribute_values(":seen", n(seen.version))
                    .build(),
            )?)
            .build()];
        items.extend(self.event_puts(events)?);
        Ok(self
            .transact(
                items,
                "the payment provider's breaker is changing; try again",
            )
            .await?
            .is_ok())
    }

    /// BK3: takes one probe of HALF_OPEN generation `version`; `false` when none is left (or it moved on).
    pub async fn take_probe(&self, version: u64) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(breaker_key()))
            .update_expression("ADD probesLeft :minus, writes :one")
            .condition_expression("version = :seen AND probesLeft > :zero")
            .expression_attribute_values(":minus", n(-1))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":seen", n(version))
            .send()
            .await;
        Ok(conditional(result)?.is_some())
    }

    /// BK4: one more probe of generation `version` passed; the breaker after it (`None`: it moved on).
    pub async fn probe_passed(&self, version: u64) -> Result<Option<Breaker>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(breaker_key()))
            .update_expression("ADD probesPassed :one, writes :one")
            .condition_expression("version = :seen")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":seen", n(version))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        Ok(conditional(result)?.and_then(|out| out.attributes().map(breaker_of)))
    }

    /// BK5: counts one provider call's outcome in the bucket of `now` (epoch seconds), on a random shard.
    pub async fn count_provider_call(
        &self,
        now: i64,
        failed: bool,
        settings: &Settings,
    ) -> Result<(), StoreError> {
        let bucket = crate::domain::breaker::bucket_of(now, settings);
        let shard = (uuid::Uuid::new_v4().as_u128() % u128::from(settings.shards.max(1))) as u32;
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(breaker_bucket_pk(shard)))
            .key(SK, s(breaker_bucket_sk(bucket)))
            .update_expression(
                "SET #type = :type, expiresAt = :expires ADD calls :one, failures :failed",
            )
            .expression_attribute_names("#type", TYPE)
            .expression_attribute_values(":type", s("BreakerBucket"))
            .expression_attribute_values(
                ":expires",
                n(bucket + i64::from(settings.window_seconds) + 3_600),
            )
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":failed", n(u8::from(failed)))
            .send()
            .await
            .map_err(|e| StoreError::Dependency(format!("{e:?}")))?;
        Ok(())
    }

    /// BK6: the calls and failures counted from second `from` to `now`, over every shard.
    pub async fn provider_window(
        &self,
        from: i64,
        now: i64,
        settings: &Settings,
    ) -> Result<Window, StoreError> {
        let from = crate::domain::breaker::bucket_of(from, settings);
        let mut queries = tokio::task::JoinSet::new();
        for shard in 0..settings.shards.max(1) {
            let query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND SK BETWEEN :from AND :to")
                .expression_attribute_values(":pk", s(breaker_bucket_pk(shard)))
                .expression_attribute_values(":from", s(breaker_bucket_sk(from)))
                .expression_attribute_values(":to", s(breaker_bucket_sk(now)));
            queries.spawn(async move { query.send().await });
        }
        let mut window = Window::default();
        while let Some(page) = queries.join_next().await {
            let page = page
                .map_err(|e| StoreError::Dependency(format!("window query task: {e}")))?
                .map_err(|e| StoreError::Dependency(format!("{e:?}")))?;
            for item in page.items() {
                window.add(Window {
                    calls: number(item, "calls"),
                    failures: number(item, "failures"),
                });
            }
        }
        Ok(window)
    }

    /// BK7: the test-mode provider's fault switch as it stands (`None`: off).
    pub async fn provider_fault(&self) -> Result<Option<ProviderFault>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(provider_fault_key()))
            .send()
            .await
            .map_err(|e| StoreError::Dependency(format!("{e:?}")))?;
        Ok(out.item().and_then(|item| {
            match item
                .get("mode")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
            {
                Some("FAIL") => Some(ProviderFault::Fail),
                Some("DELAY") => Some(ProviderFault::Delay(number(item, "delayMillis"))),
                _ => None,
            }
        }))
    }

    /// BK7: one more provider call met the fault switch (the count a test reads with
    /// [`Store::faulted_calls`]).
    pub async fn count_faulted_call(&self) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(provider_fault_key()))
            .update_expression("ADD calls :one")
            .condition_expression("attribute_exists(#mode)")
            .expression_attribute_names("#mode", "mode")
            .expression_attribute_values(":one", n(1))
            .send()
            .await
            .map_err(|e| StoreError::Dependency(format!("{e:?}")))?;
        Ok(())
    }

    /// BK7: how many provider calls met the fault switch since it was set (0 when it is off).
    pub async fn faulted_calls(&self) -> Result<u64, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(provider_fault_key()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::Dependency(format!("{e:?}")))?;
        Ok(out.item().map_or(0, |item| number(item, "calls")))
    }

    /// BK7: sets (or, with `None`, clears) the test-mode provider's fault switch.
    pub async fn set_provider_fault(&self, fault: Option<ProviderFault>) -> Result<(), StoreError> {
        let Some(fault) = fault else {
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(provider_fault_key()))
                .send()
                .await
                .map_err(|e| StoreError::Dependency(format!("{e:?}")))?;
            return Ok(());
        };
        let (mode, delay) = match fault {
            ProviderFault::Fail => ("FAIL", 0),
            ProviderFault::Delay(ms) => ("DELAY", ms),
        };
        let mut item = provider_fault_key();
        item.insert(TYPE.into(), s("ProviderFault"));
        item.insert("mode".into(), s(mode));
        item.insert("delayMillis".into(), n(delay));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| StoreError::Dependency(format!("{e:?}")))?;
        Ok(())
    }
}
