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

/// The weighted mean of the paired per-row differences `a - b` of two
/// losses on the same rows, and its standard error clustered by patient
/// (`groups`; a patient's rows are not independent). The standard error is
/// infinite with fewer than two patients. What the trainer's "better by
/// more than one standard error" choices compare.
pub fn paired_difference(a: &[f64], b: &[f64], w: &[f64], groups: &[i64]) -> (f64, f64) {
    let mut by_patient: std::collections::BTreeMap<i64, (f64, f64)> = std::collections::BTreeMap::new();
    for i in 0..a.len() {
        let entry = by_patient.entry(groups[i]).or_default();
        entry.0 += w[i] * (a[i] - b[i]);
        entry.1 += w[i];
    }
    let total: f64 = by_patient.values().map(|(_, weight)| weight).sum();
    if total <= 0.0 || by_patient.len() < 2 {
        return (0.0, f64::INFINITY);
    }
    let mean = by_patient.values().map(|(d, _)| d).sum::<f64>() / total;
    let n = by_patient.len() as f64;
    let spread: f64 = by_patient.values().map(|(d, weight)| (d - mean * weight).powi(2)).sum();
    (mean, (n / (n - 1.0) * spread).sqrt() / total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_paired_difference_is_clustered_by_patient() {
        // Patient 1 (two rows) gains 0.2 each, patient 2 loses 0.1, patient 3 gains 0.1.
        let (a, b) = ([0.3, 0.3, 0.0, 0.2], [0.1, 0.1, 0.1, 0.1]);
        let (mean, se) = paired_difference(&a, &b, &[1.0; 4], &[1, 1, 2, 3]);
        assert!((mean - 0.4 / 4.0).abs() < 1e-12, "{mean}");
        // Patient sums 0.4, -0.1, 0.1 around 0.1 x weight 2, 1, 1: residuals 0.2, -0.2, 0.
        let expected = (1.5f64 * (0.04 + 0.04)).sqrt() / 4.0;
        assert!((se - expected).abs() < 1e-12, "{se} {expected}");
        assert_eq!(paired_difference(&[0.1], &[0.2], &[1.0], &[7]).1, f64::INFINITY);
    }
}
