//! The pure event core: simulated time, the event queue and random streams. It knows
//! nothing about Kubernetes, never does I/O and never reads the wall clock, so everything
//! built on it is a pure function of (scenario, seed).

pub mod queue;
pub mod rng;
pub mod time;

pub use queue::{EventId, EventQueue};
pub use rng::{RngStream, StreamId};
pub use time::{NANOS_PER_SEC, SimDuration, SimTime};
