//! Upstream HorizontalPodAutoscaler algorithm as pure functions (no simulation wiring, no I/O).
//!
//! * [`calculator`]: replica proposals per metric, ported from
//!   `kubernetes/kubernetes:pkg/controller/podautoscaler/replica_calculator.go` and
//!   `pkg/controller/podautoscaler/metrics/utilization.go`.
//! * [`normalize`]: the legacy (`behavior == nil`) and behaviour-based normalisation of a raw
//!   recommendation, ported from `pkg/controller/podautoscaler/horizontal.go`.
//!
//! Time conventions: instants are `u64` nanoseconds since the simulation epoch; controller
//! durations are `u64` nanoseconds (`*_NS` consts); API fields that upstream stores as
//! seconds (`stabilizationWindowSeconds`, `periodSeconds`) stay `i32` seconds.

pub mod calculator;
pub mod controller;
pub mod normalize;

/// The sync period as a simulation duration.
pub fn sync_period() -> crate::engine::SimDuration {
    crate::engine::SimDuration::from_nanos(DEFAULT_SYNC_PERIOD_NS)
}

/// Nanoseconds per second.
pub const NANOS_PER_SEC: u64 = 1_000_000_000;

// Controller defaults: `pkg/controller/podautoscaler/config/v1alpha1/defaults.go`.

/// `--horizontal-pod-autoscaler-sync-period` (15 s).
pub const DEFAULT_SYNC_PERIOD_NS: u64 = 15 * NANOS_PER_SEC;
/// `--horizontal-pod-autoscaler-tolerance` (0.1).
pub const DEFAULT_TOLERANCE: f64 = 0.1;
/// `--horizontal-pod-autoscaler-downscale-stabilization` (5 min).
pub const DEFAULT_DOWNSCALE_STABILIZATION_WINDOW_NS: u64 = 5 * 60 * NANOS_PER_SEC;
/// `--horizontal-pod-autoscaler-cpu-initialization-period` (5 min).
pub const DEFAULT_CPU_INITIALIZATION_PERIOD_NS: u64 = 5 * 60 * NANOS_PER_SEC;
/// `--horizontal-pod-autoscaler-initial-readiness-delay` (30 s).
pub const DEFAULT_INITIAL_READINESS_DELAY_NS: u64 = 30 * NANOS_PER_SEC;
/// `--concurrent-horizontal-pod-autoscaler-syncs` (5 workers).
pub const DEFAULT_CONCURRENT_SYNCS: u32 = 5;

// API defaults: `pkg/apis/autoscaling/v2/defaults.go`.

/// `autoscaling.DefaultCPUUtilization`: CPU `AverageUtilization` target if no metric is given (80 %).
pub const DEFAULT_CPU_UTILIZATION: i32 = 80;
/// `spec.minReplicas` if unset.
pub const DEFAULT_MIN_REPLICAS: i32 = 1;

// Constants of the upstream unit tests (`replica_calculator.go`).

/// `defaultTestingTolerance`.
pub const TESTING_TOLERANCE: f64 = 0.1;
/// `defaultTestingCPUInitializationPeriod` (2 min).
pub const TESTING_CPU_INITIALIZATION_PERIOD_NS: u64 = 2 * 60 * NANOS_PER_SEC;
/// `defaultTestingDelayOfInitialReadinessStatus` (10 s).
pub const TESTING_DELAY_OF_INITIAL_READINESS_NS: u64 = 10 * NANOS_PER_SEC;
