//! One chart model (lines or points, optional confidence bands or error bars, a legend)
//! drawn with plotters on either backend: PNG (pixels rasterised with the embedded font)
//! or SVG. Series differ by colour, dash pattern and marker shape, so one drawn exactly
//! over another leaves the other visible; ticks are chosen here, with labels precise
//! enough that adjacent ones always differ.

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::ops::Range;

/// Chart size in pixels, for PNG and SVG alike.
pub const WIDTH: u32 = 1000;
pub const HEIGHT: u32 = 600;

/// One series: `points` with `None` for missing values (the line breaks there), and an
/// optional band `(x, lo, hi)` shaded under it (error bars with [`Marks::Points`]).
#[derive(Debug, Clone, Default)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, Option<f64>)>,
    pub band: Vec<(f64, f64, f64)>,
}

impl Series {
    pub fn new(label: impl Into<String>, points: Vec<(f64, Option<f64>)>) -> Self {
        Series { label: label.into(), points, band: Vec::new() }
    }

    fn has_data(&self) -> bool {
        self.points.iter().any(|(_, y)| y.is_some())
    }
}

/// A chart of series against x.
#[derive(Debug, Clone)]
pub struct Chart {
    /// File stem under `charts/`.
    pub name: String,
    /// Full title, "<scenario>: <what>".
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Names of x = 0, 1, 2, … when the x axis is categorical.
    pub x_categories: Option<Vec<String>>,
    /// Start the y axis at 0 (counts, fractions) unless values go below it.
    pub y_from_zero: bool,
    /// Counts: ticks only at whole numbers.
    pub y_integer: bool,
    /// How the series are drawn.
    pub marks: Marks,
}

/// How a chart draws its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Marks {
    /// Lines (time series, CDFs).
    #[default]
    Lines,
    /// Lines with a marker at every point, e.g. a sweep's grid points (series of more than
    /// 60 points get none, as markers would hide the line).
    LinesAndMarkers,
    /// A marker at every point with the band as an error bar, and no line, the series side
    /// by side: for a categorical x axis, whose order means nothing.
    Points,
}

impl Chart {
    /// A chart with at least one value to draw (others are not written).
    pub fn has_data(&self) -> bool {
        self.series.iter().any(Series::has_data)
    }
}

/// Colours of the lines, in order (colour-blind-friendly "tableau 10").
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

const FONT: &str = "sans-serif";
const TITLE_PX: u32 = 26;
const LABEL_PX: u32 = 16;
const DESC_PX: u32 = 18;
const LEGEND_ROW_PX: f64 = 22.0;
/// The plotting area's height, roughly (the canvas less title, margins and x labels).
const PLOT_PX: f64 = HEIGHT as f64 - 140.0;

/// The most ticks (labelled grid lines) on the x and y axes.
const X_TICKS: usize = 10;
const Y_TICKS: usize = 8;

/// The spacing of "nice" ticks over `[lo, hi]`: 1, 2, 2.5 or 5 × 10^k, the smallest that
/// gives at most `max` intervals; at least 1 when `integer`.
fn nice_step(lo: f64, hi: f64, max: usize, integer: bool) -> Option<f64> {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return None;
    }
    let raw = span / max.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw * (1.0 - 1e-9))?;
    Some(if integer { step.max(1.0).round() } else { step })
}

/// The multiples of `step` in `[lo, hi]` (at most `cap`), without repeats.
fn multiples(lo: f64, hi: f64, step: f64, cap: usize) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::new();
    let mut k = (lo / step - 1e-9).ceil();
    while out.len() < cap {
        let v = k * step;
        if v > hi + step * 1e-9 || !v.is_finite() {
            break;
        }
        // Exact zero (not -0) so it prints as `0`.
        let v = if v.abs() < step * 1e-9 { 0.0 } else { v };
        if out.last().is_none_or(|l| *l < v) {
            out.push(v);
        }
        k += 1.0;
    }
    out
}

