//! Pod-trace replay: pods created from the rows of a CSV file as the run reaches their
//! arrival times (`podTraces[]`). The file was checked whole when the scenario was loaded
//! (`scenario::podtrace::check_file`, which also gave each distinct pod shape a template);
//! here it is read again row by row, one row ahead of the run, so memory follows the pods
//! created, not the file. A row arriving at `a` (trace clock) becomes `floor(k)` pods, plus
//! one more with probability `k − floor(k)` (`rateMultiplier`, from the replay's own
//! stream), created at `startAt + (a − first arrival − window.from) × timeScale`; each runs
//! for its duration × `durationScale` once Running, then Succeeds (no duration: it runs
//! until the end). Rows outside `window`, beyond `maxRows` or after the run's end make no
//! pods. A pod whose requests fit no node pool (or no node of its acceptable GPU models) is
//! still created, as Kubernetes would, and stays Pending: it is counted as never fitting.

use std::sync::Arc;

use crate::cluster::{ClusterState, NodePool, Owner, PodId, PodTemplate, TemplateId, TraceId};
use crate::cluster::{
    NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, PodRequests, SelectorOperator,
};
use crate::engine::{RngStream, SimDuration, SimTime};
use crate::scenario::FieldError;
use crate::scenario::podtrace::{self, PodRow, PodShape, PodTraceIndex, PriorityCell, RowReader};
use crate::scenario::schema::{InflationSpec, PodTraceSpec, PreemptionPolicySpec, PriorityClassSpec};
use crate::sim::{Ctx, Event, RunError};

/// Counts a replay reports in the summary.
#[derive(Clone, Debug, Default)]
pub struct ReplayStats {
    /// Rows that made pods (in the window, within `maxRows`, before the run's end).
    pub rows_replayed: u64,
    pub pods_created: u64,
    /// Pods whose requests fit no node pool (or no node of an acceptable GPU model).
    pub never_fit: u64,
}

/// Where the rows come from: the file (sorted traces) or rows sorted in memory.
enum Source {
    File(Box<RowReader>),
    Sorted(std::vec::IntoIter<PodRow>),
    Done,
}

pub struct PodReplay {
    pub name: String,
    id: TraceId,
    source: Source,
    /// The next row to replay and its time in the run.
    next: Option<(SimTime, PodRow)>,
    index: Arc<PodTraceIndex>,
    /// Template of shape k.
    templates: Vec<TemplateId>,
    /// Whether shape k fits some node pool.
    fits: Vec<bool>,
    origin_ns: i128,
    from_ns: i128,
    to_ns: Option<i128>,
    max_rows: u64,
    time_scale: f64,
    duration_scale: f64,
    rate_multiplier: f64,
    start_at: SimTime,
    end: SimTime,
    rng: RngStream,
    pub stats: ReplayStats,
    /// A read error in the run (the file changed after it was checked).
    pub error: Option<String>,
    /// With `inflation`: the allocation per 1 % of arrived GPU demand.
    pub inflation: Option<super::inflation::Recorder>,
    /// Its pods that Succeeded and whose storage was released (the cluster no longer
    /// stores them; [`summary`] adds them).
    pub released_succeeded: u64,
}

/// The GPU-model requirement of a shape on the node label.
fn gpu_model_requirement(models: &[Box<str>]) -> NodeSelectorRequirement {
    NodeSelectorRequirement {
        key: podtrace::GPU_MODEL_LABEL.to_string(),
        operator: SelectorOperator::In,
        values: models.iter().map(|m| m.to_string()).collect(),
    }
}

