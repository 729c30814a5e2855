//! Bad input never panics: every case exits with code 2 and a message that names the
//! file (or flag), the line/column or the field path, and what was expected.

mod common;
use common::*;

struct Case {
    name: &'static str,
    yaml: &'static str,
    args: &'static [&'static str],
    /// Substrings the error message must contain (besides the file name).
    expect: &'static [&'static str],
}

fn check(case: &Case) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("scenario.yaml");
    std::fs::write(&file, case.yaml).expect("write scenario");
    for sub in ["validate", "run"] {
        let mut args = vec![sub, "scenario.yaml"];
        args.extend_from_slice(case.args);
        if sub == "run" {
            args.extend_from_slice(&["--out", "out"]);
        }
        let o = run_in(dir.path(), &args);
        assert_eq!(
            o.code, 2,
            "{} ({sub}): expected exit 2, got {}; stderr:\n{}",
            case.name, o.code, o.stderr
        );
        assert!(!o.stderr.contains("panicked"), "{}: panicked:\n{}", case.name, o.stderr);
        let names_source = o.stderr.contains("scenario.yaml") || o.stderr.contains("--");
        assert!(names_source, "{}: the message does not name the file or flag:\n{}", case.name, o.stderr);
        for e in case.expect {
            assert!(o.stderr.contains(e), "{} ({sub}): expected {e:?} in:\n{}", case.name, o.stderr);
        }
        for word in LIBRARY_WORDS {
            assert!(
                !contains_word(&o.stderr, word),
                "{} ({sub}): the message speaks the library's language ({word:?}):\n{}",
                case.name,
                o.stderr
            );
        }
        assert!(!dir.path().join("out/summary.csv").exists(), "{}: bad input wrote results", case.name);
    }
}

/// Whether `word` occurs in `text` other than inside a longer word.
fn contains_word(text: &str, word: &str) -> bool {
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    text.match_indices(word).any(|(i, w)| {
        let joined_before = alnum(text[..i].chars().next_back()) && alnum(w.chars().next());
        let joined_after = alnum(text[i + w.len()..].chars().next()) && alnum(w.chars().next_back());
        !joined_before && !joined_after
    })
}

/// Words of Rust, serde or the YAML library that a user's error message must not contain.
const LIBRARY_WORDS: &[&str] = &[
    "DuplicateKeyPolicy",
    "Options",
    "from_str",
    "configured policy",
    "budget breached",
    "u8",
    "u16",
    "u32",
    "u64",
    "i32",
    "i64",
    "f64",
    "usize",
    "Option<",
    "struct ",
    "variant",
    "enum ",
    "mapping start",
    "sequence start",
    "string scalar",
    "invalid type",
    "-->",
];

