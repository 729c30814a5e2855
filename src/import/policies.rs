//! PriorityClasses (`priorityClasses`, and the templates' `priorityClassName`),
//! PodDisruptionBudgets (an integer `minAvailable` selecting exactly one Deployment's pods
//! becomes that Deployment's `minAvailable`) and HorizontalPodAutoscalers (`autoscaling/v2`
//! and `v1`, to top-level `horizontalPodAutoscalers` naming their Deployment).

use super::ImportError;
use super::read::Doc;
use super::report::Report;
use super::workloads::{Dep, typed};
use crate::cluster::label_selector::LabelSelector;
use crate::scenario::schema::HpaBehaviorSpec;
use serde_json::Value;

/// Upstream's built-in classes (`pkg/apis/scheduling/types.go`), which dumps may leave out.
const SYSTEM_CLASSES: &[(&str, i64)] =
    &[("system-cluster-critical", 2_000_000_000), ("system-node-critical", 2_000_001_000)];

/// Upstream `HighestUserDefinablePriority`: clustersim's `priorityClasses` take values up to it.
const HIGHEST_USER_PRIORITY: i64 = 1_000_000_000;

#[derive(Clone, Debug)]
pub struct Class {
    pub name: String,
    pub value: i64,
    pub never: bool,
    pub source: String,
}

pub fn priority_classes(docs: &[Doc], rep: &mut Report) -> Result<Vec<Class>, ImportError> {
    let mut out = Vec::new();
    for d in docs {
        let value = d
            .value
            .get("value")
            .and_then(Value::as_i64)
            .filter(|v| i32::try_from(*v).is_ok())
            .ok_or_else(|| d.error("value", "missing or not a 32-bit integer"))?;
        let never = match d.value.get("preemptionPolicy").and_then(Value::as_str) {
            None | Some("PreemptLowerPriority") => false,
            Some("Never") => true,
            Some(p) => {
                return Err(
                    d.error("preemptionPolicy", format!("{p:?}; expected PreemptLowerPriority or Never"))
                );
            }
        };
        if d.value.get("globalDefault").and_then(Value::as_bool) == Some(true) {
            rep.field("PriorityClass.globalDefault");
        }
        rep.imported("PriorityClass");
        out.push(Class {
            name: d.short_name(),
            value,
            never,
            source: format!("PriorityClass {}", d.short_name()),
        });
    }
    Ok(out)
}

/// Classes the scenario can declare (user range); templates naming a system class get its
/// value as `priority`, templates naming an unknown class lose the name (reported).
pub fn resolve_priorities(classes: &[Class], deps: &mut [Dep], rep: &mut Report) -> Vec<Class> {
    for dep in deps.iter_mut() {
        let Some(name) = dep.priority_class_name.clone() else { continue };
        let value = classes
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.value)
            .or_else(|| SYSTEM_CLASSES.iter().find(|(n, _)| *n == name).map(|(_, v)| *v));
        match value {
            Some(v) if v <= HIGHEST_USER_PRIORITY => {}
            Some(v) => {
                rep.note(
                    format!("priorityClassName {name} is a system class: priority {v} set instead"),
                    dep.source.clone(),
                );
                dep.priority_class_name = None;
                dep.priority = i32::try_from(v).ok();
            }
            None => {
                rep.note(
                    format!("priorityClassName {name} names no PriorityClass in the input: left out"),
                    dep.source.clone(),
                );
                dep.priority_class_name = None;
            }
        }
    }
    let (user, system): (Vec<&Class>, Vec<&Class>) =
        classes.iter().partition(|c| c.value <= HIGHEST_USER_PRIORITY);
    for c in system {
        rep.note("PriorityClass above the user range (system class): not declared", c.name.clone());
    }
    user.into_iter().cloned().collect()
}