/// "Nice" tick positions (1, 2, 2.5 or 5 × 10^k apart) in `[lo, hi]`, at most about
/// `max + 1` of them; whole numbers only when `integer`.
pub fn nice_ticks(lo: f64, hi: f64, max: usize, integer: bool) -> Vec<f64> {
    match nice_step(lo, hi, max, integer) {
        Some(step) => multiples(lo, hi, step, max + 2),
        None if lo.is_finite() => vec![lo],
        None => Vec::new(),
    }
}

/// Light grid lines between the ticks: fifths of the tick spacing; on a whole-number axis
/// (counts) only at whole numbers: fifths when they are whole, else every 1, else none.
fn minor_ticks(lo: f64, hi: f64, max: usize, integer: bool) -> Vec<f64> {
    let Some(step) = nice_step(lo, hi, max, integer) else { return Vec::new() };
    let minor = if !integer || (step / 5.0).fract() == 0.0 {
        step / 5.0
    } else if step > 1.0 {
        1.0
    } else {
        return Vec::new();
    };
    multiples(lo, hi, minor, 5 * (max + 2))
}

/// How the tick labels of one axis are printed: fixed decimals, or scientific notation with
/// this many decimals in the mantissa. One format per axis, so labels line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TickFormat {
    Fixed(usize),
    Exp(usize),
}

/// A tick label in `format`.
pub fn format_tick(v: f64, format: TickFormat) -> String {
    let s = match format {
        TickFormat::Fixed(d) => format!("{v:.d$}"),
        TickFormat::Exp(_) if v == 0.0 => "0".to_string(),
        TickFormat::Exp(d) => format!("{v:.d$e}"),
    };
    // `-0.00` after rounding a tiny negative value.
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') { s[1..].to_string() } else { s }
}

/// The format for an axis with these ticks, chosen from the tick spacing: the fewest
/// decimals that print every tick distinctly and to within a thousandth of the spacing,
/// so that narrow ranges (availability at 0.99998–0.99999) get enough digits and adjacent
/// labels always differ. Fixed decimals while labels stay at most 10 characters, else
/// scientific notation.
pub fn tick_format(ticks: &[f64]) -> TickFormat {
    let v: Vec<f64> = ticks.iter().copied().filter(|t| t.is_finite()).collect();
    let max_abs = v.iter().fold(0.0f64, |a, t| a.max(t.abs()));
    let mut sorted = v.clone();
    sorted.sort_by(f64::total_cmp);
    let gap = sorted.windows(2).map(|w| w[1] - w[0]).filter(|g| *g > 0.0).fold(f64::INFINITY, f64::min);
    let tolerance = if gap.is_finite() { gap * 1e-3 } else { max_abs * 1e-9 };
    let fits = |f: TickFormat| {
        let labels: Vec<String> = v.iter().map(|t| format_tick(*t, f)).collect();
        let mut distinct = labels.clone();
        distinct.sort();
        distinct.dedup();
        distinct.len() == labels.len()
            && labels.iter().zip(&v).all(|(l, t)| l.parse::<f64>().is_ok_and(|p| (p - t).abs() <= tolerance))
            && (matches!(f, TickFormat::Exp(_))
                || labels.iter().all(|l| l.trim_start_matches('-').len() <= 10))
    };
    (0..=9)
        .map(TickFormat::Fixed)
        .chain((0..=15).map(TickFormat::Exp))
        .find(|f| fits(*f))
        .unwrap_or(TickFormat::Exp(15))
}

/// Labels for `ticks`, all in one [`tick_format`].
pub fn tick_labels(ticks: &[f64]) -> Vec<String> {
    let f = tick_format(ticks);
    ticks.iter().map(|t| format_tick(*t, f)).collect()
}

/// A numeric axis with the ticks chosen here: `major` labelled with bold grid lines,
/// `minor` with light ones.
struct TickedAxis {
    inner: RangedCoordf64,
    major: Vec<f64>,
    minor: Vec<f64>,
}

impl TickedAxis {
    fn new(lo: f64, hi: f64, major: Vec<f64>, minor: Vec<f64>) -> Self {
        TickedAxis { inner: (lo..hi).into(), major, minor }
    }
}

impl Ranged for TickedAxis {
    type ValueType = f64;
    // Labels come from the chart's formatters; this only satisfies plotters' bounds.
    type FormatOption = DefaultFormatting;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() { self.minor.clone() } else { self.major.clone() }
    }

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }
}

