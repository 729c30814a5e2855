//! Charts and index.html: `run` draws them (unless --no-charts), `plot` redraws a folder
//! and sweep points; every chart is a PNG and an SVG of 1000 × 600 that is not blank.

mod common;
mod pngcheck;
use common::*;
use std::path::Path;

/// A small cluster with a service, so every time-series chart has data.
const WITH_SERVICE: &str = "\
name: tiny-web
duration: 10m
sampleInterval: 15s
nodePools:
  - name: pool
    count: 2
    allocatable: {cpu: 8, memory: 16Gi}
deployments:
  - name: web
    replicas: 3
    template:
      requests: {cpu: 500m, memory: 1Gi}
    service:
      concurrency: 2
      serviceTime: {exponential: {mean: 40ms}}
      load: {poisson: {rate: 40}}
";

/// Checks `charts/<name>.png` and `.svg` in `out`: right size, not blank, titled.
fn check_chart(out: &Path, name: &str, title: &str) {
    let png = out.join("charts").join(format!("{name}.png"));
    let pic = pngcheck::decode(&png);
    assert_eq!((pic.width, pic.height), (1000, 600), "{}", png.display());
    assert!(pic.colours() > 20, "{}: only {} colours", png.display(), pic.colours());
    assert!(pic.ink() > 0.01, "{}: {:.4} of the pixels drawn", png.display(), pic.ink());

    let svg_path = out.join("charts").join(format!("{name}.svg"));
    let svg = std::fs::read_to_string(&svg_path).expect("svg");
    assert!(svg.starts_with("<svg"), "{}", svg_path.display());
    assert!(svg.contains("width=\"1000\"") && svg.contains("height=\"600\""), "{}", svg_path.display());
    assert!(svg.trim_end().ends_with("</svg>"), "{}", svg_path.display());
    assert!(svg.contains("<text") && svg.contains(title), "{}: no title {title:?}", svg_path.display());
    assert!(svg.contains("<polyline") || svg.contains("<path"), "{}: no line", svg_path.display());
}

#[test]
fn run_draws_every_chart_and_the_report() {
    let (_dir, out) = run_yaml(WITH_SERVICE, &[]);
    let cdf = std::fs::read_to_string(out.join("startup-cdf.csv")).expect("startup-cdf.csv");
    let lines: Vec<&str> = cdf.lines().collect();
    assert_eq!(lines[0], "quantile,seconds");
    assert_eq!(lines.len(), 102, "quantiles 0.00 … 1.00");
    assert!(lines[1].starts_with("0.00,") && lines[101].starts_with("1.00,"));

    for (name, what) in [
        ("pods", "pods"),
        ("nodes", "nodes"),
        ("allocation", "allocation"),
        ("scheduling-throughput", "scheduling throughput"),
        ("cost", "cost"),
        ("requests", "request rate"),
        ("latency", "request latency"),
        ("utilisation", "service utilisation"),
        ("replicas", "replicas"),
        ("startup-cdf", "pod start-up latency"),
    ] {
        check_chart(&out, name, &format!("tiny-web: {what}"));
    }
    let svg = std::fs::read_to_string(out.join("charts/latency.svg")).expect("svg");
    assert!(svg.contains("latency (ms)") && svg.contains("time (s)"), "axis labels with units");
    assert!(svg.contains("p99"), "a legend");

    let html = std::fs::read_to_string(out.join("index.html")).expect("index.html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<h1>tiny-web</h1>"));
    assert!(html.contains("<td>pods_running_end</td><td class=\"n\">3</td>"), "the summary table");
    for entry in std::fs::read_dir(out.join("charts")).expect("charts/") {
        let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".png") {
            assert!(html.contains(&format!("<img src=\"charts/{stem}.png\"")), "{name} is in index.html");
        }
    }
    assert!(!html.contains("http:") && !html.contains("https:"), "no external resources");
}