pub fn apply_pdbs(docs: &[Doc], deps: &mut [Dep], rep: &mut Report) -> Result<(), ImportError> {
    for d in docs {
        let spec = d.value.get("spec").cloned().unwrap_or(Value::Null);
        if spec.get("maxUnavailable").is_some() {
            rep.field("PodDisruptionBudget.spec.maxUnavailable");
            continue;
        }
        let min = match spec.get("minAvailable") {
            Some(Value::Number(n)) => match n.as_u64().and_then(|v| u32::try_from(v).ok()) {
                Some(v) => v,
                None => {
                    return Err(
                        d.error("spec.minAvailable", format!("{n}; expected a whole number of 0 or more"))
                    );
                }
            },
            Some(Value::String(s)) if s.ends_with('%') => {
                rep.field("PodDisruptionBudget.spec.minAvailable (a percentage)");
                continue;
            }
            Some(other) => {
                return Err(
                    d.error("spec.minAvailable", format!("{other}; expected a count or a percentage"))
                );
            }
            None => {
                rep.note("PodDisruptionBudget without minAvailable: left out", d.name());
                continue;
            }
        };
        let selector: LabelSelector = match spec.get("selector") {
            Some(s) if !s.is_null() => {
                serde_json::from_value(s.clone()).map_err(|e| d.error("spec.selector", e))?
            }
            _ => {
                rep.note("PodDisruptionBudget without a selector: left out", d.name());
                continue;
            }
        };
        let ns = d.namespace();
        let matching: Vec<usize> = deps
            .iter()
            .enumerate()
            .filter(|(_, x)| x.namespace == ns && !selector.is_empty() && selector.matches(&x.labels))
            .map(|(i, _)| i)
            .collect();
        if let [i] = matching[..] {
            deps[i].min_available = Some(min);
            deps[i].pdb = Some(format!("PodDisruptionBudget {}/{}", d.namespace(), d.short_name()));
            rep.imported("PodDisruptionBudget");
        } else {
            rep.note(
                format!(
                    "PodDisruptionBudget selecting {} workloads (clustersim: exactly one): left out",
                    matching.len()
                ),
                d.name(),
            );
        }
    }
    Ok(())
}

/// One HorizontalPodAutoscaler for a scenario Deployment.
#[derive(Clone, Debug)]
pub struct Hpa {
    pub source: String,
    pub target: String,
    pub min: i32,
    pub max: i32,
    pub cpu: Option<i32>,
    pub behavior: Option<Value>,
}

pub fn hpas(docs: &[Doc], deps: &[Dep], rep: &mut Report) -> Result<Vec<Hpa>, ImportError> {
    let mut out = Vec::new();
    for d in docs {
        let spec = d.value.get("spec").ok_or_else(|| d.error("spec", "missing"))?;
        let int =
            |field: &str| -> Result<Option<i32>, ImportError> {
                match spec.get(field) {
                    None | Some(Value::Null) => Ok(None),
                    Some(v) => v.as_i64().and_then(|v| i32::try_from(v).ok()).map(Some).ok_or_else(|| {
                        d.error(&format!("spec.{field}"), format!("{v}; expected an integer"))
                    }),
                }
            };
        let min = int("minReplicas")?.unwrap_or(1);
        let max = int("maxReplicas")?.ok_or_else(|| d.error("spec.maxReplicas", "missing"))?;
        let r = spec.get("scaleTargetRef");
        let kind = r.and_then(|r| r.get("kind")).and_then(Value::as_str).unwrap_or("");
        let name = r.and_then(|r| r.get("name")).and_then(Value::as_str).unwrap_or("");
        if name.is_empty() {
            return Err(d.error("spec.scaleTargetRef.name", "missing"));
        }
        let ns = d.namespace();
        let Some(dep) = deps.iter().find(|x| x.kind == kind && x.object_name == name && x.namespace == ns)
        else {
            rep.note(format!("HPA target {kind} {ns}/{name} not in the input: left out"), d.name());
            continue;
        };
        let mut cpu = None;
        let mut behavior = None;
        if d.api_version() == "autoscaling/v1" {
            cpu = int("targetCPUUtilizationPercentage")?;
        } else {
            for (i, m) in spec.get("metrics").and_then(Value::as_array).into_iter().flatten().enumerate() {
                let ty = m.get("type").and_then(Value::as_str).unwrap_or("");
                let res = m.get("resource");
                let rname = res.and_then(|r| r.get("name")).and_then(Value::as_str).unwrap_or("");
                let target = res.and_then(|r| r.get("target"));
                let tty = target.and_then(|t| t.get("type")).and_then(Value::as_str).unwrap_or("");
                if ty == "Resource" && rname == "cpu" && tty == "Utilization" {
                    let u = target.and_then(|t| t.get("averageUtilization")).and_then(Value::as_i64);
                    cpu =
                        Some(u.and_then(|u| i32::try_from(u).ok()).filter(|u| *u > 0).ok_or_else(|| {
                            d.error(
                                &format!("spec.metrics[{i}].resource.target.averageUtilization"),
                                "expected a percentage greater than 0",
                            )
                        })?);
                } else {
                    rep.field(format!("HorizontalPodAutoscaler.spec.metrics[] (type {ty} {rname} {tty})"));
                }
            }
            if let Some(b) = spec.get("behavior").filter(|b| !b.is_null()) {
                match typed::<HpaBehaviorSpec>(b) {
                    Ok(v) => behavior = Some(v),
                    Err(m) => rep.note(format!("spec.behavior left out ({m})"), d.name()),
                }
            }
        }
        rep.imported("HorizontalPodAutoscaler");
        out.push(Hpa {
            source: format!("HorizontalPodAutoscaler {ns}/{}", d.short_name()),
            target: dep.name.clone(),
            min,
            max,
            cpu,
            behavior,
        });
    }
    Ok(out)
}