/// The template of a shape: the trace's template (`base`, whose requests as written are
/// `base_requests`: cpu and memory `None` when not given, GPU milli-units) with the row's
/// requests, priority and GPU models. A resource that neither the row nor the template
/// gives stays unspecified (the scorers' non-zero default applies, as upstream). The
/// labels only matter to the topology index, which is built from the scenario.
pub fn shape_template(
    name: String,
    base: &PodTemplate,
    base_requests: (Option<i64>, Option<i64>, i64),
    shape: &PodShape,
    classes: &[PriorityClassSpec],
) -> PodTemplate {
    let mut t = base.clone();
    t.name = name;
    t.requests = PodRequests::from_container(
        shape.cpu_milli.or(base_requests.0),
        shape.mem_bytes.or(base_requests.1),
        shape.gpu_milli.unwrap_or(base_requests.2),
    );
    match &shape.priority {
        Some(PriorityCell::Value(v)) => {
            t.priority = *v;
            t.preempt_never = false;
        }
        Some(PriorityCell::Class(c)) => {
            if let Some(class) = classes.get(*c as usize) {
                t.priority = class.value;
                t.preempt_never = class.preemption_policy == PreemptionPolicySpec::Never;
            }
        }
        None => {}
    }
    if !shape.gpu_models.is_empty() {
        let req = gpu_model_requirement(&shape.gpu_models);
        let required =
            t.placement.node_affinity.required_during_scheduling_ignored_during_execution.get_or_insert_with(
                || NodeSelector {
                    node_selector_terms: vec![NodeSelectorTerm { match_expressions: Vec::new() }],
                },
            );
        for term in &mut required.node_selector_terms {
            term.match_expressions.push(req.clone());
        }
    }
    t
}

/// True when a pod of `t` fits some pool's allocatable and passes its node selection by
/// labels on some of the pool's nodes (`pool_labels[p]`: the label sets of pool `p`'s nodes,
/// one per zone).
pub fn fits_some_pool(
    t: &PodTemplate,
    pools: &[NodePool],
    pool_labels: &[Vec<crate::cluster::Labels>],
) -> bool {
    pools.iter().zip(pool_labels).any(|(p, sets)| {
        t.requests.actual.fits_in(&p.allocatable)
            && sets
                .iter()
                .any(|labels| crate::scheduler::plugins::node_affinity::filter(labels, &t.placement))
    })
}

impl PodReplay {
    /// A replay of `spec` (`podTraces[i]`) over the checked `index`, whose shape k has
    /// template `templates[k]` and fits some pool when `fits[k]`. Opens the file and
    /// refuses one that changed since it was checked.
    #[allow(clippy::too_many_arguments)]
    pub fn open(
        id: TraceId,
        spec: &PodTraceSpec,
        index: Arc<PodTraceIndex>,
        classes: &[PriorityClassSpec],
        templates: Vec<TemplateId>,
        fits: Vec<bool>,
        end: SimTime,
        mut rng: RngStream,
        gpu_capacity_milli: i64,
    ) -> Result<PodReplay, RunError> {
        let path = index.path.clone();
        let file_error = |m: String| RunError::input(format!("podTraces[{}].file", id.0), m);
        let stamp = podtrace::stamp(&path)
            .map_err(|e| file_error(format!("{}: cannot read the file: {e}", path.display())))?;
        if stamp != index.stamp {
            return Err(file_error(format!(
                "{}: the file changed after the scenario was loaded (podTraces[{}] `{}`); load it again",
                path.display(),
                id.0,
                spec.name
            )));
        }
        let mut reader = RowReader::open(&path, spec, classes).map_err(|e| file_error(e.to_string()))?;
        let mut recorder = None;
        let source = if let Some(inf) = &spec.inflation {
            let rows = inflated_rows(
                id.0 as usize,
                spec,
                inf,
                &index,
                &mut reader,
                gpu_capacity_milli,
                end,
                &mut rng,
            )?;
            recorder = Some(super::inflation::Recorder::new(gpu_capacity_milli, inf.gpu_percent));
            Source::Sorted(rows.into_iter())
        } else if spec.sorted {
            Source::File(Box::new(reader))
        } else {
            let mut rows = Vec::with_capacity(usize::try_from(index.rows).unwrap_or(0));
            while let Some(r) = reader.next_row().map_err(|e| file_error(e.to_string()))? {
                rows.push(r);
            }
            rows.sort_by_key(|r| r.arrival_ns);
            Source::Sorted(rows.into_iter())
        };
        let window = spec
            .window
            .unwrap_or(crate::scenario::schema::TraceWindowSpec { from: Default::default(), to: None });
        let inflated = recorder.is_some();
        let mut r = PodReplay {
            name: spec.name.clone(),
            id,
            source,
            next: None,
            origin_ns: if inflated { 0 } else { index.first_arrival_ns },
            index,
            templates,
            fits,
            from_ns: i128::from(window.from.0.as_nanos()),
            to_ns: window.to.map(|t| i128::from(t.0.as_nanos())),
            max_rows: spec.max_rows,
            time_scale: spec.time_scale,
            duration_scale: spec.duration_scale,
            rate_multiplier: spec.rate_multiplier,
            start_at: SimTime::ZERO + spec.start_at.0,
            released_succeeded: 0,
            end,
            rng,
            stats: ReplayStats::default(),
            error: None,
            inflation: recorder,
        };
        if inflated {
            // The rows are already in arrival order from 0, each once.
            (r.from_ns, r.to_ns, r.max_rows, r.time_scale, r.rate_multiplier) = (0, None, 0, 1.0, 1.0);
        }
        r.advance();
        Ok(r)
    }

