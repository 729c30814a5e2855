//! An index of the nodes' free capacity by node position, so the scheduler can jump over
//! nodes that cannot fit a pod instead of looking at each of them.
//!
//! A segment tree over node ids: every entry holds the component-wise maximum of free cpu,
//! memory, GPU and pod slots over the Ready nodes below it (a node that is not Ready has no
//! room at all). A pod's need is the vector of its non-zero requests plus one pod slot, so
//! "entry ≥ need in every component" is necessary for some node below to fit it, and at a
//! leaf it is exactly the NodeResourcesFit filter (`plugins::fit::fits`). Updates and
//! searches cost O(log n).

use super::Resources;

/// Free capacity (or need) as `[cpu_milli, mem_bytes, gpu_milli, pods]`.
pub type Room = [i64; 4];

/// No room at all (a node that is not Ready, or an empty subtree).
pub const NO_ROOM: Room = [i64::MIN; 4];

/// What a pod requesting `req` needs from a node's free capacity: each requested resource
/// (zero requests need nothing) and one pod slot, as `plugins::fit::fits` checks.
#[inline]
pub fn need_of(req: &Resources) -> Room {
    let need = |v: i64| if v > 0 { v } else { i64::MIN };
    [need(req.cpu_milli), need(req.mem_bytes), need(req.gpu_milli), 1]
}

/// A node's free capacity: allocatable minus requested.
#[inline]
pub fn room_of(allocatable: &Resources, requested: &Resources) -> Room {
    [
        allocatable.cpu_milli - requested.cpu_milli,
        allocatable.mem_bytes - requested.mem_bytes,
        allocatable.gpu_milli - requested.gpu_milli,
        allocatable.pods - requested.pods,
    ]
}

#[inline]
pub fn covers(room: &Room, need: &Room) -> bool {
    room[0] >= need[0] && room[1] >= need[1] && room[2] >= need[2] && room[3] >= need[3]
}

/// [`covers`] without short-circuits (every component compared), for loops that count
/// instead of branch.
#[inline(always)]
pub fn covers_all(room: &Room, need: &Room) -> bool {
    (room[0] >= need[0]) & (room[1] >= need[1]) & (room[2] >= need[2]) & (room[3] >= need[3])
}

#[inline]
fn max_of(a: &Room, b: &Room) -> Room {
    [a[0].max(b[0]), a[1].max(b[1]), a[2].max(b[2]), a[3].max(b[3])]
}

#[inline]
fn min_of(a: &Room, b: &Room) -> Room {
    [a[0].min(b[0]), a[1].min(b[1]), a[2].min(b[2]), a[3].min(b[3])]
}

/// The component-wise minimum of `rooms` (all `i64::MAX` when empty).
fn min_over(rooms: &[Room]) -> Room {
    rooms.iter().fold([i64::MAX; 4], |m, r| min_of(&m, r))
}

/// Nodes per block of [`RoomIndex::block_fits`].
pub const BLOCK: usize = 64;

/// The node ids of the bits of `mask` in the block of ids from `base` (bit j: node
/// `base + j`), in id order.
#[inline(always)]
pub fn ids_in(base: usize, mut mask: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (mask != 0).then(|| {
            let j = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            base + j
        })
    })
}

/// The segment tree. Leaves `size..size + len` are the nodes in id order.
#[derive(Clone, Debug, Default)]
pub struct RoomIndex {
    len: usize,
    size: usize,
    tree: Vec<Room>,
    /// Per block of [`BLOCK`] node ids: the component-wise minimum of its nodes' entries,
    /// so a block whose minimum covers a need is known to fit it at every node.
    block_min: Vec<Room>,
}

