//! Node sampling: how many feasible nodes the scheduler looks for before it stops filtering
//! (`percentageOfNodesToScore`). Source: `kubernetes/kubernetes:pkg/scheduler/schedule_one.go`
//! (`numFeasibleNodesToFind`, `minFeasibleNodesToFind`, `minFeasibleNodesPercentageToFind`).

/// Upstream `minFeasibleNodesToFind`: below this many nodes all nodes are filtered, and the
/// scheduler never stops before finding this many feasible nodes.
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// Upstream `minFeasibleNodesPercentageToFind`: the floor of the adaptive percentage.
pub const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: i64 = 5;
/// Upstream `basePercentageOfNodesToScore` (local to `numFeasibleNodesToFind`).
const BASE_PERCENTAGE_OF_NODES_TO_SCORE: i64 = 50;

/// Upstream `numFeasibleNodesToFind` (`kubernetes/kubernetes:pkg/scheduler/schedule_one.go`):
/// - `N < 100` or `percentage >= 100`: all `N` nodes;
/// - otherwise `pct = percentage` if > 0, else the adaptive `max(50 - N/125, 5)` (integer
///   division); `k = N * pct / 100`; at least 100.
///
/// `percentage_of_nodes_to_score` 0 (the default) selects the adaptive percentage.
pub fn num_feasible_nodes_to_find(num_all_nodes: usize, percentage_of_nodes_to_score: i64) -> usize {
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND || percentage_of_nodes_to_score >= 100 {
        return num_all_nodes;
    }
    let n = i64::try_from(num_all_nodes).unwrap_or(i64::MAX);
    let mut adaptive_percentage = percentage_of_nodes_to_score;
    if adaptive_percentage <= 0 {
        adaptive_percentage = BASE_PERCENTAGE_OF_NODES_TO_SCORE - n / 125;
        if adaptive_percentage < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND {
            adaptive_percentage = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
        }
    }
    let num_nodes = n.saturating_mul(adaptive_percentage) / 100;
    match usize::try_from(num_nodes) {
        Ok(k) if k >= MIN_FEASIBLE_NODES_TO_FIND => k,
        _ => MIN_FEASIBLE_NODES_TO_FIND,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference values (`shared/reference/kubernetes.md` §2.4, adaptive percentage) and
    /// upstream `TestNumFeasibleNodesToFind`
    /// (`kubernetes/kubernetes:pkg/scheduler/schedule_one_test.go`).
    #[test]
    fn num_feasible_nodes_to_find_table() {
        // (name, numAllNodes, percentageOfNodesToScore, want)
        let rows: &[(&str, usize, i64, usize)] = &[
            // Reference §2.4, percentageOfNodesToScore = 0 (adaptive).
            ("ref 50", 50, 0, 50),
            ("ref 100", 100, 0, 100),
            ("ref 500", 500, 0, 230),
            ("ref 1000", 1000, 0, 420),
            ("ref 3000", 3000, 0, 780),
            ("ref 5000", 5000, 0, 500),
            ("ref 6000", 6000, 0, 300),
            ("ref 15000", 15000, 0, 750),
            ("ref 65000", 65000, 0, 3250),
            // Upstream TestNumFeasibleNodesToFind.
            ("not set percentageOfNodesToScore and nodes number not more than 50", 10, 0, 10),
            ("set percentageOfNodesToScore and nodes number not more than 50", 10, 40, 10),
            ("not set percentageOfNodesToScore and nodes number more than 50", 1000, 0, 420),
            ("set percentageOfNodesToScore and nodes number more than 50", 1000, 40, 400),
            ("not set percentageOfNodesToScore and nodes number more than 50*125", 6000, 0, 300),
            ("set percentageOfNodesToScore and nodes number more than 50*125", 6000, 40, 2400),
            // Extra edge rows.
            ("percentage 100 scores all", 5000, 100, 5000),
            ("percentage above 100 scores all", 5000, 150, 5000),
            ("small percentage floors at 100 nodes", 1000, 1, 100),
            ("negative percentage is adaptive", 1000, -1, 420),
            ("99 nodes are all filtered", 99, 0, 99),
            ("adaptive floor of 5%", 100_000, 0, 5000),
        ];
        for &(name, n, pct, want) in rows {
            assert_eq!(num_feasible_nodes_to_find(n, pct), want, "{name}: N={n} pct={pct}");
        }
    }
}
