//! Putting domain events on the EventBridge bus. The events themselves (types, constructors, the order key)
//! are plain Rust in [`ticketing_domain::events`], re-exported here; how they are delivered (the outbox) is
//! described there.

pub use ticketing_domain::events::*;

use crate::error::AppError;

/// Publishes to one bus.
#[derive(Clone, Debug)]
pub struct Publisher {
    client: crate::aws::Lazy<aws_sdk_eventbridge::Client>,
    bus: String,
}

/// The size a `PutEvents` request may have in all (256 KB), less a margin for the envelope.
pub const PUT_EVENTS_BYTES: usize = 250_000;

/// Splits entries, in order, into the runs one `PutEvents` takes: at most ten, and together within
/// [`PUT_EVENTS_BYTES`] as EventBridge counts them (source, detail-type and detail). Each run comes with the
/// index of its first entry. An entry over the limit alone gets a run of its own (and is refused by name).
pub fn put_chunks<'a>(entries: &'a [(&'a str, &'a str)]) -> Vec<(usize, &'a [(&'a str, &'a str)])> {
    let size = |(kind, detail): &(&str, &str)| SOURCE.len() + kind.len() + detail.len();
    let mut runs = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, entry) in entries.iter().enumerate() {
        let n = size(entry);
        if i > start && (i - start == 10 || bytes + n > PUT_EVENTS_BYTES) {
            runs.push((start, &entries[start..i]));
            (start, bytes) = (i, 0);
        }
        bytes += n;
    }
    if start < entries.len() {
        runs.push((start, &entries[start..]));
    }
    runs
}

impl Publisher {
    pub fn new(
        client: impl Into<crate::aws::Lazy<aws_sdk_eventbridge::Client>>,
        bus: impl Into<String>,
    ) -> Self {
        Publisher {
            client: client.into(),
            bus: bus.into(),
        }
    }

    /// Puts events given as (`detail-type`, `detail`) on the bus, in order, in `PutEvents` calls of at most
    /// ten entries and [`PUT_EVENTS_BYTES`] ([`put_chunks`]). `Ok(n)` when all `n` went out; `Err((i, why))`
    /// when entry `i` (and maybe some after it) was refused or the call failed: the entries before `i` are on
    /// the bus.
    pub async fn put(&self, entries: &[(&str, &str)]) -> Result<usize, (usize, AppError)> {
        for (offset, chunk) in put_chunks(entries) {
            let mut request = self.client.put_events();
            for (detail_type, detail) in chunk {
                request = request.entries(
                    aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                        .event_bus_name(&self.bus)
                        .source(SOURCE)
                        .detail_type(*detail_type)
                        .detail(*detail)
                        .build(),
                );
            }
            let out = request
                .send()
                .await
                .map_err(|e| (offset, AppError::Dependency(format!("PutEvents: {e:?}"))))?;
            if out.failed_entry_count() > 0 {
                let first = out
                    .entries()
                    .iter()
                    .position(|e| e.error_code().is_some())
                    .unwrap_or(0);
                let why = out.entries().get(first).map(|e| {
                    format!(
                        "{}: {}",
                        e.error_code().unwrap_or_default(),
                        e.error_message().unwrap_or_default()
                    )
                });
                return Err((
                    offset + first,
                    AppError::Dependency(format!(
                        "PutEvents refused {} of {} events ({})",
                        out.failed_entry_count(),
                        chunk.len(),
                        why.unwrap_or_default()
                    )),
                ));
            }
        }
        Ok(entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_chunks_keep_order_and_both_limits() {
        let small: Vec<(&str, &str)> = (0..23).map(|_| ("ReservationHeld", "{}")).collect();
        let sizes: Vec<(usize, usize)> = put_chunks(&small)
            .iter()
            .map(|(o, r)| (*o, r.len()))
            .collect();
        assert_eq!(sizes, [(0, 10), (10, 10), (20, 3)]);
        let big = "x".repeat(100_000);
        let mixed: Vec<(&str, &str)> = vec![
            ("ShowtimeChanged", &big),
            ("ShowtimeChanged", &big),
            ("ShowtimeChanged", &big),
            ("ReservationHeld", "{}"),
        ];
        let sizes: Vec<(usize, usize)> = put_chunks(&mixed)
            .iter()
            .map(|(o, r)| (*o, r.len()))
            .collect();
        assert_eq!(sizes, [(0, 2), (2, 2)]);
        assert!(put_chunks(&[]).is_empty());
    }
}
