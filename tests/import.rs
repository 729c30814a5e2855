//! `clustersim import`: Kubernetes objects into a scenario that validates and runs. Each
//! kind and field, the grouping of nodes into pools, effective requests with init
//! containers, the unmodelled summary, and every kind of bad input (exit 2, with the file,
//! the document and the field).

mod common;
use clustersim::scenario::{self, Scenario};
use common::*;
use std::path::Path;

/// Imports `files` (name, text) written into a temporary folder; returns the outcome and
/// the folder.
fn import(files: &[(&str, &str)], args: &[&str]) -> (Outcome, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write input");
    }
    let mut all = vec!["import"];
    all.extend_from_slice(args);
    (run_in(dir.path(), &all), dir)
}

/// Imports one file and parses the scenario (which must validate).
fn imported(text: &str) -> (Scenario, Outcome) {
    let (o, _dir) = import(&[("in.yaml", text)], &["in.yaml"]);
    assert_eq!(o.code, 0, "import failed:\n{}", o.stderr);
    let s = scenario::parse_str(&o.stdout, Path::new("out.yaml")).expect("the scenario parses");
    scenario::validate::validate(&s).expect("the scenario validates");
    (s, o)
}

fn node(name: &str, zone: Option<&str>, cpu: &str, extra: &str) -> String {
    let zone = zone.map(|z| format!("\n    topology.kubernetes.io/zone: {z}")).unwrap_or_default();
    format!(
        "---
apiVersion: v1
kind: Node
metadata:
  name: {name}
  labels:
    kubernetes.io/hostname: {name}
    node.kubernetes.io/instance-type: m5.large{zone}
  managedFields: [{{manager: kubelet, operation: Update}}]
status:
  allocatable: {{cpu: \"{cpu}\", memory: 7Gi, pods: \"29\", ephemeral-storage: 20Gi}}
{extra}"
    )
}

#[test]
fn example_is_reproduced_and_runs() {
    let o = run_in(&repo(), &["import", "--keep-placement", "scenarios/import-example/cluster.yaml"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let committed =
        std::fs::read_to_string(repo().join("scenarios/import-example/scenario.yaml")).expect("read");
    assert_eq!(o.stdout, committed, "scenarios/import-example/scenario.yaml is not what import writes");
    // Round trip: the generated scenario runs.
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("imported.yaml");
    let o = run_in(
        &repo(),
        &[
            "import",
            "--keep-placement",
            "scenarios/import-example/cluster.yaml",
            "--out",
            file.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.is_empty(), "with --out nothing goes to stdout");
    let out = dir.path().join("out");
    let r = run_in(
        dir.path(),
        &[
            "run",
            "imported.yaml",
            "--duration",
            "2m",
            "--no-charts",
            "--quiet",
            "--out",
            out.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let sum = summary(&out);
    assert_eq!(num(&sum, "nodes"), 12.0);
    // 17 Deployment and StatefulSet pods, 12 + 10 + 2 DaemonSet pods, 2 initial pods.
    assert_eq!(num(&sum, "pods_running_end"), 43.0);
}

#[test]
fn identical_nodes_in_even_zones_are_one_pool() {
    let zones = ["a", "b", "c"];
    let text: String = (0..6).map(|i| node(&format!("n{i}"), Some(zones[i % 3]), "1930m", "")).collect();
    let (s, _) = imported(&text);
    assert_eq!(s.node_pools.len(), 1);
    let p = &s.node_pools[0];
    assert_eq!(p.count, 6);
    assert_eq!(p.zones, vec!["a", "b", "c"]);
    assert_eq!(p.allocatable.cpu.0, 1930);
    assert_eq!(p.allocatable.memory.0, 7 << 30);
    assert_eq!(p.allocatable.pods.0, 29);
    assert_eq!(p.name, "m5-large");
    assert!(!p.labels.contains_key("kubernetes.io/hostname"));
    assert!(!p.labels.contains_key("topology.kubernetes.io/zone"));
    assert_eq!(p.labels.get("node.kubernetes.io/instance-type").map(String::as_str), Some("m5.large"));
}

#[test]
fn uneven_zones_give_one_pool_per_zone() {
    let text: String = ["a", "a", "a", "b"]
        .iter()
        .enumerate()
        .map(|(i, z)| node(&format!("n{i}"), Some(z), "2", ""))
        .collect();
    let (s, o) = imported(&text);
    let pools: Vec<(String, u32, Vec<String>)> =
        s.node_pools.iter().map(|p| (p.name.clone(), p.count, p.zones.clone())).collect();
    assert_eq!(
        pools,
        vec![
            ("m5-large-a".to_string(), 3, vec!["a".to_string()]),
            ("m5-large-b".to_string(), 1, vec!["b".to_string()])
        ]
    );
    assert!(o.stderr.contains("unevenly over zones"), "{}", o.stderr);
}

#[test]
fn shapes_taints_gpus_and_cordons_split_pools() {
    let taint = "spec:\n  taints:\n  - {key: dedicated, value: db, effect: NoSchedule}\n  - {key: node.kubernetes.io/not-ready, effect: NoExecute}\n";
    let gpu = "  capacity: {cpu: \"8\"}\n";
    let mut text = node("plain", None, "2", "");
    text += &node("bigger", None, "4", "");
    text += &node("tainted", None, "2", taint);
    text += &node("cordoned", None, "2", "spec:\n  unschedulable: true\n");
    text += &node("gpu", None, "2", gpu).replace("ephemeral-storage: 20Gi", "nvidia.com/gpu: \"2\"");
    let (s, o) = imported(&text);
    assert_eq!(s.node_pools.len(), 5, "{}", o.stdout);
    let by = |n: &str| {
        s.node_pools.iter().find(|p| p.name == n).unwrap_or_else(|| panic!("no pool {n}:\n{}", o.stdout))
    };
    assert_eq!(by("m5-large").count, 1);
    assert!(by("m5-large").zones == vec!["zone-a"], "no zone label: the default zone");
    assert_eq!(by("m5-large-2").allocatable.cpu.0, 4000);
    let t = by("m5-large-3");
    assert_eq!(t.taints.len(), 1, "transient taints are left out");
    assert_eq!(t.taints[0].key, "dedicated");
    assert!(by("m5-large-cordoned").unschedulable);
    assert_eq!(by("m5-large-4").allocatable.gpu.0, 2);
    assert!(o.stderr.contains("transient taint node.kubernetes.io/not-ready"), "{}", o.stderr);
}

#[test]
fn five_thousand_identical_nodes_are_one_pool() {
    let items: Vec<String> = (0..5000)
        .map(|i| {
            format!(
                "{{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{{\"name\":\"n{i}\",\"labels\":{{\"kubernetes.io/hostname\":\"n{i}\",\"topology.kubernetes.io/zone\":\"z{}\"}}}},\"status\":{{\"allocatable\":{{\"cpu\":\"4\",\"memory\":\"16Gi\",\"pods\":\"110\"}}}}}}",
                i % 4
            )
        })
        .collect();
    let text = format!("{{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{}]}}", items.join(","));
    let (o, _d) = import(&[("nodes.json", &text)], &["nodes.json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let s = scenario::parse_str(&o.stdout, Path::new("x.yaml")).expect("parses");
    assert_eq!(s.node_pools.len(), 1);
    assert_eq!(s.node_pools[0].count, 5000);
    assert_eq!(s.node_pools[0].zones, vec!["z0", "z1", "z2", "z3"]);
    assert!(o.stdout.contains("… (5000 nodes)"), "the comment names a few nodes and the count");
}

const POOL: &str = "apiVersion: v1
kind: Node
metadata: {name: n0, labels: {topology.kubernetes.io/zone: a, disk: ssd}}
status: {allocatable: {cpu: \"16\", memory: 64Gi, pods: \"110\", nvidia.com/gpu: \"4\"}}
";

#[test]
fn deployment_fields_are_mapped() {
    let text = format!(
        "{POOL}---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {{name: high}}
value: 1000
preemptionPolicy: Never
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop, annotations: {{a: b}}}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: web}}}}
  strategy: {{type: Recreate}}
  template:
    metadata: {{labels: {{app: web, tier: fe}}}}
    spec:
      nodeSelector: {{disk: ssd, kubernetes.io/hostname: n0}}
      affinity:
        nodeAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 10
            preference: {{matchExpressions: [{{key: disk, operator: In, values: [ssd]}}]}}
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {{matchLabels: {{app: web}}}}
            topologyKey: kubernetes.io/hostname
      tolerations:
      - {{key: dedicated, operator: Exists, effect: NoSchedule}}
      topologySpreadConstraints:
      - {{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway, labelSelector: {{matchLabels: {{app: web}}}}}}
      priorityClassName: high
      terminationGracePeriodSeconds: 10
      volumes: [{{name: x, emptyDir: {{}}}}]
      containers:
      - name: web
        image: nginx
        resources: {{requests: {{cpu: 500m, memory: 1Gi, ephemeral-storage: 1Gi}}, limits: {{nvidia.com/gpu: 1}}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: bare}}
spec:
  selector: {{matchLabels: {{app: bare}}}}
  template:
    metadata: {{labels: {{app: bare}}}}
    spec: {{containers: [{{name: c}}]}}
"
    );
    let (s, o) = imported(&text);
    assert_eq!(s.priority_classes.len(), 1);
    assert_eq!(s.priority_classes[0].value, 1000);
    assert_eq!(
        s.priority_classes[0].preemption_policy,
        clustersim::scenario::schema::PreemptionPolicySpec::Never
    );
    let d = &s.deployments[0];
    assert_eq!((d.name.as_str(), d.namespace.as_str(), d.replicas), ("web", "shop", 3));
    assert!(
        d.selector.as_ref().is_some_and(|x| x.match_labels.get("app").map(String::as_str) == Some("web"))
    );
    let t = &d.template;
    assert_eq!(t.labels.len(), 2);
    assert_eq!(t.requests.cpu.map(|c| c.0), Some(500));
    assert_eq!(t.requests.memory.map(|m| m.0), Some(1 << 30));
    assert_eq!(t.requests.gpu.map(|g| g.0), Some(1), "a limit without a request is the request");
    assert_eq!(t.node_selector.len(), 1, "kubernetes.io/hostname is left out");
    assert_eq!(t.node_selector.get("disk").map(String::as_str), Some("ssd"));
    let na = t.affinity.node_affinity.as_ref().expect("node affinity");
    assert_eq!(na.preferred_during_scheduling_ignored_during_execution.len(), 1);
    assert!(t.affinity.pod_anti_affinity.is_some());
    assert_eq!(t.tolerations.len(), 1);
    assert_eq!(t.topology_spread_constraints.len(), 1);
    assert_eq!(t.priority_class_name.as_deref(), Some("high"));
    assert_eq!(t.termination_grace_period_seconds, 10);
    let bare = &s.deployments[1];
    assert_eq!((bare.replicas, bare.namespace.as_str()), (1, "default"), "upstream defaults");
    assert!(bare.template.requests.cpu.is_none());
    assert!(o.stdout.contains("# Deployment shop/web"), "{}", o.stdout);
    for field in [
        "Deployment.spec.strategy",
        "Deployment.spec.template.spec.volumes",
        "Deployment.spec.template.spec.containers[].resources.requests.ephemeral-storage",
        "Deployment.spec.template.spec.containers[].image",
        "Deployment.spec.template.spec.nodeSelector.kubernetes.io/hostname",
    ] {
        assert!(o.stderr.contains(field), "{field} missing from the summary:\n{}", o.stderr);
    }
}

#[test]
fn statefulsets_and_replicasets() {
    let text = format!(
        "{POOL}---
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db, namespace: data}}
spec:
  replicas: 2
  serviceName: db
  selector: {{matchLabels: {{app: db}}}}
  template:
    metadata: {{labels: {{app: db}}}}
    spec: {{containers: [{{name: c, resources: {{requests: {{cpu: 1}}}}}}]}}
  volumeClaimTemplates: [{{metadata: {{name: d}}}}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {{name: lone}}
spec:
  replicas: 4
  selector: {{matchLabels: {{app: lone}}}}
  template:
    metadata: {{labels: {{app: lone}}}}
    spec: {{containers: [{{name: c}}]}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {{name: owned-abc, ownerReferences: [{{kind: Deployment, name: owned}}]}}
spec:
  replicas: 4
  selector: {{matchLabels: {{app: owned}}}}
  template:
    metadata: {{labels: {{app: owned}}}}
    spec: {{containers: [{{name: c}}]}}
"
    );
    let (s, o) = imported(&text);
    let names: Vec<(&str, u32)> = s.deployments.iter().map(|d| (d.name.as_str(), d.replicas)).collect();
    assert_eq!(names, vec![("db", 2), ("lone", 4)]);
    assert!(o.stdout.contains("# StatefulSet data/db") && o.stdout.contains("# ReplicaSet default/lone"));
    assert!(o.stderr.contains("ReplicaSet (owned by a Deployment) ×1"), "{}", o.stderr);
    assert!(o.stderr.contains("StatefulSet.spec.volumeClaimTemplates"), "{}", o.stderr);
}

/// One Deployment with these containers and init containers; its effective requests.
fn effective(containers: &str, inits: &str) -> (Option<i64>, Option<i64>) {
    let text = format!(
        "{POOL}---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: w}}
spec:
  selector: {{matchLabels: {{app: w}}}}
  template:
    metadata: {{labels: {{app: w}}}}
    spec:
      containers: {containers}
      initContainers: {inits}
"
    );
    let (s, _) = imported(&text);
    let r = &s.deployments[0].template.requests;
    (r.cpu.map(|c| c.0), r.memory.map(|m| m.0))
}

#[test]
fn init_containers_effective_requests() {
    let two = "[{name: a, resources: {requests: {cpu: 200m, memory: 100Mi}}}, {name: b, resources: {requests: {cpu: 300m}}}]";
    // Plain init containers: per resource max(sum of containers, largest init container).
    let big_init = "[{name: i, resources: {requests: {cpu: \"1\", memory: 50Mi}}}, {name: j, resources: {requests: {memory: 80Mi}}}]";
    assert_eq!(effective(two, big_init), (Some(1000), Some(100 << 20)));
    let small_init = "[{name: i, resources: {requests: {cpu: 100m, memory: 300Mi}}}]";
    assert_eq!(effective(two, small_init), (Some(500), Some(300 << 20)));
    // A sidecar (restartPolicy: Always) counts in the sum, and runs beside later init containers.
    let sidecar = "[{name: s, restartPolicy: Always, resources: {requests: {cpu: 100m, memory: 10Mi}}}, {name: i, resources: {requests: {cpu: 550m}}}]";
    assert_eq!(effective(two, sidecar), (Some(650), Some(110 << 20)));
    assert_eq!(effective(two, "[]"), (Some(500), Some(100 << 20)));
}

#[test]
fn hpas_pdbs_and_priority_classes() {
    let dep = |n: &str| {
        format!(
            "---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {n}}}
spec:
  replicas: 4
  selector: {{matchLabels: {{app: {n}}}}}
  template:
    metadata: {{labels: {{app: {n}}}}}
    spec: {{containers: [{{name: c, resources: {{requests: {{cpu: 100m}}}}}}], priorityClassName: system-node-critical}}
"
        )
    };
    let text = format!(
        "{POOL}{}{}---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {{name: a-pdb}}
spec: {{minAvailable: 3, selector: {{matchLabels: {{app: a}}}}}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {{name: b-pdb}}
spec: {{minAvailable: 50%, selector: {{matchLabels: {{app: b}}}}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: a}}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: a}}
  minReplicas: 2
  maxReplicas: 9
  metrics: [{{type: Resource, resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 60}}}}}}]
  behavior: {{scaleDown: {{stabilizationWindowSeconds: 60, policies: [{{type: Pods, value: 1, periodSeconds: 30}}]}}}}
---
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {{name: b}}
spec:
  scaleTargetRef: {{kind: Deployment, name: b}}
  maxReplicas: 7
  targetCPUUtilizationPercentage: 40
",
        dep("a"),
        dep("b")
    );
    let (s, o) = imported(&text);
    assert_eq!(s.deployments[0].min_available, Some(3));
    assert_eq!(s.deployments[1].min_available, None);
    assert!(o.stdout.contains("minAvailable: 3  # PodDisruptionBudget default/a-pdb"), "{}", o.stdout);
    assert!(o.stderr.contains("PodDisruptionBudget.spec.minAvailable (a percentage)"), "{}", o.stderr);
    // A system class is above the user range: its value becomes the pods' priority.
    assert_eq!(s.deployments[0].template.priority, 2_000_001_000);
    assert!(s.deployments[0].template.priority_class_name.is_none());
    // HPAs are written commented out (they need a service); uncommented they parse.
    assert!(s.horizontal_pod_autoscalers.is_empty());
    let hpa: String = o
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("# horizontalPodAutoscalers:"))
        .map(|l| l.strip_prefix("# ").unwrap_or(l).to_string() + "\n")
        .collect();
    for want in [
        "name: \"a\"",
        "minReplicas: 2",
        "maxReplicas: 9",
        "targetCpuUtilization: 60",
        "stabilizationWindowSeconds",
        "name: \"b\"",
        "targetCpuUtilization: 40",
    ] {
        assert!(hpa.contains(want), "{want} not in\n{hpa}");
    }
    let with_hpa = o
        .stdout
        .lines()
        .filter(|l| !l.starts_with("# horizontalPodAutoscalers"))
        .collect::<Vec<_>>()
        .join("\n");
    let full = format!("{with_hpa}\n{hpa}");
    let parsed = scenario::parse_str(&full, Path::new("x.yaml")).expect("uncommented HPAs parse");
    assert_eq!(parsed.horizontal_pod_autoscalers.len(), 2);
    assert_eq!(parsed.horizontal_pod_autoscalers[0].min_replicas, 2);
    assert!(parsed.horizontal_pod_autoscalers[0].behavior.is_some());
}