impl RoomIndex {
    /// Appends a node with free capacity `room`.
    pub fn push(&mut self, room: Room) {
        if self.len == self.size {
            // Double the leaf count and rebuild (amortised O(1) per push).
            let leaves: Vec<Room> = (0..self.len).map(|i| self.tree[self.size + i]).collect();
            self.size = (self.size * 2).max(16);
            self.tree = vec![NO_ROOM; 2 * self.size];
            self.tree[self.size..self.size + leaves.len()].copy_from_slice(&leaves);
            for i in (1..self.size).rev() {
                self.tree[i] = max_of(&self.tree[2 * i], &self.tree[2 * i + 1]);
            }
        }
        self.len += 1;
        // The new node joins its block's minimum (`set` below changes nothing when `room`
        // equals the empty leaf it replaces).
        let b = (self.len - 1) / BLOCK;
        if self.block_min.len() <= b {
            self.block_min.resize(b + 1, [i64::MAX; 4]);
        }
        self.block_min[b] = min_of(&self.block_min[b], &room);
        self.set(self.len - 1, room);
    }

    /// Sets node `i`'s free capacity.
    pub fn set(&mut self, i: usize, room: Room) {
        let mut k = self.size + i;
        let old = self.tree[k];
        if old == room {
            return;
        }
        self.tree[k] = room;
        // The block's minimum: kept in place unless a component grew from the minimum (the
        // node may have been the only one holding it), then recomputed over the block.
        let b = i / BLOCK;
        if self.block_min.len() <= b {
            self.block_min.resize(b + 1, [i64::MAX; 4]);
        }
        let held = self.block_min[b];
        if (0..4).all(|c| room[c] <= old[c] || old[c] > held[c]) {
            self.block_min[b] = min_of(&held, &room);
        } else {
            let lo = self.size + b * BLOCK;
            let hi = self.size + ((b + 1) * BLOCK).min(self.len.max(i + 1));
            self.block_min[b] = min_over(&self.tree[lo..hi]);
        }
        while k > 1 {
            k /= 2;
            let m = max_of(&self.tree[2 * k], &self.tree[2 * k + 1]);
            if self.tree[k] == m {
                break;
            }
            self.tree[k] = m;
        }
    }

    /// Every node of block `b` (ids `b × BLOCK ..`, a whole block) fits `need`.
    #[inline]
    pub fn block_fits(&self, b: usize, need: &Room) -> bool {
        self.block_min.get(b).is_some_and(|m| covers_all(m, need))
    }

    /// The block minima agree with the entries (for `ClusterState::check_invariants`).
    pub fn check_blocks(&self) -> Result<(), String> {
        for (b, chunk) in self.leaves().chunks(BLOCK).enumerate() {
            let m = min_over(chunk);
            if self.block_min.get(b) != Some(&m) {
                return Err(format!("free-capacity block {b}: minimum {:?} != {m:?}", self.block_min.get(b)));
            }
        }
        Ok(())
    }

    /// Every node's entry, in id order.
    #[inline]
    pub fn leaves(&self) -> &[Room] {
        &self.tree[self.size..self.size + self.len]
    }

    /// Node `i`'s entry.
    pub fn leaf(&self, i: usize) -> Room {
        self.tree[self.size + i]
    }

    /// True when some node may have room for `need` (component-wise maxima: necessary).
    pub fn any_may_fit(&self, need: &Room) -> bool {
        self.len > 0 && covers(&self.tree[1], need)
    }

    /// The first node `i` in `lo..hi` whose free capacity covers `need`.
    #[inline]
    pub fn first_fit(&self, lo: usize, hi: usize, need: &Room) -> Option<usize> {
        // The common case when most nodes have room: the first one does.
        if lo < hi.min(self.len) && covers(&self.tree[self.size + lo], need) {
            return Some(lo);
        }
        self.first_fit_after(lo + 1, hi, need)
    }

