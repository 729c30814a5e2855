//! The future-event list, ordered by (time, insertion sequence), so events scheduled for
//! the same instant pop in the order they were scheduled (FIFO). That total order is what
//! makes a run a pure function of its inputs.
//!
//! Keys are `time << 64 | seq << SLOT_BITS | slot` as one `u128`; payloads live in a slab
//! indexed by `slot`, with a free list. The keys are split at a pivot key, `last`:
//!
//! - above it, a radix heap (Ahuja, Mehlhorn, Orlin, Tarjan 1990), which fits a simulation
//!   exactly: keys never go below the last key popped (nothing is scheduled in the past).
//!   A key lives in bucket `bit length of (key XOR last)`; every key of a bucket is below
//!   every key of the buckets above it, and keys only move down.
//! - at or below it, the *run*: the earliest keys, sorted largest first, so a pop is a
//!   `Vec::pop`. When the run is empty, the lowest non-empty bucket refills it: sorted whole
//!   if it holds at most `RUN_MAX` keys (`last` becomes the largest of them), else
//!   redistributed around its minimum first (which becomes `last`, and the run).
//!
//! Sorting the lowest bucket once it is small, instead of redistributing a bucket at every
//! pop until the minimum sits alone in bucket 0, is what makes the queue fast at every
//! size: with a handful of pending events it is as fast as a hand-written loop over
//! `std::collections::BinaryHeap` (most pops are a `Vec::pop`, most pushes file one key),
//! and in the hold model with 100,000 pending the run is refilled about once per four pops
//! and 6.1 keys are filed into buckets per hold instead of 8.5 (BENCHMARKS.md, #18). A push
//! below `last` (an event scheduled before the end of the run, e.g. at the current instant)
//! is a binary search and a short move in the run; once the run holds `RUN_CAP` keys such
//! pushes go to `early`, a binary heap, a rare path.
//!
//! Cancellation is O(1): `cancel` empties the slab slot if it still holds that event (the
//! sequence number is checked, so cancelling an event that already ran is a no-op), and
//! `pop` skips keys whose slot is empty.

use super::time::SimTime;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

const SLOT_BITS: u32 = 26;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
/// Pending events at most at once (67 million).
pub const MAX_PENDING: usize = 1 << SLOT_BITS;
/// Events scheduled at most over a run (2.7 × 10^11).
pub const MAX_SCHEDULED: u64 = 1 << (64 - SLOT_BITS);
const BUCKETS: usize = 129;
/// The lowest bucket is sorted into the run whole when it holds at most this many keys
/// (16 measured best of 8, 16, 24, 32 and 64 from 2 to 1,000,000 pending).
const RUN_MAX: usize = 16;
/// Keys the run holds at most; a push below `last` beyond that goes to `early`.
const RUN_CAP: usize = 64;

/// Handle of a scheduled event, usable to cancel it. Unique within one queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(u64);

/// One entry of the payload slab. The tag sits beside the payload because a push writes
/// both: one cache line per event rather than two.
struct Slot<E> {
    /// `seq << SLOT_BITS | slot` of the event the slot holds or last held, which `cancel`
    /// checks.
    tag: u64,
    /// `None` once the event popped or was cancelled.
    event: Option<E>,
}

/// A priority queue of events of type `E`.
pub struct EventQueue<E> {
    /// The earliest keys, sorted largest first: every key at or below `last` that `early`
    /// does not hold.
    run: Vec<u128>,
    /// Keys at or below `last` pushed while the run was full.
    early: BinaryHeap<Reverse<u128>>,
    /// The radix heap: every key above `last`, bucket i holding those whose XOR with
    /// `last` has bit length i (bucket 0 only for the moment a redistribution files the
    /// minimum, which then moves to the run).
    buckets: Vec<Vec<u128>>,
    /// Bit i set when bucket i + 1 is non-empty.
    occupied: u128,
    /// Keys in the buckets, cancelled ones included.
    keys: usize,
    /// The pivot: the buckets are arranged around it.
    last: u128,
    /// The last key popped: nothing may be pushed below it (that would be the past).
    popped: u128,
    slots: Vec<Slot<E>>,
    free: Vec<u32>,
    next_seq: u64,
    live: usize,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    pub fn with_capacity(n: usize) -> Self {
        EventQueue {
            run: Vec::with_capacity(RUN_CAP),
            early: BinaryHeap::new(),
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            occupied: 0,
            keys: 0,
            last: 0,
            popped: 0,
            slots: Vec::with_capacity(n),
            free: Vec::new(),
            next_seq: 0,
            live: 0,
        }
    }