    fn read(&mut self) -> Option<PodRow> {
        let row = match &mut self.source {
            Source::File(reader) => match reader.next_row() {
                Ok(Some(row)) => Some(row),
                Ok(None) => None,
                Err(e) => {
                    self.error = Some(format!("{e} (the file changed after the scenario was loaded?)"));
                    None
                }
            },
            Source::Sorted(rows) => rows.next(),
            Source::Done => None,
        };
        if row.is_none() {
            self.source = Source::Done;
        }
        row
    }

    fn scale(ns: i128, k: f64) -> u64 {
        let ns = ns.max(0);
        if k == 1.0 {
            u64::try_from(ns).unwrap_or(u64::MAX)
        } else {
            let v = (ns as f64 * k).round();
            if v >= u64::MAX as f64 { u64::MAX } else { v as u64 }
        }
    }

    /// Reads up to the next row to replay and keeps it in `next`.
    fn advance(&mut self) {
        self.next = None;
        if self.max_rows > 0 && self.stats.rows_replayed >= self.max_rows {
            self.source = Source::Done;
            return;
        }
        while let Some(row) = self.read() {
            let offset = row.arrival_ns - self.origin_ns;
            if offset < self.from_ns {
                continue;
            }
            if self.to_ns.is_some_and(|to| offset >= to) {
                // Sorted: no later row is in the window.
                self.source = Source::Done;
                return;
            }
            let at = self.start_at + SimDuration(Self::scale(offset - self.from_ns, self.time_scale));
            if at >= self.end {
                self.source = Source::Done;
                return;
            }
            self.next = Some((at, row));
            return;
        }
    }

    /// With `inflation`: the attempt of one of its pods ended (`scheduled`, or deleted).
    pub fn attempted(
        &mut self,
        cluster: &ClusterState,
        scheduled: bool,
        frag: Option<crate::scheduler::plugins::gpushare::ClusterFragmentation>,
    ) {
        if let Some(rec) = &mut self.inflation {
            rec.attempted(cluster, scheduled, frag);
        }
    }

    /// Schedules the first arrival.
    pub fn arm(&mut self, ctx: &mut Ctx) {
        if let Some((at, _)) = &self.next {
            ctx.at(*at, Event::TraceArrival(self.id));
        }
    }

    /// `Event::TraceArrival`: creates the pods of every row arriving now (in file order)
    /// and schedules the next arrival.
    pub fn on_arrival(&mut self, cluster: &mut ClusterState, ctx: &mut Ctx) -> Vec<PodId> {
        let mut created = Vec::new();
        while let Some((at, _)) = &self.next {
            if *at > ctx.now {
                break;
            }
            let Some((_, row)) = self.next.take() else { break };
            self.stats.rows_replayed += 1;
            let Some(&shape) = self.index.by_shape.get(&row.shape) else {
                self.error = Some(format!(
                    "{}: a row (byte {}) has a pod shape the check did not see: the file changed after the scenario was loaded",
                    self.index.path.display(),
                    row.byte
                ));
                self.source = Source::Done;
                break;
            };
            let template = self.templates[shape as usize];
            let run_for =
                row.duration_ns.map(|d| SimDuration(Self::scale(i128::from(d), self.duration_scale)));
            let k = self.rate_multiplier;
            for _ in 0..crate::engine::rng::copies(&mut self.rng, k.floor() as u64, k - k.floor()) {
                let pod = cluster.create_pod(template, Owner::Trace(self.id), run_for, ctx.now);
                self.stats.pods_created += 1;
                if let Some(rec) = &mut self.inflation {
                    rec.arrived(cluster.templates[template.index()].requests.actual.gpu_milli);
                }
                if !self.fits[shape as usize] {
                    self.stats.never_fit += 1;
                }
                created.push(pod);
            }
            self.advance();
        }
        if let Some((at, _)) = &self.next {
            ctx.at(*at, Event::TraceArrival(self.id));
        }
        created
    }
}