    #[inline(never)]
    fn first_fit_after(&self, lo: usize, hi: usize, need: &Room) -> Option<usize> {
        let hi = hi.min(self.len);
        if lo >= hi {
            return None;
        }
        // Dense stretches are cheaper to walk than to descend into.
        let near = (lo + 8).min(hi);
        for i in lo..near {
            if covers(&self.tree[self.size + i], need) {
                return Some(i);
            }
        }
        if near == hi {
            return None;
        }
        // Bottom-up from leaf `near`: climb to the next subtree to the right, descend into
        // it when its maxima cover the need; a subtree whose maxima cover the need may still
        // hold no single node that does (the maxima come from different nodes), and then
        // the search climbs on from that dead end.
        let leftmost = |k: usize| {
            let depth = self.size.trailing_zeros() - k.ilog2();
            (k << depth) - self.size
        };
        let mut k = self.size + near;
        loop {
            if covers(&self.tree[k], need) {
                let mut d = k;
                loop {
                    if d >= self.size {
                        let i = d - self.size;
                        return (i < hi).then_some(i);
                    }
                    if covers(&self.tree[2 * d], need) {
                        d *= 2;
                    } else if covers(&self.tree[2 * d + 1], need) {
                        d = 2 * d + 1;
                    } else {
                        break;
                    }
                }
                k = d;
            }
            while k & 1 == 1 {
                if k == 1 {
                    return None;
                }
                k >>= 1;
            }
            k += 1;
            if leftmost(k) >= hi {
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_fit_agrees_with_a_linear_scan() {
        let mut idx = RoomIndex::default();
        let mut rooms = Vec::new();
        let mut x: u64 = 7;
        for i in 0..300 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let r = if i % 7 == 3 {
                NO_ROOM
            } else {
                [(x >> 40) as i64 % 4000, (x >> 20) as i64 % 1000, 0, (x % 3) as i64]
            };
            idx.push(r);
            rooms.push(r);
        }
        for step in 0..200usize {
            let i = (step * 37) % 300;
            let r = [(step as i64 * 91) % 4000, (step as i64 * 53) % 1000, 0, (step % 2) as i64];
            idx.set(i, r);
            rooms[i] = r;
            let need = [1500, if step % 3 == 0 { i64::MIN } else { 400 }, i64::MIN, 1];
            for lo in [0, 5, 9, 100, 150, 299] {
                for hi in [lo + 3, 151, 300] {
                    let want = (lo..hi.min(300)).find(|&j| covers(&rooms[j], &need));
                    assert_eq!(idx.first_fit(lo, hi, &need), want, "lo {lo} hi {hi}");
                }
            }
            assert_eq!(idx.any_may_fit(&need), rooms.iter().any(|r| covers(r, &need)));
            // Every whole block: fits at every node exactly when the block says so.
            for b in 0..300 / BLOCK {
                let all = rooms[b * BLOCK..(b + 1) * BLOCK].iter().all(|r| covers(r, &need));
                assert_eq!(idx.block_fits(b, &need), all, "block {b} after step {step}");
            }
        }
    }

    #[test]
    fn block_minima_follow_rooms_that_shrink_and_grow() {
        let mut idx = RoomIndex::default();
        for _ in 0..2 * BLOCK {
            idx.push([1000, 1000, 0, 10]);
        }
        let need = [500, 500, i64::MIN, 1];
        assert!(idx.block_fits(0, &need) && idx.block_fits(1, &need));
        idx.set(70, [400, 1000, 0, 10]);
        assert!(idx.block_fits(0, &need) && !idx.block_fits(1, &need), "a node shrank below the need");
        idx.set(70, [900, 1000, 0, 10]);
        assert!(idx.block_fits(1, &need), "it grew back: the block minimum is recomputed");
        idx.set(3, NO_ROOM);
        assert!(!idx.block_fits(0, &need), "a node that is not Ready has no room");
        assert!(!idx.block_fits(2, &need), "no such block");
        // A node added without room (not Ready) lowers its block's minimum.
        let mut idx = RoomIndex::default();
        for i in 0..BLOCK {
            idx.push(if i == 5 { NO_ROOM } else { [1000, 1000, 0, 10] });
        }
        assert!(!idx.block_fits(0, &need));
        assert_eq!(idx.check_blocks(), Ok(()));
    }

    #[test]
    fn need_matches_the_fit_filter_rule() {
        let req = Resources::new(100, 0, 0, 1);
        let need = need_of(&req);
        assert!(covers(&[100, -5, -1, 1], &need), "zero requests need nothing");
        assert!(!covers(&[99, 0, 0, 1], &need));
        assert!(!covers(&[100, 0, 0, 0], &need), "one pod slot is always needed");
    }
}
