//! The waiting room's rules (docs/waiting-room.md): settings, the order of tickets from sharded slot
//! counters, the pre-queue shuffle, the inlet's admission arithmetic and the poll interval. Plain Rust, no
//! AWS types.

use crate::rules::Int;
use crate::FieldError;
use serde::{Deserialize, Serialize};

/// Shard counters per slot: at 62,000 joins/s each takes 484 writes/s, under half a partition's 1,000.
pub const SHARDS: u32 = 128;

/// The shard counter a join increments: drawn at random (from a v4 UUID's 122 random bits), so joins spread
/// evenly whatever the member ids look like.
pub fn draw_shard() -> u32 {
    (uuid::Uuid::new_v4().as_u128() % u128::from(SHARDS)) as u32
}

pub const ADMIT_PER_MINUTE: Int = Int::new(1, 15_000);
/// 80/s: under the 83 pay-later sales/s of the saga's smaller-region quotas (docs/saga.md).
pub const DEFAULT_ADMIT_PER_MINUTE: u64 = 4_800;
pub const MAX_ACTIVE: Int = Int::new(1, 100_000);
pub const DEFAULT_MAX_ACTIVE: u64 = 2_000;
pub const ADMISSION_MINUTES: Int = Int::new(1, 30);
pub const DEFAULT_ADMISSION_MINUTES: u64 = 10;
pub const ABANDON_SECONDS: Int = Int::new(30, 600);
pub const DEFAULT_ABANDON_SECONDS: u64 = 120;

/// A showtime's waiting room, as the organizer sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub admit_per_minute: u64,
    pub max_active: u64,
    pub admission_minutes: u64,
    pub abandon_seconds: u64,
}

/// The organizer's input: absent fields take their defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsInput {
    /// Buyers let in per minute (default 4,800: within the saga's quotas everywhere).
    #[schema(minimum = 1, maximum = 15000)]
    pub admit_per_minute: Option<u64>,
    /// Admitted buyers who have not finished, at most (default 2,000).
    #[schema(minimum = 1, maximum = 100000)]
    pub max_active: Option<u64>,
    /// How long an admission is good for (default 10).
    #[schema(minimum = 1, maximum = 30)]
    pub admission_minutes: Option<u64>,
    /// A ticket that has not polled for this long loses its place (default 120).
    #[schema(minimum = 30, maximum = 600)]
    pub abandon_seconds: Option<u64>,
}

impl SettingsInput {
    /// Every wrong field, or the settings.
    pub fn validate(&self) -> Result<Settings, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut take = |field: &str, value: Option<u64>, rule: Int, default: u64| {
            let v = value.unwrap_or(default);
            if let Err(e) = rule.check(field, v) {
                errors.push(e);
            }
            v
        };
        let settings = Settings {
            admit_per_minute: take(
                "admitPerMinute",
                self.admit_per_minute,
                ADMIT_PER_MINUTE,
                DEFAULT_ADMIT_PER_MINUTE,
            ),
            max_active: take("maxActive", self.max_active, MAX_ACTIVE, DEFAULT_MAX_ACTIVE),
            admission_minutes: take(
                "admissionMinutes",
                self.admission_minutes,
                ADMISSION_MINUTES,
                DEFAULT_ADMISSION_MINUTES,
            ),
            abandon_seconds: take(
                "abandonSeconds",
                self.abandon_seconds,
                ABANDON_SECONDS,
                DEFAULT_ABANDON_SECONDS,
            ),
        };
        if errors.is_empty() {
            Ok(settings)
        } else {
            Err(errors)
        }
    }
}

/// Where a join lands: slot 0 before the sale opens (the pre-queue), else 1 + the whole seconds since the
/// opening.
pub fn slot_of(joined_at_ms: i64, opens_at_ms: i64) -> u64 {
    if joined_at_ms < opens_at_ms {
        0
    } else {
        1 + ((joined_at_ms - opens_at_ms) / 1000) as u64
    }
}

