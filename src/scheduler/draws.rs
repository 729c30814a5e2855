//! The scheduler's tie-break stream (`selectHost`'s reservoir draws and the preemption
//! dry run's offset), drawn on the calling thread or generated ahead on a second one.
//!
//! Every use takes exactly one 64-bit output of the stream (`uniform_below` is one
//! multiply, no rejection), so the sequence of outputs does not depend on the decisions
//! and can be computed before they are made. With `--threads` 2 or more, a producer
//! thread ([`TieDraws::ahead`]) runs the generator into a ring and the scheduler reads the
//! same values in the same order: the decisions are the same by construction.
//!
//! What the second thread buys is the long runs of ties of `selectHost` in a large
//! cluster of alike nodes (1,660 draws an attempt in `density-100k`): the scheduler only
//! needs to know which of them, if any, comes out 0 last. For every 8 outputs the producer
//! also writes the most leading zeros among them; a draw for tie count n can come out 0
//! only if its output has at least ⌊log₂ n⌋ leading zeros, so the scheduler screens 64
//! draws with one word (one add and one and over 8 bytes) and reads the values of a group
//! only when its byte passes. On the calling thread ([`TieDraws::here`]) it is the plain
//! loop.
//!
//! The producer stays at most [`RING`] outputs ahead and sleeps (parked) when the ring is
//! full, until the scheduler has read half of it; it stops when the stream is dropped.

use crate::engine::RngStream;
use rand_core::Rng;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Outputs the producer may be ahead (a power of two, a multiple of [`CHUNK`]).
const RING: u64 = 1 << 18;
/// Outputs the producer publishes at a time, and the scheduler reports read at a time.
const CHUNK: u64 = 1 << 10;
/// Outputs screened by one summary word (8 groups of 8).
const WORD: u64 = 64;
const WORDS: usize = (RING / WORD) as usize;
const _: () = assert!(RING.is_power_of_two() && RING.is_multiple_of(CHUNK) && CHUNK.is_multiple_of(WORD));

/// A uniform draw in `0..n` from one output (Lemire's multiply, no rejection: the
/// scheduler's draws have always been this).
#[inline(always)]
fn below(v: u64, n: u64) -> u64 {
    ((u128::from(v) * u128::from(n)) >> 64) as u64
}

/// The tie-break stream of one scheduler.
pub struct TieDraws(Source);

enum Source {
    Here(RngStream),
    Ahead(Box<Ahead>),
}

impl std::fmt::Debug for TieDraws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            Source::Here(_) => "TieDraws::Here",
            Source::Ahead(_) => "TieDraws::Ahead",
        })
    }
}

impl TieDraws {
    /// The stream drawn on the calling thread.
    pub fn here(rng: RngStream) -> TieDraws {
        TieDraws(Source::Here(rng))
    }

    /// The same stream, generated ahead on a thread of its own. Fails only if the OS
    /// refuses the thread.
    pub fn ahead(rng: RngStream) -> Result<TieDraws, String> {
        let ring = Arc::new(Ring::new());
        let theirs = Arc::clone(&ring);
        let producer = std::thread::Builder::new()
            .name("clustersim-draws".into())
            .spawn(move || produce(&theirs, rng))
            .map_err(|e| format!("cannot start the scheduler's draw thread: {e}"))?;
        Ok(TieDraws(Source::Ahead(Box::new(Ahead {
            ring,
            producer: Some(producer),
            pos: 0,
            avail: 0,
            reported: 0,
        }))))
    }

    /// From here on, the rest of the stream generated ahead on a thread of its own (no
    /// change if it already is).
    pub fn go_ahead(&mut self) -> Result<(), String> {
        if let Source::Here(rng) = &self.0 {
            *self = TieDraws::ahead(rng.clone())?;
        }
        Ok(())
    }

    /// Whether the stream is generated on another thread.
    pub fn is_ahead(&self) -> bool {
        matches!(self.0, Source::Ahead(_))
    }

