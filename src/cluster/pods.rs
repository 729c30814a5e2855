//! Pod storage that follows the pods alive.
//!
//! A [`PodId`] is the pod's creation serial: ids are handed out in creation order and never
//! reused, so every order keyed by pod id (the scheduler queue's ties, the ReplicaSet
//! controller's deletion order, `pods.csv` rows, pod names) is the creation order, whatever
//! happens to the storage. The pods themselves live in a slab of slots: a pod that ended is
//! taken out by [`PodStore::remove`] and its slot goes to a free list for the next pod, so
//! the number of slots is the largest number of pods stored at once, not the number ever
//! created. Between the two, an index maps an id to its slot in pages of [`INDEX_PAGE`]
//! ids; a page whose ids have all been created and all removed is freed, so the index too
//! follows the pods alive (a page costs 4 KiB while one of its pods is stored).
//!
//! Nothing iterates the slab in slot order: [`PodStore::iter`] walks the ids in order.

use super::state::{Pod, PodId};

/// Ids per page of the id → slot index.
pub const INDEX_PAGE: usize = 1024;
const NO_SLOT: u32 = u32::MAX;

/// The pods stored now, by creation serial; see the module docs.
#[derive(Clone, Debug, Default)]
pub struct PodStore {
    /// The slab: a pod per slot (free slots hold the last pod that used them).
    slots: Vec<Pod>,
    /// Per slot: whether its pod is Pending (a packed copy for the scheduler's hot loops).
    pending: Vec<bool>,
    /// Free slots, reused last in, first out.
    free: Vec<u32>,
    /// Per page of ids: the slot of each id (`NO_SLOT` once removed), or `None` once every
    /// id of the page was created and removed.
    pages: Vec<Option<Box<[u32]>>>,
    /// Per page: its pods stored now.
    page_stored: Vec<u32>,
    /// Pods created so far (the next id).
    created: u32,
    /// Pods stored now.
    stored: usize,
}

impl PodStore {
    /// Pods created so far (ids `0..len()`), stored or not.
    pub fn len(&self) -> usize {
        self.created as usize
    }

    /// True before the first pod.
    pub fn is_empty(&self) -> bool {
        self.created == 0
    }

    /// Pods stored now.
    pub fn stored(&self) -> usize {
        self.stored
    }

    /// Slots of the slab: the largest number of pods stored at once.
    pub fn slots(&self) -> usize {
        self.slots.len()
    }

    /// Pages of the id index allocated now.
    pub fn index_pages(&self) -> usize {
        self.pages.iter().filter(|p| p.is_some()).count()
    }

    /// Stores a new pod under the next id.
    pub fn push(&mut self, pod: Pod, pending: bool) -> PodId {
        let id = self.created;
        let page = id as usize / INDEX_PAGE;
        if page == self.pages.len() {
            self.pages.push(Some(vec![NO_SLOT; INDEX_PAGE].into_boxed_slice()));
            self.page_stored.push(0);
        }
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = pod;
                self.pending[s as usize] = pending;
                s
            }
            None => {
                self.slots.push(pod);
                self.pending.push(pending);
                (self.slots.len() - 1) as u32
            }
        };
        if let Some(p) = self.pages[page].as_mut() {
            p[id as usize % INDEX_PAGE] = slot;
        }
        self.page_stored[page] += 1;
        self.created += 1;
        self.stored += 1;
        PodId(id)
    }

    #[inline]
    fn slot(&self, id: PodId) -> Option<usize> {
        let i = id.index();
        let s = *self.pages.get(i / INDEX_PAGE)?.as_ref()?.get(i % INDEX_PAGE)?;
        (s != NO_SLOT).then_some(s as usize)
    }

    /// The pod, while it is stored.
    #[inline]
    pub fn get(&self, id: PodId) -> Option<&Pod> {
        self.slot(id).map(|s| &self.slots[s])
    }

    /// The pod, while it is stored.
    #[inline]
    pub fn get_mut(&mut self, id: PodId) -> Option<&mut Pod> {
        self.slot(id).map(|s| &mut self.slots[s])
    }

    /// Whether the pod is stored and Pending.
    #[inline]
    pub fn is_pending(&self, id: PodId) -> bool {
        self.slot(id).is_some_and(|s| self.pending[s])
    }

    /// Sets the packed Pending flag of a stored pod.
    #[inline]
    pub fn set_pending(&mut self, id: PodId, pending: bool) {
        if let Some(s) = self.slot(id) {
            self.pending[s] = pending;
        }
    }

    /// Takes a pod out of the store (its slot is reused by a later pod); `None` when it
    /// was not stored.
    pub fn remove(&mut self, id: PodId) -> Option<Pod> {
        let s = self.slot(id)?;
        let i = id.index();
        let page = i / INDEX_PAGE;
        if let Some(p) = self.pages[page].as_mut() {
            p[i % INDEX_PAGE] = NO_SLOT;
        }
        self.page_stored[page] -= 1;
        // A page is freed once all its ids were created and none is stored.
        if self.page_stored[page] == 0 && (page + 1) * INDEX_PAGE <= self.created as usize {
            self.pages[page] = None;
        }
        self.free.push(s as u32);
        self.stored -= 1;
        Some(self.slots[s].clone())
    }

    /// The stored pods in id (creation) order.
    pub fn iter(&self) -> impl Iterator<Item = (PodId, &Pod)> + '_ {
        self.pages.iter().enumerate().filter_map(|(pi, p)| p.as_ref().map(|p| (pi, p))).flat_map(
            move |(pi, p)| {
                p.iter()
                    .enumerate()
                    .filter(|(_, s)| **s != NO_SLOT)
                    .map(move |(j, &s)| (PodId((pi * INDEX_PAGE + j) as u32), &self.slots[s as usize]))
            },
        )
    }

    /// The stored pods in id order, without their ids (every pod, in id order, in a run
    /// that keeps them all).
    pub fn all(&self) -> impl Iterator<Item = &Pod> + '_ {
        self.iter().map(|(_, p)| p)
    }

    /// The lowest id still stored (`None` when none is).
    pub fn first_stored(&self) -> Option<PodId> {
        self.iter().next().map(|(id, _)| id)
    }

    /// Checks the books: each stored id's slot holds it once, the free list holds the
    /// other slots, counts per page and in all agree.
    pub fn check(&self) -> Result<(), String> {
        let mut used = vec![false; self.slots.len()];
        let mut stored = 0usize;
        for (pi, page) in self.pages.iter().enumerate() {
            let Some(page) = page else {
                if self.page_stored[pi] != 0 {
                    return Err(format!("pod index page {pi} was freed but counts stored pods"));
                }
                continue;
            };
            let n = page.iter().filter(|&&s| s != NO_SLOT).count();
            if n as u32 != self.page_stored[pi] {
                return Err(format!("pod index page {pi}: {n} stored, counted {}", self.page_stored[pi]));
            }
            for &s in page.iter().filter(|&&s| s != NO_SLOT) {
                if std::mem::replace(&mut used[s as usize], true) {
                    return Err(format!("pod slot {s} holds two pods"));
                }
            }
            stored += n;
        }
        for &s in &self.free {
            if std::mem::replace(&mut used[s as usize], true) {
                return Err(format!("pod slot {s} is free but holds a pod (or is free twice)"));
            }
        }
        if used.iter().any(|u| !u) {
            return Err("a pod slot is neither free nor holding a pod".into());
        }
        if stored != self.stored {
            return Err(format!("{stored} pods stored, counted {}", self.stored));
        }
        Ok(())
    }
}