    /// Schedules `event` at `time`. Events at equal times pop in scheduling order.
    ///
    /// Panics if `time` is earlier than the last event popped (scheduling into the past is
    /// a bug), or if more than [`MAX_PENDING`] events are pending or more than
    /// [`MAX_SCHEDULED`] were ever scheduled (both far beyond any scenario's needs).
    #[inline(always)]
    pub fn push(&mut self, time: SimTime, event: E) -> EventId {
        assert!(self.next_seq < MAX_SCHEDULED, "event queue: more than {MAX_SCHEDULED} events scheduled");
        let slot = match self.free.pop() {
            Some(s) => s as usize,
            None => {
                assert!(
                    self.slots.len() < MAX_PENDING,
                    "event queue: more than {MAX_PENDING} pending events"
                );
                self.slots.push(Slot { tag: 0, event: None });
                self.slots.len() - 1
            }
        };
        let tag = (self.next_seq << SLOT_BITS) | slot as u64;
        let key = ((time.0 as u128) << 64) | tag as u128;
        assert!(key >= self.popped, "event queue: an event was scheduled in the past");
        self.next_seq += 1;
        self.slots[slot] = Slot { tag, event: Some(event) };
        self.live += 1;
        if key > self.last {
            self.put(key);
            self.keys += 1;
        } else if self.run.len() < RUN_CAP {
            let at = self.run.partition_point(|&k| k > key);
            self.run.insert(at, key);
        } else {
            self.early.push(Reverse(key));
        }
        EventId(tag)
    }

    /// Cancels a scheduled event. Cancelling an event that already popped or was already
    /// cancelled is a no-op.
    pub fn cancel(&mut self, id: EventId) {
        let slot = (id.0 & SLOT_MASK) as usize;
        if let Some(s) = self.slots.get_mut(slot)
            && s.tag == id.0
            && s.event.take().is_some()
        {
            self.live -= 1;
        }
    }

    /// Removes and returns the earliest live event.
    #[inline(always)]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        loop {
            let key = self.take_min()?;
            let slot = (key as u64 & SLOT_MASK) as usize;
            // A slot is freed only when its key leaves the queue, so a key's slot never
            // holds another event: `None` means cancelled.
            let event = self.slots[slot].event.take();
            self.free.push(slot as u32);
            if let Some(event) = event {
                self.popped = key;
                self.live -= 1;
                return Some((SimTime((key >> 64) as u64), event));
            }
            // A cancelled event: its key is gone and its slot free. `popped` stays, so the
            // clock does not move past events that never ran.
        }
    }

    /// Time of the earliest live event. Takes `&mut self` because it drops the cancelled
    /// keys that come first and may refill the run (which `pop` would do anyway).
    pub fn peek_time(&mut self) -> Option<SimTime> {
        loop {
            let (key, _) = self.min()?;
            let slot = (key as u64 & SLOT_MASK) as usize;
            if self.slots[slot].event.is_some() {
                return Some(SimTime((key >> 64) as u64));
            }
            self.take_min();
            self.free.push(slot as u32);
        }
    }

    /// Number of live (not cancelled) pending events.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Number of events ever scheduled.
    pub fn scheduled_total(&self) -> u64 {
        self.next_seq
    }

    /// The smallest key, live or cancelled, and whether it sits in `early`.
    #[inline(always)]
    fn min(&mut self) -> Option<(u128, bool)> {
        if self.run.is_empty() && self.early.is_empty() {
            if self.keys == 0 {
                return None;
            }
            self.refill();
        }
        match (self.run.last().copied(), self.early.peek().map(|r| r.0)) {
            (Some(r), Some(e)) if e < r => Some((e, true)),
            (Some(r), _) => Some((r, false)),
            (None, Some(e)) => Some((e, true)),
            (None, None) => None,
        }
    }

    /// Removes and returns the smallest key, live or cancelled.
    #[inline(always)]
    fn take_min(&mut self) -> Option<u128> {
        let (key, from_early) = self.min()?;
        if from_early {
            self.early.pop();
        } else {
            self.run.pop();
        }
        Some(key)
    }

    /// Files a key into its bucket relative to `last`.
    #[inline(always)]
    fn put(&mut self, key: u128) {
        let b = bucket(key ^ self.last);
        if b > 0 {
            self.occupied |= 1u128 << (b - 1);
        }
        self.buckets[b].push(key);
    }

    /// Refills the empty run from the lowest non-empty bucket (there is one). Moving `last`
    /// to any key of that bucket leaves every other key in its bucket: the buckets above
    /// share their higher bits with all of its keys.
    #[inline(always)]
    fn refill(&mut self) {
        let i = self.occupied.trailing_zeros() as usize + 1;
        self.occupied &= !(1u128 << (i - 1));
        let mut moving = std::mem::take(&mut self.buckets[i]);
        if moving.len() <= RUN_MAX {
            moving.sort_unstable_by(|a, b| b.cmp(a));
            self.last = moving[0];
            self.keys -= moving.len();
            self.run.extend_from_slice(&moving);
        } else {
            let min = moving.iter().copied().min().unwrap_or(self.last);
            self.last = min;
            for &k in &moving {
                self.put(k);
            }
            // The minimum went to bucket 0, the others to buckets below `i`.
            self.keys -= 1;
            self.run.append(&mut self.buckets[0]);
        }
        moving.clear();
        // Keep the allocation for the next time this bucket fills.
        self.buckets[i] = moving;
    }
}

