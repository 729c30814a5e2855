//! The Cluster Autoscaler (CA): the binpacking [`estimator`] (how many template nodes of one
//! node group the pending pods need), the [`expander`] strategies (which node group to grow),
//! and the [`controller`] loop that uses them every `scan-interval`, plus the CA flag
//! defaults (the scenario schema's defaults are tested against these).
//!
//! The defaults are those of `kubernetes/autoscaler:cluster-autoscaler/config/flags/flags.go`
//! (2025 layout; see also `cluster-autoscaler/config/const.go` and `cluster-autoscaler/FAQ.md`).
//! Durations are in seconds.

pub mod controller;
pub mod devices;
pub mod estimator;
pub mod expander;

/// `--scan-interval` (`DefaultScanInterval`): 10 s.
pub const SCAN_INTERVAL_SECS: u64 = 10;
/// `--scale-down-delay-after-add`: 10 min.
pub const SCALE_DOWN_DELAY_AFTER_ADD_SECS: u64 = 10 * 60;
/// `--scale-down-unneeded-time`: 10 min.
pub const SCALE_DOWN_UNNEEDED_TIME_SECS: u64 = 10 * 60;
/// `--scale-down-utilization-threshold`: 0.5, compared with
/// max(Σcpu requests / allocatable, Σmemory requests / allocatable) of a node.
pub const SCALE_DOWN_UTILIZATION_THRESHOLD: f64 = 0.5;
/// `--scale-down-gpu-utilization-threshold`: 0.5, compared on nodes with GPUs with Σgpu
/// requests / allocatable alone (`simulator/utilization/info.go`).
pub const SCALE_DOWN_GPU_UTILIZATION_THRESHOLD: f64 = 0.5;
/// `--max-node-provision-time`: 15 min.
pub const MAX_NODE_PROVISION_TIME_SECS: u64 = 15 * 60;
/// `--max-empty-bulk-delete`: up to 10 empty nodes deleted at once.
pub const MAX_EMPTY_BULK_DELETE: u32 = 10;
/// `--scale-down-unready-time`: 20 min.
pub const SCALE_DOWN_UNREADY_TIME_SECS: u64 = 20 * 60;
/// `--max-total-unready-percentage`: 45 %; CA stops acting above this.
pub const MAX_TOTAL_UNREADY_PERCENTAGE: f64 = 45.0;
/// `--ok-total-unready-count`: 3 unready nodes are always tolerated.
pub const OK_TOTAL_UNREADY_COUNT: u32 = 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_flags_go() {
        assert_eq!(SCAN_INTERVAL_SECS, 10);
        assert_eq!(SCALE_DOWN_DELAY_AFTER_ADD_SECS, 600);
        assert_eq!(SCALE_DOWN_UNNEEDED_TIME_SECS, 600);
        assert_eq!(SCALE_DOWN_UTILIZATION_THRESHOLD, 0.5);
        assert_eq!(SCALE_DOWN_GPU_UTILIZATION_THRESHOLD, 0.5);
        assert_eq!(MAX_NODE_PROVISION_TIME_SECS, 900);
        assert_eq!(MAX_EMPTY_BULK_DELETE, 10);
        assert_eq!(SCALE_DOWN_UNREADY_TIME_SECS, 1200);
        assert_eq!(MAX_TOTAL_UNREADY_PERCENTAGE, 45.0);
        assert_eq!(OK_TOTAL_UNREADY_COUNT, 3);
    }
}