fn range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.filter(|v| v.is_finite()).fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// Dash patterns (dash, gap in pixels) of the series' lines, in order: the first is solid,
/// so a series drawn exactly over an earlier one leaves the earlier one showing in its gaps.
const DASHES: [Option<(u32, u32)>; 5] = [None, Some((10, 6)), Some((3, 4)), Some((18, 5)), Some((2, 7))];

/// Marker shapes, in order (with the colour and dash they tell the series apart).
const SHAPES: usize = 5;

/// Marker radius in pixels of series `i`: later series get smaller markers, so one drawn
/// over an earlier one at the same point leaves a ring of the earlier one showing.
fn marker_size(i: usize) -> i32 {
    7 - (i.min(3) as i32)
}

/// Series with more points than this get no markers (they would cover the line).
const MAX_MARKED_POINTS: usize = 60;

/// The outline of marker `shape` of `size` pixels, relative to its centre: a circle (a
/// 16-gon), triangle, square, diamond or inverted triangle.
fn shape_points(shape: usize, size: i32) -> Vec<(i32, i32)> {
    let r = f64::from(size);
    let round = |x: f64, y: f64| (x.round() as i32, y.round() as i32);
    let polygon = |corners: usize, start_deg: f64, radius: f64| -> Vec<(i32, i32)> {
        (0..corners)
            .map(|k| {
                let a = (start_deg + 360.0 * k as f64 / corners as f64).to_radians();
                round(radius * a.cos(), radius * a.sin())
            })
            .collect()
    };
    match shape % SHAPES {
        0 => polygon(16, 0.0, r),
        1 => polygon(3, -90.0, r * 1.15),
        2 => polygon(4, 45.0, r * 1.1),
        3 => polygon(4, 0.0, r * 1.2),
        _ => polygon(3, 90.0, r * 1.15),
    }
}

/// A series' sample in the legend, relative to its left end: a 24-pixel line
/// (`Some(dash)`, solid or with a shortened dash so it shows a gap) or an error bar
/// (`None`); and the marker outline, or without markers a sliver inside the first dash (so
/// that both cases are one element type). Returns (path, dash, gap, outline).
fn legend_sample(line: Option<Option<(u32, u32)>>, marker: Option<Vec<(i32, i32)>>) -> LegendSample {
    let (path, on, off) = match line {
        Some(None) => (vec![(0, 0), (24, 0)], 24, 1),
        Some(Some((on, off))) => (vec![(0, 0), (24, 0)], on.min(8), off.min(4)),
        None => (vec![(12, -7), (12, 7)], 14, 1),
    };
    let outline = marker.unwrap_or_else(|| vec![(0, -1), (on as i32, -1), (on as i32, 1), (0, 1)]);
    (path, on, off, outline)
}

type LegendSample = (Vec<(i32, i32)>, u32, u32, Vec<(i32, i32)>);

/// The horizontal offset of series `k` of `n` within a category (x = i ± 0.2), so points
/// of different series at one category sit side by side.
fn dodge(k: usize, n: usize) -> f64 {
    if n <= 1 {
        return 0.0;
    }
    let width = 0.4;
    -width / 2.0 + width * k as f64 / (n - 1) as f64
}

/// Room below the plot for vertical category names, and the most characters they keep.
const VERTICAL_LABEL_PX: u32 = 190;
const VERTICAL_LABEL_CHARS: usize = 22;

/// Whether category names written side by side would overlap: a label takes about 0.55 em
/// a character, the plot about 870 px of the canvas.
fn categories_overlap(c: &[String]) -> bool {
    let per_category = 870.0 / c.len().max(1) as f64;
    let widest = c.iter().map(|s| s.chars().count()).max().unwrap_or(0) as f64;
    widest * 0.55 * f64::from(LABEL_PX) + 8.0 > per_category
}