    /// The next output.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        match &mut self.0 {
            Source::Here(rng) => rng.next_u64(),
            Source::Ahead(a) => a.next(),
        }
    }

    /// A uniform draw in `0..n` from the next output.
    #[inline]
    pub fn uniform_below(&mut self, n: u64) -> u64 {
        below(self.next_u64(), n)
    }

    /// The draws of reservoir sampling for the tie counts `first + 1 ..= end` (one output
    /// each, in order): the last count whose draw came out 0, or 0 if none did.
    #[inline]
    pub fn last_zero(&mut self, first: u64, end: u64) -> u64 {
        match &mut self.0 {
            Source::Here(rng) => {
                let (mut ties, mut chose) = (first, 0);
                while ties != end {
                    ties += 1;
                    if below(rng.next_u64(), ties) == 0 {
                        chose = ties;
                    }
                }
                chose
            }
            Source::Ahead(a) => a.last_zero(first, end),
        }
    }
}

/// Where the producer writes and the scheduler reads. The counters are on lines of their
/// own, so that publishing one does not take the other's line away.
struct Ring {
    /// Per output: its value.
    values: Box<[AtomicU64]>,
    /// Per 64 outputs: for each group of 8 (byte g), the most leading zeros among them.
    zeros: Box<[AtomicU64]>,
    /// Outputs written (a multiple of [`CHUNK`]).
    produced: Padded,
    /// Outputs read, as last reported by the scheduler.
    consumed: Padded,
    /// The producer sleeps until `consumed` reaches this (0: it is awake).
    wake_at: Padded,
    stop: AtomicBool,
}

#[repr(align(128))]
struct Padded(AtomicU64);

impl Ring {
    fn new() -> Ring {
        Ring {
            values: (0..RING).map(|_| AtomicU64::new(0)).collect(),
            zeros: (0..WORDS).map(|_| AtomicU64::new(0)).collect(),
            produced: Padded(AtomicU64::new(0)),
            consumed: Padded(AtomicU64::new(0)),
            wake_at: Padded(AtomicU64::new(0)),
            stop: AtomicBool::new(false),
        }
    }
}

/// The producer's loop: a chunk at a time while there is room; else asleep until the
/// scheduler has read half of the ring.
fn produce(ring: &Ring, mut rng: RngStream) {
    let mut pos = 0u64;
    loop {
        if ring.stop.load(Ordering::Acquire) {
            return;
        }
        let wake = pos + CHUNK - RING / 2;
        if pos + CHUNK > ring.consumed.0.load(Ordering::Acquire) + RING {
            // Full. Say when to be woken, then check again (the scheduler reads `wake_at`
            // after reporting, so one of the two sees the other's write).
            ring.wake_at.0.store(wake, Ordering::SeqCst);
            if pos + CHUNK > ring.consumed.0.load(Ordering::SeqCst) + RING
                && !ring.stop.load(Ordering::SeqCst)
            {
                std::thread::park();
            }
            ring.wake_at.0.store(0, Ordering::SeqCst);
            continue;
        }
        let mut t = pos;
        while t < pos + CHUNK {
            let at = (t % RING) as usize;
            let mut word = 0u64;
            for g in 0..8 {
                let mut most = 0;
                for slot in &ring.values[at + 8 * g..at + 8 * g + 8] {
                    let v = rng.next_u64();
                    most = most.max(v.leading_zeros());
                    slot.store(v, Ordering::Relaxed);
                }
                word |= u64::from(most) << (8 * g);
            }
            ring.zeros[at / WORD as usize].store(word, Ordering::Relaxed);
            t += WORD;
        }
        pos += CHUNK;
        ring.produced.0.store(pos, Ordering::Release);
    }
}

/// The scheduler's side of a ring.
struct Ahead {
    ring: Arc<Ring>,
    producer: Option<std::thread::JoinHandle<()>>,
    /// Outputs read.
    pos: u64,
    /// Outputs known written.
    avail: u64,
    /// Outputs reported read.
    reported: u64,
}

