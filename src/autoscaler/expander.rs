//! Expander strategies: which node group to grow when several could host the pending pods.
//! Ports of `kubernetes/autoscaler:cluster-autoscaler/expander/`.
//!
//! Upstream each strategy is a *filter* (`BestOptions`) that returns every option tied for
//! best, and the chain always ends with the random strategy, which picks one of them. Here
//! each strategy has a `*_best` function returning the indices (into `options`, ascending) of
//! the tied best options, and a convenience function that breaks the tie with [`random`]
//! using the caller's seeded picker. Everything is deterministic given its inputs.

/// One way to scale up: add `node_count` nodes to node group `group` to schedule `pods`
/// (`expander.Option`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExpansionOption {
    /// Node-group index (caller-defined).
    pub group: usize,
    /// Nodes to add (from the estimator); ≥ 1 for a real option.
    pub node_count: u32,
    /// Indices of the pending pods this option schedules.
    pub pods: Vec<usize>,
    /// Price of one node of the group per hour (used by [`price`]).
    pub price_per_hour: f64,
    /// Allocatable cpu / memory of one template node of the group.
    pub template_cpu_milli: i64,
    pub template_mem_bytes: i64,
    /// Σ cpu / memory requests of `pods` (upstream `resourcesForPods`, used by [`least_waste`]).
    pub requested_cpu_milli: i64,
    pub requested_mem_bytes: i64,
}

/// Indices `i` for which `key(i)` is minimal (exact float equality for ties, like upstream).
/// Options whose key is `None` are ineligible.
fn argmin_all(options: &[ExpansionOption], key: impl Fn(&ExpansionOption) -> Option<f64>) -> Vec<usize> {
    let mut best: Vec<usize> = Vec::new();
    let mut best_key = f64::INFINITY;
    for (i, o) in options.iter().enumerate() {
        let Some(k) = key(o) else { continue };
        if best.is_empty() || k < best_key {
            best.clear();
            best_key = k;
            best.push(i);
        } else if k == best_key {
            best.push(i);
        }
    }
    best
}

/// Wasted fraction of cpu + memory of an option (`expander/waste/waste.go`):
/// `(avail − requested) / avail` for cpu and for memory, with `avail = template × node_count`,
/// summed. `None` when the option adds no cpu or no memory.
pub fn waste_score(o: &ExpansionOption) -> Option<f64> {
    let avail_cpu = o.template_cpu_milli * i64::from(o.node_count);
    let avail_mem = o.template_mem_bytes * i64::from(o.node_count);
    if avail_cpu <= 0 || avail_mem <= 0 {
        return None;
    }
    let cpu = (avail_cpu - o.requested_cpu_milli) as f64 / avail_cpu as f64;
    let mem = (avail_mem - o.requested_mem_bytes) as f64 / avail_mem as f64;
    Some(cpu + mem)
}

/// least-waste filter (`waste.go` `BestOptions`): the options with the lowest [`waste_score`].
/// Upstream would divide by zero for a zero-capacity node group; such options are dropped here.
pub fn least_waste_best(options: &[ExpansionOption]) -> Vec<usize> {
    argmin_all(options, waste_score)
}

/// least-waste, ties broken by [`random`] (upstream's default chain `least-waste` → random).
pub fn least_waste(options: &[ExpansionOption], pick: &mut impl FnMut(usize) -> usize) -> Option<usize> {
    random_among(&least_waste_best(options), pick)
}

/// most-pods filter (`expander/mostpods/mostpods.go`): the options scheduling the most pods.
pub fn most_pods_best(options: &[ExpansionOption]) -> Vec<usize> {
    argmin_all(options, |o| Some(-(o.pods.len() as f64)))
}

/// most-pods, ties broken by [`random`].
pub fn most_pods(options: &[ExpansionOption], pick: &mut impl FnMut(usize) -> usize) -> Option<usize> {
    random_among(&most_pods_best(options), pick)
}

/// Simplified price score: `price_per_hour × node_count / pods scheduled` (cost per pod-hour).
/// `None` for options scheduling no pods.
///
/// Simplification: upstream `expander/price/price.go` scores
/// `(nodes cost + unfit penalty) / pods value`, where the pods' value comes from a
/// `PreferredNodeProvider`-based pod price, with a penalty for nodes far from the preferred
/// node size and a stabilisation term; none of that is modelled.
pub fn price_score(o: &ExpansionOption) -> Option<f64> {
    if o.pods.is_empty() {
        return None;
    }
    Some(o.price_per_hour * f64::from(o.node_count) / o.pods.len() as f64)
}

/// price filter: the options with the lowest [`price_score`].
pub fn price_best(options: &[ExpansionOption]) -> Vec<usize> {
    argmin_all(options, price_score)
}

