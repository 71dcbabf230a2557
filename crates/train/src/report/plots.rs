//! SVG plots for the report, drawn with plotters' SVG backend (text is left
//! to the browser's fonts, so no font library is needed).

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use crate::evaluation::curves::{CalibrationBin, DecisionPoint};

/// Width and height of every plot, in pixels.
const SIZE: (u32, u32) = (520, 420);

/// Model colour.
const MODEL: RGBColor = RGBColor(31, 102, 178);
/// Reference lines.
const REFERENCE: RGBColor = RGBColor(120, 120, 120);
/// Highlighted threshold.
const ACCENT: RGBColor = RGBColor(200, 70, 40);

/// A plot that could not be drawn (plotters' error as text).
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the {plot} plot: {message}")]
pub struct PlotError {
    plot: &'static str,
    message: String,
}

fn failed<E: std::fmt::Display>(plot: &'static str) -> impl Fn(E) -> PlotError {
    move |e| PlotError {
        plot,
        message: e.to_string(),
    }
}

/// The ROC curve with the chance diagonal.
///
/// # Errors
/// [`PlotError`] if plotters fails.
pub fn roc(points: &[(f64, f64)], auc: Option<f64>) -> Result<String, PlotError> {
    let err = failed("ROC");
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(&err)?;
        let caption = auc.map_or_else(|| "ROC curve".to_string(), |a| format!("ROC curve (AUC {a:.3})"));
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(52)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)
            .map_err(&err)?;
        chart
            .configure_mesh()
            .x_desc("1 - specificity (false positive rate)")
            .y_desc("sensitivity (true positive rate)")
            .draw()
            .map_err(&err)?;
        chart
            .draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], REFERENCE.stroke_width(1)))
            .map_err(&err)?
            .label("chance")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], REFERENCE));
        chart
            .draw_series(LineSeries::new(points.iter().copied(), MODEL.stroke_width(2)))
            .map_err(&err)?
            .label("model")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], MODEL.stroke_width(2)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(&err)?;
        root.present().map_err(&err)?;
    }
    Ok(svg)
}

/// The calibration curve: observed against predicted per bin, with the 95%
/// band of the observed rate and the diagonal of perfect calibration.
///
/// # Errors
/// [`PlotError`] if plotters fails.
pub fn calibration(bins: &[CalibrationBin]) -> Result<String, PlotError> {
    let err = failed("calibration");
    let top = bins
        .iter()
        .map(|b| b.upper.max(b.predicted))
        .fold(0.05f64, f64::max)
        .min(1.0);
    let limit = ((top * 1.1) * 20.0).ceil() / 20.0;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(&err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Calibration (deciles of predicted risk)", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(52)
            .build_cartesian_2d(0f64..limit.min(1.0), 0f64..limit.min(1.0))
            .map_err(&err)?;
        chart
            .configure_mesh()
            .x_desc("predicted probability")
            .y_desc("observed event rate (weighted)")
            .draw()
            .map_err(&err)?;
        let band: Vec<(f64, f64)> = bins
            .iter()
            .map(|b| (b.predicted, b.upper))
            .chain(bins.iter().rev().map(|b| (b.predicted, b.lower)))
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(band, MODEL.mix(0.18).filled())))
            .map_err(&err)?
            .label("95% interval")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], MODEL.mix(0.18).filled()));
        chart
            .draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], REFERENCE.stroke_width(1)))
            .map_err(&err)?
            .label("perfect calibration")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], REFERENCE));
        chart
            .draw_series(LineSeries::new(
                bins.iter().map(|b| (b.predicted, b.observed)),
                MODEL.stroke_width(2),
            ))
            .map_err(&err)?
            .label("model")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], MODEL.stroke_width(2)));
        chart
            .draw_series(
                bins.iter()
                    .map(|b| Circle::new((b.predicted, b.observed), 3, MODEL.filled())),
            )
            .map_err(&err)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(&err)?;
        root.present().map_err(&err)?;
    }
    Ok(svg)
}