impl Ahead {
    /// Until at least `upto` outputs are written.
    #[inline]
    fn wait_for(&mut self, upto: u64) {
        self.avail = self.ring.produced.0.load(Ordering::Acquire);
        if self.avail < upto {
            self.spin_for(upto);
        }
    }

    /// [`Self::wait_for`] when the producer is behind. It may be asleep on a ring that was
    /// full before this report, waiting for a point the scheduler has not reached (a run
    /// of ties longer than what is left in the ring), so it is woken whatever its point.
    /// (A wait is for at most half a ring past the scheduler, so after the report there is
    /// room; the producer either sees the report before it sleeps or is woken here.)
    #[cold]
    fn spin_for(&mut self, upto: u64) {
        self.report();
        loop {
            self.avail = self.ring.produced.0.load(Ordering::Acquire);
            if self.avail >= upto {
                return;
            }
            self.wake_producer(true);
            // (It only ends when told to; were it to fail, the run fails, it does not wait
            // for ever.)
            assert!(
                self.producer.as_ref().is_some_and(|p| !p.is_finished()),
                "the scheduler's draw thread ended"
            );
            std::hint::spin_loop();
        }
    }

    /// Tells the producer how far the scheduler has read, and wakes it if it sleeps until
    /// then.
    fn report(&mut self) {
        self.reported = self.pos;
        self.ring.consumed.0.store(self.pos, Ordering::SeqCst);
        self.wake_producer(false);
    }

    /// Wakes the producer if it sleeps, until a point the scheduler has reached or (with
    /// `any_point`) until any point.
    fn wake_producer(&self, any_point: bool) {
        let wake = self.ring.wake_at.0.load(Ordering::SeqCst);
        if wake != 0
            && (any_point || self.pos >= wake)
            && let Some(p) = &self.producer
        {
            p.thread().unpark();
        }
    }

    /// After reading up to `self.pos`.
    #[inline(always)]
    fn read_to(&mut self, pos: u64) {
        self.pos = pos;
        if pos - self.reported >= CHUNK {
            self.report();
        }
    }

    #[inline]
    fn next(&mut self) -> u64 {
        if self.pos >= self.avail {
            self.wait_for(self.pos + 1);
        }
        let v = self.ring.values[(self.pos % RING) as usize].load(Ordering::Relaxed);
        self.read_to(self.pos + 1);
        v
    }

    /// [`TieDraws::last_zero`] from the ring: a word of group maxima screens 64 outputs.
    fn last_zero(&mut self, first: u64, end: u64) -> u64 {
        let stop = self.pos + (end - first);
        // One wait for the whole run (the ring holds far more than an attempt's ties).
        while stop > self.avail {
            let upto = stop.min(self.pos + RING / 2);
            self.wait_for(upto);
            if stop > self.avail {
                // A longer run than half the ring: read what is there first.
                let part = self.avail - self.pos;
                let chose = self.screen(first, first + part);
                let rest = self.last_zero(first + part, end);
                return if rest != 0 { rest } else { chose };
            }
        }
        self.screen(first, end)
    }