/// The arrival sequence of `podTraces[ti]` (`spec`, with `inflation` `inf`): the rows of
/// `reader` (the first `maxRows`) arranged by the protocol (`inflation::arrange`, drawing
/// from `rng`) for a cluster of `capacity_milli` GPU milli at the start. Refuses, as bad
/// input, rows that cannot be arranged and a run that ends at `end` before the last pod
/// arrives (both depend on the seed).
#[allow(clippy::too_many_arguments)]
fn inflated_rows(
    ti: usize,
    spec: &PodTraceSpec,
    inf: &InflationSpec,
    index: &PodTraceIndex,
    reader: &mut RowReader,
    capacity_milli: i64,
    end: SimTime,
    rng: &mut RngStream,
) -> Result<Vec<PodRow>, FieldError> {
    let field = |f: &str, message: String| FieldError { path: format!("podTraces[{ti}].{f}"), message };
    let mut rows = Vec::with_capacity(usize::try_from(index.rows).unwrap_or(0));
    while let Some(r) = reader.next_row().map_err(|e| field("file", e.to_string()))? {
        if spec.max_rows > 0 && rows.len() as u64 >= spec.max_rows {
            break;
        }
        rows.push(r);
    }
    // (total milli, milli per GPU), by the device model's reading of the amount.
    let gpu_of = |r: &PodRow| {
        let all = r.shape.gpu_milli.unwrap_or(0);
        (all, crate::cluster::gpu::demand_of_milli(all).map_or(all, |d| i64::from(d.gpu_milli())))
    };
    let rows = super::inflation::arrange(
        rows,
        gpu_of,
        capacity_milli,
        inf.gpu_percent,
        inf.shuffle,
        inf.interval.0.as_nanos(),
        rng,
    )
    .map_err(|e| field("inflation", format!("`{}`: {e}", spec.name)))?;
    let needed = SimTime::ZERO
        + spec.start_at.0
        + SimDuration(inf.interval.0.as_nanos().saturating_mul(rows.len() as u64));
    if needed > end {
        let show = |t: SimTime| crate::scenario::duration::format_duration(t.saturating_since(SimTime::ZERO));
        return Err(FieldError {
            path: "duration".into(),
            message: format!(
                "{} is too short for podTraces[{ti}] `{}`: its inflation makes {} pods, one per {} from {}; \
                 expected a duration of at least {} (the number of pods depends on the seed)",
                show(end),
                spec.name,
                rows.len(),
                crate::scenario::duration::format_duration(inf.interval.0),
                crate::scenario::duration::format_duration(spec.start_at.0),
                show(needed),
            ),
        });
    }
    Ok(rows)
}

/// Checks the inflated pod traces of `s` for `seed` as a run would build them
/// ([`inflated_rows`]), without building it: reads each inflated trace once more.
/// `runner::load` calls it so that `run` and `validate` refuse a duration too short for the
/// scenario's own seed with the other input errors; other seeds (a sweep's replications)
/// are checked when their run is built.
pub fn check_inflation(s: &crate::scenario::Scenario, seed: u64) -> Result<(), FieldError> {
    // The GPUs at the start: every pool's initial nodes.
    let capacity: i64 = s
        .node_pools
        .iter()
        .map(|p| i64::from(p.count).saturating_mul(p.allocatable.gpu.0.saturating_mul(1000)))
        .sum();
    let end = SimTime::ZERO + s.duration.0;
    for (ti, t) in s.pod_traces.iter().enumerate() {
        let Some(inf) = &t.inflation else { continue };
        let Some(index) = s.inputs.pod_trace(s, ti) else { continue };
        let mut reader = RowReader::open(&index.path, t, &s.priority_classes)
            .map_err(|e| FieldError { path: format!("podTraces[{ti}].file"), message: e.to_string() })?;
        let mut rng = trace_rng(seed, ti);
        inflated_rows(ti, t, inf, index, &mut reader, capacity, end, &mut rng)?;
    }
    Ok(())
}

/// The random stream of pod trace `ti` (its shuffle and draws).
fn trace_rng(seed: u64, ti: usize) -> RngStream {
    crate::engine::rng::stream(seed, crate::engine::StreamId(crate::sim::streams::TRACE_BASE + ti as u64))
}

