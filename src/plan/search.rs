//! The search of `clustersim plan`, over an abstract evaluator: pure, sequential and
//! deterministic, so it can be tested against exhaustive enumeration with stub evaluators.
//!
//! The space is a list of *branches* (every combination of the enumerated variables:
//! categorical choices and integer ranges not declared monotone) times a box of *monotone
//! coordinates*, each indexed from its weakest value (0) to its strongest. Declaring a
//! variable monotone states two things, which the search relies on:
//! - **feasibility never gets worse** as the variable gets stronger (more nodes never
//!   hurt a latency requirement), and
//! - **the objective never gets better** (more nodes never cost less).
//!
//! So within a branch the best point for given values of the other monotone coordinates
//! is the weakest feasible value of the last one, and a point whose objective is no better
//! than the best plan found makes every stronger point useless. The search:
//! 1. walks the branches in order; within a branch, walks the values of the monotone
//!    coordinates but the last (the *outer* ones) from the weakest, in lexicographic order;
//! 2. for each outer point, finds the smallest index `j` of the last coordinate where
//!    "feasible, or objective ≥ best so far" holds (both are monotone in `j`, so their
//!    union is too): gallop from the weak end (`lo`, `lo+1`, `lo+3`, `lo+7`, … so the
//!    cheap points come first and a branch that cannot win is dropped after one probe),
//!    then bisect between the last probe that failed and the first that held;
//! 3. infers what it can without running: a point at least as strong as a feasible one is
//!    feasible, one at most as strong as an infeasible one is not, and a point at least as
//!    strong as one whose objective is ≥ best cannot win; an [`Oracle::bound`] (a lower
//!    bound of the objective known without running, e.g. the price of a fixed cluster) cuts
//!    points before they run.
//!
//! Ties go to the first point in (branch, outer, inner) order, which is also the point an
//! exhaustive enumeration in that order keeps: the search returns exactly the exhaustive
//! optimum whenever the monotonicity it was told holds.

/// The shape of the space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Enumerated branches (at least 1).
    pub branches: usize,
    /// The number of values of each monotone coordinate (each at least 1), weakest first.
    pub monotone: Vec<usize>,
}

/// A point: a branch and an index per monotone coordinate.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Point {
    pub branch: usize,
    pub idx: Vec<usize>,
}

/// What evaluating a point gave.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verdict {
    pub feasible: bool,
    /// The objective (lower is better); `+∞` when it is undefined.
    pub objective: f64,
}

/// What the search asks of the simulation.
pub trait Oracle {
    type Error;
    /// A lower bound of the objective at `p` known without running, if any.
    fn bound(&mut self, p: &Point) -> Option<f64>;
    /// Runs `p` and decides it.
    fn evaluate(&mut self, p: &Point) -> Result<Verdict, Self::Error>;
}

/// Why a branch stopped being explored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BranchEnd {
    /// Searched to its end.
    Searched,
    /// A point's objective (run, or bounded without running) was no better than the best
    /// plan of an earlier branch before any point of it was found feasible.
    Pruned,
}

/// The outcome of a search.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    /// The best feasible point and its objective.
    pub best: Option<(Point, f64)>,
    /// Points evaluated, in order.
    pub evaluated: Vec<Point>,
    /// Per branch: how its exploration ended, and whether it found a feasible point.
    pub branches: Vec<(BranchEnd, bool)>,
}

/// What is known of one branch.
struct Memo {
    /// Evaluated points' monotone indices and verdicts.
    seen: Vec<(Vec<usize>, Verdict)>,
}

fn leq(a: &[usize], b: &[usize]) -> bool {
    a.iter().zip(b).all(|(x, y)| x <= y)
}

impl Memo {
    fn get(&self, idx: &[usize]) -> Option<Verdict> {
        self.seen.iter().find(|(i, _)| i == idx).map(|(_, v)| *v)
    }
    /// A point at least as strong as an evaluated feasible one.
    fn inferred_feasible(&self, idx: &[usize]) -> bool {
        self.seen.iter().any(|(p, v)| v.feasible && leq(p, idx))
    }
    /// A point at most as strong as an evaluated infeasible one.
    fn inferred_infeasible(&self, idx: &[usize]) -> bool {
        self.seen.iter().any(|(q, v)| !v.feasible && leq(idx, q))
    }
    /// The largest objective among evaluated points at most as strong as `idx`: a lower
    /// bound of the objective at `idx`.
    fn objective_floor(&self, idx: &[usize]) -> f64 {
        self.seen
            .iter()
            .filter(|(p, _)| leq(p, idx))
            .map(|(_, v)| v.objective)
            .fold(f64::NEG_INFINITY, f64::max)
    }
}