/// The decision curve: net benefit of the model, of flagging everyone and of
/// flagging no one, with the target's operating thresholds marked.
///
/// # Errors
/// [`PlotError`] if plotters fails.
pub fn decision(points: &[DecisionPoint], thresholds: &[f64]) -> Result<String, PlotError> {
    let err = failed("decision curve");
    let high = points.iter().map(|p| p.model.max(p.treat_all)).fold(0.01f64, f64::max) * 1.15;
    let low = -high * 0.35;
    let right = points.last().map_or(0.5, |p| p.threshold);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(&err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Decision curve", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(58)
            .build_cartesian_2d(0f64..right, low..high)
            .map_err(&err)?;
        chart
            .configure_mesh()
            .x_desc("risk threshold for flagging")
            .y_desc("net benefit")
            .draw()
            .map_err(&err)?;
        chart
            .draw_series(LineSeries::new([(0.0, 0.0), (right, 0.0)], BLACK.stroke_width(1)))
            .map_err(&err)?
            .label("flag no one")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLACK));
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|p| (p.threshold, p.treat_all.max(low))),
                REFERENCE.stroke_width(1),
            ))
            .map_err(&err)?
            .label("flag everyone")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], REFERENCE));
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|p| (p.threshold, p.model.max(low))),
                MODEL.stroke_width(2),
            ))
            .map_err(&err)?
            .label("model")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], MODEL.stroke_width(2)));
        for &threshold in thresholds.iter().filter(|t| **t <= right) {
            chart
                .draw_series(LineSeries::new(
                    [(threshold, low), (threshold, high)],
                    ACCENT.stroke_width(1),
                ))
                .map_err(&err)?
                .label(format!("operating threshold {:.0}%", threshold * 100.0))
                .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], ACCENT));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(&err)?;
        root.present().map_err(&err)?;
    }
    Ok(svg)
}

/// Horizontal bars of the features' mean absolute contributions, largest at the top.
///
/// # Errors
/// [`PlotError`] if plotters fails.
pub fn importance(features: &[(String, f64)], scale: &str) -> Result<String, PlotError> {
    let err = failed("feature importance");
    // Largest at the top: the y axis grows upwards.
    let shown: Vec<&(String, f64)> = features.iter().rev().collect();
    let n = shown.len().max(1) as i32;
    let high = shown.iter().map(|(_, v)| *v).fold(1e-9f64, f64::max) * 1.08;
    let height = (80 + 22 * n as u32).max(240);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (SIZE.0 + 120, height)).into_drawing_area();
        root.fill(&WHITE).map_err(&err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption("Feature importance", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(200)
            .build_cartesian_2d(0f64..high, (0..n).into_segmented())
            .map_err(&err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n as usize)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => shown.get(*i as usize).map_or(String::new(), |(name, _)| name.clone()),
                _ => String::new(),
            })
            .x_desc(format!("mean |contribution| ({scale})"))
            .draw()
            .map_err(&err)?;
        chart
            .draw_series(shown.iter().enumerate().map(|(i, (_, v))| {
                let i = i as i32;
                let mut bar = Rectangle::new(
                    [(0.0, SegmentValue::Exact(i)), (*v, SegmentValue::Exact(i + 1))],
                    MODEL.mix(0.8).filled(),
                );
                bar.set_margin(3, 3, 0, 0);
                bar
            }))
            .map_err(&err)?;
        root.present().map_err(&err)?;
    }
    Ok(svg)
}

/// One month's calibration figures.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthCalibration {
    /// `YYYY-MM`.
    pub month: String,
    /// Calibration slope (1 is ideal).
    pub slope: Option<f64>,
    /// Observed over expected events (1 is ideal).
    pub observed_over_expected: Option<f64>,
}

