//! One chart model (lines, optional confidence bands, a legend) drawn with plotters on
//! either backend: PNG (pixels rasterised with the embedded font) or SVG.

use plotters::coord::Shift;
use plotters::prelude::*;

/// Chart size in pixels, for PNG and SVG alike.
pub const WIDTH: u32 = 1000;
pub const HEIGHT: u32 = 600;

/// One line: `points` with `None` for missing values (the line breaks there), and an
/// optional band `(x, lo, hi)` shaded under it.
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

/// A line chart.
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
    /// Counts: label only the integer ticks.
    pub y_integer: bool,
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

/// Tick label: integers as such, other values with up to 3 significant decimals.
pub fn tick(v: f64) -> String {
    if v == 0.0 {
        return "0".to_string();
    }
    let a = v.abs();
    if !(1e-4..1e7).contains(&a) {
        return format!("{v:.1e}");
    }
    if (v - v.round()).abs() < 1e-9 * a.max(1.0) {
        return format!("{}", v.round() as i64);
    }
    let decimals = if a >= 100.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        (3 - a.log10().floor() as i32).clamp(2, 6) as usize
    };
    let s = format!("{v:.decimals$}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

fn range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.filter(|v| v.is_finite()).fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
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
    // Headroom above the data for the legend (top right), so it never hides a line.
    let legend_rows = chart.series.iter().filter(|s| s.has_data()).count() as f64;
    let legend_px = legend_rows * LEGEND_ROW_PX + 24.0;
    let data_frac = (1.0 - legend_px / PLOT_PX).clamp(0.35, 0.95);
    y1 = y0 + (y1 - y0) / data_frac;

    let mut cc = ChartBuilder::on(root)
        .caption(&chart.title, (FONT, TITLE_PX))
        .margin(18)
        .x_label_area_size(58)
        .y_label_area_size(86)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(err)?;

    let categories = chart.x_categories.clone();
    let x_fmt = move |v: &f64| match &categories {
        Some(c) => {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < c.len() {
                c[i as usize].clone()
            } else {
                String::new()
            }
        }
        None => tick(*v),
    };
    let y_integer = chart.y_integer;
    let y_fmt = move |v: &f64| {
        if y_integer && (v - v.round()).abs() > 1e-9 { String::new() } else { tick(*v) }
    };
    let mut mesh = cc.configure_mesh();
    mesh.x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .label_style((FONT, LABEL_PX))
        .axis_desc_style((FONT, DESC_PX))
        .bold_line_style(RGBColor(225, 225, 225))
        .light_line_style(RGBColor(245, 245, 245))
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .y_labels(8);
    match &chart.x_categories {
        Some(c) => {
            mesh.x_labels(c.len().max(1));
        }
        None => {
            mesh.x_labels(10);
        }
    }
    mesh.draw().map_err(err)?;

    for (i, s) in chart.series.iter().filter(|s| s.has_data()).enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        if s.band.len() >= 2 {
            let mut poly: Vec<(f64, f64)> = s.band.iter().map(|b| (b.0, b.2)).collect();
            poly.extend(s.band.iter().rev().map(|b| (b.0, b.1)));
            cc.draw_series(std::iter::once(Polygon::new(poly, color.mix(0.18).filled()))).map_err(err)?;
        }
        let mut labelled = false;
        for seg in segments(&s.points).into_iter().map(|seg| decimate(seg, MAX_SEGMENT_POINTS)) {
            // Thick lines join with mitres, which spike far out of the chart where a dense
            // line turns sharply; dense lines are drawn 1 pixel wide.
            let style = color.stroke_width(if seg.len() > DENSE_POINTS { 1 } else { 2 });
            let ann = if seg.len() == 1 {
                cc.draw_series(seg.iter().map(|p| Circle::new(*p, 3, color.filled()))).map_err(err)?
            } else {
                cc.draw_series(LineSeries::new(seg, style)).map_err(err)?
            };
            if !labelled {
                ann.label(s.label.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3)));
                labelled = true;
            }
        }
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
    fn ticks_are_short() {
        assert_eq!(tick(0.0), "0");
        assert_eq!(tick(5000.0), "5000");
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(0.30000000000000004), "0.3");
        assert_eq!(tick(12.5), "12.5");
        assert_eq!(tick(-3.0), "-3");
        assert_eq!(tick(0.0015), "0.0015");
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