/// State of one search.
struct Search<'a, O: Oracle> {
    oracle: &'a mut O,
    best: Option<(Point, f64)>,
    evaluated: Vec<Point>,
    /// Times the objective bound, not feasibility, ended a probe.
    cuts: usize,
}

impl<O: Oracle> Search<'_, O> {
    fn best_objective(&self) -> f64 {
        self.best.as_ref().map_or(f64::INFINITY, |b| b.1)
    }

    /// Whether `p` cannot beat the best plan, known without running it.
    fn cut_without_running(&mut self, memo: &Memo, p: &Point) -> bool {
        let best = self.best_objective();
        if memo.objective_floor(&p.idx) >= best {
            return true;
        }
        self.oracle.bound(p).is_some_and(|b| b >= best)
    }

    /// The verdict at `p` (evaluated once), recording it.
    fn verdict(&mut self, memo: &mut Memo, p: &Point) -> Result<Verdict, O::Error> {
        if let Some(v) = memo.get(&p.idx) {
            return Ok(v);
        }
        let v = self.oracle.evaluate(p)?;
        self.evaluated.push(p.clone());
        memo.seen.push((p.idx.clone(), v));
        Ok(v)
    }

    /// The predicate the inner search looks for: "feasible, or no better than the best",
    /// as far as it can be known without running `p`.
    fn known(&mut self, memo: &Memo, p: &Point) -> Option<bool> {
        if let Some(v) = memo.get(&p.idx) {
            let cut = !v.feasible && v.objective >= self.best_objective();
            self.cuts += usize::from(cut);
            return Some(v.feasible || cut);
        }
        if self.cut_without_running(memo, p) {
            self.cuts += 1;
            return Some(true);
        }
        if memo.inferred_infeasible(&p.idx) {
            return Some(false);
        }
        None
    }

    /// The predicate at `p`, running it when it is not known.
    fn holds(&mut self, memo: &mut Memo, p: &Point) -> Result<bool, O::Error> {
        if let Some(k) = self.known(memo, p) {
            return Ok(k);
        }
        if memo.inferred_feasible(&p.idx) {
            // Feasible by inference: worth running only for its objective, which the
            // caller needs when this is the answer; the predicate holds either way unless
            // the run contradicts the inference (noise), which the caller handles.
            return Ok(true);
        }
        let v = self.verdict(memo, p)?;
        let cut = !v.feasible && v.objective >= self.best_objective();
        self.cuts += usize::from(cut);
        Ok(v.feasible || cut)
    }

    /// Searches one outer point of a branch: the weakest value of the last coordinate
    /// that holds the predicate, then records it if it is a better plan.
    fn inner(&mut self, memo: &mut Memo, branch: usize, outer: &[usize], n: usize) -> Result<(), O::Error> {
        let at = |j: usize| {
            let mut idx = outer.to_vec();
            idx.push(j);
            Point { branch, idx }
        };
        let mut lo = 0;
        loop {
            // Gallop: lo, lo+1, lo+3, lo+7, … until the predicate holds or the range ends.
            let mut step = 1usize;
            let mut probe = lo;
            let mut hi = n; // the first index known to hold (n: none)
            while probe < n {
                if self.holds(memo, &at(probe))? {
                    hi = probe;
                    break;
                }
                lo = probe + 1;
                probe = lo + step - 1;
                step = step.saturating_mul(2);
                if probe >= n && lo < n {
                    probe = n - 1;
                }
            }
            // Bisect in [lo, hi): every index below lo fails the predicate.
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if self.holds(memo, &at(mid))? {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            if hi >= n {
                return Ok(());
            }
            let p = at(hi);
            if self.known(memo, &p) == Some(true) && memo.get(&p.idx).is_none() {
                // Cut without running: nothing here beats the best.
                return Ok(());
            }
            let v = self.verdict(memo, &p)?;
            if v.feasible {
                if v.objective < self.best_objective() {
                    self.best = Some((p, v.objective));
                }
                return Ok(());
            }
            if v.objective >= self.best_objective() {
                return Ok(());
            }
            // The run contradicts an inferred feasibility (noise): search above it.
            lo = hi + 1;
        }
    }
}

