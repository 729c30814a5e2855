//! The scheduling queue, after `kubernetes/kubernetes:pkg/scheduler/internal/queue/scheduling_queue.go`:
//! - activeQ: pods ready to be tried, in PrioritySort order (higher priority first, then
//!   earlier queue timestamp);
//! - backoffQ: pods that failed and wait out their backoff (initial 1 s, doubling per
//!   attempt, capped at 10 s: `calculateBackoffDuration`);
//! - unschedulablePods: pods that failed, parked until a cluster event may help them
//!   (`MoveAllToActiveOrBackoffQueue`) or until they have waited
//!   `podMaxInUnschedulablePodsDuration` (5 min; flushed every 30 s).

use crate::cluster::PodId;
use crate::engine::{SimDuration, SimTime};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

/// Upstream flushes unschedulablePods every 30 s (`flushUnschedulablePodsLeftover`).
pub const UNSCHEDULABLE_FLUSH_PERIOD: SimDuration = SimDuration::from_secs(30);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ActiveKey {
    priority: i32,
    timestamp: Reverse<SimTime>,
    seq: Reverse<u64>,
    pod: PodId,
}

#[derive(Clone, Debug, Default)]
pub struct SchedulingQueue {
    active: BinaryHeap<ActiveKey>,
    backoff: BinaryHeap<Reverse<(SimTime, u64, PodId, i32)>>,
    /// Pod → (time it became unschedulable, priority).
    unschedulable: BTreeMap<PodId, (SimTime, i32)>,
    seq: u64,
    pub initial_backoff: SimDuration,
    pub max_backoff: SimDuration,
    pub max_in_unschedulable: SimDuration,
}

impl SchedulingQueue {
    pub fn new(
        initial_backoff: SimDuration,
        max_backoff: SimDuration,
        max_in_unschedulable: SimDuration,
    ) -> Self {
        SchedulingQueue { initial_backoff, max_backoff, max_in_unschedulable, ..Default::default() }
    }

