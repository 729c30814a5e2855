//! The only code that writes files. Every file is written to a temporary name in the same
//! folder and renamed into place, so a reader never sees half a file and an interrupted
//! run leaves the previous results intact. CSVs hold only simulated quantities (never
//! wall-clock figures), so identical runs give identical bytes.

use crate::cluster::ClusterState;
use crate::metrics::{Cell, Metrics, TIMESERIES_COLUMNS};
use std::io::Write;
use std::path::Path;

pub mod attempts;
pub mod console;
pub mod folder;
pub mod pods;
pub mod progress;

/// Writes `bytes` to `path` atomically (temporary file + rename). On any failure (a full
/// disk, say) the temporary file is removed and `path` keeps its previous content.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// [`write_atomic`] with the bytes streamed by `write` (a file too large to hold in
/// memory, such as `pods.csv`).
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // A counter keeps parallel writers of one process (a sweep's workers) apart.
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        write(&mut f)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

fn csv_bytes(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> std::io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)?;
    for r in rows {
        w.write_record(&r)?;
    }
    w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}

/// `summary.csv`: one header, one row.
pub fn summary_csv(summary: &[(String, Cell)]) -> std::io::Result<Vec<u8>> {
    let header: Vec<&str> = summary.iter().map(|(k, _)| k.as_str()).collect();
    let row: Vec<String> = summary.iter().map(|(_, v)| v.render()).collect();
    csv_bytes(&header, std::iter::once(row))
}

/// `timeseries.csv`: one row per sampling interval; `extra_columns` name the per-service
/// cells at the end of each row.
pub fn timeseries_csv(metrics: &Metrics, extra_columns: &[String]) -> std::io::Result<Vec<u8>> {
    let mut header: Vec<&str> = TIMESERIES_COLUMNS.to_vec();
    if metrics.track_terminating {
        let at = header.iter().position(|&h| h == "pods_starting").map_or(header.len(), |i| i + 1);
        header.insert(at, "pods_terminating");
    }
    if metrics.track_gpu {
        let at = header.iter().position(|&h| h == "memory_allocation").map_or(header.len(), |i| i + 1);
        header.insert(at, "gpu_allocation");
    }
    header.extend(extra_columns.iter().map(String::as_str));
    csv_bytes(&header, metrics.samples.iter().map(|s| s.render()))
}

/// `startup-cdf.csv`: pod start-up latency quantiles, `quantile,seconds`.
pub fn startup_cdf_csv(quantiles: &[(f64, f64)]) -> std::io::Result<Vec<u8>> {
    csv_bytes(
        &["quantile", "seconds"],
        quantiles.iter().map(|(q, s)| vec![format!("{q:.2}"), format!("{s:.6}")]),
    )
}

/// `autoscaler-events.csv`: every HPA and cluster-autoscaler decision, by time (at equal
/// times HPA rows first, each autoscaler's rows in the order it made them).
pub fn autoscaler_events_csv(
    hpa: &[crate::hpa::controller::HpaDecision],
    ca: &[crate::autoscaler::controller::CaDecision],
) -> std::io::Result<Vec<u8>> {
    let mut rows: Vec<(crate::engine::SimTime, u8, usize, Vec<String>)> =
        Vec::with_capacity(hpa.len() + ca.len());
    rows.extend(hpa.iter().enumerate().map(|(i, d)| (d.time, 0, i, d.render())));
    rows.extend(ca.iter().enumerate().map(|(i, d)| (d.time, 1, i, d.render())));
    rows.sort_by_key(|(t, k, i, _)| (*t, *k, *i));
    csv_bytes(&crate::hpa::controller::EVENT_COLUMNS, rows.into_iter().map(|(.., r)| r))
}

pub const POD_COLUMNS: [&str; 11] = [
    "pod",
    "owner",
    "template",
    "priority",
    "phase",
    "node",
    "created_s",
    "bound_s",
    "running_s",
    "finished_s",
    "scheduling_attempts",
];

/// Columns `pods.csv` adds when some pod template has graceful termination: when the pod
/// became Terminating and its `DisruptionTarget` reason.
pub const POD_TERMINATION_COLUMNS: [&str; 2] = ["terminating_s", "disruption_target"];

/// The column `pods.csv` adds when some node has GPUs: the devices the pod holds or held on
/// its node, `<device>[+<device>…]:<milli each>` (`0:500`, `0+1:1000`), empty for none.
pub const POD_GPU_COLUMN: &str = "gpu_devices";

/// `pods.csv`: one row per pod the cluster stores, in creation order (every pod of a run
/// that keeps them; a run that releases ended pods writes theirs with [`pods::PodsCsv`]).
pub fn pods_csv(cluster: &ClusterState) -> std::io::Result<Vec<u8>> {
    pods::PodsCsv::new(Path::new("."), usize::MAX).to_bytes(cluster)
}
