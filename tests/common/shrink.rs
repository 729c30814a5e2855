//! The shipped scenarios and the overrides that keep each run to a fraction of a second:
//! `tests/determinism.rs` runs each twice, `tests/parallel.rs` on one and two threads.
//! Every top-level `scenarios/*.yaml` must be listed (`every_scenario_is_in_the_table`).

#![allow(dead_code)]

/// Overrides per scenario file that keep each run to a fraction of a second.
pub const SHRINK: &[(&str, &[&str])] = &[
    ("quickstart.yaml", &[]),
    (
        "density-5k.yaml",
        &["--set", "nodePools.0.count=200", "--set", "deployments.0.replicas=3000", "--duration", "300s"],
    ),
    ("density-5k-spread.yaml", &["--set", "nodePools.0.count=300", "--duration", "300s"]),
    ("churn-1day.yaml", &["--set", "nodePools.0.count=50", "--duration", "3h"]),
    ("web-service.yaml", &["--duration", "90m"]),
    ("trace-replay-genai.yaml", &["--duration", "3d"]),
    // The trace's last 10 days (≈ 3,000 of its 8,152 pods; its first weeks are sparse).
    ("trace-replay-pods.yaml", &["--set", "podTraces.0.window={from: 139d}", "--duration", "11d"]),
    ("tests/fixtures/alibaba-gpu-mini/scenario.yaml", &[]),
    // The FGD protocol up to 20 % of the GPUs (≈ 1,700 pods instead of 10,780).
    ("gpu-sharing-fgd.yaml", &["--set", "podTraces.0.inflation.gpuPercent=20", "--duration", "1h"]),
    ("tests/fixtures/alibaba-gpu-mini/fgd.yaml", &[]),
    ("node-failure.yaml", &["--set", "deployments.0.service.load.poisson.rate=100", "--duration", "20m"]),
    ("zone-outage.yaml", &["--set", "deployments.0.service.load.poisson.rate=100", "--duration", "30m"]),
    ("zone-spread.yaml", &["--duration", "40m"]),
    ("hpa-spike.yaml", &[]),
    ("autoscale-diurnal.yaml", &["--duration", "5h"]),
    ("sweep-capacity.yaml", &["--duration", "2h"]),
    // The capacity plan's scenario (scenarios/plans/ is not scanned; listed here to be covered).
    ("scenarios/plans/web-zones.yaml", &["--duration", "1h"]),
    ("cl2-density.yaml", &[]),
    (
        "gke-65k.yaml",
        &[
            "--set",
            "nodePools.0.count=650",
            "--set",
            "deployments.0.replicas=650",
            "--set",
            "sampleInterval=1s",
            "--set",
            "deployments.0.scale=[{at: 15m, replicas: 0}, {at: 15m, replicas: 500}, {at: 60m, replicas: 0}]",
            "--set",
            "deployments.1.scale=[{at: 15m, replicas: 150}, {at: 30m, replicas: 650}, {at: 45m, replicas: 150}]",
        ],
    ),
    (
        "scheduler-perf-basic-10k.yaml",
        &[
            "--set",
            "nodePools.0.count=200",
            "--set",
            "deployments.0.replicas=100",
            "--set",
            "deployments.1.replicas=3000",
            "--duration",
            "15s",
        ],
    ),
    (
        "scheduler-perf-basic-50k.yaml",
        &[
            "--set",
            "nodePools.0.count=200",
            "--set",
            "deployments.0.replicas=500",
            "--set",
            "deployments.1.replicas=3000",
            "--duration",
            "15s",
        ],
    ),
    (
        "scheduler-perf-unschedulable-10k.yaml",
        &[
            "--set",
            "nodePools.0.count=200",
            "--set",
            "deployments.0.replicas=10",
            "--set",
            "deployments.1.replicas=3000",
            "--duration",
            "15s",
        ],
    ),
    (
        "density-100k.yaml",
        &[
            "--set",
            "nodePools.0.count=100",
            "--set",
            "deployments.0.replicas=3000",
            "--set",
            "sampleInterval=10s",
            "--duration",
            "330s",
        ],
    ),
];