    /// Backoff after `attempts` scheduling attempts: initial × 2^(attempts-1), capped.
    pub fn backoff_duration(&self, attempts: u32) -> SimDuration {
        let mut d = self.initial_backoff;
        for _ in 1..attempts {
            if d >= self.max_backoff {
                break;
            }
            d = d.saturating_mul(2);
        }
        d.min(self.max_backoff)
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// A new pod, or one whose backoff has expired, enters activeQ.
    pub fn push_active(&mut self, pod: PodId, priority: i32, now: SimTime) {
        let seq = self.next_seq();
        self.active.push(ActiveKey { priority, timestamp: Reverse(now), seq: Reverse(seq), pod });
    }

    /// The highest-priority pod, or `None`.
    pub fn pop_active(&mut self) -> Option<PodId> {
        self.active.pop().map(|k| k.pod)
    }

    /// A pod that just failed to schedule.
    pub fn add_unschedulable(&mut self, pod: PodId, priority: i32, now: SimTime) {
        self.unschedulable.insert(pod, (now, priority));
    }

    /// Moves backoffQ pods whose backoff expired at or before `now` into activeQ.
    pub fn flush_backoff_completed(&mut self, now: SimTime) {
        while let Some(Reverse((t, _, pod, prio))) = self.backoff.peek().copied() {
            if t > now {
                break;
            }
            self.backoff.pop();
            self.push_active(pod, prio, now);
        }
    }

    /// A cluster event that may make unschedulable pods schedulable: every one of them
    /// goes to backoffQ (if still backing off) or activeQ. `attempts_and_last` gives a pod's
    /// attempt count and the time of its last attempt.
    pub fn move_all_to_active_or_backoff(
        &mut self,
        now: SimTime,
        mut attempts_and_last: impl FnMut(PodId) -> (u32, SimTime),
    ) {
        let parked = std::mem::take(&mut self.unschedulable);
        for (pod, (_, prio)) in parked {
            self.requeue(pod, prio, now, &mut attempts_and_last);
        }
    }

    /// A cluster event that may help only some unschedulable pods (upstream's queueing
    /// hints, `MoveAllToActiveOrBackoffQueue` with a `PreEnqueueCheck`): those for which
    /// `helps` is true go to backoffQ or activeQ, the rest stay parked.
    pub fn move_to_active_or_backoff_if(
        &mut self,
        now: SimTime,
        mut helps: impl FnMut(PodId) -> bool,
        mut attempts_and_last: impl FnMut(PodId) -> (u32, SimTime),
    ) {
        let moved: Vec<(PodId, i32)> =
            self.unschedulable.iter().filter(|(p, _)| helps(**p)).map(|(p, (_, prio))| (*p, *prio)).collect();
        for (pod, prio) in moved {
            self.unschedulable.remove(&pod);
            self.requeue(pod, prio, now, &mut attempts_and_last);
        }
    }

    /// Moves pods that stayed unschedulable longer than `max_in_unschedulable`.
    pub fn flush_unschedulable_leftover(
        &mut self,
        now: SimTime,
        mut attempts_and_last: impl FnMut(PodId) -> (u32, SimTime),
    ) {
        let due: Vec<(PodId, i32)> = self
            .unschedulable
            .iter()
            .filter(|(_, (since, _))| now.saturating_since(*since) > self.max_in_unschedulable)
            .map(|(p, (_, prio))| (*p, *prio))
            .collect();
        for (pod, prio) in due {
            self.unschedulable.remove(&pod);
            self.requeue(pod, prio, now, &mut attempts_and_last);
        }
    }

    fn requeue(&mut self, pod: PodId, prio: i32, now: SimTime, f: &mut impl FnMut(PodId) -> (u32, SimTime)) {
        let (attempts, last) = f(pod);
        let ready = last + self.backoff_duration(attempts);
        if ready > now {
            let seq = self.next_seq();
            self.backoff.push(Reverse((ready, seq, pod, prio)));
        } else {
            self.push_active(pod, prio, now);
        }
    }

    /// When the earliest backoff expires, if any pod is backing off.
    pub fn next_backoff_expiry(&self) -> Option<SimTime> {
        self.backoff.peek().map(|Reverse((t, ..))| *t)
    }

    pub fn active_len(&self) -> usize {
        self.active.len()
    }
    pub fn backoff_len(&self) -> usize {
        self.backoff.len()
    }
    pub fn unschedulable_len(&self) -> usize {
        self.unschedulable.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q() -> SchedulingQueue {
        SchedulingQueue::new(
            SimDuration::from_secs(1),
            SimDuration::from_secs(10),
            SimDuration::from_secs(300),
        )
    }

    #[test]
    fn backoff_doubles_from_1s_to_10s() {
        let q = q();
        let got: Vec<u64> = (1..=6).map(|a| q.backoff_duration(a).as_nanos() / 1_000_000_000).collect();
        assert_eq!(got, vec![1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn priority_then_fifo() {
        let mut q = q();
        q.push_active(PodId(0), 0, SimTime(5));
        q.push_active(PodId(1), 10, SimTime(6));
        q.push_active(PodId(2), 0, SimTime(5));
        q.push_active(PodId(3), 0, SimTime(1));
        let order: Vec<u32> = std::iter::from_fn(|| q.pop_active()).map(|p| p.0).collect();
        assert_eq!(order, vec![1, 3, 0, 2]);
    }

    #[test]
    fn cluster_event_moves_to_backoff_or_active() {
        let mut q = q();
        q.add_unschedulable(PodId(0), 0, SimTime(0));
        q.add_unschedulable(PodId(1), 0, SimTime(0));
        // Pod 0 tried 3 times, last at t=0 → backoff 4 s; pod 1 tried once long ago.
        let now = SimTime(2_000_000_000);
        q.move_all_to_active_or_backoff(now, |p| if p.0 == 0 { (3, SimTime(0)) } else { (1, SimTime(0)) });
        assert_eq!(q.unschedulable_len(), 0);
        assert_eq!(q.pop_active(), Some(PodId(1)));
        assert_eq!(q.next_backoff_expiry(), Some(SimTime(4_000_000_000)));
        q.flush_backoff_completed(SimTime(3_999_999_999));
        assert_eq!(q.active_len(), 0);
        q.flush_backoff_completed(SimTime(4_000_000_000));
        assert_eq!(q.pop_active(), Some(PodId(0)));
    }

    #[test]
    fn leftover_flush_after_five_minutes() {
        let mut q = q();
        q.add_unschedulable(PodId(7), 0, SimTime(0));
        q.flush_unschedulable_leftover(SimTime(300_000_000_000), |_| (1, SimTime(0)));
        assert_eq!(q.unschedulable_len(), 1, "exactly 5 min is not yet longer than the limit");
        q.flush_unschedulable_leftover(SimTime(300_000_000_001), |_| (1, SimTime(0)));
        assert_eq!(q.pop_active(), Some(PodId(7)));
    }
}