/// The pod with id `i`; panics when it is not stored (for tests of runs that keep every
/// pod; the simulation reads pods through [`PodStore::get`]).
impl std::ops::Index<usize> for PodStore {
    type Output = Pod;
    fn index(&self, i: usize) -> &Pod {
        match self.get(PodId(i as u32)) {
            Some(p) => p,
            None => panic!("pod {i} is not stored"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::state::{Owner, PodPhase, TemplateId};
    use crate::engine::SimTime;

    fn pod(t: u64) -> Pod {
        Pod::new(TemplateId(0), Owner::Bare, None, SimTime(t))
    }

    #[test]
    fn slots_follow_the_pods_stored_and_ids_keep_creation_order() {
        let mut s = PodStore::default();
        let mut alive = std::collections::VecDeque::new();
        for i in 0..10 * INDEX_PAGE as u64 {
            alive.push_back(s.push(pod(i), true));
            if alive.len() > 5 {
                let id = alive.pop_front().expect("a pod");
                assert_eq!(s.remove(id).map(|p| p.created_at), Some(SimTime(u64::from(id.0))));
            }
            s.check().expect("books");
        }
        assert_eq!(s.len(), 10 * INDEX_PAGE);
        assert_eq!(s.stored(), 5);
        assert_eq!(s.slots(), 6, "at most 6 pods were stored at once");
        assert_eq!(s.index_pages(), 1);
        let ids: Vec<u32> = s
            .iter()
            .map(|(id, p)| {
                assert_eq!(p.created_at, SimTime(u64::from(id.0)));
                id.0
            })
            .collect();
        let want: Vec<u32> = (10 * INDEX_PAGE as u32 - 5..10 * INDEX_PAGE as u32).collect();
        assert_eq!(ids, want);
        assert_eq!(s.first_stored(), Some(PodId(want[0])));
        assert!(s.get(PodId(0)).is_none() && !s.is_pending(PodId(0)));
        assert!(s.remove(PodId(0)).is_none(), "a removed pod is gone");
    }

    #[test]
    fn a_long_lived_pod_pins_only_its_page() {
        let mut s = PodStore::default();
        let first = s.push(pod(0), false);
        for i in 1..4 * INDEX_PAGE as u64 {
            let id = s.push(pod(i), true);
            s.get_mut(id).expect("stored").phase = PodPhase::Succeeded;
            s.remove(id);
        }
        s.check().expect("books");
        assert_eq!(s.index_pages(), 1, "only the first page, pinned by its pod");
        assert_eq!(s.slots(), 2);
        assert_eq!(s.iter().map(|(id, _)| id).collect::<Vec<_>>(), vec![first]);
    }
}
