//! Latency plots: the cumulative distribution of each daemon's samples, as PNG.
//!
//! plotters is used with its bitmap backend only: its text features need system font
//! libraries, so the plot carries no text; the report states the axes and colours.

use std::path::Path;

use plotters::prelude::*;

pub const WIDTH: u32 = 640;
pub const HEIGHT: u32 = 360;
const MARGIN: i32 = 20;

/// A grid step of 1, 2 or 5 × 10^k giving at most about 10 lines up to `max`.
pub fn grid_step(max: f64) -> f64 {
    if max.is_nan() || max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let raw = max / 10.0;
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
}

/// Points of the empirical CDF of `samples` scaled to the plot area (x 0..=x_max).
pub fn cdf_points(samples: &[f64], x_max: f64, w: i32, h: i32) -> Vec<(i32, i32)> {
    let mut v: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let n = v.len() as f64;
    let x = |val: f64| MARGIN + ((val / x_max).clamp(0.0, 1.0) * f64::from(w)) as i32;
    let y = |frac: f64| MARGIN + h - (frac * f64::from(h)) as i32;
    let mut pts = vec![(MARGIN, y(0.0))];
    for (i, val) in v.iter().enumerate() {
        pts.push((x(*val), y(i as f64 / n)));
        pts.push((x(*val), y((i + 1) as f64 / n)));
    }
    if let Some(&(px, py)) = pts.last() {
        if px < x(x_max) {
            pts.push((x(x_max), py));
        }
    }
    pts
}

/// Draws the CDFs of C teamd (blue) and rteam (red) into `path`; returns the x range and
/// grid step used, for the caption.
pub fn cdf_png(
    path: &Path,
    c: &[f64],
    ours: &[f64],
) -> Result<(f64, f64), Box<dyn std::error::Error>> {
    let x_max = c
        .iter()
        .chain(ours)
        .copied()
        .filter(|x| x.is_finite())
        .fold(0.0, f64::max);
    let x_max = if x_max > 0.0 { x_max } else { 1.0 };
    let step = grid_step(x_max);
    let w = WIDTH as i32 - 2 * MARGIN;
    let h = HEIGHT as i32 - 2 * MARGIN;
    let root = BitMapBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let grey = RGBColor(200, 200, 200);
    let mut g = 0.0;
    while g <= x_max {
        let x = MARGIN + (g / x_max * f64::from(w)) as i32;
        root.draw(&PathElement::new(
            vec![(x, MARGIN), (x, MARGIN + h)],
            grey.stroke_width(1),
        ))?;
        g += step;
    }
    for q in [0.25, 0.5, 0.75] {
        let y = MARGIN + h - (q * f64::from(h)) as i32;
        root.draw(&PathElement::new(
            vec![(MARGIN, y), (MARGIN + w, y)],
            grey.stroke_width(1),
        ))?;
    }
    root.draw(&Rectangle::new(
        [(MARGIN, MARGIN), (MARGIN + w, MARGIN + h)],
        BLACK.stroke_width(1),
    ))?;
    for (samples, colour) in [(c, BLUE), (ours, RED)] {
        if !samples.is_empty() {
            root.draw(&PathElement::new(
                cdf_points(samples, x_max, w, h),
                colour.stroke_width(2),
            ))?;
        }
    }
    root.present()?;
    Ok((x_max, step))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_steps_are_round() {
        assert_eq!(grid_step(100.0), 10.0);
        assert_eq!(grid_step(13.0), 2.0);
        assert_eq!(grid_step(0.7), 0.1);
        assert_eq!(grid_step(45.0), 5.0);
        assert_eq!(grid_step(0.0), 1.0);
        assert_eq!(grid_step(f64::NAN), 1.0);
    }

    #[test]
    fn cdf_climbs_from_bottom_to_top() {
        let pts = cdf_points(&[2.0, 1.0], 2.0, 100, 100);
        assert_eq!(pts.first(), Some(&(MARGIN, MARGIN + 100)));
        assert_eq!(pts.last(), Some(&(MARGIN + 100, MARGIN)));
        assert!(pts.windows(2).all(|p| p[1].0 >= p[0].0 && p[1].1 <= p[0].1));
    }

    #[test]
    fn png_is_written() {
        let dir = std::env::temp_dir().join(format!("rteam-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.png");
        let (max, step) = cdf_png(&path, &[1.0, 2.0, 3.0], &[0.5, 4.0]).unwrap();
        assert_eq!((max, step), (4.0, 0.5));
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