/// `s` cut to at most `max` characters by replacing its middle with `…`.
fn shorten_middle(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max || max < 3 {
        return s.to_string();
    }
    let head = (max - 1) / 2;
    let tail = max - 1 - head;
    let start: String = s.chars().take(head).collect();
    let end: String = s.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

/// Draws `chart` on `root`. Errors are rendering failures (bugs), as text.
pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("{}: {e}", chart.name);
    root.fill(&WHITE).map_err(err)?;

    let xs = chart.series.iter().flat_map(|s| {
        s.points.iter().filter(|(_, y)| y.is_some()).map(|(x, _)| *x).chain(s.band.iter().map(|b| b.0))
    });
    let (mut x0, mut x1) = range(xs).unwrap_or((0.0, 1.0));
    if let Some(c) = &chart.x_categories {
        x0 = -0.5;
        x1 = c.len().max(1) as f64 - 0.5;
    } else if x1 - x0 < 1e-12 {
        x0 -= 0.5;
        x1 += 0.5;
    }
    // Ticks over the data, before any room is made for the markers.
    let (x_ticks, x_minor) = match &chart.x_categories {
        Some(c) => ((0..c.len()).map(|i| i as f64).collect(), Vec::new()),
        None => (nice_ticks(x0, x1, X_TICKS, false), minor_ticks(x0, x1, X_TICKS, false)),
    };
    if chart.x_categories.is_none() && chart.marks != Marks::Lines {
        // Room for the markers at both ends.
        let pad = (x1 - x0) * 0.03;
        x0 -= pad;
        x1 += pad;
    }
    let ys = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().filter_map(|(_, y)| *y).chain(s.band.iter().flat_map(|b| [b.1, b.2])));
    let (mut y0, mut y1) = range(ys).unwrap_or((0.0, 1.0));
    if chart.y_from_zero && y0 >= 0.0 {
        y0 = 0.0;
    }
    if y1 - y0 < 1e-12 {
        let pad = if y1.abs() > 1e-12 { y1.abs() * 0.1 } else { 1.0 };
        y0 = if chart.y_from_zero && y0 >= 0.0 { 0.0 } else { y0 - pad };
        y1 += pad;
    }
    if chart.marks != Marks::Lines && !(chart.y_from_zero && y0 == 0.0) {
        // Room for the markers at the bottom (the legend's headroom is above).
        y0 -= (y1 - y0) * 0.03;
    }
    // Headroom above the data for the legend (top right), so it never hides a line.
    let legend_rows = chart.series.iter().filter(|s| s.has_data()).count() as f64;
    let legend_px = legend_rows * LEGEND_ROW_PX + 24.0;
    let data_frac = (1.0 - legend_px / PLOT_PX).clamp(0.35, 0.95);
    y1 = y0 + (y1 - y0) / data_frac;

    // Ticks chosen here (not by plotters) so that their labels can be made distinct.
    let y_ticks = nice_ticks(y0, y1, Y_TICKS, chart.y_integer);
    let y_minor = minor_ticks(y0, y1, Y_TICKS, chart.y_integer);
    let x_format = tick_format(&x_ticks);
    let y_format = tick_format(&y_ticks);

    // Category names that would overlap side by side are drawn vertically, shortened in
    // the middle (the start and the end tell categories apart) to fit below the plot.
    let vertical = chart.x_categories.as_ref().is_some_and(|c| categories_overlap(c));
    let x_label_area = if vertical { 58 + VERTICAL_LABEL_PX } else { 58 };
    let mut cc = ChartBuilder::on(root)
        .caption(&chart.title, (FONT, TITLE_PX))
        .margin(18)
        .x_label_area_size(x_label_area)
        .y_label_area_size(86)
        .build_cartesian_2d(
            TickedAxis::new(x0, x1, x_ticks, x_minor),
            TickedAxis::new(y0, y1, y_ticks, y_minor),
        )
        .map_err(err)?;

    let categories = chart.x_categories.clone();
    let x_fmt = move |v: &f64| match &categories {
        Some(c) => {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < c.len() {
                if vertical { String::new() } else { c[i as usize].clone() }
            } else {
                String::new()
            }
        }
        None => format_tick(*v, x_format),
    };
    let y_fmt = move |v: &f64| format_tick(*v, y_format);
    cc.configure_mesh()
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .label_style((FONT, LABEL_PX))
        .axis_desc_style((FONT, DESC_PX))
        .bold_line_style(RGBColor(225, 225, 225))
        .light_line_style(RGBColor(245, 245, 245))
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .draw()
        .map_err(err)?;
    if vertical && let Some(c) = &chart.x_categories {
        // Each name reads top to bottom from just below the axis, centred on its category.
        let style = (FONT, LABEL_PX)
            .into_font()
            .transform(FontTransform::Rotate90)
            .into_text_style(root)
            .pos(Pos::new(HPos::Left, VPos::Center));
        for (i, name) in c.iter().enumerate() {
            let (px, py) = cc.backend_coord(&(i as f64, y0));
            let text = Text::new(shorten_middle(name, VERTICAL_LABEL_CHARS), (px, py + 8), style.clone());
            root.draw(&text).map_err(err)?;
        }
    }

    let shown: Vec<&Series> = chart.series.iter().filter(|s| s.has_data()).collect();
    let n = shown.len();
    for (i, s) in shown.into_iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let dash = DASHES[i % DASHES.len()];
        let size = marker_size(i);
        let points_only = chart.marks == Marks::Points;
        let markers = match chart.marks {
            Marks::Lines => false,
            Marks::LinesAndMarkers => s.points.len() <= MAX_MARKED_POINTS,
            Marks::Points => true,
        };
        let outline = shape_points(i, size);
        let mark = |at: (f64, f64)| EmptyElement::at(at) + Polygon::new(outline.clone(), color.filled());
        if points_only {
            // Categorical x: a marker per point with its confidence interval as an error
            // bar, series side by side; no line (the order of categories means nothing).
            // Side by side on a categorical axis; on a numeric one x is a value, kept exact.
            let dx = if chart.x_categories.is_some() { dodge(i, n) } else { 0.0 };
            let stroke = color.stroke_width(2);
            for (x, y) in &s.points {
                if y.is_none() {
                    continue;
                }
                if let Some(&(_, lo, hi)) = s.band.iter().find(|b| b.0 == *x) {
                    let at = x + dx;
                    cc.draw_series(std::iter::once(PathElement::new(vec![(at, lo), (at, hi)], stroke)))
                        .map_err(err)?;
                    for end in [lo, hi] {
                        let cap =
                            EmptyElement::at((at, end)) + PathElement::new(vec![(-5, 0), (5, 0)], stroke);
                        cc.draw_series(std::iter::once(cap)).map_err(err)?;
                    }
                }
            }
            let pts: Vec<(f64, f64)> = s.points.iter().filter_map(|(x, y)| Some((x + dx, (*y)?))).collect();
            cc.draw_series(pts.into_iter().map(mark)).map_err(err)?;
        } else {
            if s.band.len() >= 2 {
                let mut poly: Vec<(f64, f64)> = s.band.iter().map(|b| (b.0, b.2)).collect();
                poly.extend(s.band.iter().rev().map(|b| (b.0, b.1)));
                cc.draw_series(std::iter::once(Polygon::new(poly, color.mix(0.18).filled()))).map_err(err)?;
            }
            for seg in segments(&s.points).into_iter().map(|seg| decimate(seg, MAX_SEGMENT_POINTS)) {
                // Thick lines join with mitres, which spike far out of the chart where a
                // dense line turns sharply; dense lines are drawn 1 pixel wide.
                let style = color.stroke_width(if seg.len() > DENSE_POINTS { 1 } else { 2 });
                // A dash is one SVG element: a long, jagged line is drawn solid.
                let dash = dash.filter(|_| pixel_length(&seg, (x0, x1), (y0, y1)) <= MAX_DASHED_PX);
                let dots = (seg.len() == 1 || markers).then(|| seg.clone());
                match dash {
                    _ if seg.len() == 1 => {}
                    None => {
                        cc.draw_series(LineSeries::new(seg, style)).map_err(err)?;
                    }
                    Some((on, off)) => {
                        cc.draw_series(DashedLineSeries::new(seg, on, off, style)).map_err(err)?;
                    }
                }
                if let Some(dots) = dots {
                    cc.draw_series(dots.into_iter().map(mark)).map_err(err)?;
                }
            }
        }
        let line = if points_only { None } else { Some(dash) };
        let marker = (markers || points_only).then_some((i, size));
        let legend_marker = marker.map(|(shape, size)| {
            shape_points(shape, size.min(6)).into_iter().map(|(x, y)| (x + 12, y)).collect()
        });
        cc.draw_series(std::iter::empty::<PathElement<(f64, f64)>>())
            .map_err(err)?
            .label(s.label.as_str())
            .legend(move |at| {
                let (path, on, off, outline) = legend_sample(line, legend_marker.clone());
                EmptyElement::at(at)
                    + DashedPathElement::new(path, on, off, color.stroke_width(3))
                    + Polygon::new(outline, color.filled())
            });
    }
    cc.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .margin(10)
        .label_font((FONT, LABEL_PX))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(180, 180, 180))
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// Above this many points a line is thinned for drawing (a 1000-pixel-wide chart shows no
/// more; the SVG stays small).
const MAX_SEGMENT_POINTS: usize = 2000;