    /// The screening of `end - first` outputs, all written.
    #[inline]
    fn screen(&mut self, first: u64, end: u64) -> u64 {
        let start = self.pos;
        let stop = start + (end - first);
        let mut chose = 0;
        let mut t = start;
        while t < stop {
            let word_start = t - t % WORD;
            let hi = (word_start + WORD).min(stop);
            // A draw for tie count n comes out 0 only if its output is below 2⁶⁴ / n, so
            // has at least ⌊log₂ n⌋ leading zeros; n only grows along the run.
            let n = first + 1 + (t - start);
            let k = u64::from(63 - n.leading_zeros());
            let zeros = self.ring.zeros[((word_start % RING) / WORD) as usize].load(Ordering::Relaxed);
            // Byte g (at most 64) + 128 - k has its top bit set iff it is at least k.
            let pass = zeros.wrapping_add((0x80 - k) * 0x0101_0101_0101_0101) & 0x8080_8080_8080_8080;
            let (g0, g1) = ((t - word_start) / 8, (hi - 1 - word_start) / 8);
            let groups = (u64::MAX >> (8 * (7 - g1))) & (u64::MAX << (8 * g0));
            let mut pass = pass & groups;
            while pass != 0 {
                let g = u64::from(pass.trailing_zeros() / 8);
                pass &= pass - 1;
                let lo = (word_start + 8 * g).max(t);
                let up = (word_start + 8 * g + 8).min(hi);
                for d in lo..up {
                    let n = first + 1 + (d - start);
                    let v = self.ring.values[(d % RING) as usize].load(Ordering::Relaxed);
                    if below(v, n) == 0 {
                        chose = n;
                    }
                }
            }
            t = hi;
        }
        self.read_to(stop);
        chose
    }
}

impl Drop for Ahead {
    fn drop(&mut self) {
        self.ring.stop.store(true, Ordering::SeqCst);
        if let Some(p) = self.producer.take() {
            p.thread().unpark();
            let _ = p.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::{StreamId, stream};

    /// The same calls on both sources give the same answers and leave them at the same
    /// place: runs of every length, from tie counts small and large, across the ring's end.
    #[test]
    fn ahead_draws_what_here_draws() {
        let rng = stream(7, StreamId(3));
        let mut here = TieDraws::here(rng.clone());
        let mut ahead = TieDraws::ahead(rng).expect("thread");
        assert!(ahead.is_ahead() && !here.is_ahead());
        let mut pick = stream(8, StreamId(4));
        let mut chosen = 0;
        for i in 0..20_000u64 {
            match i % 5 {
                0 => assert_eq!(here.next_u64(), ahead.next_u64()),
                1 => {
                    let n = 1 + pick.next_u64() % 5000;
                    assert_eq!(here.uniform_below(n), ahead.uniform_below(n));
                }
                _ => {
                    let first = pick.next_u64() % 3000;
                    let len = pick.next_u64() % 70;
                    let (a, b) = (here.last_zero(first, first + len), ahead.last_zero(first, first + len));
                    assert_eq!(a, b, "call {i}: ties {first}..{}", first + len);
                    chosen += u64::from(a != 0);
                }
            }
        }
        assert!(chosen > 100, "the runs chose something ({chosen})");
        // A run longer than the ring.
        let first = 1;
        assert_eq!(here.last_zero(first, first + 3 * RING + 5), ahead.last_zero(first, first + 3 * RING + 5));
        assert_eq!(here.next_u64(), ahead.next_u64());
    }

    /// A run of ties longer than what is left in the ring while the producer sleeps on a
    /// full ring, the scheduler short of the point where it would wake it: the scheduler
    /// wakes it anyway instead of waiting for ever.
    #[test]
    fn a_long_run_wakes_a_sleeping_producer() {
        let rng = stream(9, StreamId(5));
        let mut here = TieDraws::here(rng.clone());
        let mut ahead = TieDraws::ahead(rng).expect("thread");
        // Let the producer fill the ring and go to sleep.
        std::thread::sleep(std::time::Duration::from_millis(200));
        let mut first = 0;
        while first < RING / 2 + 5 {
            let end = (first + 50).min(RING / 2 + 5);
            assert_eq!(here.last_zero(first, end), ahead.last_zero(first, end));
            first = end;
        }
        let end = first + RING / 2 + 100;
        assert_eq!(here.last_zero(first, end), ahead.last_zero(first, end));
        assert_eq!(here.next_u64(), ahead.next_u64());
    }

    #[test]
    fn last_zero_of_one_tie_always_chooses() {
        let mut here = TieDraws::here(stream(1, StreamId(1)));
        assert_eq!(here.last_zero(0, 1), 1);
        assert_eq!(here.last_zero(5, 5), 0);
    }
}