/// Searches `shape` with `oracle`; see the module documentation.
pub fn search<O: Oracle>(shape: &Shape, oracle: &mut O) -> Result<Found, O::Error> {
    let mut s = Search { oracle, best: None, evaluated: Vec::new(), cuts: 0 };
    let mut branches = Vec::with_capacity(shape.branches);
    let k = shape.monotone.len();
    for branch in 0..shape.branches {
        let cuts_before = s.cuts;
        let mut memo = Memo { seen: Vec::new() };
        let mut found_here = false;
        if k == 0 {
            let p = Point { branch, idx: Vec::new() };
            if s.cut_without_running(&memo, &p) {
                s.cuts += 1;
            } else {
                let v = s.verdict(&mut memo, &p)?;
                found_here = v.feasible;
                if v.feasible && v.objective < s.best_objective() {
                    s.best = Some((p, v.objective));
                }
                s.cuts += usize::from(!v.feasible && v.objective >= s.best_objective());
            }
        } else {
            let outer_sizes = &shape.monotone[..k - 1];
            let n = shape.monotone[k - 1];
            let mut outer = vec![0usize; k - 1];
            loop {
                let weakest = {
                    let mut idx = outer.clone();
                    idx.push(0);
                    Point { branch, idx }
                };
                if s.cut_without_running(&memo, &weakest) {
                    s.cuts += 1;
                } else {
                    s.inner(&mut memo, branch, &outer, n)?;
                }
                if !next(&mut outer, outer_sizes) {
                    break;
                }
            }
            found_here = memo.seen.iter().any(|(_, v)| v.feasible);
        }
        // Dropped by the objective bound before anything feasible was seen.
        let pruned = !found_here && s.cuts > cuts_before;
        branches.push((if pruned { BranchEnd::Pruned } else { BranchEnd::Searched }, found_here));
    }
    Ok(Found { best: s.best, evaluated: s.evaluated, branches })
}

/// The next index vector in lexicographic order (last fastest); `false` after the last.
fn next(idx: &mut [usize], sizes: &[usize]) -> bool {
    for k in (0..idx.len()).rev() {
        idx[k] += 1;
        if idx[k] < sizes[k] {
            return true;
        }
        idx[k] = 0;
    }
    false
}

