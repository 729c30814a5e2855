//! `--prices FILE`: the price per hour of a node by its instance type
//! (`node.kubernetes.io/instance-type`), for the pools' `pricePerHour`.
//!
//! Two formats, by extension:
//! - `*.csv`: a header `instanceType,pricePerHour`, then one row per type;
//! - anything else: YAML, a mapping from instance type to price (`m5.xlarge: 0.192`).
//!
//! Prices are numbers of 0 or more in any currency. A node whose type is not listed (or
//! that has no type label) gets price 0, and the summary says so.

use super::ImportError;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Default)]
pub struct Prices(pub BTreeMap<String, f64>);

pub fn read_prices(file: &Path) -> Result<Prices, ImportError> {
    let err = |m: String| ImportError::Input(format!("{}: {m}", file.display()));
    let text = std::fs::read_to_string(file).map_err(|e| err(format!("cannot read the price file: {e}")))?;
    let mut map = BTreeMap::new();
    let is_csv = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        let mut r = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
        let headers = r.headers().map_err(|e| err(format!("cannot read the CSV header: {e}")))?.clone();
        let col = |name: &str| headers.iter().position(|h| h == name);
        let (Some(t), Some(p)) = (col("instanceType"), col("pricePerHour")) else {
            return Err(err("expected a header with the columns instanceType and pricePerHour".to_string()));
        };
        for (i, row) in r.records().enumerate() {
            let line = i + 2;
            let row = row.map_err(|e| err(format!("line {line}: {e}")))?;
            let ty = row.get(t).unwrap_or("").to_string();
            let price = row.get(p).unwrap_or("");
            let v: f64 = price
                .parse()
                .map_err(|_| err(format!("line {line}: pricePerHour: {price:?} is not a number")))?;
            insert(&mut map, ty, v).map_err(|m| err(format!("line {line}: {m}")))?;
        }
    } else {
        let parsed: BTreeMap<String, f64> = serde_saphyr::from_str(&text).map_err(|e| {
            let (l, c) = e.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
            ImportError::Input(format!(
                "{}:{l}:{c}: {}; expected a mapping from instance type to price per hour, e.g. `m5.xlarge: 0.192`",
                file.display(),
                crate::scenario::bare_message(&e)
            ))
        })?;
        for (ty, v) in parsed {
            insert(&mut map, ty.clone(), v).map_err(|m| err(format!("{ty}: {m}")))?;
        }
    }
    Ok(Prices(map))
}

fn insert(map: &mut BTreeMap<String, f64>, ty: String, v: f64) -> Result<(), String> {
    if ty.is_empty() {
        return Err("instanceType: empty; expected an instance type".to_string());
    }
    if !(v.is_finite() && v >= 0.0) {
        return Err(format!("pricePerHour: {v} is not a price; expected a finite number of 0 or more"));
    }
    if map.insert(ty.clone(), v).is_some() {
        return Err(format!("instance type {ty:?} is listed twice"));
    }
    Ok(())
}