const CASES: &[Case] = &[
    Case {
        name: "malformed YAML",
        yaml: "name: [tiny\nduration: 60s\n",
        args: &[],
        expect: &["scenario.yaml:1:"],
    },
    Case {
        name: "wrong type",
        yaml: "duration: 60s\nnodePools:\n  - name: p\n    count: many\n    allocatable: {cpu: 1, memory: 1Gi}\n",
        args: &[],
        expect: &["scenario.yaml:4:12:", "expected"],
    },
    Case {
        name: "unknown field",
        yaml: "duration: 60s\nnodePools:\n  - name: p\n    count: 1\n    colour: red\n    allocatable: {cpu: 1, memory: 1Gi}\n",
        args: &[],
        expect: &["scenario.yaml:5:5:", "unknown field `colour`", "expected one of"],
    },
    Case {
        name: "negative count",
        yaml: "duration: 60s\nnodePools:\n  - name: p\n    count: -3\n    allocatable: {cpu: 1, memory: 1Gi}\n",
        args: &[],
        expect: &["scenario.yaml:4:12:", "expected a whole number from 0"],
    },
    Case {
        name: "bad quantity",
        yaml: "duration: 60s\nnodePools:\n  - name: p\n    count: 1\n    allocatable: {cpu: 1, memory: 2Gx}\n",
        args: &[],
        expect: &["scenario.yaml:5:", "2Gx", "expected"],
    },
    Case {
        name: "missing required field",
        yaml: "nodePools: []\n",
        args: &[],
        expect: &["scenario.yaml:", "missing field `duration`"],
    },
    Case {
        name: "bad duration",
        yaml: "duration: 5x\n",
        args: &[],
        expect: &["scenario.yaml:1:", "5x", "expected"],
    },
    Case {
        name: "--set on a path that does not exist",
        yaml: VALID,
        args: &["--set", "nodePools.5.count=1"],
        expect: &["--set nodePools.5.count=1", "index 5 does not exist"],
    },
    Case {
        name: "--set on an unknown field",
        yaml: VALID,
        args: &["--set", "nodePools.0.colour=red"],
        expect: &[
            "--set nodePools.0.colour=red",
            "nodePools[0].colour",
            "unknown field `colour`",
            "expected one of",
            "`fromNodeList`",
        ],
    },
    Case {
        // The block is left out of the file: the path creates it, and its validation
        // names the unknown field with the fields the block has.
        name: "--set on an unknown field of an absent optional block",
        yaml: VALID,
        args: &["--set", "controlPlane.apiserver.corez=4"],
        expect: &["--set controlPlane.apiserver.corez=4", "unknown field `corez`", "`cores`"],
    },
    Case {
        name: "--set creating an absent optional block with a bad value",
        yaml: VALID,
        args: &["--set", "controlPlane.apiserver.cores=0"],
        expect: &["controlPlane.apiserver.cores", "at least 1 core"],
    },
    Case {
        name: "--set with a value of the wrong type",
        yaml: VALID,
        args: &["--set", "nodePools.0.count=abc"],
        expect: &[
            "--set nodePools.0.count=abc",
            "nodePools[0].count",
            "found the text \"abc\"",
            "whole number",
        ],
    },
    Case {
        name: "--set a negative count",
        yaml: VALID,
        args: &["--set", "nodePools.0.count=-3"],
        expect: &[
            "--set nodePools.0.count=-3",
            "nodePools[0].count",
            "expected a whole number from 0 to 4294967295",
        ],
    },
    Case {
        name: "--set a fractional count",
        yaml: VALID,
        args: &["--set", "nodePools.0.count=1.5"],
        expect: &[
            "nodePools[0].count",
            "found the number 1.5",
            "expected a whole number from 0 to 4294967295",
        ],
    },
    Case {
        name: "--set a negative seed",
        yaml: VALID,
        args: &["--set", "seed=-1"],
        expect: &["--set seed=-1", "expected a whole number from 0 to 18446744073709551615"],
    },
    Case {
        name: "--set text for a number",
        yaml: VALID,
        args: &["--set", "nodePools.0.pricePerHour=cheap"],
        expect: &["nodePools[0].pricePerHour", "found the text \"cheap\"; expected a number"],
    },
    Case {
        name: "--set a boolean for a count",
        yaml: VALID,
        args: &["--set", "deployments.0.replicas=true"],
        expect: &["deployments[0].replicas", "found `true`; expected a whole number"],
    },
    Case {
        name: "--set a non-finite number",
        yaml: VALID,
        args: &["--set", "nodePools.0.pricePerHour=.inf"],
        expect: &["--set nodePools.0.pricePerHour=.inf", "`.inf` is not a finite number"],
    },
    Case {
        name: "--set a number for a section",
        yaml: VALID,
        args: &["--set", "nodePools.0.allocatable=3"],
        expect: &["nodePools[0].allocatable", "found the number 3; expected a mapping"],
    },
    Case {
        name: "--set a word for a list",
        yaml: VALID,
        args: &["--set", "nodePools.0.zones=zone-a"],
        expect: &["nodePools[0].zones", "expected a list"],
    },
    Case {
        name: "--set an unknown scoring strategy",
        yaml: VALID,
        args: &["--set", "scheduler.scoringStrategy=Fastest"],
        expect: &["scheduler.scoringStrategy", "unknown value `Fastest`", "LeastAllocated or MostAllocated"],
    },
    Case {
        name: "--set with an unclosed bracket",
        yaml: VALID,
        args: &["--set", "nodePools[0.count=1"],
        expect: &["--set nodePools[0.count=1", "expected names separated by dots", "nodePools[0].count"],
    },
    Case {
        name: "--set with a bracket on a section",
        yaml: VALID,
        args: &["--set", "scheduler[0]=1"],
        expect: &["--set scheduler[0]=1", "scheduler is not a list"],
    },
    Case {
        name: "--set a name with a path",
        yaml: VALID,
        args: &["--set", "name=../x"],
        expect: &["name", "contains '/'", "expected 1 to 100 ASCII letters"],
    },
    Case {
        name: "duplicated key",
        yaml: "name: tiny\nduration: 60s\nduration: 30s\n",
        args: &[],
        expect: &[
            "scenario.yaml:3:1:",
            "the key `duration` appears twice in this mapping",
            "expected each key once",
        ],
    },
    Case {
        name: "two YAML documents",
        yaml: "name: a\nduration: 60s\n---\nname: b\nduration: 60s\n",
        args: &[],
        expect: &["scenario.yaml:4:", "more than one YAML document", "expected one scenario per file"],
    },
    Case {
        name: "non-finite quantity",
        yaml: "duration: 60s\nnodePools:\n  - name: p\n    count: 1\n    allocatable: {cpu: .nan, memory: 1Gi}\n",
        args: &[],
        expect: &["scenario.yaml:5:", "`.nan` is not a finite number"],
    },
    Case {
        name: "non-finite duration",
        yaml: "duration: .inf\n",
        args: &[],
        expect: &["scenario.yaml:1:", "`.inf` is not a finite number"],
    },
    Case {
        name: "a number where a list goes",
        yaml: "duration: 60s\nnodePools: 3\n",
        args: &[],
        expect: &["scenario.yaml:2:", "expected a list"],
    },
    Case {
        name: "a list where a value goes",
        yaml: "duration: 60s\nname: [a, b]\n",
        args: &[],
        expect: &["scenario.yaml:2:", "expected a single value"],
    },
    Case {
        name: "a number where a mapping goes",
        yaml: "duration: 60s\nnodePools:\n  - name: p\n    count: 1\n    allocatable: 4\n",
        args: &[],
        expect: &["scenario.yaml:5:", "expected a mapping"],
    },
    Case {
        name: "text where a number goes",
        yaml: "duration: 60s\nnodePools:\n  - name: p\n    count: 1\n    pricePerHour: cheap\n    allocatable: {cpu: 1, memory: 1Gi}\n",
        args: &[],
        expect: &["scenario.yaml:5:", "expected a number"],
    },
    Case {
        name: "null where text goes",
        yaml: "duration: 60s\nnodePools:\n  - name: ~\n    count: 1\n    allocatable: {cpu: 1, memory: 1Gi}\n",
        args: &[],
        expect: &["scenario.yaml:3:", "expected text"],
    },
    Case {
        name: "an alias without its anchor",
        yaml: "duration: 60s\nnodePools: *pools\n",
        args: &[],
        expect: &["scenario.yaml:2:", "refers to no anchor"],
    },
    Case {
        name: "a name that climbs out of results/",
        yaml: "name: ../../x\nduration: 60s\n",
        args: &[],
        expect: &["scenario.yaml: name:", "contains '/'", "expected 1 to 100 ASCII letters, digits"],
    },
    Case {
        name: "an absolute name",
        yaml: "name: /tmp/x\nduration: 60s\n",
        args: &[],
        expect: &["scenario.yaml: name:", "expected 1 to 100 ASCII letters"],
    },
    Case {
        name: "an empty name",
        yaml: "name: \"\"\nduration: 60s\n",
        args: &[],
        expect: &["scenario.yaml: name:", "the name is empty"],
    },
    Case {
        name: "a name of dots",
        yaml: "name: ..\nduration: 60s\n",
        args: &[],
        expect: &["scenario.yaml: name:", "starts with '.'"],
    },
    Case {
        name: "a name with a space",
        yaml: "name: my run\nduration: 60s\n",
        args: &[],
        expect: &["scenario.yaml: name:", "contains ' '"],
    },
    Case {
        name: "--set without '='",
        yaml: VALID,
        args: &["--set", "nodePools.0.count"],
        expect: &["--set nodePools.0.count", "expected PATH=VALUE"],
    },
    Case {
        name: "zero nodes with pending pods",
        yaml: "duration: 60s\nnodePools:\n  - name: p\n    count: 0\n    allocatable: {cpu: 1, memory: 1Gi}\ndeployments:\n  - name: d\n    replicas: 1\n    template: {}\n",
        args: &[],
        expect: &["nodePools:", "no nodes"],
    },
    Case {
        name: "duplicate node pool names",
        yaml: "duration: 60s\nnodePools:\n  - name: p\n    count: 1\n    allocatable: {cpu: 1, memory: 1Gi}\n  - name: p\n    count: 1\n    allocatable: {cpu: 1, memory: 1Gi}\n",
        args: &[],
        expect: &["nodePools[1].name", "duplicate name \"p\""],
    },
    Case {
        name: "duplicate deployment names",
        yaml: "duration: 60s\nnodePools:\n  - name: p\n    count: 1\n    allocatable: {cpu: 1, memory: 1Gi}\ndeployments:\n  - {name: d, replicas: 1, template: {}}\n  - {name: d, replicas: 1, template: {}}\n",
        args: &[],
        expect: &["deployments[1].name", "duplicate"],
    },
    Case {
        name: "negative price",
        yaml: "duration: 60s\nnodePools:\n  - name: p\n    count: 1\n    pricePerHour: -1\n    allocatable: {cpu: 1, memory: 1Gi}\n",
        args: &[],
        expect: &["nodePools[0].pricePerHour", "expected a finite price"],
    },
    Case {
        name: "percentageOfNodesToScore out of range",
        yaml: "duration: 60s\nscheduler: {percentageOfNodesToScore: 150}\n",
        args: &[],
        expect: &["scheduler.percentageOfNodesToScore", "expected 0"],
    },
    Case {
        name: "zero-mean exponential",
        yaml: "duration: 60s\nnodePools:\n  - name: p\n    count: 1\n    allocatable: {cpu: 1, memory: 1Gi}\nchurn:\n  - name: c\n    arrivalRate: 1\n    lifetime: {exponential: {mean: 0s}}\n    templates: [{template: {}}]\n",
        args: &[],
        expect: &["churn[0].lifetime", "mean"],
    },
    Case {
        name: "both arrivalRate and interArrival",
        yaml: "duration: 60s\nnodePools:\n  - name: p\n    count: 1\n    allocatable: {cpu: 1, memory: 1Gi}\nchurn:\n  - name: c\n    arrivalRate: 1\n    interArrival: {constant: 1s}\n    lifetime: {constant: 1s}\n    templates: [{template: {}}]\n",
        args: &[],
        expect: &["churn[0].arrivalRate", "not both"],
    },
    Case {
        name: "zero arrival rate",
        yaml: "duration: 60s\nnodePools:\n  - name: p\n    count: 1\n    allocatable: {cpu: 1, memory: 1Gi}\nchurn:\n  - name: c\n    arrivalRate: 0\n    lifetime: {constant: 1s}\n    templates: [{template: {}}]\n",
        args: &[],
        expect: &["churn[0].arrivalRate", "greater than 0"],
    },
    Case {
        name: "requests larger than every node",
        yaml: "duration: 60s\nnodePools:\n  - name: p\n    count: 1\n    allocatable: {cpu: 2, memory: 1Gi}\ndeployments:\n  - name: d\n    replicas: 1\n    template: {requests: {cpu: 2000}}\n",
        args: &[],
        expect: &["deployments[0].template.requests", "exceed the allocatable of every node pool"],
    },
    Case {
        name: "unknown scoring strategy",
        yaml: "duration: 60s\nscheduler: {scoringStrategy: Fastest}\n",
        args: &[],
        expect: &["scenario.yaml:2:", "Fastest"],
    },
    Case {
        name: "Gt with a non-integer value",
        yaml: "duration: 60s\nnodePools:\n  - name: p\n    count: 1\n    allocatable: {cpu: 1, memory: 1Gi}\ndeployments:\n  - name: d\n    replicas: 1\n    template:\n      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n            nodeSelectorTerms:\n              - matchExpressions: [{key: gen, operator: Gt, values: [new]}]\n",
        args: &[],
        expect: &["deployments[0].template.affinity.nodeAffinity", "Gt/Lt"],
    },
    Case { name: "empty file", yaml: "", args: &[], expect: &["scenario.yaml"] },
    Case {
        name: "zero duration",
        yaml: "duration: 0s\n",
        args: &[],
        expect: &["duration", "greater than 0"],
    },
    Case {
        name: "--duration with a bad value",
        yaml: VALID,
        args: &["--duration", "5x"],
        expect: &["--duration", "5x"],
    },
    Case {
        name: "too many nodes",
        yaml: "duration: 60s\nnodePools:\n  - name: p\n    count: 4000000000\n    allocatable: {cpu: 1, memory: 1Gi}\n",
        args: &[],
        expect: &["nodePools", "expected at most"],
    },
    // PodTopologySpread and InterPodAffinity (issue: topology spread, inter-pod affinity).
    Case {
        name: "unknown label selector operator",
        yaml: "duration: 60s\nnodePools: [{name: p, count: 1, allocatable: {cpu: 1, memory: 1Gi}}]\ndeployments:\n  - name: w\n    replicas: 1\n    template:\n      affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: kubernetes.io/hostname, labelSelector: {matchExpressions: [{key: app, operator: Among, values: [w]}]}}]}}\n",
        args: &[],
        expect: &["scenario.yaml:7:", "Among", "expected one of In, NotIn, Exists, DoesNotExist"],
    },
    Case {
        name: "empty topology key",
        yaml: "duration: 60s\nnodePools: [{name: p, count: 1, allocatable: {cpu: 1, memory: 1Gi}}]\ndeployments:\n  - name: w\n    replicas: 1\n    template:\n      topologySpreadConstraints: [{maxSkew: 1, topologyKey: '', whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: w}}}]\n",
        args: &[],
        expect: &["deployments[0].template.topologySpreadConstraints[0]", "topologyKey is empty"],
    },
    Case {
        name: "maxSkew 0",
        yaml: "duration: 60s\nnodePools: [{name: p, count: 1, allocatable: {cpu: 1, memory: 1Gi}}]\ndeployments:\n  - name: w\n    replicas: 1\n    template:\n      topologySpreadConstraints: [{maxSkew: 0, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: w}}}]\n",
        args: &[],
        expect: &["topologySpreadConstraints[0]", "maxSkew is 0", "greater than zero"],
    },
    Case {
        name: "minDomains with ScheduleAnyway",
        yaml: "duration: 60s\nnodePools: [{name: p, count: 1, allocatable: {cpu: 1, memory: 1Gi}}]\ndeployments:\n  - name: w\n    replicas: 1\n    template:\n      topologySpreadConstraints: [{maxSkew: 1, minDomains: 3, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: w}}}]\n",
        args: &[],
        expect: &["topologySpreadConstraints[0]", "minDomains", "DoNotSchedule"],
    },
    Case {
        name: "a spread selector that selects no pod",
        yaml: "duration: 60s\nnodePools: [{name: p, count: 1, allocatable: {cpu: 1, memory: 1Gi}}]\ndeployments:\n  - name: w\n    replicas: 1\n    template:\n      topologySpreadConstraints: [{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: ww}}}]\n",
        args: &[],
        expect: &["topologySpreadConstraints[0].labelSelector", "selects no pod", "app=w"],
    },
    Case {
        name: "an affinity term that selects no pod",
        yaml: "duration: 60s\nnodePools: [{name: p, count: 1, allocatable: {cpu: 1, memory: 1Gi}}]\ndeployments:\n  - name: w\n    replicas: 1\n    template:\n      affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: topology.kubernetes.io/zone, labelSelector: {matchLabels: {app: db}}}]}}\n",
        args: &[],
        expect: &[
            "podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector",
            "selects no pod",
        ],
    },
    Case {
        name: "a topology key no node carries",
        yaml: "duration: 60s\nnodePools: [{name: p, count: 1, allocatable: {cpu: 1, memory: 1Gi}}]\ndeployments:\n  - name: w\n    replicas: 1\n    template:\n      topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: w}}}]\n",
        args: &[],
        expect: &[
            "topologySpreadConstraints[0].topologyKey",
            "no node carries the label",
            "topology.kubernetes.io/zone",
        ],
    },
    Case {
        name: "a default constraint on a key no node carries",
        yaml: "duration: 60s\nscheduler: {podTopologySpread: {defaultingType: List, defaultConstraints: [{maxSkew: 1, topologyKey: rack, whenUnsatisfiable: DoNotSchedule}]}}\nnodePools: [{name: p, count: 1, allocatable: {cpu: 1, memory: 1Gi}}]\n",
        args: &[],
        expect: &[
            "scheduler.podTopologySpread.defaultConstraints[0].topologyKey",
            "no node carries the label",
        ],
    },
    Case {
        name: "a default constraint with maxSkew 0",
        yaml: "duration: 60s\nscheduler: {podTopologySpread: {defaultingType: List, defaultConstraints: [{maxSkew: 0, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule}]}}\nnodePools: [{name: p, count: 1, allocatable: {cpu: 1, memory: 1Gi}}]\n",
        args: &[],
        expect: &["scheduler.podTopologySpread.defaultConstraints[0]", "maxSkew is 0"],
    },
    Case {
        name: "a node selector on kubernetes.io/hostname",
        yaml: "duration: 60s\nnodePools: [{name: p, count: 1, allocatable: {cpu: 1, memory: 1Gi}}]\ndeployments:\n  - name: w\n    replicas: 1\n    template:\n      nodeSelector: {kubernetes.io/hostname: p-0}\n",
        args: &[],
        expect: &["deployments[0].template.nodeSelector", "kubernetes.io/hostname is not a node label"],
    },
    Case {
        name: "node affinity on kubernetes.io/hostname",
        yaml: "duration: 60s\nnodePools: [{name: p, count: 1, allocatable: {cpu: 1, memory: 1Gi}}]\ndeployments:\n  - name: w\n    replicas: 1\n    template:\n      affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [p-0]}]}]}}}\n",
        args: &[],
        expect: &[
            "nodeSelectorTerms[0].matchExpressions[0].key",
            "kubernetes.io/hostname is not a node label",
        ],
    },
    Case {
        name: "a pool label kubernetes.io/hostname",
        yaml: "duration: 60s\nnodePools: [{name: p, count: 1, labels: {kubernetes.io/hostname: x}, allocatable: {cpu: 1, memory: 1Gi}}]\n",
        args: &[],
        expect: &["nodePools[0].labels", "kubernetes.io/hostname is not a node label"],
    },
    Case {
        name: "a Deployment selector that misses its pods",
        yaml: "duration: 60s\nnodePools: [{name: p, count: 1, allocatable: {cpu: 1, memory: 1Gi}}]\ndeployments:\n  - name: w\n    replicas: 1\n    selector: {matchLabels: {app: x}}\n    template: {labels: {app: w}}\n",
        args: &[],
        expect: &["deployments[0].selector", "does not select the Deployment's own pods"],
    },
    Case {
        name: "a preferred term weight out of range",
        yaml: "duration: 60s\nnodePools: [{name: p, count: 1, allocatable: {cpu: 1, memory: 1Gi}}]\ndeployments:\n  - name: w\n    replicas: 1\n    template:\n      affinity: {podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 0, podAffinityTerm: {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: w}}}}]}}\n",
        args: &[],
        expect: &["podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]", "weight"],
    },
    Case {
        name: "a DaemonSet toleration with Exists and a value",
        yaml: "duration: 60s\nnodePools: [{name: p, count: 1, allocatable: {cpu: 1, memory: 1Gi}}]\ndaemonSets:\n  - name: agent\n    template: {tolerations: [{key: k, operator: Exists, value: v}]}\n",
        args: &[],
        expect: &["daemonSets[0].template.tolerations[0].value", "expected no value when operator is Exists"],
    },
    Case {
        name: "a DaemonSet pod larger than every node",
        yaml: "duration: 60s\nnodePools: [{name: p, count: 1, allocatable: {cpu: 1, memory: 1Gi}}]\ndaemonSets:\n  - name: agent\n    template: {requests: {cpu: 2}}\n",
        args: &[],
        expect: &["daemonSets[0].template.requests", "exceed the allocatable of every node pool"],
    },
    Case {
        name: "DaemonSets with one name",
        yaml: "duration: 60s\nnodePools: [{name: p, count: 1, allocatable: {cpu: 1, memory: 1Gi}}]\ndaemonSets: [{name: a, template: {}}, {name: a, template: {}}]\n",
        args: &[],
        expect: &["daemonSets[1].name", "duplicate name \"a\""],
    },
    Case {
        name: "a DaemonSet in a bad namespace",
        yaml: "duration: 60s\nnodePools: [{name: p, count: 1, allocatable: {cpu: 1, memory: 1Gi}}]\ndaemonSets: [{name: a, namespace: Kube_System, template: {}}]\n",
        args: &[],
        expect: &["daemonSets[0].namespace", "not a valid namespace name"],
    },
    Case {
        name: "a DaemonSet without a template",
        yaml: "duration: 60s\ndaemonSets: [{name: a}]\n",
        args: &[],
        expect: &["scenario.yaml:2:", "missing field `template`"],
    },
    Case {
        name: "an initial pod on a node that does not exist",
        yaml: "duration: 60s\nnodePools: [{name: p, count: 2, allocatable: {cpu: 1, memory: 1Gi}}]\ninitialPods: [{name: x, nodeName: p-2, template: {}}]\n",
        args: &[],
        expect: &["initialPods[0].nodeName", "no node \"p-2\"", "<pool>-<index>"],
    },
    Case {
        name: "initial pods that do not fit their node",
        yaml: "duration: 60s\nnodePools: [{name: p, count: 2, allocatable: {cpu: 1, memory: 1Gi}}]\ninitialPods:\n  - {name: a, nodeName: p-1, template: {requests: {cpu: 600m}}}\n  - {name: b, nodeName: p-0, template: {requests: {cpu: 600m}}}\n  - {name: c, nodeName: p-1, template: {requests: {cpu: 600m}}}\n",
        args: &[],
        expect: &[
            "initialPods[2]",
            "pod \"c\" cannot start on node \"p-1\"",
            "cpu: requests 600m, 600m already requested of 1",
            "OutOfcpu",
        ],
    },
    Case {
        name: "an initial pod whose node selector misses its node",
        yaml: "duration: 60s\nnodePools: [{name: p, count: 1, allocatable: {cpu: 1, memory: 1Gi}}]\ninitialPods: [{name: a, nodeName: p-0, template: {nodeSelector: {disk: ssd}}}]\n",
        args: &[],
        expect: &["initialPods[0]", "cannot start on node \"p-0\"", "NodeAffinity"],
    },
    Case {
        name: "initial pods with one name",
        yaml: "duration: 60s\nnodePools: [{name: p, count: 1, allocatable: {cpu: 1, memory: 1Gi}}]\ninitialPods: [{name: a, nodeName: p-0, template: {}}, {name: a, nodeName: p-0, template: {}}]\n",
        args: &[],
        expect: &["initialPods[1].name", "duplicate name"],
    },
    Case {
        name: "an initial pod with a negative grace period",
        yaml: "duration: 60s\nnodePools: [{name: p, count: 1, allocatable: {cpu: 1, memory: 1Gi}}]\ninitialPods: [{name: a, nodeName: p-0, template: {terminationGracePeriodSeconds: -1}}]\n",
        args: &[],
        expect: &["initialPods[0].template.terminationGracePeriodSeconds"],
    },
    Case {
        name: "hardPodAffinityWeight out of range",
        yaml: "duration: 60s\nscheduler: {interPodAffinity: {hardPodAffinityWeight: 101}}\n",
        args: &[],
        expect: &["scheduler.interPodAffinity.hardPodAffinityWeight", "0 to 100"],
    },
];