/// price, ties broken by [`random`].
pub fn price(options: &[ExpansionOption], pick: &mut impl FnMut(usize) -> usize) -> Option<usize> {
    random_among(&price_best(options), pick)
}

/// priority filter (`expander/priority/priority.go`): `priorities` lists `(group, priority)`;
/// the options whose group has the highest priority win (a group listed several times takes
/// its highest priority). Options whose group is not listed are dropped; if no option's group
/// is listed, every option is returned ("no options filtered", as upstream).
///
/// Simplification: groups are matched by index, not by upstream's regular expressions over
/// node-group ids read from a ConfigMap.
pub fn priority_best(options: &[ExpansionOption], priorities: &[(usize, i64)]) -> Vec<usize> {
    let prio_of = |g: usize| priorities.iter().filter(|&&(pg, _)| pg == g).map(|&(_, p)| p).max();
    let best = argmin_all(options, |o| prio_of(o.group).map(|p| -(p as f64)));
    if best.is_empty() { (0..options.len()).collect() } else { best }
}

/// priority, ties broken by [`random`].
pub fn priority(
    options: &[ExpansionOption],
    priorities: &[(usize, i64)],
    pick: &mut impl FnMut(usize) -> usize,
) -> Option<usize> {
    random_among(&priority_best(options, priorities), pick)
}

/// random (`expander/random/random.go`): `pick(n)` must return a uniform index in `0..n`
/// from the caller's seeded stream; it is called exactly once, and only when `n ≥ 1`.
/// Returns `None` for no options. An out-of-range pick is reduced modulo `n`.
pub fn random(options: &[ExpansionOption], pick: &mut impl FnMut(usize) -> usize) -> Option<usize> {
    if options.is_empty() { None } else { Some(pick(options.len()) % options.len()) }
}

