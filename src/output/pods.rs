//! `pods.csv` (`--pods`): one row per pod, in creation (id) order, written as the pods end.
//!
//! A run that releases the storage of ended pods ([`crate::cluster::ClusterState::release_ended_pods`])
//! hands each ended pod's row to a [`PodsCsv`] the moment its storage goes. Pods end out of
//! id order, so the rows are held in a buffer; when it reaches its limit it is sorted by id
//! and spilled to a run file, and at the end of the run the runs, the buffer and the rows of
//! the pods still stored are merged by id into the file (an external merge sort), written
//! atomically like every other file. Memory is bounded by the buffer and one read buffer
//! per run; the bytes are those of the whole table rendered at once (each cell is encoded
//! as the `csv` crate encodes it inside a row).
//!
//! The optional columns (`terminating_s`, `disruption_target`, `gpu_devices`) are decided at
//! the end, as before: each row keeps them apart and the writer joins what the file has.

use crate::cluster::gpu::Assignment;
use crate::cluster::{ClusterState, Owner, Pod, PodId};
use std::collections::BinaryHeap;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Rows a [`PodsCsv`] holds before it spills them to a run file, by default.
pub const DEFAULT_BUFFER_ROWS: usize = 1 << 16;

/// Runs merged into one when their number reaches this (bounds the open files).
const MAX_RUNS: usize = 64;

/// One pod's row: its id, the eleven base cells, the two termination cells and the GPU
/// cell, each part already CSV-encoded (cells joined by commas, no line end).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodRow {
    pub id: u32,
    base: String,
    termination: String,
    gpu: String,
}

/// The bytes a [`csv::Writer`] wrote, taken after each record.
#[derive(Clone, Default)]
struct Shared(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Encodes cells as they appear inside a CSV row (`csv` crate, as every CSV of clustersim).
struct Encoder(csv::Writer<Shared>, Shared);

impl Encoder {
    fn new() -> Encoder {
        let out = Shared::default();
        // Flexible: the parts of a row have different numbers of cells.
        Encoder(csv::WriterBuilder::new().flexible(true).from_writer(out.clone()), out)
    }

    /// The cells joined as in a row of more than one cell (an empty single cell is written
    /// `""` alone on a line, so a lone cell is encoded after a placeholder and cut off).
    fn encode(&mut self, cells: &[String]) -> String {
        let lone = cells.len() == 1;
        let ok =
            if lone { self.0.write_record(["x", cells[0].as_str()]) } else { self.0.write_record(cells) };
        let _ = ok.and_then(|()| self.0.flush().map_err(csv::Error::from));
        let mut bytes = std::mem::take(&mut *self.1.0.borrow_mut());
        while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            bytes.pop();
        }
        let text = String::from_utf8(bytes).unwrap_or_default();
        if lone { text.get(2..).unwrap_or("").to_string() } else { text }
    }
}

/// The row of pod `id` (`gpu`: the devices it holds or held).
fn render(enc: &mut Encoder, cluster: &ClusterState, id: PodId, p: &Pod, gpu: Assignment) -> PodRow {
    let t =
        |x: Option<crate::engine::SimTime>| x.map_or(String::new(), |t| format!("{:.6}", t.as_secs_f64()));
    let tmpl = &cluster.templates[p.template.index()];
    let owner = match p.owner {
        Owner::Deployment(d) => format!("Deployment/{}", cluster.deployments[d.index()].name),
        Owner::Churn(_) => "Churn".to_string(),
        Owner::Trace(t) => format!("PodTrace/{}", cluster.trace_names[t.index()]),
        Owner::DaemonSet(d, _) => format!("DaemonSet/{}", cluster.daemon_sets[d.index()].name),
        Owner::Bare => String::new(),
    };
    let base = [
        id.0.to_string(),
        owner,
        tmpl.name.clone(),
        tmpl.priority.to_string(),
        p.phase.name().to_string(),
        p.node.map_or(String::new(), |n| cluster.node_name(n)),
        format!("{:.6}", p.created_at.as_secs_f64()),
        t(p.bound_at),
        t(p.running_at),
        t(p.finished_at),
        p.attempts.to_string(),
    ];
    let termination = [t(p.terminating_at), p.disruption.map_or(String::new(), |r| r.name().to_string())];
    PodRow {
        id: id.0,
        base: enc.encode(&base),
        termination: enc.encode(&termination),
        gpu: enc.encode(&[crate::cluster::gpu::describe(gpu)]),
    }
}