/// Calibration over time: per month, the calibration slope and the ratio of
/// observed to expected events, one point each; a month without a figure
/// is left out.
///
/// # Errors
/// [`PlotError`] if plotters fails.
pub fn calibration_over_time(months: &[MonthCalibration]) -> Result<String, PlotError> {
    let err = failed("calibration over time");
    let values = months
        .iter()
        .flat_map(|m| [m.slope, m.observed_over_expected])
        .flatten();
    let top = values.fold(1.5f64, f64::max).min(5.0);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(&err)?;
        let n = months.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption("Calibration by month of prediction", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(52)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..(top * 1.1))
            .map_err(&err)?;
        chart
            .configure_mesh()
            .x_desc("month")
            .y_desc("slope; observed / expected")
            .x_labels(n.min(12))
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    months.get(i as usize).map(|m| m.month.clone()).unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .draw()
            .map_err(&err)?;
        chart
            .draw_series(LineSeries::new(
                [(-0.5, 1.0), (n as f64 - 0.5, 1.0)],
                REFERENCE.stroke_width(1),
            ))
            .map_err(&err)?
            .label("ideal (1)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], REFERENCE));
        let slopes: Vec<Option<f64>> = months.iter().map(|m| m.slope).collect();
        let ratios: Vec<Option<f64>> = months.iter().map(|m| m.observed_over_expected).collect();
        for (name, colour, values) in [
            ("calibration slope", MODEL, slopes),
            ("observed / expected", ACCENT, ratios),
        ] {
            let series: Vec<(f64, f64)> = values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|v| (i as f64, v.min(top * 1.1))))
                .collect();
            chart
                .draw_series(LineSeries::new(series.clone(), colour.stroke_width(2)))
                .map_err(&err)?
                .label(name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2)));
            chart
                .draw_series(series.into_iter().map(|p| Circle::new(p, 3, colour.filled())))
                .map_err(&err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(&err)?;
        root.present().map_err(&err)?;
    }
    Ok(svg)
}

/// One bar of [`bars`].
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Label under the bar.
    pub label: String,
    /// Height.
    pub value: f64,
    /// An interval drawn as a whisker over the bar, if any.
    pub interval: Option<(f64, f64)>,
    /// A value marked with a dot beside the bar (e.g. what was observed), if any.
    pub marker: Option<f64>,
}

/// A bar chart with optional whiskers and markers.
///
/// # Errors
/// [`PlotError`] if plotters fails.
pub fn bars(title: &str, y_desc: &str, bars: &[Bar]) -> Result<String, PlotError> {
    let err = failed("bar chart");
    let n = bars.len().max(1) as i32;
    let high = bars
        .iter()
        .flat_map(|b| [Some(b.value), b.interval.map(|i| i.1), b.marker])
        .flatten()
        .fold(1e-9f64, f64::max)
        * 1.12;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(&err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(60)
            .build_cartesian_2d((0..n - 1).into_segmented(), 0f64..high)
            .map_err(&err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .x_labels(n as usize)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => bars.get(*i as usize).map_or(String::new(), |b| b.label.clone()),
                _ => String::new(),
            })
            .y_desc(y_desc)
            .draw()
            .map_err(&err)?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, b)| {
                let i = i as i32;
                let mut bar = Rectangle::new(
                    [(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), b.value)],
                    MODEL.mix(0.8).filled(),
                );
                bar.set_margin(0, 0, 18, 18);
                bar
            }))
            .map_err(&err)?;
        let whiskers: Vec<(i32, (f64, f64))> = bars
            .iter()
            .enumerate()
            .filter_map(|(i, b)| b.interval.map(|w| (i as i32, w)))
            .collect();
        chart
            .draw_series(whiskers.iter().map(|(i, (low, high))| {
                PathElement::new(
                    vec![(SegmentValue::CenterOf(*i), *low), (SegmentValue::CenterOf(*i), *high)],
                    REFERENCE.stroke_width(3),
                )
            }))
            .map_err(&err)?;
        let markers: Vec<(i32, f64)> = bars
            .iter()
            .enumerate()
            .filter_map(|(i, b)| b.marker.map(|m| (i as i32, m)))
            .collect();
        chart
            .draw_series(
                markers
                    .iter()
                    .map(|(i, m)| Circle::new((SegmentValue::CenterOf(*i), *m), 6, ACCENT.filled())),
            )
            .map_err(&err)?;
        root.present().map_err(&err)?;
    }
    Ok(svg)
}
