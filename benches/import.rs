//! `clustersim import` of a large dump (issue #15 target: 5,000 nodes and 2,000 Deployments
//! in under 2 s): a `kind: List` with the noise `kubectl get -o yaml` prints (managedFields,
//! annotations, status), written to a temporary file once, then imported per iteration.

use clustersim::import;
use criterion::{Criterion, criterion_group, criterion_main};
use std::fmt::Write;

/// 5,000 nodes of three shapes over three zones and 2,000 Deployments in 20 namespaces.
fn dump() -> String {
    let zones = ["us-east-1a", "us-east-1b", "us-east-1c"];
    let shapes = [
        ("m5.xlarge", "3920m", "15147132Ki"),
        ("m5.2xlarge", "7910m", "31391920Ki"),
        ("c5.4xlarge", "15890m", "31391920Ki"),
    ];
    let mut s = String::from("apiVersion: v1\nkind: List\nitems:\n");
    for i in 0..5000 {
        let (t, cpu, mem) = shapes[i % 3];
        let zone = zones[(i / 3) % 3];
        let _ = write!(
            s,
            "- apiVersion: v1\n  kind: Node\n  metadata:\n    name: node-{i}\n    labels: {{kubernetes.io/hostname: node-{i}, node.kubernetes.io/instance-type: {t}, topology.kubernetes.io/zone: {zone}}}\n    annotations: {{node.alpha.kubernetes.io/ttl: \"0\"}}\n    managedFields:\n    - {{apiVersion: v1, manager: kubelet, operation: Update}}\n  status:\n    allocatable: {{cpu: {cpu}, memory: {mem}, pods: \"58\", ephemeral-storage: \"95551679124\"}}\n    conditions: [{{type: Ready, status: \"True\"}}]\n"
        );
    }
    for d in 0..2000 {
        let _ = write!(
            s,
            "- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {{name: svc-{d}, namespace: ns-{}}}\n  spec:\n    replicas: {}\n    selector: {{matchLabels: {{app: svc-{d}}}}}\n    template:\n      metadata: {{labels: {{app: svc-{d}}}}}\n      spec:\n        containers:\n        - name: app\n          image: registry/svc:{d}\n          resources: {{requests: {{cpu: {}m, memory: {}Mi}}, limits: {{memory: 1Gi}}}}\n",
            d % 20,
            1 + d % 7,
            50 + d % 400,
            64 + d % 512
        );
    }
    s
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("cluster.yaml");
    std::fs::write(&path, dump()).expect("dump written");
    let inputs = [path];
    let mut g = c.benchmark_group("import");
    g.sample_size(10);
    g.bench_function("5000-nodes-2000-deployments", |b| {
        b.iter(|| import::import(&inputs, &import::Options::default()).expect("imports").yaml.len())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench
}
criterion_main!(benches);
