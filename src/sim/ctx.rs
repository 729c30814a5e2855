//! The handle models use to schedule their own events, without seeing the engine.

use super::event::Event;
use crate::engine::{EventId, EventQueue, SimDuration, SimTime};

pub struct Ctx<'a> {
    pub now: SimTime,
    queue: &'a mut EventQueue<Event>,
}

impl<'a> Ctx<'a> {
    pub fn new(now: SimTime, queue: &'a mut EventQueue<Event>) -> Self {
        Ctx { now, queue }
    }
    /// Schedules `ev` at absolute time `t` (never earlier than now).
    pub fn at(&mut self, t: SimTime, ev: Event) -> EventId {
        self.queue.push(t.max(self.now), ev)
    }
    /// Schedules `ev` after `d`.
    pub fn after(&mut self, d: SimDuration, ev: Event) -> EventId {
        self.queue.push(self.now + d, ev)
    }
    pub fn cancel(&mut self, id: EventId) {
        self.queue.cancel(id);
    }
}