#[test]
fn no_charts_draws_nothing_and_plot_draws_the_same_bytes_again() {
    let (_dir, out) = run_yaml(VALID, &["--no-charts"]);
    assert!(!out.join("charts").exists() && !out.join("index.html").exists());
    let first = run_in(out.parent().expect("parent"), &["plot", "out"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    check_chart(&out, "pods", "tiny: pods");
    assert!(!out.join("charts/latency.png").exists(), "no service, no latency chart");
    let bytes = std::fs::read(out.join("charts/pods.png")).expect("png");
    let svg = std::fs::read(out.join("charts/pods.svg")).expect("svg");
    let again = run_in(out.parent().expect("parent"), &["plot", "out"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(bytes, std::fs::read(out.join("charts/pods.png")).expect("png"), "deterministic PNG");
    assert_eq!(svg, std::fs::read(out.join("charts/pods.svg")).expect("svg"), "deterministic SVG");
}

const POINTS: &str = "\
parameter_nodePools.0.count,parameter_scheduler.scoringStrategy,replications,latency_p99_ms_mean,latency_p99_ms_sd,latency_p99_ms_ci95_lo,latency_p99_ms_ci95_hi,cost_mean,cost_sd,cost_ci95_lo,cost_ci95_hi
10,LeastAllocated,5,250,20,225,275,10,0.5,9.4,10.6
20,LeastAllocated,5,120,10,108,132,20,0.5,19.4,20.6
40,LeastAllocated,5,80,5,74,86,40,0.5,39.4,40.6
10,MostAllocated,5,300,30,263,337,9,0.5,8.4,9.6
20,MostAllocated,5,140,12,125,155,18,0.5,17.4,18.6
40,MostAllocated,5,90,6,83,97,36,0.5,35.4,36.6
";

#[test]
fn sweep_points_give_curves_with_bands_one_line_per_second_parameter() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("points.csv"), POINTS).expect("write");
    std::fs::write(dir.path().join("sweep.json"), r#"{"scenario": {"name": "capacity"}}"#).expect("write");
    let o = run_in(dir.path(), &["plot", "."]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    check_chart(dir.path(), "sweep-latency_p99_ms", "capacity: latency_p99_ms against nodePools.0.count");
    check_chart(dir.path(), "sweep-cost", "capacity: cost against nodePools.0.count");
    let svg = std::fs::read_to_string(dir.path().join("charts/sweep-cost.svg")).expect("svg");
    assert!(svg.contains("scheduler.scoringStrategy=MostAllocated"), "one line per second parameter");
    assert!(svg.contains("<polygon"), "a confidence band");
    let html = std::fs::read_to_string(dir.path().join("index.html")).expect("index.html");
    assert!(html.contains("<h2>Sweep points</h2>") && html.contains("250 [225, 275]"));

    // --metric picks the charts; an unknown one is bad input.
    let dir2 = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir2.path().join("points.csv"), POINTS).expect("write");
    let o = run_in(dir2.path(), &["plot", ".", "--metric", "cost"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(dir2.path().join("charts/sweep-cost.png").exists());
    assert!(!dir2.path().join("charts/sweep-latency_p99_ms.png").exists());
    let o = run_in(dir2.path(), &["plot", ".", "--metric", "nope"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("--metric nope") && o.stderr.contains("latency_p99_ms, cost"), "{}", o.stderr);
}

#[test]
fn a_sweep_of_replications_only_gives_each_metrics_distribution() {
    let dir = tempfile::tempdir().expect("temp dir");
    let points = "replications,cost_mean,cost_sd,cost_ci95_lo,cost_ci95_hi\n5,3,1.58,1.04,4.96\n";
    let runs = "replication,seed,cost\n0,1,3\n1,2,5\n2,3,1\n3,4,4\n4,5,2\n";
    std::fs::write(dir.path().join("points.csv"), points).expect("write");
    std::fs::write(dir.path().join("runs.csv"), runs).expect("write");
    std::fs::write(dir.path().join("sweep.json"), r#"{"scenario": {"name": "reps"}}"#).expect("write");
    let o = run_in(dir.path(), &["plot", "."]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    check_chart(dir.path(), "sweep-dist-cost", "reps: distribution over 5 runs");
    assert!(!dir.path().join("charts/sweep-cost.png").exists(), "no curve without a parameter");
    let html = std::fs::read_to_string(dir.path().join("index.html")).expect("index.html");
    assert!(html.contains("sweep-dist-cost") && html.contains("runs.csv"), "{html}");
}

#[test]
fn a_startup_cdf_file_alone_gives_its_chart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rows: String =
        (0..=100).map(|i| format!("{:.2},{:.6}\n", i as f64 / 100.0, 2.0 + (i as f64).sqrt())).collect();
    std::fs::write(dir.path().join("startup-cdf.csv"), format!("quantile,seconds\n{rows}")).expect("write");
    let o = run_in(dir.path(), &["plot", "."]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let name =
        dir.path().canonicalize().expect("path").file_name().expect("name").to_string_lossy().into_owned();
    check_chart(dir.path(), "startup-cdf", &format!("{name}: pod start-up latency"));
}

#[test]
fn plot_without_results_is_bad_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let o = run_in(dir.path(), &["plot", "."]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("no results to plot"), "{}", o.stderr);
    let o = run_in(dir.path(), &["plot", "missing"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("missing: no results to plot"), "{}", o.stderr);

    std::fs::write(dir.path().join("timeseries.csv"), "a,b\n1,2\n").expect("write");
    let o = run_in(dir.path(), &["plot", "."]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("timeseries.csv: no time_s column"), "{}", o.stderr);
    let o = run_in(dir.path(), &["plot", ".", "--metric", "cost"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("no points.csv"), "{}", o.stderr);
}

/// Writes `points` as `points.csv` in a new folder, runs `plot .` and returns the folder.
fn plot_points(points: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("points.csv"), points).expect("write");
    std::fs::write(dir.path().join("sweep.json"), r#"{"scenario": {"name": "s"}}"#).expect("write");
    let o = run_in(dir.path(), &["plot", "."]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    dir
}

/// The texts of an SVG's `<text>` elements.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| Some(t.split_once('>')?.1.split_once("</text>")?.0.trim().to_string()))
        .collect()
}

/// The point lists of an SVG's `<polyline>` elements.
fn svg_polylines(svg: &str) -> Vec<Vec<(f64, f64)>> {
    svg.split("<polyline")
        .skip(1)
        .filter_map(|p| {
            let pts = p.split_once("points=\"")?.1.split_once('"')?.0;
            Some(
                pts.split_whitespace()
                    .filter_map(|xy| {
                        let (x, y) = xy.split_once(',')?;
                        Some((x.parse().ok()?, y.parse().ok()?))
                    })
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn tick_labels_stay_distinct_at_five_nines() {
    // Availability between 0.99998 and 0.99999: every tick label must differ from its
    // neighbours (none may round to `1`).
    let dir = plot_points(
        "parameter_nodePools.0.count,replications,availability_mean,availability_ci95_lo,availability_ci95_hi\n\
         10,3,0.999980,0.999979,0.999981\n20,3,0.999985,0.999984,0.999986\n30,3,0.999990,0.999989,0.999991\n",
    );
    let svg = std::fs::read_to_string(dir.path().join("charts/sweep-availability.svg")).expect("svg");
    let numeric: Vec<String> = svg_texts(&svg).into_iter().filter(|t| t.parse::<f64>().is_ok()).collect();
    let y: Vec<&String> = numeric.iter().filter(|t| t.starts_with("0.9") || t.starts_with('1')).collect();
    assert!(y.len() >= 3, "y tick labels: {numeric:?}");
    let distinct: std::collections::BTreeSet<&String> = numeric.iter().collect();
    assert_eq!(distinct.len(), numeric.len(), "repeated tick labels: {numeric:?}");
    assert!(y.iter().any(|t| t.starts_with("0.99998")), "readable at 5 nines: {y:?}");
}

#[test]
fn a_categorical_first_parameter_is_drawn_as_points_with_error_bars() {
    let dir = plot_points(
        "parameter_scheduler.scoringStrategy,replications,cost_mean,cost_ci95_lo,cost_ci95_hi\n\
         LeastAllocated,3,10,9,11\nMostAllocated,3,8,7,9\nBalanced,3,12,11,13\n",
    );
    let svg = std::fs::read_to_string(dir.path().join("charts/sweep-cost.svg")).expect("svg");
    let lines = svg_polylines(&svg);
    assert!(lines.iter().all(|l| l.len() <= 2), "no line joins categories: {lines:?}");
    // Error bars: vertical segments longer than a tick mark and shorter than the y axis.
    let vertical: Vec<f64> =
        lines.iter().filter(|l| l.len() == 2 && l[0].0 == l[1].0).map(|l| (l[0].1 - l[1].1).abs()).collect();
    let axis = vertical.iter().copied().fold(0.0, f64::max);
    let bars = vertical.iter().filter(|&&h| h >= 8.0 && h < axis).count();
    assert!(bars >= 3, "one error bar per category: {lines:?}");
    assert!(svg_texts(&svg).iter().any(|t| t == "Balanced"), "category names on the x axis");
}

#[test]
fn sweep_lines_mark_their_grid_points() {
    let dir = plot_points(POINTS);
    let svg = std::fs::read_to_string(dir.path().join("charts/sweep-cost.svg")).expect("svg");
    // Two series of three points each: six markers (circles, polygons or rects).
    let markers =
        svg.matches("<circle").count() + svg.matches("<rect").count() + svg.matches("<polygon").count();
    assert!(markers >= 6 + 2, "markers at the grid points: {markers}");
}

#[test]
fn a_series_exactly_under_another_stays_visible() {
    // Both scoring strategies give the same numbers: the first line must still show.
    let same = "\
parameter_nodePools.0.count,parameter_scheduler.scoringStrategy,replications,cost_mean
10,LeastAllocated,2,10
20,LeastAllocated,2,20
30,LeastAllocated,2,15
10,MostAllocated,2,10
20,MostAllocated,2,20
30,MostAllocated,2,15
";
    let dir = plot_points(same);
    let pic = pngcheck::decode(&dir.path().join("charts/sweep-cost.png"));
    let count = |c: [u8; 4]| pic.pixels.iter().filter(|p| **p == c).count();
    let first = count([31, 119, 180, 255]);
    let second = count([255, 127, 14, 255]);
    assert!(second > 300, "the second line is drawn ({second} pixels)");
    assert!(first > 300, "the first line shows under the second ({first} pixels of its colour)");
}

#[test]
fn categorical_parameters_are_told_from_numeric_ones() {
    use clustersim::charts::sweep::numeric_values;
    let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(numeric_values(&v(&["10", "20", "0.5", "1e3"])), Some(vec![10.0, 20.0, 0.5, 1000.0]));
    for categorical in [
        &["LeastAllocated", "MostAllocated"][..],
        &["1h", "2h"],
        &["500m", "1"],
        &["true", "false"],
        &["nan"],
    ] {
        assert_eq!(numeric_values(&v(categorical)), None, "{categorical:?}");
    }
}
