//! A pod's effective requests, as the scheduler computes them (upstream
//! `k8s.io/component-helpers/resource/helpers.go`, `PodRequests`): per resource, the sum of
//! the app containers' requests plus the restartable (sidecar, `restartPolicy: Always`)
//! init containers', or, if larger, the largest of each init container's request plus the
//! sidecars started before it; then `spec.overhead` is added. A container without a request
//! for a resource but with a limit requests its limit (API defaulting).

use super::ImportError;
use super::read::Doc;
use super::report::Report;
use crate::scenario::quantity::{CountQuantity, CpuQuantity, MemQuantity};
use serde_json::Value;

/// cpu (millicores), memory (bytes), nvidia.com/gpu; `None` = no container requests it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Requests {
    pub cpu: Option<i64>,
    pub memory: Option<i64>,
    pub gpu: Option<i64>,
}

const RESOURCES: [&str; 3] = ["cpu", "memory", "nvidia.com/gpu"];

fn get(r: &Requests, i: usize) -> Option<i64> {
    [r.cpu, r.memory, r.gpu][i]
}

fn set(r: &mut Requests, i: usize, v: Option<i64>) {
    match i {
        0 => r.cpu = v,
        1 => r.memory = v,
        _ => r.gpu = v,
    }
}

fn add(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (None, None) => None,
        (x, y) => Some(x.unwrap_or(0).saturating_add(y.unwrap_or(0))),
    }
}

fn max(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (None, None) => None,
        (x, y) => Some(x.unwrap_or(0).max(y.unwrap_or(0))),
    }
}

fn add_all(a: &mut Requests, b: &Requests) {
    for i in 0..3 {
        let v = add(get(a, i), get(b, i));
        set(a, i, v);
    }
}

/// The effective requests of the pod spec at `spec` (field paths in errors start with `at`).
pub fn pod_requests(d: &Doc, spec: &Value, at: &str, rep: &mut Report) -> Result<Requests, ImportError> {
    let kind = d.kind().to_string();
    let mut reqs = Requests::default();
    let containers = spec.get("containers").and_then(Value::as_array).cloned().unwrap_or_default();
    for (i, c) in containers.iter().enumerate() {
        let r = container_requests(
            d,
            c,
            &format!("{at}.containers[{i}]"),
            &format!("{kind}.{at}.containers[]"),
            rep,
        )?;
        add_all(&mut reqs, &r);
    }
    let mut sidecars = Requests::default();
    let mut init_max = Requests::default();
    let inits = spec.get("initContainers").and_then(Value::as_array).cloned().unwrap_or_default();
    for (i, c) in inits.iter().enumerate() {
        let r = container_requests(
            d,
            c,
            &format!("{at}.initContainers[{i}]"),
            &format!("{kind}.{at}.initContainers[]"),
            rep,
        )?;
        let this = if c.get("restartPolicy").and_then(Value::as_str) == Some("Always") {
            add_all(&mut reqs, &r);
            add_all(&mut sidecars, &r);
            sidecars
        } else {
            let mut t = r;
            add_all(&mut t, &sidecars);
            t
        };
        for k in 0..3 {
            let m = max(get(&init_max, k), get(&this, k));
            set(&mut init_max, k, m);
        }
    }
    for k in 0..3 {
        let m = max(get(&reqs, k), get(&init_max, k));
        set(&mut reqs, k, m);
    }
    if let Some(o) = spec.get("overhead") {
        let r = resource_list(d, o, &format!("{at}.overhead"), &format!("{kind}.{at}.overhead"), rep)?;
        add_all(&mut reqs, &r);
    }
    Ok(reqs)
}

fn container_requests(
    d: &Doc,
    c: &Value,
    at: &str,
    field: &str,
    rep: &mut Report,
) -> Result<Requests, ImportError> {
    let res = c.get("resources");
    let requests = match res.and_then(|r| r.get("requests")) {
        Some(v) => resource_list(
            d,
            v,
            &format!("{at}.resources.requests"),
            &format!("{field}.resources.requests"),
            rep,
        )?,
        None => Requests::default(),
    };
    let limits = match res.and_then(|r| r.get("limits")) {
        Some(v) => {
            rep.field(format!("{field}.resources.limits"));
            resource_list(d, v, &format!("{at}.resources.limits"), &format!("{field}.resources.limits"), rep)?
        }
        None => Requests::default(),
    };
    let mut out = requests;
    for k in 0..3 {
        if get(&out, k).is_none() {
            set(&mut out, k, get(&limits, k));
        }
    }
    Ok(out)
}

/// A `ResourceList` (`{cpu: 500m, memory: 1Gi}`); other resources are reported.
fn resource_list(
    d: &Doc,
    v: &Value,
    at: &str,
    report_as: &str,
    rep: &mut Report,
) -> Result<Requests, ImportError> {
    let Some(obj) = v.as_object() else {
        if v.is_null() {
            return Ok(Requests::default());
        }
        return Err(d.error(at, "expected a mapping of resource names to quantities"));
    };
    let mut r = Requests::default();
    for (name, q) in obj {
        let field = format!("{at}.{name}");
        let Some(i) = RESOURCES.iter().position(|n| n == name) else {
            rep.field(format!("{report_as}.{name}"));
            continue;
        };
        let text = match q {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return Err(d.error(&field, "expected a quantity such as \"500m\" or \"1Gi\"")),
        };
        let parsed = match i {
            0 => CpuQuantity::parse(&text),
            1 => MemQuantity::parse(&text),
            _ => CountQuantity::parse(&text),
        }
        .map_err(|m| d.error(&field, m))?;
        set(&mut r, i, Some(parsed));
    }
    Ok(r)
}
