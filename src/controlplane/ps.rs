//! One kube-apiserver replica's CPU as an egalitarian processor-sharing server: `cores`
//! cores shared by the `m` requests in service, each progressing at `min(1, cores / m)` CPU
//! seconds per second (a request is one goroutine and uses at most one core). This is the
//! textbook PS discipline (Kleinrock, *Queueing Systems* vol. 2, 1976, §4.4); with one core
//! and Poisson arrivals the mean response time is `S / (1 − ρ)` whatever the demand
//! distribution, which the tests check.
//!
//! Implementation: a virtual clock `v` counts the CPU time every request in service has
//! received since the server was built; it advances at the sharing rate. A request arriving
//! with demand `d` finishes when `v` reaches `v_arrival + d` (its tag), so the next
//! completion is always the smallest tag, and the time to it is `(tag − v) / rate`. Only that
//! one completion is scheduled; it is rescheduled whenever an arrival or a departure changes
//! the rate. Simulated time stays integer nanoseconds; the virtual clock is an `f64` of
//! nanoseconds (deterministic IEEE arithmetic), and completion instants round up to the
//! next nanosecond.

use crate::engine::{SimDuration, SimTime};
use std::cmp::Ordering;
use std::collections::BTreeSet;

/// A finish tag, ordered by `f64::total_cmp`, then by arrival (ties first come, first
/// served); the last field is the request id.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Tag(f64, u64, u32);

impl Eq for Tag {}

impl PartialOrd for Tag {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Tag {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0).then(self.1.cmp(&other.1)).then(self.2.cmp(&other.2))
    }
}

#[derive(Clone, Debug)]
pub struct PsServer {
    cores: f64,
    /// CPU nanoseconds each request in service has received since the server was built.
    virtual_ns: f64,
    last: SimTime,
    jobs: BTreeSet<Tag>,
    /// Busy core-nanoseconds since the last [`Self::take_busy_secs`].
    busy_ns: f64,
    /// Requests added so far (the arrival order of ties).
    arrivals: u64,
}

impl PsServer {
    pub fn new(cores: u32) -> Self {
        PsServer {
            cores: f64::from(cores.max(1)),
            virtual_ns: 0.0,
            last: SimTime::ZERO,
            jobs: BTreeSet::new(),
            busy_ns: 0.0,
            arrivals: 0,
        }
    }

    /// Requests in service.
    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    fn rate(&self) -> f64 {
        let m = self.jobs.len() as f64;
        if m == 0.0 { 1.0 } else { (self.cores / m).min(1.0) }
    }

    fn advance(&mut self, now: SimTime) {
        if now > self.last {
            let dt = now.saturating_since(self.last).as_nanos() as f64;
            if !self.jobs.is_empty() {
                self.virtual_ns += dt * self.rate();
                self.busy_ns += dt * (self.jobs.len() as f64).min(self.cores);
            }
            self.last = now;
        }
    }

    /// Request `id` starts service at `now` needing `demand` of CPU.
    pub fn add(&mut self, now: SimTime, id: u32, demand: SimDuration) {
        self.advance(now);
        self.arrivals += 1;
        self.jobs.insert(Tag(self.virtual_ns + demand.as_nanos() as f64, self.arrivals, id));
    }

    /// When the next request finishes if nothing else arrives (None when idle).
    pub fn next_completion(&self) -> Option<SimTime> {
        let first = self.jobs.first()?;
        let left = (first.0 - self.virtual_ns).max(0.0) / self.rate();
        Some(self.last + SimDuration::from_nanos(left.ceil() as u64))
    }

    /// Removes and returns the request with the smallest tag (the one
    /// [`Self::next_completion`] announced), advancing the clock to `now`.
    pub fn complete(&mut self, now: SimTime) -> Option<u32> {
        self.advance(now);
        let first = self.jobs.pop_first()?;
        self.virtual_ns = self.virtual_ns.max(first.0);
        Some(first.2)
    }

    /// Busy core-seconds since the last call (CPU utilisation × cores × interval).
    pub fn take_busy_secs(&mut self, now: SimTime) -> f64 {
        self.advance(now);
        let b = self.busy_ns / 1e9;
        self.busy_ns = 0.0;
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_millis(n)
    }

    /// Runs the server until idle, returning (id, completion ms).
    fn drain(ps: &mut PsServer) -> Vec<(u32, u64)> {
        let mut out = Vec::new();
        while let Some(t) = ps.next_completion() {
            let id = ps.complete(t).expect("a request");
            out.push((id, t.as_nanos() / 1_000_000));
        }
        out
    }

    #[test]
    fn two_requests_on_one_core_share_it_by_hand() {
        // 10 ms and 30 ms of CPU at t = 0 on one core: both run at half speed until the
        // first has had 10 ms (t = 20 ms), then the second alone needs 20 ms more: t = 40.
        let mut ps = PsServer::new(1);
        ps.add(ms(0), 1, SimDuration::from_millis(10));
        ps.add(ms(0), 2, SimDuration::from_millis(30));
        assert_eq!(drain(&mut ps), vec![(1, 20), (2, 40)]);
    }

    #[test]
    fn up_to_cores_requests_run_at_full_speed() {
        // Two cores, two requests: no sharing. A third at 5 ms makes the rate 2/3 for all.
        // A (10 ms) and B (20 ms) at 0; C (10 ms) at 5: at 5 A has 5 left, B 15, C 10; at
        // rate 2/3 A ends after 7.5 ms (12.5); then 2 on 2 cores: C (10 − 5 = 5 left) ends
        // at 17.5, B (15 − 5 = 10 left → 5 after 17.5) ends at 22.5.
        let mut ps = PsServer::new(2);
        ps.add(ms(0), 1, SimDuration::from_millis(10));
        ps.add(ms(0), 2, SimDuration::from_millis(20));
        ps.add(ms(5), 3, SimDuration::from_millis(10));
        let mut out = Vec::new();
        while let Some(t) = ps.next_completion() {
            out.push((ps.complete(t).expect("a request"), t.as_nanos() / 100_000));
        }
        assert_eq!(out, vec![(1, 125), (3, 175), (2, 225)]);
    }

    #[test]
    fn busy_core_seconds_count_min_of_jobs_and_cores() {
        // One request of 10 ms on 4 cores: 10 ms busy on one core.
        let mut ps = PsServer::new(4);
        ps.add(ms(0), 1, SimDuration::from_millis(10));
        drain(&mut ps);
        assert!((ps.take_busy_secs(ms(100)) - 0.010).abs() < 1e-12);
    }
}