/// Lines with more points than this are drawn thin (see `draw`).
const DENSE_POINTS: usize = 400;

/// Lines longer than this many pixels (roughly) are drawn solid rather than dashed.
const MAX_DASHED_PX: f64 = 20_000.0;

/// The length of `seg` in pixels, roughly (the plotting area is about 880 × 460 pixels).
fn pixel_length(seg: &[(f64, f64)], (x0, x1): (f64, f64), (y0, y1): (f64, f64)) -> f64 {
    let (sx, sy) = (880.0 / (x1 - x0).max(1e-300), 460.0 / (y1 - y0).max(1e-300));
    seg.windows(2).map(|w| ((w[1].0 - w[0].0) * sx).hypot((w[1].1 - w[0].1) * sy)).sum()
}

/// Thins `seg` to at most about `max` points: the x range is cut into `max / 2` buckets and
/// each keeps its lowest and highest point, in x order, so spikes stay visible.
fn decimate(seg: Vec<(f64, f64)>, max: usize) -> Vec<(f64, f64)> {
    if seg.len() <= max || max < 4 {
        return seg;
    }
    let buckets = max / 2;
    let per = seg.len().div_ceil(buckets);
    let mut out = Vec::with_capacity(max + 2);
    for chunk in seg.chunks(per) {
        let lo = chunk.iter().enumerate().min_by(|a, b| a.1.1.total_cmp(&b.1.1)).map(|(i, _)| i).unwrap_or(0);
        let hi = chunk.iter().enumerate().max_by(|a, b| a.1.1.total_cmp(&b.1.1)).map(|(i, _)| i).unwrap_or(0);
        let (a, b) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        out.push(chunk[a]);
        if b != a {
            out.push(chunk[b]);
        }
    }
    out
}

