//! Client-side rate limiting as client-go does it: `flowcontrol.NewTokenBucketRateLimiter(qps,
//! burst)` wraps `golang.org/x/time/rate.Limiter`, whose bucket refills at `qps` tokens per
//! second up to `burst`; `Wait` reserves a token (the count may go negative) and sleeps until
//! it exists, so requests leave in the order they were made.

use crate::engine::{SimDuration, SimTime};

#[derive(Clone, Debug)]
pub struct TokenBucket {
    qps: f64,
    burst: f64,
    tokens: f64,
    last: SimTime,
}

impl TokenBucket {
    /// A full bucket (`rate.NewLimiter` starts with `burst` tokens).
    pub fn new(qps: f64, burst: u32) -> Self {
        TokenBucket { qps, burst: f64::from(burst), tokens: f64::from(burst), last: SimTime::ZERO }
    }

    /// Reserves one token at `now`; returns when the request may leave.
    pub fn reserve(&mut self, now: SimTime) -> SimTime {
        if now > self.last {
            let dt = now.saturating_since(self.last).as_secs_f64();
            self.tokens = (self.tokens + dt * self.qps).min(self.burst);
            self.last = now;
        }
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            now.max(self.last)
        } else {
            self.last + SimDuration::from_secs_f64(-self.tokens / self.qps)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(t: SimTime) -> f64 {
        t.as_nanos() as f64 / 1e6
    }

    #[test]
    fn burst_then_one_every_second_over_qps() {
        // qps 5, burst 10 (client-go's defaults): 10 requests at once leave at once, the
        // 11th after 200 ms, the 12th after 400 ms.
        let mut b = TokenBucket::new(5.0, 10);
        let t: Vec<f64> = (0..12).map(|_| ms(b.reserve(SimTime::ZERO))).collect();
        assert_eq!(&t[..10], &[0.0; 10]);
        assert!((t[10] - 200.0).abs() < 1e-6 && (t[11] - 400.0).abs() < 1e-6, "{t:?}");
    }

    #[test]
    fn tokens_refill_up_to_burst() {
        // qps 2, burst 3: empty the bucket at 0, wait 10 s (refills to 3, not 20), then
        // 4 requests: 3 at once, the 4th 500 ms later.
        let mut b = TokenBucket::new(2.0, 3);
        for _ in 0..3 {
            b.reserve(SimTime::ZERO);
        }
        let at = SimTime::ZERO + SimDuration::from_secs(10);
        let t: Vec<f64> = (0..4).map(|_| ms(b.reserve(at))).collect();
        assert_eq!(t, vec![10_000.0, 10_000.0, 10_000.0, 10_500.0]);
    }
}