/// How long after a second ends the inlet waits before closing it: a join counted in that second may
/// still be on its way. A join whose count comes back later than half of this is counted again.
pub const CLOSE_GRACE_MS: i64 = 3_000;

/// When `slot` ends: the opening for the pre-queue, else the end of its second.
pub fn slot_end_ms(slot: u64, opens_at_ms: i64) -> i64 {
    opens_at_ms + i64::try_from(slot).unwrap_or(i64::MAX / 2_000) * 1000
}

/// How many slots (`0..n`) may be closed at `now_ms`: those that ended [`CLOSE_GRACE_MS`] ago.
pub fn closable_slots(now_ms: i64, opens_at_ms: i64) -> u64 {
    let since = now_ms - opens_at_ms - CLOSE_GRACE_MS;
    if since < 0 {
        0
    } else {
        1 + (since / 1000) as u64
    }
}

/// A ticket's place in its slot: the `seq`-th (from 1) join of shard `shard`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SlotTicket {
    pub seq: u64,
    pub shard: u32,
}

/// The dense rank (from 0) of `ticket` among its slot's tickets, ordered by `(seq, shard)`, given the slot's
/// final shard counts: the tickets of every shard with a smaller sequence, and of the shards before it with
/// the same.
pub fn rank_in_slot(counts: &[u64], ticket: SlotTicket) -> u64 {
    counts
        .iter()
        .enumerate()
        .map(|(j, &c)| {
            let before = ticket.seq.saturating_sub(1) + u64::from((j as u32) < ticket.shard);
            c.min(before)
        })
        .sum()
}

/// A keyed permutation of `0..n` (a four-round Feistel network over the next even power of two, walking
/// cycles back into range): the pre-queue's shuffle at the opening. The same seed always gives the same
/// order; every index gets exactly one place.
pub fn shuffled(index: u64, n: u64, seed: u64) -> u64 {
    if n <= 1 {
        return 0;
    }
    let bits = (64 - (n - 1).leading_zeros()).div_ceil(2).max(1);
    let half_mask = (1u64 << bits) - 1;
    let round = |r: u64, i: u64| -> u64 {
        // SplitMix64 of (seed, round, half): well mixed and cheap.
        let mut z = seed ^ (i.wrapping_mul(0x9E37_79B9_7F4A_7C15)) ^ (r << 56);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) & half_mask
    };
    let mut x = index;
    loop {
        let (mut left, mut right) = (x >> bits, x & half_mask);
        for r in 0..4 {
            let next = left ^ round(r, right);
            left = right;
            right = next;
        }
        x = (left << bits) | right;
        if x < n {
            return x;
        }
    }
}

/// A ticket's place in the queue (from 0) once its slot has closed: the tickets of the slots before it plus
/// its rank in its slot, where the pre-queue (slot 0, which nothing is before) comes out shuffled by `seed`.
pub fn position(slot: u64, rank: u64, before: u64, slot_total: u64, seed: u64) -> u64 {
    if slot == 0 {
        shuffled(rank, slot_total, seed)
    } else {
        before + rank
    }
}

/// How many more positions the inlet lets in now: the rate's share of the time since its last run (at most
/// one minute's worth, so a stalled schedule does not flood the sale), within what the cap leaves.
pub fn to_admit(settings: &Settings, elapsed_ms: u64, active: u64, waiting: u64) -> u64 {
    let by_rate = settings
        .admit_per_minute
        .saturating_mul(elapsed_ms.min(60_000))
        / 60_000;
    let by_cap = settings.max_active.saturating_sub(active);
    by_rate.min(by_cap).min(waiting)
}

/// The inlet's record of what it let in: `(at_ms, serving)` after each run within the admission lifetime.
/// Admissions older than the lifetime have lapsed (or finished): their capacity is back.
pub fn active(serving: u64, history: &[(i64, u64)], now_ms: i64, lifetime_ms: i64) -> u64 {
    // The serving number as it stood when the oldest admission still alive was made.
    let lapsed = history
        .iter()
        .filter(|(at, _)| *at <= now_ms - lifetime_ms)
        .map(|(_, s)| *s)
        .max()
        .unwrap_or(0);
    serving.saturating_sub(lapsed)
}