/// A spilled run: a file of rows sorted by id, removed when dropped.
struct Run {
    path: PathBuf,
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn write_str(w: &mut impl Write, s: &str) -> std::io::Result<()> {
    w.write_all(&(s.len() as u32).to_le_bytes())?;
    w.write_all(s.as_bytes())
}

fn write_row(w: &mut impl Write, r: &PodRow) -> std::io::Result<()> {
    w.write_all(&r.id.to_le_bytes())?;
    write_str(w, &r.base)?;
    write_str(w, &r.termination)?;
    write_str(w, &r.gpu)
}

fn read_u32(r: &mut impl Read) -> std::io::Result<Option<u32>> {
    let mut b = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        let n = r.read(&mut b[got..])?;
        if n == 0 {
            return if got == 0 {
                Ok(None)
            } else {
                Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "truncated pods.csv run"))
            };
        }
        got += n;
    }
    Ok(Some(u32::from_le_bytes(b)))
}

fn read_str(r: &mut impl Read) -> std::io::Result<String> {
    let len = read_u32(r)?
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "truncated pods.csv run"))?;
    let mut buf = vec![0u8; len as usize];
    r.read_exact(&mut buf)?;
    String::from_utf8(buf).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

fn read_row(r: &mut impl Read) -> std::io::Result<Option<PodRow>> {
    let Some(id) = read_u32(r)? else { return Ok(None) };
    Ok(Some(PodRow { id, base: read_str(r)?, termination: read_str(r)?, gpu: read_str(r)? }))
}

/// A sorted source of rows for the merge.
enum Source<'a> {
    File(BufReader<std::fs::File>),
    Rows(std::vec::IntoIter<PodRow>),
    Stored(Box<dyn Iterator<Item = PodRow> + 'a>),
}

impl Source<'_> {
    fn next_row(&mut self) -> std::io::Result<Option<PodRow>> {
        match self {
            Source::File(r) => read_row(r),
            Source::Rows(it) => Ok(it.next()),
            Source::Stored(it) => Ok(it.next()),
        }
    }
}

/// Merges sorted sources by id, handing each row to `out` in order.
fn merge(
    mut sources: Vec<Source<'_>>,
    mut out: impl FnMut(&PodRow) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut heads: Vec<Option<PodRow>> = Vec::with_capacity(sources.len());
    let mut heap = BinaryHeap::new();
    for (i, s) in sources.iter_mut().enumerate() {
        let head = s.next_row()?;
        if let Some(r) = &head {
            heap.push(std::cmp::Reverse((r.id, i)));
        }
        heads.push(head);
    }
    while let Some(std::cmp::Reverse((_, i))) = heap.pop() {
        if let Some(r) = heads[i].take() {
            out(&r)?;
        }
        let next = sources[i].next_row()?;
        if let Some(r) = &next {
            heap.push(std::cmp::Reverse((r.id, i)));
        }
        heads[i] = next;
    }
    Ok(())
}

/// `pods.csv` being written as the pods end; see the module docs.
pub struct PodsCsv {
    dir: PathBuf,
    limit: usize,
    buf: Vec<PodRow>,
    runs: Vec<Run>,
    seq: u64,
    enc: Encoder,
    /// The first failure to spill (the rows stay in memory; [`Self::write`] reports it).
    error: Option<String>,
    /// Rows spilled so far (for tests and figures).
    pub spilled_rows: u64,
}

impl std::fmt::Debug for PodsCsv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PodsCsv").field("dir", &self.dir).field("rows", &self.buf.len()).finish()
    }
}

impl PodsCsv {
    /// Spills go to hidden files in `dir` (the run's staging folder) once `limit` rows
    /// (at least 1) are held.
    pub fn new(dir: &Path, limit: usize) -> PodsCsv {
        PodsCsv {
            dir: dir.to_path_buf(),
            limit: limit.max(1),
            buf: Vec::new(),
            runs: Vec::new(),
            seq: 0,
            enc: Encoder::new(),
            error: None,
            spilled_rows: 0,
        }
    }