/// Builds the replays of `s.podTraces` onto `cluster` (each trace's shapes get templates
/// in order, after every other template) and schedules their first arrivals.
/// `pool_label_sets[p]`: the (zone, label set) of pool `p`'s nodes.
pub fn build(
    s: &crate::scenario::Scenario,
    seed: u64,
    cluster: &mut ClusterState,
    pool_label_sets: &[Vec<(u16, crate::cluster::LabelSetId)>],
    end: SimTime,
    ctx: &mut Ctx,
) -> Result<Vec<PodReplay>, RunError> {
    // The pools that have nodes or can get some (autoscaling), with their nodes' labels.
    let usable = |i: usize| s.node_pools.get(i).is_some_and(|p| p.count > 0 || p.autoscaling.is_some());
    let pools: Vec<NodePool> =
        cluster.pools.iter().enumerate().filter(|(i, _)| usable(*i)).map(|(_, p)| p.clone()).collect();
    let labels: Vec<Vec<crate::cluster::Labels>> = pool_label_sets
        .iter()
        .enumerate()
        .filter(|(i, _)| usable(*i))
        .map(|(_, sets)| sets.iter().map(|(_, l)| cluster.label_sets[l.index()].clone()).collect())
        .collect();
    let mut out = Vec::with_capacity(s.pod_traces.len());
    for (ti, t) in s.pod_traces.iter().enumerate() {
        let index =
            s.inputs.pod_trace(s, ti).cloned().ok_or_else(|| {
                format!("podTraces[{ti}]: the file {} was not read with the scenario", t.file)
            })?;
        let base =
            crate::sim::template_from_spec(format!("trace/{}", t.name), &t.template, &s.priority_classes);
        let base_requests = (
            t.template.requests.cpu.map(|q| q.0),
            t.template.requests.memory.map(|q| q.0),
            t.template.requests.gpu_milli(),
        );
        let mut templates = Vec::with_capacity(index.shapes.len());
        let mut fits = Vec::with_capacity(index.shapes.len());
        for (k, shape) in index.shapes.iter().enumerate() {
            let tmpl = shape_template(
                format!("trace/{}/{k}", t.name),
                &base,
                base_requests,
                shape,
                &s.priority_classes,
            );
            let mut tmpl = tmpl;
            tmpl.give_up_unschedulable = t.inflation.is_some();
            fits.push(fits_some_pool(&tmpl, &pools, &labels));
            templates.push(cluster.add_template(tmpl));
        }
        cluster.trace_names.push(t.name.clone());
        let id = TraceId(ti as u32);
        let rng = trace_rng(seed, ti);
        let capacity: i64 = cluster.nodes.iter().map(|n| n.allocatable.gpu_milli).sum();
        let mut r = PodReplay::open(id, t, index, &s.priority_classes, templates, fits, end, rng, capacity)?;
        r.arm(ctx);
        out.push(r);
    }
    Ok(out)
}

/// The summary columns of the replays: per trace, rows replayed, pods created, pods that
/// never fit, trace pods still Pending at the end, and trace pods that Succeeded.
pub fn summary(replays: &[PodReplay], cluster: &ClusterState) -> Vec<(String, crate::metrics::Cell)> {
    use crate::cluster::PodPhase;
    use crate::metrics::Cell;
    let mut pending = vec![0u64; replays.len()];
    let mut succeeded: Vec<u64> = replays.iter().map(|r| r.released_succeeded).collect();
    if !replays.is_empty() {
        for (_, p) in cluster.pods.iter() {
            if let Owner::Trace(t) = p.owner {
                match p.phase {
                    PodPhase::Pending => pending[t.index()] += 1,
                    PodPhase::Succeeded => succeeded[t.index()] += 1,
                    _ => {}
                }
            }
        }
    }
    let mut out = Vec::new();
    for (i, r) in replays.iter().enumerate() {
        let n = &r.name;
        out.push((format!("trace_{n}_rows"), Cell::Int(r.stats.rows_replayed)));
        out.push((format!("trace_{n}_pods_created"), Cell::Int(r.stats.pods_created)));
        out.push((format!("trace_{n}_pods_never_fit"), Cell::Int(r.stats.never_fit)));
        out.push((format!("trace_{n}_pods_pending_at_end"), Cell::Int(pending[i])));
        out.push((format!("trace_{n}_pods_succeeded"), Cell::Int(succeeded[i])));
        if let Some(rec) = &r.inflation {
            out.extend(rec.summary(n));
        }
    }
    out
}