/// Admissions that finished (bought) give their capacity back before they lapse. A finish is recorded under
/// the second of its admission (the admission token's `iat`); the inlet subtracts the finishes of the
/// seconds after the one this returns, which lie wholly inside the lifetime: a finish is never subtracted
/// from an admission [`active`] no longer counts (one at the lifetime's edge gives its capacity back when
/// it lapses instead, a second later at most).
pub fn finishes_counted_after(now_ms: i64, lifetime_ms: i64) -> i64 {
    (now_ms - lifetime_ms).div_euclid(1000)
}

/// When the inlet let `place` in (the run whose serving number passed it), from the room's history; the
/// admission's lifetime counts from there, as the inlet's capacity does. `None` if it is not in yet. A place
/// let in before the oldest run kept is given that run's instant: long enough ago to have lapsed.
pub fn admitted_at(place: u64, history: &[(i64, u64)]) -> Option<i64> {
    history
        .iter()
        .find(|(_, serving)| *serving > place)
        .map(|(at, _)| *at)
}

/// The history the inlet keeps: the runs inside the lifetime, and the newest one before it (it says how
/// many had lapsed).
pub fn trim_history(history: &mut Vec<(i64, u64)>, now_ms: i64, lifetime_ms: i64) {
    history.sort_unstable();
    let cutoff = now_ms - lifetime_ms;
    let keep_from = history
        .iter()
        .rposition(|(at, _)| *at <= cutoff)
        .unwrap_or(0);
    history.drain(..keep_from);
}

/// When to poll again: 2 s within a minute of the front, then longer with the distance, 60 s at the most.
pub fn poll_after_seconds(ahead: u64, admit_per_minute: u64, abandon_seconds: u64) -> u64 {
    let minutes_away = ahead / admit_per_minute.max(1);
    // A third of the abandonment window at most: a buyer who polls when told never loses their place.
    (2 + minutes_away * 4)
        .min(60)
        .min(abandon_seconds / 3)
        .max(2)
}