/// Picks one of `candidates` with `pick` (not called when there are 0 or 1 candidates, so a
/// unique winner consumes no random number).
pub fn random_among(candidates: &[usize], pick: &mut impl FnMut(usize) -> usize) -> Option<usize> {
    match candidates.len() {
        0 => None,
        1 => Some(candidates[0]),
        n => Some(candidates[pick(n) % n]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: i64 = 1 << 30;

    /// `group`, nodes, pods, price, template (cpu, GiB), requested (cpu, GiB).
    fn opt(
        group: usize,
        nodes: u32,
        pods: usize,
        price: f64,
        t: (i64, i64),
        r: (i64, i64),
    ) -> ExpansionOption {
        ExpansionOption {
            group,
            node_count: nodes,
            pods: (0..pods).collect(),
            price_per_hour: price,
            template_cpu_milli: t.0,
            template_mem_bytes: t.1 * GIB,
            requested_cpu_milli: r.0,
            requested_mem_bytes: r.1 * GIB,
        }
    }

    fn first(_: usize) -> usize {
        0
    }

    #[test]
    fn waste_score_values() {
        // Upstream waste_test.go style: 2 CPU / 4 GiB requested on one 4 CPU / 16 GiB node:
        // cpu 0.5 + memory 0.75 = 1.25.
        assert_eq!(waste_score(&opt(0, 1, 1, 0.0, (4000, 16), (2000, 4))), Some(1.25));
        // Full node: 0.
        assert_eq!(waste_score(&opt(0, 2, 2, 0.0, (4000, 16), (8000, 32))), Some(0.0));
        assert_eq!(waste_score(&opt(0, 0, 1, 0.0, (4000, 16), (1000, 1))), None);
    }

    #[test]
    fn least_waste_table() {
        struct Row {
            name: &'static str,
            options: Vec<ExpansionOption>,
            want_best: Vec<usize>,
        }
        let rows = [
            Row {
                name: "smaller node wastes less",
                options: vec![
                    opt(0, 1, 1, 0.0, (16000, 64), (2000, 4)), // 0.875 + 0.9375
                    opt(1, 1, 1, 0.0, (4000, 16), (2000, 4)),  // 0.5 + 0.75
                ],
                want_best: vec![1],
            },
            Row {
                name: "more nodes, more waste",
                options: vec![
                    opt(0, 2, 3, 0.0, (4000, 16), (3000, 12)), // 0.625 + 0.625
                    opt(1, 1, 3, 0.0, (4000, 16), (3000, 12)), // 0.25 + 0.25
                ],
                want_best: vec![1],
            },
            Row {
                name: "tie: same waste in different groups",
                options: vec![
                    opt(0, 1, 1, 0.0, (4000, 16), (2000, 8)),
                    opt(1, 1, 5, 0.0, (4000, 16), (2000, 8)),
                    opt(2, 1, 1, 0.0, (4000, 16), (1000, 8)),
                ],
                want_best: vec![0, 1],
            },
            Row { name: "empty", options: vec![], want_best: vec![] },
        ];
        for row in &rows {
            assert_eq!(least_waste_best(&row.options), row.want_best, "{}", row.name);
        }
        // Tie broken by the picker: index 1 of the tied [0, 1] → option 1.
        let opts = &rows[2].options;
        let mut calls = Vec::new();
        let mut pick = |n: usize| {
            calls.push(n);
            1
        };
        assert_eq!(least_waste(opts, &mut pick), Some(1));
        assert_eq!(calls, vec![2]);
        // A unique winner consumes no random number.
        let mut pick = |_: usize| -> usize { panic!("must not be called") };
        assert_eq!(least_waste(&rows[0].options, &mut pick), Some(1));
        assert_eq!(least_waste(&[], &mut first), None);
    }

    #[test]
    fn most_pods_table() {
        let t = (4000, 16);
        let opts =
            vec![opt(0, 1, 3, 0.0, t, (0, 0)), opt(1, 2, 7, 0.0, t, (0, 0)), opt(2, 3, 7, 0.0, t, (0, 0))];
        assert_eq!(most_pods_best(&opts), vec![1, 2]);
        assert_eq!(most_pods(&opts, &mut first), Some(1));
        assert_eq!(most_pods(&opts, &mut |_| 1), Some(2));
        assert_eq!(most_pods_best(&opts[..1]), vec![0]);
    }

    #[test]
    fn price_table() {
        let t = (4000, 16);
        struct Row {
            name: &'static str,
            options: Vec<ExpansionOption>,
            want_best: Vec<usize>,
        }
        let rows = [
            Row {
                name: "cheaper per pod wins even with more nodes",
                options: vec![
                    opt(0, 1, 2, 1.0, t, (0, 0)), // 0.5 per pod
                    opt(1, 2, 8, 1.5, t, (0, 0)), // 0.375 per pod
                ],
                want_best: vec![1],
            },
            Row {
                name: "tie",
                options: vec![opt(0, 1, 2, 1.0, t, (0, 0)), opt(1, 2, 4, 1.0, t, (0, 0))],
                want_best: vec![0, 1],
            },
            Row {
                name: "options scheduling no pods are ineligible",
                options: vec![opt(0, 1, 0, 0.0, t, (0, 0)), opt(1, 1, 1, 3.0, t, (0, 0))],
                want_best: vec![1],
            },
        ];
        for row in &rows {
            assert_eq!(price_best(&row.options), row.want_best, "{}", row.name);
        }
        assert_eq!(price(&rows[1].options, &mut |_| 1), Some(1));
    }

    #[test]
    fn priority_table() {
        let t = (4000, 16);
        let opts = vec![
            opt(10, 1, 1, 0.0, t, (0, 0)),
            opt(20, 1, 1, 0.0, t, (0, 0)),
            opt(30, 1, 1, 0.0, t, (0, 0)),
            opt(40, 1, 1, 0.0, t, (0, 0)),
        ];
        struct Row {
            name: &'static str,
            priorities: Vec<(usize, i64)>,
            want_best: Vec<usize>,
        }
        let rows = [
            Row { name: "highest wins", priorities: vec![(10, 1), (20, 50), (30, 10)], want_best: vec![1] },
            Row { name: "tie", priorities: vec![(10, 5), (30, 5), (20, 1)], want_best: vec![0, 2] },
            Row {
                name: "group listed twice takes max",
                priorities: vec![(10, 5), (40, 1), (40, 9)],
                want_best: vec![3],
            },
            Row { name: "unlisted groups are dropped", priorities: vec![(40, -3)], want_best: vec![3] },
            Row {
                name: "nothing listed: no filtering",
                priorities: vec![(99, 100)],
                want_best: vec![0, 1, 2, 3],
            },
        ];
        for row in &rows {
            assert_eq!(priority_best(&opts, &row.priorities), row.want_best, "{}", row.name);
        }
        assert_eq!(priority(&opts, &rows[1].priorities, &mut |_| 1), Some(2));
        assert_eq!(priority(&[], &rows[0].priorities, &mut first), None);
    }

    #[test]
    fn random_uses_picker() {
        let t = (4000, 16);
        let opts: Vec<_> = (0..3).map(|g| opt(g, 1, 1, 0.0, t, (0, 0))).collect();
        let mut seq = [2usize, 0, 7].into_iter();
        let mut pick = |n: usize| {
            assert_eq!(n, 3);
            seq.next().unwrap()
        };
        assert_eq!(random(&opts, &mut pick), Some(2));
        assert_eq!(random(&opts, &mut pick), Some(0));
        assert_eq!(random(&opts, &mut pick), Some(1)); // 7 % 3
        assert_eq!(random(&[], &mut pick), None);
    }
}
