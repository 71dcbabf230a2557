//! The loss the estimators minimise and the metrics report.

/// Log-loss of probability `p` for label `y`, with `p` kept inside [1e-12, 1 - 1e-12].
pub fn log_loss(p: f64, y: bool) -> f64 {
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    if y {
        -p.ln()
    } else {
        -(1.0 - p).ln()
    }
}

/// Weighted mean log-loss of raw scores (log-odds) against labels, over
/// `(raw, label, weight)` triples in order; 0 rows or weight give 0.
pub fn mean_log_loss(rows: impl IntoIterator<Item = (f64, bool, f64)>) -> f64 {
    let (mut loss, mut total) = (0.0, 0.0);
    for (raw, y, w) in rows {
        loss += w * log_loss(carescore_core::artifact::sigmoid(raw), y);
        total += w;
    }
    loss / f64::max(total, f64::MIN_POSITIVE)
}