/// Bucket of a key: the bit length of its XOR with the last key.
#[inline]
fn bucket(x: u128) -> usize {
    (128 - x.leading_zeros()) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn pops_in_time_then_fifo_order() {
        let mut q = EventQueue::new();
        q.push(SimTime(5), 'a');
        q.push(SimTime(1), 'b');
        q.push(SimTime(5), 'c');
        q.push(SimTime(1), 'd');
        q.push(SimTime(3), 'e');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['b', 'd', 'e', 'a', 'c']);
    }

    #[test]
    fn cancelled_events_never_pop() {
        let mut q = EventQueue::new();
        let a = q.push(SimTime(1), 1);
        q.push(SimTime(2), 2);
        let c = q.push(SimTime(3), 3);
        q.cancel(a);
        q.cancel(c);
        q.cancel(c);
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop(), Some((SimTime(2), 2)));
        assert_eq!(q.pop(), None);
        assert!(q.is_empty());
    }

    #[test]
    fn cancelling_a_popped_event_does_not_touch_a_reused_slot() {
        let mut q = EventQueue::new();
        let a = q.push(SimTime(1), 1);
        assert_eq!(q.pop(), Some((SimTime(1), 1)));
        // The slot of `a` is reused by the next event; cancelling `a` must not cancel it.
        q.push(SimTime(9), 9);
        q.cancel(a);
        assert_eq!(q.len(), 1);
        assert_eq!(q.pop(), Some((SimTime(9), 9)));
    }

    #[test]
    fn a_burst_below_the_run_overflows_into_early_and_keeps_fifo_order() {
        let mut q = EventQueue::new();
        // Times 100..116 share a bucket, few enough to be sorted into the run whole.
        for i in 0..16u64 {
            q.push(SimTime(100 + i), i);
        }
        for i in 16..40u64 {
            q.push(SimTime(1000 + i), i);
        }
        assert_eq!(q.pop(), Some((SimTime(100), 0)));
        // `last` is the run's largest key (time 115), ahead of the clock: events at the
        // current instant go below it, into the run until it is full, then into `early`.
        for i in 0..150u64 {
            q.push(SimTime(100), 1000 + i);
        }
        assert_eq!(q.run.len(), RUN_CAP);
        assert!(!q.early.is_empty());
        let order: Vec<(u64, u64)> = std::iter::from_fn(|| q.pop().map(|(t, e)| (t.0, e))).collect();
        let want: Vec<(u64, u64)> = (0..150)
            .map(|i| (100, 1000 + i))
            .chain((1..16).map(|i| (100 + i, i)))
            .chain((16..40).map(|i| (1000 + i, i)))
            .collect();
        assert_eq!(order, want);
    }

    #[test]
    fn a_large_lowest_bucket_is_redistributed_before_it_is_sorted() {
        // 1,000 keys of one time differ only in their sequence numbers: they share the
        // lowest bucket, more than RUN_MAX of them.
        let mut q = EventQueue::new();
        q.push(SimTime(1), u64::MAX);
        for i in 0..1000u64 {
            q.push(SimTime(7), i);
        }
        assert_eq!(q.pop(), Some((SimTime(1), u64::MAX)));
        let order: Vec<u64> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, (0..1000).collect::<Vec<_>>());
    }

    /// One operation of the model test below.
    #[derive(Clone, Debug)]
    enum Op {
        Push {
            dt: u64,
        },
        /// `n` events at one instant, `dt` after the clock: FIFO ties, and pushes below
        /// `last` that fill the run and overflow into `early`.
        Burst {
            n: usize,
            dt: u64,
        },
        Pop,
        /// Up to `n` pops: the queue shrinks back across the run's sizes.
        Drain {
            n: usize,
        },
        Peek,
        Cancel {
            pick: usize,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        // Time steps of every scale: equal times (keys differing in their sequence bits
        // only), nanoseconds, microseconds, and hours.
        let dt = || prop_oneof![Just(0u64), 0u64..4, 0u64..1_000, 0u64..(1 << 42)];
        prop_oneof![
            4 => dt().prop_map(|dt| Op::Push { dt }),
            1 => (1usize..120, dt()).prop_map(|(n, dt)| Op::Burst { n, dt }),
            3 => Just(Op::Pop),
            1 => (1usize..200).prop_map(|n| Op::Drain { n }),
            1 => Just(Op::Peek),
            2 => any::<usize>().prop_map(|pick| Op::Cancel { pick }),
        ]
    }

    /// Pops once from both and compares (time, seq, event); the event is its seq.
    fn pop_both(
        q: &mut EventQueue<u64>,
        model: &mut BTreeMap<(u64, u64), u64>,
        now: &mut u64,
    ) -> Result<(), TestCaseError> {
        let want = model.pop_first().map(|((t, s), e)| (t, s, e));
        let got = q.pop().map(|(t, e)| (t.0, e, e));
        prop_assert_eq!(got, want);
        if let Some((t, _, _)) = got {
            *now = t;
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Against a reference model (a `BTreeMap` on (time, seq)), for any interleaving of
        /// pushes, bursts, pops, peeks and cancellations, as the queue grows to hundreds of
        /// events and shrinks back to none, across the run's limits in both directions.
        #[test]
        fn pops_what_a_btree_model_pops(ops in prop::collection::vec(op(), 1..300)) {
            let mut q = EventQueue::new();
            let mut model = BTreeMap::new();
            let mut ids = Vec::new();
            let mut seq = 0u64;
            let mut now = 0u64;
            for op in ops {
                match op {
                    Op::Push { dt } => {
                        ids.push((q.push(SimTime(now + dt), seq), now + dt, seq));
                        model.insert((now + dt, seq), seq);
                        seq += 1;
                    }
                    Op::Burst { n, dt } => {
                        for _ in 0..n {
                            ids.push((q.push(SimTime(now + dt), seq), now + dt, seq));
                            model.insert((now + dt, seq), seq);
                            seq += 1;
                        }
                    }
                    Op::Pop => pop_both(&mut q, &mut model, &mut now)?,
                    Op::Drain { n } => {
                        for _ in 0..n {
                            pop_both(&mut q, &mut model, &mut now)?;
                        }
                    }
                    Op::Peek => {
                        let want = model.keys().next().map(|&(t, _)| SimTime(t));
                        prop_assert_eq!(q.peek_time(), want);
                    }
                    Op::Cancel { pick } => {
                        if !ids.is_empty() {
                            let (id, t, s) = ids[pick % ids.len()];
                            q.cancel(id);
                            model.remove(&(t, s));
                        }
                    }
                }
                prop_assert_eq!(q.len(), model.len());
            }
            while !model.is_empty() {
                pop_both(&mut q, &mut model, &mut now)?;
            }
            prop_assert_eq!(q.pop(), None);
        }

        /// Against a reference model (a sorted list of (time, seq)), for any interleaving
        /// of pushes, pops and cancellations.
        #[test]
        fn matches_a_sorted_reference(ops in prop::collection::vec((0u8..4, 0u64..50), 1..400)) {
            let mut q = EventQueue::new();
            let mut model: Vec<(u64, u64)> = Vec::new();
            let mut ids = Vec::new();
            let mut seq = 0u64;
            let mut now = 0u64;
            for (op, x) in ops {
                match op {
                    0 => {
                        // Peeking may rearrange the buckets; pushes after it must still work.
                        let want = model.iter().map(|m| m.0).min().map(SimTime);
                        prop_assert_eq!(q.peek_time(), want);
                        let t = now + x;
                        ids.push((q.push(SimTime(t), seq), seq));
                        model.push((t, seq));
                        seq += 1;
                    }
                    1 => {
                        let t = now + x;
                        ids.push((q.push(SimTime(t), seq), seq));
                        model.push((t, seq));
                        seq += 1;
                    }
                    2 => {
                        model.sort();
                        let want = if model.is_empty() { None } else { Some(model.remove(0)) };
                        let got = q.pop().map(|(t, e)| (t.0, e));
                        prop_assert_eq!(got, want);
                        if let Some((t, _)) = got {
                            now = t;
                        }
                    }
                    _ => {
                        if !ids.is_empty() {
                            let (id, s) = ids[(x as usize) % ids.len()];
                            q.cancel(id);
                            model.retain(|m| m.1 != s);
                        }
                    }
                }
                prop_assert_eq!(q.len(), model.len());
            }
        }
    }
}