#[test]
fn every_bad_input_case_exits_2_with_a_located_message() {
    assert!(CASES.len() >= 15);
    for case in CASES {
        check(case);
    }
}

#[test]
fn yaml_beyond_the_parsers_limits_is_bad_input_in_plain_words() {
    // Aliases that multiply one anchor, too many values, and nesting too deep.
    let mut aliases = String::from(
        "duration: 60s\nnodePools:\n  - name: p\n    count: 1\n    allocatable: {cpu: 1, memory: 1Gi}\n    labels:\n      a: &v x\n",
    );
    for i in 0..200 {
        aliases.push_str(&format!("      k{i}: *v\n"));
    }
    let zones: Vec<String> = (0..300_000).map(|i| format!("z{i}")).collect();
    let many = format!(
        "duration: 60s\nnodePools:\n  - name: p\n    count: 1\n    allocatable: {{cpu: 1, memory: 1Gi}}\n    zones: [{}]\n",
        zones.join(",")
    );
    let deep = format!("duration: 60s\nnodePools: {}{}\n", "[".repeat(2000), "]".repeat(2000));
    let cases = [
        ("aliases", aliases, &["scenario.yaml:", "aliases (`*name`) 200 times", "fewer aliases"][..]),
        ("values", many, &["scenario.yaml:6:", "too large", "expected a smaller file"][..]),
        ("nesting", deep, &["scenario.yaml:2:", "nested too deeply"][..]),
    ];
    for (name, yaml, expect) in cases {
        let case = Case { name, yaml: Box::leak(yaml.into_boxed_str()), args: &[], expect };
        check(&case);
    }
}