    /// Run files written so far and still to merge.
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    /// The row of a pod whose storage is being released.
    pub fn ended(&mut self, cluster: &ClusterState, id: PodId, pod: &Pod, gpu: Assignment) {
        let row = render(&mut self.enc, cluster, id, pod, gpu);
        self.buf.push(row);
        if self.buf.len() >= self.limit
            && self.error.is_none()
            && let Err(e) = self.spill()
        {
            self.error = Some(e.to_string());
        }
    }

    fn run_path(&mut self) -> PathBuf {
        self.seq += 1;
        self.dir.join(format!(".pods-run-{}-{}.tmp", std::process::id(), self.seq))
    }

    /// Sorts the buffer and writes it as a run; merges the runs into one when they are many.
    fn spill(&mut self) -> std::io::Result<()> {
        self.buf.sort_unstable_by_key(|r| r.id);
        let run = Run { path: self.run_path() };
        let mut w = BufWriter::new(std::fs::File::create(&run.path)?);
        for r in &self.buf {
            write_row(&mut w, r)?;
        }
        w.flush()?;
        self.spilled_rows += self.buf.len() as u64;
        self.buf.clear();
        self.runs.push(run);
        if self.runs.len() >= MAX_RUNS {
            let merged = Run { path: self.run_path() };
            let mut w = BufWriter::new(std::fs::File::create(&merged.path)?);
            let sources = self
                .runs
                .iter()
                .map(|r| std::fs::File::open(&r.path).map(|f| Source::File(BufReader::new(f))))
                .collect::<std::io::Result<Vec<_>>>()?;
            merge(sources, |r| write_row(&mut w, r))?;
            w.flush()?;
            self.runs.clear();
            self.runs.push(merged);
        }
        Ok(())
    }

    /// Writes the whole table to `w`: the ended pods' rows and those of the pods `cluster`
    /// still stores, in id order.
    pub fn write_to(mut self, cluster: &ClusterState, w: &mut dyn Write) -> std::io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(std::io::Error::other(format!("spilling pods.csv rows: {e}")));
        }
        let graceful = cluster.templates.iter().any(|t| t.graceful_termination);
        let gpus = cluster.gpu.any_devices();
        let mut header = super::POD_COLUMNS.to_vec();
        if graceful {
            header.extend(super::POD_TERMINATION_COLUMNS);
        }
        if gpus {
            header.push(super::POD_GPU_COLUMN);
        }
        let head: Vec<String> = header.iter().map(|h| h.to_string()).collect();
        let head = self.enc.encode(&head);
        let mut w = BufWriter::new(w);
        w.write_all(head.as_bytes())?;
        w.write_all(b"\n")?;
        let mut sources = self
            .runs
            .iter()
            .map(|r| std::fs::File::open(&r.path).map(|f| Source::File(BufReader::new(f))))
            .collect::<std::io::Result<Vec<_>>>()?;
        let mut buf = std::mem::take(&mut self.buf);
        buf.sort_unstable_by_key(|r| r.id);
        sources.push(Source::Rows(buf.into_iter()));
        let mut enc = Encoder::new();
        let stored = cluster
            .pods
            .iter()
            .map(move |(id, p)| render(&mut enc, cluster, id, p, cluster.gpu.assignment(id.index())));
        sources.push(Source::Stored(Box::new(stored)));
        merge(sources, |r| {
            w.write_all(r.base.as_bytes())?;
            if graceful {
                w.write_all(b",")?;
                w.write_all(r.termination.as_bytes())?;
            }
            if gpus {
                w.write_all(b",")?;
                w.write_all(r.gpu.as_bytes())?;
            }
            w.write_all(b"\n")
        })?;
        w.flush()
    }

    /// [`Self::write_to`] into `path`, atomically ([`super::write_atomic_with`]).
    pub fn write(self, cluster: &ClusterState, path: &Path) -> std::io::Result<()> {
        super::write_atomic_with(path, |w| self.write_to(cluster, w))
    }

    /// [`Self::write_to`] into memory.
    pub fn to_bytes(self, cluster: &ClusterState) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        self.write_to(cluster, &mut out)?;
        Ok(out)
    }
}