/// The estimated wait in seconds for a ticket with `ahead` positions before it.
pub fn estimated_wait_seconds(ahead: u64, admit_per_minute: u64) -> u64 {
    ahead.saturating_mul(60) / admit_per_minute.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_default_and_refuse_out_of_range() {
        let s = SettingsInput::default().validate().expect("defaults");
        assert_eq!(s.admit_per_minute, DEFAULT_ADMIT_PER_MINUTE);
        assert!(
            s.admit_per_minute / 60 <= 83,
            "the default respects the saga quota"
        );
        let bad = SettingsInput {
            admit_per_minute: Some(0),
            max_active: Some(100_001),
            admission_minutes: Some(31),
            abandon_seconds: Some(10),
        }
        .validate()
        .expect_err("all four wrong");
        let fields: Vec<&str> = bad.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "admitPerMinute",
                "maxActive",
                "admissionMinutes",
                "abandonSeconds"
            ]
        );
    }

    #[test]
    fn slots_count_seconds_from_the_opening() {
        assert_eq!(slot_of(999, 1_000), 0);
        assert_eq!(slot_of(1_000, 1_000), 1);
        assert_eq!(slot_of(1_999, 1_000), 1);
        assert_eq!(slot_of(2_000, 1_000), 2);
    }

    #[test]
    fn ranks_in_a_slot_are_dense_and_ordered_by_sequence_then_shard() {
        // Uneven shards: 3, 1, 0, 2 joins.
        let counts = [3, 1, 0, 2];
        let mut tickets = Vec::new();
        for (shard, &c) in counts.iter().enumerate() {
            for seq in 1..=c {
                tickets.push(SlotTicket {
                    seq,
                    shard: shard as u32,
                });
            }
        }
        let mut ranks: Vec<(u64, SlotTicket)> = tickets
            .iter()
            .map(|&t| (rank_in_slot(&counts, t), t))
            .collect();
        ranks.sort();
        let dense: Vec<u64> = ranks.iter().map(|(r, _)| *r).collect();
        assert_eq!(
            dense,
            (0..6).collect::<Vec<_>>(),
            "one place each, none skipped"
        );
        let order: Vec<SlotTicket> = ranks.iter().map(|(_, t)| *t).collect();
        let mut by_key = tickets.clone();
        by_key.sort();
        assert_eq!(order, by_key, "(seq, shard) order");
    }

    #[test]
    fn the_shuffle_is_a_permutation_that_depends_on_the_seed() {
        for n in [1u64, 2, 3, 7, 100, 1_000, 4_097] {
            let mut seen: Vec<u64> = (0..n).map(|i| shuffled(i, n, 42)).collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<_>>(), "n = {n}");
        }
        let a: Vec<u64> = (0..1_000).map(|i| shuffled(i, 1_000, 1)).collect();
        let b: Vec<u64> = (0..1_000).map(|i| shuffled(i, 1_000, 2)).collect();
        assert_ne!(a, b);
        // Shuffled, not shifted: few keep their place or their neighbour.
        let fixed = a
            .iter()
            .enumerate()
            .filter(|(i, p)| *i as u64 == **p)
            .count();
        assert!(fixed < 20, "{fixed} of 1000 kept their place");
        let ascending = a.windows(2).filter(|w| w[1] == w[0] + 1).count();
        assert!(ascending < 20, "{ascending} neighbours kept");
    }

    #[test]
    fn positions_follow_slots_and_shuffle_the_pre_queue() {
        // Pre-queue of 5, then a slot of 3.
        let pre: Vec<u64> = (0..5).map(|r| position(0, r, 0, 5, 9)).collect();
        let mut sorted = pre.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [0, 1, 2, 3, 4]);
        assert_eq!(
            position(1, 0, 5, 3, 9),
            5,
            "the first after the opening follows the pre-queue"
        );
        assert_eq!(position(1, 2, 5, 3, 9), 7);
    }

    #[test]
    fn the_inlet_keeps_to_the_rate_the_cap_and_the_queue() {
        let s = SettingsInput {
            admit_per_minute: Some(600),
            max_active: Some(100),
            ..SettingsInput::default()
        }
        .validate()
        .expect("valid");
        assert_eq!(
            to_admit(&s, 10_000, 0, 1_000),
            100,
            "10 s at 600/min, under the cap"
        );
        assert_eq!(to_admit(&s, 5_000, 0, 1_000), 50);
        assert_eq!(to_admit(&s, 10_000, 70, 1_000), 30, "the cap leaves 30");
        assert_eq!(to_admit(&s, 10_000, 100, 1_000), 0, "stopped at the cap");
        assert_eq!(to_admit(&s, 10_000, 0, 7), 7, "no more than are waiting");
        assert_eq!(
            to_admit(&s, 3_600_000, 0, 1_000_000),
            100,
            "a stalled schedule lets in one minute's worth at most (and the cap holds)"
        );
    }

    #[test]
    fn lapsed_admissions_give_their_capacity_back() {
        let lifetime = 600_000; // 10 minutes
                                // Runs at minutes 0, 1, 2 let in 100 each.
        let mut history = vec![(0, 100), (60_000, 200), (120_000, 300)];
        assert_eq!(
            active(300, &history, 120_000, lifetime),
            300,
            "nothing lapsed yet"
        );
        assert_eq!(
            active(300, &history, 600_000, lifetime),
            200,
            "the first 100 lapsed"
        );
        assert_eq!(active(300, &history, 720_000, lifetime), 0, "all lapsed");
        trim_history(&mut history, 660_000, lifetime);
        assert_eq!(history, [(60_000, 200), (120_000, 300)]);
        assert_eq!(active(300, &history, 660_000, lifetime), 100);
    }

    #[test]
    fn an_admission_dates_from_the_run_that_let_it_in() {
        let history = [
            (60_000, 200),
            (120_000, 300),
            (180_000, 300),
            (240_000, 450),
        ];
        assert_eq!(admitted_at(0, &history), Some(60_000));
        assert_eq!(admitted_at(199, &history), Some(60_000));
        assert_eq!(admitted_at(200, &history), Some(120_000));
        assert_eq!(admitted_at(300, &history), Some(240_000));
        assert_eq!(admitted_at(450, &history), None, "not in yet");
        // The inlet's capacity and the token agree: a place counts as active exactly while its token lives.
        let lifetime = 600_000;
        let mut trimmed = history.to_vec();
        trim_history(&mut trimmed, 700_000, lifetime);
        assert_eq!(active(450, &trimmed, 700_000, lifetime), 250);
        let alive = (0..450)
            .filter(|p| admitted_at(*p, &trimmed).is_some_and(|at| at + lifetime > 700_000))
            .count();
        assert_eq!(alive, 250);
    }

    #[test]
    fn a_slot_closes_a_grace_after_its_second() {
        let opens = 1_000_000;
        assert_eq!(closable_slots(opens + CLOSE_GRACE_MS - 1, opens), 0);
        assert_eq!(
            closable_slots(opens + CLOSE_GRACE_MS, opens),
            1,
            "the pre-queue"
        );
        assert_eq!(closable_slots(opens + CLOSE_GRACE_MS + 999, opens), 1);
        assert_eq!(closable_slots(opens + CLOSE_GRACE_MS + 1000, opens), 2);
        for slot in 0..5 {
            // A join in `slot` is closable exactly a grace after the slot's end.
            let end = slot_end_ms(slot, opens);
            assert_eq!(closable_slots(end + CLOSE_GRACE_MS, opens), slot + 1);
            assert_eq!(closable_slots(end + CLOSE_GRACE_MS - 1, opens), slot);
            if slot > 0 {
                assert_eq!(slot_of(end - 1, opens), slot);
            }
        }
    }

    #[test]
    fn polls_are_short_near_the_front_and_long_at_the_back() {
        assert_eq!(poll_after_seconds(0, 4_800, 600), 2);
        assert_eq!(poll_after_seconds(4_799, 4_800, 600), 2);
        assert_eq!(poll_after_seconds(4_800 * 5, 4_800, 600), 22);
        assert_eq!(poll_after_seconds(600_000, 4_800, 600), 60);
        assert_eq!(
            poll_after_seconds(600_000, 4_800, 30),
            10,
            "within the abandonment window"
        );
        assert_eq!(estimated_wait_seconds(4_800, 4_800), 60);
    }

    #[test]
    fn only_finishes_of_seconds_wholly_inside_the_lifetime_give_capacity_back() {
        let history = [(40_200, 3), (40_800, 5), (41_000, 9)];
        // At 100,500 with a minute's lifetime, the runs up to 40,500 have lapsed: 3 of the 9 admissions.
        let (now, lifetime) = (100_500, 60_000);
        assert_eq!(active(9, &history, now, lifetime), 6);
        let after = finishes_counted_after(now, lifetime);
        // Second 40 straddles the edge (40,200 lapsed, 40,800 did not): its finishes are not subtracted.
        assert_eq!(after, 40);
        assert!(41 > after && 41_000 > now - lifetime);
        assert_eq!(finishes_counted_after(59_999, 60_000), -1);
    }

    #[test]
    fn random_shards_spread_joins_within_the_partition_limit() {
        // 62,000 joins in one second over SHARDS counters: the busiest stays under 1,000 writes.
        let mut counts = vec![0u32; SHARDS as usize];
        for _ in 0..62_000 {
            counts[draw_shard() as usize] += 1;
        }
        let busiest = counts.iter().copied().max().unwrap_or(0);
        assert!(
            busiest < 1_000,
            "busiest shard took {busiest} writes in a second"
        );
    }
}
