//! Control-plane faults (`faults[].fail.apiserver` / `faults[].fail.etcd`) and what follows
//! them: which replicas serve, whether writes can commit, the informers' relists after every
//! kube-apiserver was down, and the bookkeeping of API availability and recovery.
//!
//! - Informers (client-go reflectors) whose watch broke retry with the reflector's back-off
//!   (`staging/src/k8s.io/client-go/tools/cache/reflector.go`, `NewReflectorWithOptions`:
//!   `wait.NewExponentialBackoffManager(800ms, 30s, 2m, 2.0, 1.0)`; the `Backoff.Step` of
//!   `apimachinery/pkg/util/wait/backoff.go`: 0.8, 1.6, 3.2, … s doubling until the next would
//!   pass 30 s, then 30 s for ever, each multiplied by 1 + U[0, 1) (jitter 1.0), so the
//!   intervals end in [30, 60) s). Attempts while no replica is up fail at once; the first
//!   attempt after the API is back LISTs (the new server's watch cache starts at the current
//!   resourceVersion, so resuming the watch answers 410 Gone and the reflector relists).
//! - Healthy: from the end of a fault, the API is healthy once every mutating request that
//!   arrives after that instant completes within 1 s (the upstream mutating-call SLO); the
//!   recovery time is the arrival of the last later request slower than that, minus the end
//!   of the fault (0 when there is none).

use crate::engine::{RngStream, SimDuration, SimTime, rng};

/// client-go reflector back-off: initial 800 ms.
pub const REFLECTOR_INITIAL: SimDuration = SimDuration::from_millis(800);
/// client-go reflector back-off cap: 30 s (before jitter).
pub const REFLECTOR_CAP: SimDuration = SimDuration::from_secs(30);
/// The upstream SLO a mutating call must meet for the API to count as healthy.
pub const HEALTHY_LATENCY: SimDuration = SimDuration::from_secs(1);
/// kubelet node-lease controller: retries of a failed renewal back off from 200 ms to at
/// most 7 s (`component-helpers/apimachinery/lease/controller.go`, `maxBackoff`); after a
/// long outage every kubelet is at the cap, so their renewals land within 7 s of the return.
pub const LEASE_RETRY_CAP: SimDuration = SimDuration::from_secs(7);

/// The time of an informer's first successful attempt (its LIST) after its watch broke at
/// `down_at` while the API is away until `up_at`: the reflector's back-off intervals, each
/// drawn from `r`, added from `down_at` until one lands at or after `up_at`.
pub fn relist_time(down_at: SimTime, up_at: SimTime, r: &mut RngStream) -> SimTime {
    let mut base = REFLECTOR_INITIAL;
    let mut t = down_at;
    loop {
        let jitter = 1.0 + rng::unit(r);
        t += SimDuration::from_secs_f64(base.as_secs_f64() * jitter);
        if t >= up_at {
            return t;
        }
        // `Backoff.Step`: the next duration doubles; once it would pass the cap it is the cap.
        base = SimDuration::from_nanos(base.as_nanos().saturating_mul(2)).min(REFLECTOR_CAP);
    }
}

/// One control-plane fault as the control plane sees it.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub start: SimTime,
    pub end: SimTime,
    /// The API can serve nothing that writes (every replica down, or etcd unavailable).
    pub unavailable: bool,
    /// The last arrival after `end` of a mutating request slower than [`HEALTHY_LATENCY`].
    pub last_slow_arrival: Option<SimTime>,
}

/// Availability and recovery over the run's control-plane faults.
#[derive(Debug, Default)]
pub struct Record {
    pub windows: Vec<Window>,
    /// LISTs sent by relisting informers.
    pub relists: u64,
}

impl Record {
    /// A mutating request that arrived at `arrived` took `latency`.
    pub fn observe(&mut self, arrived: SimTime, latency: SimDuration) {
        if latency <= HEALTHY_LATENCY {
            return;
        }
        for w in self.windows.iter_mut().filter(|w| arrived >= w.end) {
            w.last_slow_arrival = Some(w.last_slow_arrival.map_or(arrived, |a| a.max(arrived)));
        }
    }

    /// Time the API could not serve writes, over `[0, until]` (overlapping faults once).
    pub fn unavailable(&self, until: SimTime) -> SimDuration {
        let mut spans: Vec<(SimTime, SimTime)> = self
            .windows
            .iter()
            .filter(|w| w.unavailable)
            .map(|w| (w.start.min(until), w.end.min(until)))
            .collect();
        spans.sort();
        let mut total = 0u64;
        let mut reach = SimTime::ZERO;
        for (a, b) in spans {
            let a = a.max(reach);
            if b > a {
                total += b.as_nanos() - a.as_nanos();
                reach = b;
            }
        }
        SimDuration::from_nanos(total)
    }

    /// The longest recovery (s) over the faults that ended by `until`.
    pub fn recovery_secs(&self, until: SimTime) -> f64 {
        self.windows
            .iter()
            .filter(|w| w.end <= until)
            .map(|w| w.last_slow_arrival.map_or(0.0, |a| a.saturating_since(w.end).as_secs_f64()))
            .fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::StreamId;

    #[test]
    fn reflector_backoff_doubles_from_800ms_to_a_30s_cap_with_jitter() {
        // Without jitter the attempts after a break at 0 are at 0.8, 2.4, 5.6, 12, 24.8,
        // 50.4, 80.4, 110.4 s; jitter 1.0 puts each interval in [d, 2d). So a return at 100 s
        // is met by an attempt in [110.4, 220.8) s, and consecutive seeds differ.
        let t0 = SimTime::ZERO;
        let up = t0 + SimDuration::from_secs(100);
        let mut seen = Vec::new();
        for seed in 0..50 {
            let mut r = rng::stream(seed, StreamId(1));
            let t = relist_time(t0, up, &mut r).as_secs_f64();
            assert!((100.0..220.8).contains(&t), "{t}");
            seen.push(t);
        }
        seen.dedup();
        assert!(seen.len() > 40);
        // A return before the first attempt: the first attempt, in [0.8, 1.6) s.
        let mut r = rng::stream(1, StreamId(1));
        let t = relist_time(t0, t0 + SimDuration::from_millis(100), &mut r).as_secs_f64();
        assert!((0.8..1.6).contains(&t), "{t}");
    }

    #[test]
    fn unavailability_counts_overlaps_once_and_recovery_is_the_last_slow_arrival() {
        let s = |x: u64| SimTime::ZERO + SimDuration::from_secs(x);
        let w = |a, b, unavailable| Window { start: s(a), end: s(b), unavailable, last_slow_arrival: None };
        let mut r = Record { windows: vec![w(10, 20, true), w(15, 30, true), w(40, 50, false)], relists: 0 };
        assert_eq!(r.unavailable(s(100)), SimDuration::from_secs(20));
        assert_eq!(r.unavailable(s(25)), SimDuration::from_secs(15));
        r.observe(s(33), SimDuration::from_secs(2));
        r.observe(s(36), SimDuration::from_millis(900)); // within the SLO: healthy
        assert_eq!(r.recovery_secs(s(100)), 13.0); // 33 − 20
        r.observe(s(55), SimDuration::from_secs(3));
        assert_eq!(r.recovery_secs(s(100)), 35.0); // 55 − 20 for the first fault
    }
}