#[test]
fn missing_file_is_bad_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let o = run_in(dir.path(), &["validate", "nope.yaml"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("nope.yaml") && o.stderr.contains("cannot read"), "{}", o.stderr);
}

#[test]
fn bad_flags_are_bad_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("s.yaml"), VALID).expect("write");
    for args in [
        &["run", "s.yaml", "--seed", "abc"][..],
        &["run", "s.yaml", "--colour"][..],
        &["frobnicate"][..],
        &["run"][..],
    ] {
        let o = run_in(dir.path(), args);
        assert_eq!(o.code, 2, "{args:?}: {}", o.stderr);
        assert!(!o.stderr.contains("panicked"));
    }
}

#[test]
fn the_valid_base_case_is_valid() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("s.yaml"), VALID).expect("write");
    let o = run_in(dir.path(), &["validate", "s.yaml"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("ok"));
}

mod fuzz {
    //! No input may panic: random edits of a valid scenario, and random `--set`
    //! overrides, either load or return an error.
    use clustersim::scenario;
    use proptest::prelude::*;
    use std::path::Path;

    const BASE: &str = include_str!("../scenarios/quickstart.yaml");

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

        #[test]
        fn edited_scenarios_never_panic(
            edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, "[ -~\n]{0,6}"), 1..6)
        ) {
            let mut text = BASE.to_string();
            for (at, op, s) in edits {
                let mut cut = at.index(text.len() + 1);
                while !text.is_char_boundary(cut) { cut -= 1; }
                match op {
                    0 => text.insert_str(cut, &s),
                    1 => { let end = (cut + s.len()).min(text.len()); if text.is_char_boundary(end) { text.replace_range(cut..end, ""); } }
                    _ => { let end = (cut + s.len()).min(text.len()); if text.is_char_boundary(end) { text.replace_range(cut..end, &s); } }
                }
            }
            if let Ok(s) = scenario::parse_str(&text, Path::new("fuzz.yaml")) {
                let _ = scenario::validate::validate(&s);
            }
        }

        #[test]
        fn random_overrides_never_panic(
            path in prop::sample::select(vec![
                "seed", "duration", "nodePools.0.count", "nodePools.0.allocatable.cpu", "nodePools.0.zones",
                "nodePools.0.kubelet.imagePull", "deployments.0.replicas", "deployments.0.template.requests.memory",
                "churn.0.arrivalRate", "churn.0.lifetime", "churn.0.templates.0.weight", "scheduler.cost.perPod",
                "nodePools.9.count", "nope", "nodePools.x", "churn.0.templates.0.template.tolerations",
            ]),
            value in prop::sample::select(vec![
                "1", "-1", "0", "abc", "2Gx", "1e400", "[a, b]", "{exponential: {mean: 0s}}", "", "~", "true",
                "99999999999999999999", "1.5", "500m", "{uniform: {min: 3s, max: 1s}}", "[{key: a, operator: Exists, value: b}]",
            ]),
        ) {
            let s = scenario::parse_str(BASE, Path::new("q.yaml")).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let _ = scenario::overrides::apply(&s, &[format!("{path}={value}")]).map(|s| scenario::validate::validate(&s));
        }
    }
}
