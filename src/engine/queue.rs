//! The future-event list, ordered by (time, insertion sequence), so events scheduled for
//! the same instant pop in the order they were scheduled (FIFO). That total order is what
//! makes a run a pure function of its inputs.
//!
//! It is a radix heap (Ahuja, Mehlhorn, Orlin, Tarjan 1990), which fits a simulation
//! exactly: keys never go below the last key popped (nothing is scheduled in the past).
//! Keys are `time << 64 | seq << SLOT_BITS | slot` as one `u128`; a key lives in bucket
//! `bit length of (key XOR last popped key)`, and when bucket 0 runs dry the lowest
//! non-empty bucket is redistributed around its minimum. Each key moves down a few
//! buckets in its life, with sequential memory traffic only: about 1.5× the speed of a
//! 4-ary heap on the hold benchmark (BENCHMARKS.md). Payloads live in a slab indexed by
//! `slot`, with a free list.
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

/// Handle of a scheduled event, usable to cancel it. Unique within one queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(u64);

/// A priority queue of events of type `E`.
pub struct EventQueue<E> {
    buckets: Vec<Vec<u128>>,
    /// Bit i set when bucket i + 1 is non-empty (bucket 0 is checked directly).
    occupied: u128,
    /// Keys in the buckets, cancelled ones included.
    keys: usize,
    /// The key the buckets are arranged around: the last key popped, or the minimum a
    /// `peek_time` redistributed around.
    last: u128,
    /// The last key popped: nothing may be pushed below it (that would be the past).
    popped: u128,
    /// Keys pushed below `last` but above `popped` (only after a `peek_time` moved `last`
    /// ahead of the clock, e.g. when a run stops at a horizon): a rare path.
    early: BinaryHeap<Reverse<u128>>,
    /// Payloads by slot; `None` once the event popped or was cancelled.
    slots: Vec<Option<E>>,
    /// `seq << SLOT_BITS | slot` of the event each slot holds (checked by `cancel` only,
    /// so it lives apart from the payloads the hot path reads).
    tags: Vec<u64>,
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
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            occupied: 0,
            keys: 0,
            last: 0,
            popped: 0,
            early: BinaryHeap::new(),
            slots: Vec::with_capacity(n),
            tags: Vec::with_capacity(n),
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
        let slot = match self.free.pop() {
            Some(s) => s as usize,
            None => {
                assert!(
                    self.slots.len() < MAX_PENDING,
                    "event queue: more than {MAX_PENDING} pending events"
                );
                self.slots.push(None);
                self.tags.push(0);
                self.slots.len() - 1
            }
        };
        assert!(self.next_seq < MAX_SCHEDULED, "event queue: more than {MAX_SCHEDULED} events scheduled");
        let tag = (self.next_seq << SLOT_BITS) | slot as u64;
        self.next_seq += 1;
        self.slots[slot] = Some(event);
        self.tags[slot] = tag;
        self.live += 1;
        let key = ((time.0 as u128) << 64) | tag as u128;
        assert!(key >= self.popped, "event queue: an event was scheduled in the past");
        if key >= self.last {
            self.put(key);
            self.keys += 1;
        } else {
            self.early.push(Reverse(key));
        }
        EventId(tag)
    }

    /// Cancels a scheduled event. Cancelling an event that already popped or was already
    /// cancelled is a no-op.
    pub fn cancel(&mut self, id: EventId) {
        let slot = (id.0 & SLOT_MASK) as usize;
        if self.tags.get(slot) == Some(&id.0)
            && let Some(s) = self.slots.get_mut(slot)
            && s.take().is_some()
        {
            self.live -= 1;
        }
    }

    /// Removes and returns the earliest live event.
    #[inline(always)]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let (key, from_early) = self.head()?;
        if from_early {
            self.early.pop();
        } else {
            self.buckets[0].pop();
            self.keys -= 1;
        }
        self.popped = key;
        let slot = (key as u64 & SLOT_MASK) as usize;
        let event = self.slots[slot].take()?;
        self.free.push(slot as u32);
        self.live -= 1;
        Some((SimTime((key >> 64) as u64), event))
    }

    /// Time of the earliest live event.
    pub fn peek_time(&mut self) -> Option<SimTime> {
        self.head().map(|(k, _)| SimTime((k >> 64) as u64))
    }

    /// The earliest live key and whether it sits in `early`; drops cancelled keys that
    /// come first. Takes `&mut self` because it may redistribute a bucket (which `pop`
    /// would do anyway) and drop cancelled keys.
    #[inline(always)]
    fn head(&mut self) -> Option<(u128, bool)> {
        loop {
            let bucketed = if self.settle() { self.buckets[0].last().copied() } else { None };
            let (key, from_early) = match (bucketed, self.early.peek().map(|r| r.0)) {
                (Some(b), Some(e)) if e < b => (e, true),
                (Some(b), _) => (b, false),
                (None, Some(e)) => (e, true),
                (None, None) => return None,
            };
            let slot = (key as u64 & SLOT_MASK) as usize;
            // A slot is freed only when its key leaves the buckets, so a key's slot never
            // holds another event: `Some` means live.
            if self.slots[slot].is_some() {
                return Some((key, from_early));
            }
            // A cancelled event: drop its key and free its slot. `popped` stays, so the
            // clock does not move past events that never ran.
            if from_early {
                self.early.pop();
            } else {
                self.buckets[0].pop();
                self.keys -= 1;
            }
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

    /// Files a key into its bucket relative to `last`.
    #[inline(always)]
    fn put(&mut self, key: u128) {
        let b = bucket(key ^ self.last);
        if b > 0 {
            self.occupied |= 1u128 << (b - 1);
        }
        self.buckets[b].push(key);
    }

    /// Makes bucket 0 non-empty if any key is left; returns false when none is.
    #[inline(always)]
    fn settle(&mut self) -> bool {
        if self.keys == 0 {
            return false;
        }
        if self.buckets[0].is_empty() {
            let i = self.occupied.trailing_zeros() as usize + 1;
            self.occupied &= !(1u128 << (i - 1));
            let mut moving = std::mem::take(&mut self.buckets[i]);
            let min = moving.iter().copied().min().unwrap_or(self.last);
            self.last = min;
            for &k in &moving {
                self.put(k);
            }
            moving.clear();
            // Keep the allocation for the next time this bucket fills.
            self.buckets[i] = moving;
        }
        true
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

    proptest! {
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
