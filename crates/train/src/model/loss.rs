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