/// Runs of consecutive present points.
fn segments(points: &[(f64, Option<f64>)]) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for (x, y) in points {
        match y {
            Some(y) if x.is_finite() => cur.push((*x, *y)),
            _ => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The chart as a PNG file's bytes.
pub fn png(chart: &Chart) -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, chart)?;
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(|e| format!("{}: PNG: {e}", chart.name))?;
        w.write_image_data(&buf).map_err(|e| format!("{}: PNG: {e}", chart.name))?;
        w.finish().map_err(|e| format!("{}: PNG: {e}", chart.name))?;
    }
    Ok(out)
}

/// The chart as an SVG document.
pub fn svg(chart: &Chart) -> Result<String, String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, chart)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_category_names_turn_vertical_and_keep_both_ends() {
        let short: Vec<String> = ["LeastAllocated", "MostAllocated"].map(String::from).to_vec();
        assert!(!categories_overlap(&short));
        let long: Vec<String> =
            (0..16).map(|i| format!("zone-DoNotSchedule-Honor+host-anti-affinity/{i}")).collect();
        assert!(categories_overlap(&long));
        assert_eq!(shorten_middle("zone-DoNotSchedule-Honor/List", 22), "zone-DoNot…-Honor/List");
        assert_eq!(shorten_middle("none/List", 22), "none/List");
        assert_eq!(shorten_middle("zone-DoNotSchedule-Honor/List", 22).chars().count(), 22);
    }

    #[test]
    fn ticks_are_nice_and_labels_short() {
        assert_eq!(nice_ticks(0.0, 10.0, 10, false), (0..=10).map(f64::from).collect::<Vec<_>>());
        assert_eq!(nice_ticks(0.0, 1.0, 8, false), vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]);
        assert_eq!(tick_labels(&nice_ticks(0.0, 1.0, 8, false)), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        assert_eq!(
            tick_labels(&nice_ticks(0.0, 5000.0, 8, false)),
            ["0", "1000", "2000", "3000", "4000", "5000"]
        );
        assert_eq!(tick_labels(&nice_ticks(-1.0, 1.0, 4, false)), ["-1.0", "-0.5", "0.0", "0.5", "1.0"]);
        assert_eq!(tick_labels(&[0.0, 0.25, 0.5]), ["0.00", "0.25", "0.50"]);
        assert_eq!(tick_labels(&[0.001, 0.0015, 0.002]), ["0.0010", "0.0015", "0.0020"]);
        assert_eq!(tick_labels(&[1e9, 2e9, 3e9]), ["1000000000", "2000000000", "3000000000"]);
        assert_eq!(tick_labels(&[1e12, 2e12]), ["1e12", "2e12"]);
        assert_eq!(tick_labels(&[0.0, 2e14, 4e14]), ["0", "2e14", "4e14"]);
        assert_eq!(tick_labels(&[1.5e14, 2e14, 2.5e14]), ["1.5e14", "2.0e14", "2.5e14"]);
        assert_eq!(tick_labels(&[1e-9, 2e-9]), ["1e-9", "2e-9"]);
        // Counts: whole-number steps only.
        assert_eq!(nice_ticks(0.0, 3.0, 8, true), vec![0.0, 1.0, 2.0, 3.0]);
        assert!(minor_ticks(0.0, 3.0, 8, true).is_empty());
        assert_eq!(minor_ticks(0.0, 12.0, 8, true), (0..=12).map(f64::from).collect::<Vec<_>>());
        assert!(minor_ticks(0.0, 100.0, 8, true).iter().all(|v| v.fract() == 0.0));
        assert_eq!(nice_ticks(2.0, 2.0, 8, false), vec![2.0]);
        assert!(nice_ticks(f64::NAN, 1.0, 8, false).is_empty());
    }

    #[test]
    fn narrow_ranges_get_enough_decimals() {
        for (lo, hi) in
            [(0.99998, 0.99999), (0.99990, 1.00002), (0.999999, 0.9999995), (12345.6781, 12345.6789)]
        {
            let ticks = nice_ticks(lo, hi, 8, false);
            assert!(ticks.len() >= 3, "{lo}..{hi}: {ticks:?}");
            let labels = tick_labels(&ticks);
            let mut distinct = labels.clone();
            distinct.dedup();
            assert_eq!(distinct, labels, "{lo}..{hi}");
            for (l, t) in labels.iter().zip(&ticks) {
                assert!((l.parse::<f64>().expect("number") - t).abs() < (hi - lo) / 100.0, "{l} for {t}");
            }
        }
        assert_eq!(tick_labels(&nice_ticks(0.99998, 0.99999, 8, false))[0], "0.999980");
    }

    #[test]
    fn decimation_keeps_spikes_and_bounds_the_points() {
        let mut seg: Vec<(f64, f64)> = (0..100_000).map(|i| (i as f64, 1.0)).collect();
        seg[54_321].1 = 50.0;
        let d = decimate(seg, MAX_SEGMENT_POINTS);
        assert!(d.len() <= MAX_SEGMENT_POINTS, "{}", d.len());
        assert!(d.contains(&(54_321.0, 50.0)), "the spike survives");
        assert!(d.windows(2).all(|w| w[0].0 < w[1].0), "x order");
        assert_eq!(decimate(vec![(0.0, 1.0), (1.0, 2.0)], 4000).len(), 2);
    }

    #[test]
    fn segments_break_at_gaps() {
        let s = segments(&[(0.0, Some(1.0)), (1.0, None), (2.0, Some(2.0)), (3.0, Some(3.0))]);
        assert_eq!(s, vec![vec![(0.0, 1.0)], vec![(2.0, 2.0), (3.0, 3.0)]]);
    }
}
