//! Showtime items and the creation of their seat items (access patterns S1–S4 in the [module docs](super)).
//!
//! A showtime is one item, `SHOW#<id>`/`META`, listed per performance through the overloaded GSI3
//! (`PERF#<performanceId>#SHOWS`, sorted by start time; performances use `ORG#...` partitions there). Its seats
//! are separate items in block partitions (see [`super::seats`]), created by their first hold.

use super::cursor::Page;
use super::keys::{performance_showtimes_pk, showtime_key};
use super::StoreError;
use super::{s, Item, Store, GSI3, GSI3PK, GSI3SK, PK, SK, TYPE};
use crate::domain::performance::format_instant;
use crate::domain::showtime::Showtime;

const ENTITY: &str = "showtime";

fn to_item(st: &Showtime) -> Result<Item, StoreError> {
    let mut item: Item =
        serde_dynamo::to_item(st).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    item.extend(showtime_key(&st.id));
    item.insert(TYPE.into(), s("Showtime"));
    item.insert(
        GSI3PK.into(),
        s(performance_showtimes_pk(&st.performance_id)),
    );
    item.insert(
        GSI3SK.into(),
        s(format!(
            "{}#{}",
            format_instant(st.details.starts_at),
            st.id
        )),
    );
    Ok(item)
}

fn from_item(mut item: Item) -> Result<Showtime, StoreError> {
    // The flattened details buffer unknown attributes; drop the keys so only the showtime's own remain.
    for key in [PK, SK, TYPE, GSI3PK, GSI3SK] {
        item.remove(key);
    }
    Ok(serde_dynamo::from_item(item)?)
}

impl Store {
    /// Pattern S2: stores a new showtime (`attribute_not_exists(PK)`); an existing id is [`StoreError::Conflict`].
    ///
    /// No seat item is written: seat items are created by their first hold, and a seat of the map without an
    /// item is AVAILABLE (see [`super::seats`]). So creating a 50,000-seat showtime is one write, and a create
    /// retried after its showtime exists writes nothing.
    pub async fn create_showtime(&self, st: &Showtime) -> Result<(), StoreError> {
        self.put_new(to_item(st)?, format!("showtime {}", st.id))
            .await
    }

    /// Pattern S1: a showtime by id, consistent.
    pub async fn get_showtime(&self, id: &str) -> Result<Option<Showtime>, StoreError> {
        self.get_consistent(showtime_key(id))
            .await?
            .map(from_item)
            .transpose()
    }

    /// Pattern S3: one page of a performance's showtimes, earliest start first.
    pub async fn list_showtimes(
        &self,
        performance_id: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Showtime>, StoreError> {
        let partition = performance_showtimes_pk(performance_id);
        let (items, next_cursor) = self
            .index_page((GSI3, GSI3PK, GSI3SK), partition, limit, cursor)
            .await?;
        let items = items
            .into_iter()
            .map(from_item)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, next_cursor })
    }

    /// Pattern S3, every page: all the showtimes of a performance, earliest first.
    pub async fn all_showtimes(&self, performance_id: &str) -> Result<Vec<Showtime>, StoreError> {
        let mut showtimes = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self
                .list_showtimes(performance_id, 100, cursor.as_deref())
                .await?;
            showtimes.extend(page.items);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(showtimes),
            }
        }
    }

    /// Pattern S4: writes a changed showtime only if it is still at `previous_version` (optimistic concurrency);
    /// otherwise [`StoreError::Stale`] and nothing is written. Seat items are not touched (they carry
    /// no price; the seat map's rows and columns must not change once seats exist).
    pub async fn replace_showtime(
        &self,
        st: &Showtime,
        previous_version: u64,
        events: &[crate::events::Event],
    ) -> Result<(), StoreError> {
        self.put_if_version(to_item(st)?, previous_version, (ENTITY, &st.id), events)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::showtime::{Grade, SeatMap, ShowtimeDetails, ShowtimeStatus};
    use time::macros::datetime;

    pub(crate) fn showtime() -> Showtime {
        Showtime::new(
            "0190a0a0-0000-7000-8000-00000000000a".into(),
            "0190a0a0-0000-7000-8000-00000000000b".into(),
            ShowtimeDetails {
                starts_at: datetime!(2026-12-24 10:30 UTC),
                venue_name: "Charlotte Theater".into(),
                seat_map: SeatMap {
                    rows: 25,
                    cols: 30,
                    grades: vec![
                        Grade {
                            grade: "VIP".into(),
                            from_row: 1,
                            to_row: 5,
                            price: 170_000,
                        },
                        Grade {
                            grade: "R".into(),
                            from_row: 6,
                            to_row: 25,
                            price: 130_000,
                        },
                    ],
                },
                currency: "KRW".into(),
            },
            datetime!(2026-06-01 00:00 UTC),
        )
    }

    fn text<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
        item.get(name)
            .and_then(|v| v.as_s().ok())
            .map(String::as_str)
    }

    #[test]
    fn item_keys_and_round_trip() {
        let mut st = showtime();
        st.status = ShowtimeStatus::Cancelled;
        st.version = 3;
        let item = to_item(&st).expect("item");
        assert_eq!(
            text(&item, PK),
            Some("SHOW#0190a0a0-0000-7000-8000-00000000000a")
        );
        assert_eq!(text(&item, SK), Some("META"));
        assert_eq!(text(&item, TYPE), Some("Showtime"));
        assert_eq!(
            text(&item, GSI3PK),
            Some("PERF#0190a0a0-0000-7000-8000-00000000000b#SHOWS")
        );
        assert_eq!(
            text(&item, GSI3SK),
            Some("2026-12-24T10:30:00Z#0190a0a0-0000-7000-8000-00000000000a")
        );
        assert_eq!(text(&item, "status"), Some("CANCELLED"));
        assert!(item.get("version").is_some_and(|v| v.as_n().is_ok()));
        assert_eq!(from_item(item).expect("parses"), st);
    }
}