/// The exhaustive search the monotone one must agree with: every point in (branch, index)
/// lexicographic order, the first with the lowest objective among the feasible ones.
pub fn exhaustive<O: Oracle>(shape: &Shape, oracle: &mut O) -> Result<Option<(Point, f64)>, O::Error> {
    let mut best: Option<(Point, f64)> = None;
    for branch in 0..shape.branches {
        let mut idx = vec![0usize; shape.monotone.len()];
        loop {
            let p = Point { branch, idx: idx.clone() };
            let v = oracle.evaluate(&p)?;
            if v.feasible && best.as_ref().is_none_or(|b| v.objective < b.1) {
                best = Some((p, v.objective));
            }
            if !next(&mut idx, &shape.monotone) {
                break;
            }
        }
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A stub: per branch, a non-increasing threshold of the last coordinate for each outer
    /// point (feasible iff idx ≥ threshold), and an objective base + Σ weight · idx.
    #[derive(Clone, Debug)]
    struct Stub {
        shape: Shape,
        /// thresholds[branch][outer point in lexicographic order]
        thresholds: Vec<Vec<usize>>,
        base: Vec<f64>,
        weights: Vec<f64>,
        bounded: bool,
        calls: usize,
    }

    impl Stub {
        fn outer_index(&self, idx: &[usize]) -> usize {
            let sizes = &self.shape.monotone[..self.shape.monotone.len().saturating_sub(1)];
            idx.iter().zip(sizes).fold(0, |acc, (i, n)| acc * n + i)
        }
        fn objective(&self, p: &Point) -> f64 {
            self.base[p.branch] + p.idx.iter().zip(&self.weights).map(|(i, w)| *i as f64 * w).sum::<f64>()
        }
    }

    impl Oracle for Stub {
        type Error = ();
        fn bound(&mut self, p: &Point) -> Option<f64> {
            self.bounded.then(|| self.objective(p))
        }
        fn evaluate(&mut self, p: &Point) -> Result<Verdict, ()> {
            self.calls += 1;
            let feasible = match p.idx.split_last() {
                None => self.thresholds[p.branch][0] == 0,
                Some((last, outer)) => *last >= self.thresholds[p.branch][self.outer_index(outer)],
            };
            Ok(Verdict { feasible, objective: self.objective(p) })
        }
    }

    /// Thresholds non-increasing in every outer coordinate: the threshold of an outer point
    /// is the minimum of a random value and the thresholds of the points just below it.
    fn monotone_thresholds(sizes: &[usize], n: usize, raw: &[usize]) -> Vec<usize> {
        let total: usize = sizes.iter().product();
        let mut t: Vec<usize> = Vec::with_capacity(total);
        let mut idx = vec![0usize; sizes.len()];
        for flat in 0..total {
            let mut v = raw[flat % raw.len()] % (n + 1);
            for k in 0..sizes.len() {
                if idx[k] > 0 {
                    let mut below = idx.clone();
                    below[k] -= 1;
                    let b = below.iter().zip(sizes).fold(0, |acc, (i, s)| acc * s + i);
                    v = v.min(t[b]);
                }
            }
            t.push(v);
            next(&mut idx, sizes);
        }
        t
    }

    fn stub(
        branches: usize,
        sizes: Vec<usize>,
        raw: Vec<usize>,
        base: Vec<u8>,
        weights: Vec<u8>,
        bounded: bool,
    ) -> Stub {
        let k = sizes.len();
        let n = sizes.last().copied().unwrap_or(1);
        let outer = if k == 0 { Vec::new() } else { sizes[..k - 1].to_vec() };
        let thresholds = (0..branches)
            .map(|b| {
                let shifted: Vec<usize> = raw.iter().map(|r| r.wrapping_add(b * 7)).collect();
                if k == 0 { vec![shifted[0] % 2] } else { monotone_thresholds(&outer, n, &shifted) }
            })
            .collect();
        Stub {
            shape: Shape { branches, monotone: sizes },
            thresholds,
            base: (0..branches).map(|b| f64::from(base[b % base.len()])).collect(),
            weights: (0..k).map(|i| f64::from(weights[i % weights.len()] % 4)).collect(),
            bounded,
            calls: 0,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn monotone_search_equals_exhaustive(
            branches in 1usize..4,
            sizes in prop::collection::vec(1usize..9, 0..4),
            raw in prop::collection::vec(0usize..12, 1..40),
            base in prop::collection::vec(0u8..20, 1..4),
            weights in prop::collection::vec(0u8..8, 1..4),
            bounded in any::<bool>(),
        ) {
            let mut a = stub(branches, sizes.clone(), raw.clone(), base.clone(), weights.clone(), bounded);
            let mut b = a.clone();
            let found = search(&a.shape.clone(), &mut a).expect("stub");
            let full = exhaustive(&b.shape.clone(), &mut b).expect("stub");
            prop_assert_eq!(found.best.clone(), full, "search {:?}", found);
            // Never more runs than the grid, and each point once.
            let mut seen = found.evaluated.clone();
            seen.sort();
            seen.dedup();
            prop_assert_eq!(seen.len(), found.evaluated.len());
            prop_assert!(a.calls <= b.calls);
        }
    }

    #[test]
    fn one_coordinate_uses_logarithmically_many_runs() {
        // 1000 values, threshold 700: gallop 0,1,3,7,…,511,1023→999 then bisect.
        let mut s = Stub {
            shape: Shape { branches: 1, monotone: vec![1000] },
            thresholds: vec![vec![700]],
            base: vec![0.0],
            weights: vec![1.0],
            bounded: false,
            calls: 0,
        };
        let found = search(&s.shape.clone(), &mut s).expect("stub");
        assert_eq!(found.best, Some((Point { branch: 0, idx: vec![700] }, 700.0)));
        assert!(s.calls <= 22, "{} runs", s.calls);
    }

    #[test]
    fn a_branch_that_cannot_win_is_dropped_after_one_run_or_none() {
        let mk = |bounded| Stub {
            shape: Shape { branches: 2, monotone: vec![10] },
            thresholds: vec![vec![3], vec![2]],
            base: vec![0.0, 5.0],
            weights: vec![1.0],
            bounded,
            calls: 0,
        };
        let mut s = mk(false);
        let found = search(&s.shape.clone(), &mut s).expect("stub");
        assert_eq!(found.best, Some((Point { branch: 0, idx: vec![3] }, 3.0)));
        assert_eq!(found.branches[1], (BranchEnd::Pruned, false));
        let second: Vec<&Point> = found.evaluated.iter().filter(|p| p.branch == 1).collect();
        assert_eq!(second.len(), 1, "one probe of branch 1: {second:?}");
        let mut s = mk(true);
        let found = search(&s.shape.clone(), &mut s).expect("stub");
        assert!(found.evaluated.iter().all(|p| p.branch == 0), "the bound cuts branch 1 before it runs");
    }

    #[test]
    fn nothing_feasible() {
        let mut s = Stub {
            shape: Shape { branches: 2, monotone: vec![4] },
            thresholds: vec![vec![9], vec![9]],
            base: vec![0.0, 0.0],
            weights: vec![1.0],
            bounded: false,
            calls: 0,
        };
        let found = search(&s.shape.clone(), &mut s).expect("stub");
        assert_eq!(found.best, None);
        assert_eq!(found.branches, vec![(BranchEnd::Searched, false), (BranchEnd::Searched, false)]);
    }
}