#[test]
fn unmodelled_objects_are_summarised() {
    let text = format!(
        "{POOL}---
apiVersion: v1
kind: Service
metadata: {{name: s}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: c}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: d}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {{name: cj}}
---
apiVersion: v1
kind: Pod
metadata: {{name: p}}
"
    );
    let (_, o) = imported(&text);
    assert!(
        o.stderr
            .contains("not modelled (objects by kind): ConfigMap ×2, CronJob ×1, Pod (bare) ×1, Service ×1"),
        "{}",
        o.stderr
    );
    assert_eq!(o.stderr.matches("import summary").count(), 1);
}

#[test]
fn folders_json_and_prices() {
    let a = "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"x\",\"labels\":{\"node.kubernetes.io/instance-type\":\"m5.large\"}},\"status\":{\"allocatable\":{\"cpu\":2,\"memory\":\"8Gi\"}}}";
    let b = "apiVersion: v1\nkind: Node\nmetadata: {name: y, labels: {node.kubernetes.io/instance-type: c5.large}}\nstatus: {allocatable: {cpu: 2, memory: 4Gi}}\n";
    let files = [
        ("dump/b.yml", b),
        ("dump/a.json", a),
        ("dump/notes.txt", "not read"),
        ("prices.yaml", "m5.large: 0.096\n"),
        ("prices.csv", "instanceType,pricePerHour\nm5.large,0.1\nc5.large,0.085\n"),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("dump")).expect("mkdir");
    for (n, t) in files {
        std::fs::write(dir.path().join(n), t).expect("write");
    }
    let o = run_in(dir.path(), &["import", "dump", "--prices", "prices.yaml"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let s = scenario::parse_str(&o.stdout, Path::new("x.yaml")).expect("parses");
    let pools: Vec<(&str, f64)> = s.node_pools.iter().map(|p| (p.name.as_str(), p.price_per_hour)).collect();
    assert_eq!(pools, vec![("m5-large", 0.096), ("c5-large", 0.0)], "a.json before b.yml");
    assert!(
        o.stderr.contains("no price for this instance type in --prices (pricePerHour 0): c5.large"),
        "{}",
        o.stderr
    );
    let o = run_in(dir.path(), &["import", "dump", "--prices", "prices.csv", "--out", "s.yaml"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let s = scenario::parse_str(
        &std::fs::read_to_string(dir.path().join("s.yaml")).expect("out"),
        Path::new("s.yaml"),
    )
    .expect("parses");
    assert_eq!(s.node_pools[1].price_per_hour, 0.085);
}

#[test]
fn bad_input_exits_2_naming_file_document_and_field() {
    let dep = |api: &str| {
        format!("apiVersion: {api}\nkind: Deployment\nmetadata: {{name: w}}\nspec: {{template: {{}}}}\n")
    };
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "no apiVersion",
            format!("{POOL}---\nkind: Node\nmetadata: {{name: x}}\n"),
            vec!["document 1 (line 6)", "apiVersion: missing"],
        ),
        (
            "no kind",
            format!("{POOL}---\napiVersion: v1\nmetadata: {{name: x}}\n"),
            vec!["document 1", "kind: missing"],
        ),
        (
            "unknown apiVersion",
            format!("{POOL}---\n{}", dep("apps/v1beta1")),
            vec!["document 1", "Deployment default/w", "apiVersion", "apps/v1beta1", "apps/v1"],
        ),
        (
            "bad node quantity",
            POOL.replace("cpu: \"16\"", "cpu: 16 cores"),
            vec!["document 0", "Node n0", "status.allocatable.cpu", "invalid quantity"],
        ),
        (
            "bad request quantity",
            format!(
                "{POOL}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: w}}\nspec:\n  template:\n    spec: {{containers: [{{name: c, resources: {{requests: {{memory: 1GB}}}}}}]}}\n"
            ),
            vec!["document 1", "spec.template.spec.containers[0].resources.requests.memory", "\"1GB\""],
        ),
        (
            "unparsable YAML",
            format!("{POOL}---\napiVersion: v1\nkind: [Node\n"),
            vec!["in.yaml:7", "document 1", "cannot parse the YAML"],
        ),
        (
            "pods that fit no node",
            format!(
                "{POOL}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: w}}\nspec:\n  template:\n    spec: {{containers: [{{name: c, resources: {{requests: {{cpu: 32}}}}}}]}}\n"
            ),
            vec!["document 1 (line 6)", "Deployment default/w", "effective requests (cpu 32,"],
        ),
        ("not an object", "- a\n- b\n".to_string(), vec!["document 0", "expected a Kubernetes object"]),
        (
            "bad list item",
            "apiVersion: v1\nkind: List\nitems:\n- {kind: Node}\n".to_string(),
            vec!["document 0 (line 1), items[0]", "apiVersion: missing"],
        ),
    ];
    for (name, text, want) in cases {
        let (o, _d) = import(&[("in.yaml", &text)], &["in.yaml"]);
        assert_eq!(o.code, 2, "{name}: expected exit 2, got {}:\n{}", o.code, o.stderr);
        assert!(!o.stderr.contains("panicked"), "{name}: {}", o.stderr);
        assert!(o.stderr.contains("in.yaml"), "{name}: the file is not named:\n{}", o.stderr);
        for w in want {
            assert!(o.stderr.contains(w), "{name}: {w:?} not in:\n{}", o.stderr);
        }
    }
    let (o, _d) = import(&[("in.json", "{\"apiVersion\": \"v1\",\n \"kind\": }")], &["in.json"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("in.json:2:") && o.stderr.contains("document 0"), "{}", o.stderr);
    let (o, _d) = import(&[], &["missing.yaml"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("missing.yaml"), "{}", o.stderr);
    let (o, _d) = import(
        &[("in.yaml", POOL), ("p.csv", "instanceType,pricePerHour\nm5,abc\n")],
        &["in.yaml", "--prices", "p.csv"],
    );
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("p.csv: line 2: pricePerHour"), "{}", o.stderr);
}

#[test]
fn constraints_on_pods_or_labels_not_imported_are_left_out() {
    let text = format!(
        "{POOL}---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: w}}
spec:
  selector: {{matchLabels: {{app: w}}}}
  template:
    metadata: {{labels: {{app: w}}}}
    spec:
      containers: [{{name: c}}]
      topologySpreadConstraints:
      - {{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {{matchLabels: {{app: w}}}}}}
      - {{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {{matchLabels: {{app: log-agent}}}}}}
      affinity:
        podAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - {{labelSelector: {{matchLabels: {{app: cache}}}}, topologyKey: kubernetes.io/hostname}}
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - {{weight: 5, podAffinityTerm: {{labelSelector: {{matchLabels: {{app: w}}}}, topologyKey: kubernetes.io/hostname}}}}
          - {{weight: 5, podAffinityTerm: {{labelSelector: {{matchLabels: {{app: w}}}}, topologyKey: example.com/rack}}}}
"
    );
    let (s, o) = imported(&text);
    let t = &s.deployments[0].template;
    assert_eq!(t.topology_spread_constraints.len(), 1);
    assert!(t.affinity.pod_affinity.is_none(), "{}", o.stdout);
    let anti = t.affinity.pod_anti_affinity.as_ref().expect("anti-affinity kept");
    assert_eq!(anti.preferred_during_scheduling_ignored_during_execution.len(), 1);
    assert!(o.stderr.contains("topologySpreadConstraints left out"), "{}", o.stderr);
    assert!(o.stderr.contains("pod (anti-)affinity terms left out"), "{}", o.stderr);
}

#[test]
fn daemon_sets_are_imported_like_deployments() {
    let text = format!(
        "{POOL}---
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: agent, namespace: kube-system}}
spec:
  selector: {{matchLabels: {{app: agent}}}}
  updateStrategy: {{type: RollingUpdate}}
  template:
    metadata: {{labels: {{app: agent}}}}
    spec:
      priorityClassName: system-node-critical
      nodeSelector: {{disk: ssd}}
      tolerations: [{{operator: Exists}}]
      hostNetwork: true
      initContainers: [{{name: init, resources: {{requests: {{cpu: 1}}}}}}]
      containers:
      - {{name: a, resources: {{requests: {{cpu: 100m}}, limits: {{memory: 200Mi}}}}}}
      - {{name: b, resources: {{requests: {{cpu: 50m, memory: 50Mi}}}}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: agent, namespace: monitoring}}
spec:
  template:
    spec: {{containers: [{{name: c}}]}}
"
    );
    let (s, o) = imported(&text);
    assert!(s.deployments.is_empty());
    let names: Vec<(&str, &str)> =
        s.daemon_sets.iter().map(|d| (d.name.as_str(), d.namespace.as_str())).collect();
    assert_eq!(names, vec![("agent", "kube-system"), ("agent-monitoring", "monitoring")]);
    let t = &s.daemon_sets[0].template;
    assert_eq!(t.labels.get("app").map(String::as_str), Some("agent"));
    // Requests as for Deployments: max(100m + 50m, the 1-CPU init container); a memory
    // limit without a request is the request.
    assert_eq!(t.requests.cpu.map(|c| c.0), Some(1000));
    assert_eq!(t.requests.memory.map(|m| m.0), Some(250 << 20));
    assert_eq!(t.node_selector.get("disk").map(String::as_str), Some("ssd"));
    assert_eq!(t.tolerations.len(), 1);
    assert_eq!(t.priority, 2_000_001_000, "a system class becomes its value");
    assert!(o.stdout.contains("daemonSets:\n  # DaemonSet kube-system/agent\n"), "{}", o.stdout);
    assert!(o.stdout.contains("# DaemonSet monitoring/agent"), "{}", o.stdout);
    for want in [
        "imported: DaemonSet ×2, Node ×1",
        "DaemonSet.spec.updateStrategy ×1",
        "DaemonSet.spec.template.spec.hostNetwork ×1",
        "DaemonSet.spec.template.spec.containers[].resources.limits ×1",
    ] {
        assert!(o.stderr.contains(want), "{want} not in:\n{}", o.stderr);
    }
}

/// Four identical nodes in zones a (n0, n1) and b (n2, n3) are one pool whose node i is in
/// zone i mod 2: n0, n2, n1, n3 are m5-large-0 … -3. Bare Pods on them, and the Pods the
/// importer leaves out.
fn bare_pods_dump() -> String {
    let mut text: String = [("n0", "a"), ("n1", "a"), ("n2", "b"), ("n3", "b")]
        .iter()
        .map(|(n, z)| node(n, Some(z), "1930m", ""))
        .collect();
    let pod = |name: &str, extra: &str, spec: &str| {
        format!(
            "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}{extra}}}\nspec:\n  containers: [{{name: c, image: x, resources: {{requests: {{cpu: {spec}}}}}}}]\n"
        )
    };
    text += &pod("p-a", ", labels: {run: p-a}", "500m");
    text += "  nodeName: n1\n  serviceAccountName: default\nstatus: {phase: Running}\n";
    text += &pod("p-b", ", namespace: tools", "1500m");
    text += "  nodeName: n2\n  nodeSelector: {topology.kubernetes.io/zone: b}\n";
    text += &pod("p-big", "", "1");
    text += "  nodeName: n2\n";
    text += &pod("p-gone", "", "100m");
    text += "  nodeName: n9\n";
    text += &pod("p-owned", ", ownerReferences: [{kind: ReplicaSet, name: rs}]", "100m");
    text += "  nodeName: n0\n";
    text += &pod("p-done", "", "100m");
    text += "  nodeName: n0\nstatus: {phase: Succeeded}\n";
    text += &pod("p-wait", "", "100m");
    text
}

#[test]
fn bare_pods_are_counted_unless_placement_is_kept() {
    let (s, o) = imported(&bare_pods_dump());
    assert!(s.initial_pods.is_empty());
    assert!(o.stderr.contains("Pod (bare) ×6, Pod (owned by a controller) ×1"), "{}", o.stderr);
    assert!(
        o.stderr.contains(
            "pass --keep-placement to start them on their nodes (initialPods): default/p-a, tools/p-b, default/p-big, default/p-gone\n"
        ),
        "{}",
        o.stderr
    );
}

#[test]
fn kept_placement_maps_each_pod_to_its_nodes_pool_node() {
    let (o, dir) =
        import(&[("in.yaml", &bare_pods_dump())], &["--keep-placement", "in.yaml", "--out", "s.yaml"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let text = std::fs::read_to_string(dir.path().join("s.yaml")).expect("scenario");
    let s = scenario::parse_str(&text, Path::new("s.yaml")).expect("parses");
    scenario::validate::validate(&s).expect("validates");
    assert!(text.starts_with("# Generated by `clustersim import --keep-placement in.yaml`."), "{text}");
    let placed: Vec<(&str, &str, &str)> = s
        .initial_pods
        .iter()
        .map(|p| (p.name.as_str(), p.namespace.as_str(), p.node_name.as_str()))
        .collect();
    assert_eq!(placed, vec![("p-a", "default", "m5-large-2"), ("p-b", "tools", "m5-large-1")]);
    assert_eq!(s.initial_pods[0].template.labels.get("run").map(String::as_str), Some("p-a"));
    assert_eq!(s.initial_pods[1].template.requests.cpu.map(|c| c.0), Some(1500));
    assert!(text.contains("# Pod default/p-a on node n1\n"), "{text}");
    for want in [
        "imported: Node ×4, Pod ×2",
        "Pod (bare, Succeeded or Failed) ×1, Pod (bare, not scheduled) ×1, Pod (owned by a controller) ×1",
        "bare Pods on a node that is not in the input: left out: default/p-gone (node n9)",
        "bare Pods the node's kubelet would not admit with the Pods before them: left out: default/p-big (node n2): does not fit the node: cpu: requests 1, 1500m already requested of 1930m (OutOfcpu)",
        "Pod.spec.serviceAccountName ×1",
    ] {
        assert!(o.stderr.contains(want), "{want} not in:\n{}", o.stderr);
    }
    assert!(!o.stderr.contains("Pod.spec.nodeName"), "nodeName is mapped: {}", o.stderr);
    // The pods start the run Running on those nodes.
    let r = run_in(
        dir.path(),
        &["run", "s.yaml", "--duration", "1m", "--pods", "--no-charts", "--quiet", "--out", "out"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = csv_rows(&dir.path().join("out/pods.csv"));
    let at: Vec<(&str, &str, &str, &str)> = rows
        .iter()
        .map(|r| (r["template"].as_str(), r["node"].as_str(), r["phase"].as_str(), r["running_s"].as_str()))
        .collect();
    assert_eq!(
        at,
        vec![
            ("initial/p-a", "m5-large-2", "Running", "0.000000"),
            ("initial/p-b", "m5-large-1", "Running", "0.000000")
        ]
    );
}

#[test]
fn bad_daemon_sets_and_bare_pods_exit_2_with_the_field() {
    let cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "DaemonSet request",
            format!(
                "{POOL}---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: ds}}\nspec:\n  template:\n    spec: {{containers: [{{name: c, resources: {{requests: {{cpu: 2 cores}}}}}}]}}\n"
            ),
            vec![
                "document 1",
                "DaemonSet default/ds",
                "spec.template.spec.containers[0].resources.requests.cpu",
            ],
        ),
        (
            "DaemonSet apiVersion",
            format!(
                "{POOL}---\napiVersion: extensions/v1beta1\nkind: DaemonSet\nmetadata: {{name: ds}}\nspec: {{template: {{}}}}\n"
            ),
            vec!["DaemonSet default/ds", "apiVersion", "apps/v1"],
        ),
        (
            "DaemonSet without a template",
            format!("{POOL}---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: ds}}\nspec: {{}}\n"),
            vec!["DaemonSet default/ds", "spec.template: missing"],
        ),
        (
            "DaemonSet pods larger than every node",
            format!(
                "{POOL}---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: ds}}\nspec:\n  template:\n    spec: {{containers: [{{name: c, resources: {{requests: {{cpu: 64}}}}}}]}}\n"
            ),
            vec!["DaemonSet default/ds", "effective requests (cpu 64,"],
        ),
        (
            "bare Pod request",
            format!(
                "{POOL}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec: {{nodeName: n0, containers: [{{name: c, resources: {{requests: {{memory: 1GB}}}}}}]}}\n"
            ),
            vec!["Pod default/p", "spec.containers[0].resources.requests.memory", "\"1GB\""],
        ),
        (
            "bare Pod apiVersion",
            format!("{POOL}---\napiVersion: v2\nkind: Pod\nmetadata: {{name: p}}\nspec: {{nodeName: n0}}\n"),
            vec!["Pod default/p", "apiVersion", "expected v1"],
        ),
    ];
    for (name, text, want) in cases {
        let (o, _d) = import(&[("in.yaml", &text)], &["--keep-placement", "in.yaml"]);
        assert_eq!(o.code, 2, "{name}: expected exit 2, got {}:\n{}", o.code, o.stderr);
        assert!(o.stderr.contains("in.yaml"), "{name}: {}", o.stderr);
        for w in want {
            assert!(o.stderr.contains(w), "{name}: {w:?} not in:\n{}", o.stderr);
        }
    }
}
