//! Label selectors over pod labels (`metav1.LabelSelector`), as Deployments, topology
//! spread constraints and pod (anti-)affinity terms use them. The type is also the scenario
//! vocabulary (the same YAML shape as the upstream API object).
//!
//! Semantics of `kubernetes/kubernetes:staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/helpers.go`
//! (`LabelSelectorAsSelector`) and `.../pkg/labels/selector.go` (`Requirement.Matches`):
//! `matchLabels` and `matchExpressions` are ANDed; an empty selector (`{}`) matches every
//! object, and an absent one (`None` where a field is optional) matches nothing — callers
//! decide which applies.

use super::selectors::Labels;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The operators of a label selector requirement (`metav1.LabelSelectorOperator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LabelSelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

/// One requirement (`metav1.LabelSelectorRequirement`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelectorRequirement {
    pub key: String,
    pub operator: LabelSelectorOperator,
    #[serde(default)]
    pub values: Vec<String>,
}

impl LabelSelectorRequirement {
    /// Upstream `labels.Requirement.Matches`.
    pub fn matches(&self, labels: &Labels) -> bool {
        let v = labels.get(&self.key);
        match self.operator {
            LabelSelectorOperator::In => v.is_some_and(|v| self.values.iter().any(|x| x == v)),
            LabelSelectorOperator::NotIn => v.is_none_or(|v| !self.values.iter().any(|x| x == v)),
            LabelSelectorOperator::Exists => v.is_some(),
            LabelSelectorOperator::DoesNotExist => v.is_none(),
        }
    }

    /// What upstream validation (`ValidateLabelSelectorRequirement`) requires: values for
    /// `In`/`NotIn`, none for `Exists`/`DoesNotExist`, and a non-empty key. The message
    /// says what was expected.
    pub fn validate(&self) -> Result<(), String> {
        if self.key.is_empty() {
            return Err("the key is empty; expected a label key".into());
        }
        match self.operator {
            LabelSelectorOperator::In | LabelSelectorOperator::NotIn if self.values.is_empty() => {
                Err(format!("operator {:?} needs at least one value; expected `values: [..]`", self.operator))
            }
            LabelSelectorOperator::Exists | LabelSelectorOperator::DoesNotExist
                if !self.values.is_empty() =>
            {
                Err(format!("operator {:?} takes no values; expected `values` to be absent", self.operator))
            }
            _ => Ok(()),
        }
    }
}

/// `metav1.LabelSelector`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

impl LabelSelector {
    /// A selector of exactly these labels.
    pub fn of(labels: &Labels) -> LabelSelector {
        LabelSelector { match_labels: labels.clone(), match_expressions: Vec::new() }
    }

    /// Whether the selector is empty (`{}`), which matches every object.
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// Whether `labels` satisfy every `matchLabels` entry and every expression.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.match_labels.iter().all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|r| r.matches(labels))
    }

    /// Validates every requirement; the error names the expression's index.
    pub fn validate(&self) -> Result<(), String> {
        for (i, r) in self.match_expressions.iter().enumerate() {
            r.validate().map_err(|m| format!("matchExpressions[{i}]: {m}"))?;
        }
        for k in self.match_labels.keys() {
            if k.is_empty() {
                return Err("matchLabels has an empty key; expected a label key".into());
            }
        }
        Ok(())
    }

    /// This selector with `matchLabels` extended by `key=value` for each of `keys` the
    /// `labels` have (upstream `matchLabelKeys` of topology spread constraints and
    /// pod (anti-)affinity terms merge the incoming pod's values this way).
    pub fn with_label_keys(&self, keys: &[String], labels: &Labels) -> LabelSelector {
        let mut s = self.clone();
        for k in keys {
            if let Some(v) = labels.get(k) {
                s.match_expressions.push(LabelSelectorRequirement {
                    key: k.clone(),
                    operator: LabelSelectorOperator::In,
                    values: vec![v.clone()],
                });
            }
        }
        s
    }
}

/// `ValidateLabelSelector` (apimachinery `metav1/validation`): the requirement shapes
/// (`LabelSelector::validate`), label keys that are qualified names, and valid label values.
pub fn validate_full(s: &LabelSelector) -> Result<(), String> {
    s.validate()?;
    for (k, v) in &s.match_labels {
        validate_qualified_name(k).map_err(|m| format!("matchLabels: {m}"))?;
        validate_label_value(v).map_err(|m| format!("matchLabels[{k}]: {m}"))?;
    }
    for (i, r) in s.match_expressions.iter().enumerate() {
        validate_qualified_name(&r.key).map_err(|m| format!("matchExpressions[{i}].key: {m}"))?;
        if matches!(r.operator, LabelSelectorOperator::In | LabelSelectorOperator::NotIn) {
            for (j, v) in r.values.iter().enumerate() {
                validate_label_value(v).map_err(|m| format!("matchExpressions[{i}].values[{j}]: {m}"))?;
            }
        }
    }
    Ok(())
}

const NAME_EXPECTED: &str = "at most 63 characters: letters, digits, '-', '_' or '.', starting and ending \
                             with a letter or digit";

/// apimachinery `validation.IsQualifiedName`: `[prefix/]name`, the prefix a DNS-1123
/// subdomain, the name at most 63 characters of `[-A-Za-z0-9_.]` starting and ending with an
/// alphanumeric character.
pub fn validate_qualified_name(s: &str) -> Result<(), String> {
    let (prefix, name) = match s.split_once('/') {
        None => (None, s),
        Some((p, n)) => (Some(p), n),
    };
    if let Some(p) = prefix
        && !is_dns1123_subdomain(p)
    {
        return Err(format!(
            "`{s}` has an invalid prefix; expected a DNS subdomain such as `example.com` before the '/'"
        ));
    }
    if !is_name_part(name) {
        return Err(format!(
            "`{s}` is not a valid label key; expected an optional DNS prefix and '/', then {NAME_EXPECTED}"
        ));
    }
    Ok(())
}

/// apimachinery `validation.IsValidLabelValue`: empty, or a name part.
pub fn validate_label_value(v: &str) -> Result<(), String> {
    if v.is_empty() || is_name_part(v) {
        Ok(())
    } else {
        Err(format!("`{v}` is not a valid label value; expected an empty string or {NAME_EXPECTED}"))
    }
}

fn is_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, without a length limit.
fn is_dns1123_segment(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty() && alnum(&b[0]) && alnum(&b[b.len() - 1]) && b.iter().all(|c| alnum(c) || *c == b'-')
}

/// apimachinery `validation.IsDNS1123Label` (namespace names).
pub fn is_dns1123_label(s: &str) -> bool {
    s.len() <= 63 && is_dns1123_segment(s)
}

/// apimachinery `validation.IsDNS1123Subdomain`.
fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns1123_segment)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(kv: &[(&str, &str)]) -> Labels {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn req(key: &str, op: LabelSelectorOperator, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: op,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn matching() {
        use LabelSelectorOperator::*;
        let l = labels(&[("app", "web"), ("tier", "front")]);
        assert!(LabelSelector::default().matches(&l), "{{}} matches everything");
        assert!(LabelSelector::of(&labels(&[("app", "web")])).matches(&l));
        assert!(!LabelSelector::of(&labels(&[("app", "db")])).matches(&l));
        let sel = |r| LabelSelector { match_labels: BTreeMap::new(), match_expressions: vec![r] };
        assert!(sel(req("app", In, &["web", "db"])).matches(&l));
        assert!(!sel(req("app", NotIn, &["web"])).matches(&l));
        assert!(sel(req("zone", NotIn, &["a"])).matches(&l), "NotIn matches an absent key");
        assert!(sel(req("tier", Exists, &[])).matches(&l));
        assert!(!sel(req("tier", DoesNotExist, &[])).matches(&l));
        assert!(!sel(req("zone", In, &["a"])).matches(&l));
    }

    #[test]
    fn validation() {
        use LabelSelectorOperator::*;
        assert!(req("a", In, &[]).validate().is_err());
        assert!(req("a", Exists, &["x"]).validate().is_err());
        assert!(req("", Exists, &[]).validate().is_err());
        assert!(req("a", NotIn, &["x"]).validate().is_ok());
    }

    #[test]
    fn label_keys_merge_the_pods_values() {
        let s = LabelSelector::of(&labels(&[("app", "web")]));
        let pod = labels(&[("app", "web"), ("pod-template-hash", "abc")]);
        let m = s.with_label_keys(&["pod-template-hash".into(), "missing".into()], &pod);
        assert!(m.matches(&pod));
        assert!(!m.matches(&labels(&[("app", "web"), ("pod-template-hash", "xyz")])));
    }
}
