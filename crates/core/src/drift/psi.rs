//! The population stability index (PSI) of live counts against reference
//! counts over the same bins, and its alert threshold.
//!
//! `PSI = Σ (a_i − e_i) · ln(a_i / e_i)`, with `a_i` and `e_i` the live and
//! reference shares of bin `i`. A bin empty on one side would make it
//! infinite, so every count used gets [`PSEUDO_COUNT`] added first (a
//! bin empty on both sides is left out: it says nothing).
//!
//! Two samples of sizes `N` and `M` from one distribution over `B` bins give
//! a PSI that is about `χ²(B − 1) · (1/N + 1/M)` (Yurdakul, "Statistical
//! properties of the population stability index", 2018). A window that
//! compares `k` statistics raises an alert on one when its PSI passes the
//! `1 − α/k` quantile of that (Bonferroni), so that a window of live data
//! from the training population alerts with probability at most
//! [`FAMILY_ALPHA`].

/// Added to every live and reference count before shares are taken, so an
/// empty bin gives a finite index (half a record: Jeffreys' prior).
pub const PSEUDO_COUNT: f64 = 0.5;

/// The family-wise chance that a window drawn from the training population
/// raises any alert.
pub const FAMILY_ALPHA: f64 = 0.05;

/// The PSI of `live` counts against `reference` counts (the same bins in
/// the same order), with [`PSEUDO_COUNT`] smoothing. 0 when either side is empty.
pub fn psi(live: &[u64], reference: &[u64]) -> f64 {
    let used = || live.iter().zip(reference).filter(|(l, r)| **l > 0 || **r > 0);
    let bins = used().count() as f64;
    let n: u64 = live.iter().sum();
    let m: u64 = reference.iter().sum();
    if n == 0 || m == 0 {
        return 0.0;
    }
    let share = |count: u64, total: u64| (count as f64 + PSEUDO_COUNT) / (total as f64 + bins * PSEUDO_COUNT);
    used()
        .map(|(l, r)| {
            let (a, e) = (share(*l, n), share(*r, m));
            (a - e) * (a / e).ln()
        })
        .sum()
}

/// The `p` quantile of the χ² distribution with `df` degrees of freedom
/// (`df` ≥ 1, `0 < p < 1`).
pub fn chi_square_quantile(p: f64, df: usize) -> f64 {
    2.0 * puruspe::invgammp(p, df.max(1) as f64 / 2.0)
}

/// The PSI above which one of `k` statistics of a window of `n` live
/// records, over `bins` bins that the `m` reference rows fill, is an alert:
/// the χ²(bins − 1) quantile at `1 −` [`FAMILY_ALPHA`]` / k`, times `1/n + 1/m`.
pub fn psi_threshold(bins: usize, n: u64, m: u64, k: usize) -> f64 {
    let p = 1.0 - FAMILY_ALPHA / k.max(1) as f64;
    let df = bins.saturating_sub(1).max(1);
    chi_square_quantile(p, df) * (1.0 / n.max(1) as f64 + 1.0 / m.max(1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quantiles_are_the_tabulated_ones() {
        // Tables of the χ² distribution: 3.841 (1 df, 95%), 18.307 (10 df, 95%), 29.588 (10 df, 99.9%).
        for (p, df, expected) in [(0.95, 1, 3.841_459), (0.95, 10, 18.307_038), (0.999, 10, 29.588_298)] {
            let q = chi_square_quantile(p, df);
            assert!((q - expected).abs() < 1e-4, "χ²({df}) at {p}: {q}, not {expected}");
        }
    }

    #[test]
    fn psi_follows_its_definition_and_smooths_empty_bins() {
        // Shares 0.5/0.5 against 0.25/0.75 without smoothing: 0.25 ln 2 + 0.25 ln 1.5 ≈ 0.2747.
        let big = psi(&[500_000, 500_000], &[250_000, 750_000]);
        assert!((big - (0.25 * 2f64.ln() + 0.25 * 1.5f64.ln())).abs() < 1e-5, "{big}");
        assert_eq!(psi(&[10, 10], &[10, 10]), 0.0);
        // An empty live bin is finite, and a bin empty on both sides changes nothing.
        let empty = psi(&[0, 20], &[10, 10]);
        assert!(empty.is_finite() && empty > 0.5, "{empty}");
        assert_eq!(psi(&[0, 20, 0], &[10, 10, 0]), empty);
        assert_eq!(psi(&[], &[]), 0.0);
    }

    /// A small deterministic generator for the simulation (core has no RNG dependency).
    fn uniform(state: &mut u64) -> f64 {
        *state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (*state >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn windows_from_the_reference_population_alert_at_about_alpha() {
        // Ten unequal bins; reference of 5,000 rows; windows of 500 drawn from the same shares.
        let shares = [0.02, 0.05, 0.08, 0.1, 0.1, 0.1, 0.15, 0.15, 0.1, 0.15];
        let reference: Vec<u64> = shares.iter().map(|s| (s * 5_000.0) as u64).collect();
        let threshold = psi_threshold(10, 500, 5_000, 1);
        let mut state = 7;
        let windows = 2_000;
        let alerts = (0..windows)
            .filter(|_| {
                let mut live = [0u64; 10];
                for _ in 0..500 {
                    let u = uniform(&mut state);
                    let mut cumulative = 0.0;
                    let bin = shares
                        .iter()
                        .position(|s| {
                            cumulative += s;
                            u < cumulative
                        })
                        .unwrap_or(9);
                    live[bin] += 1;
                }
                psi(&live, &reference) > threshold
            })
            .count();
        let rate = alerts as f64 / windows as f64;
        // 2.8% here: the χ² approximation is a little conservative with
        // smoothed shares; one degree of freedom too few gives 8.7%.
        assert!(
            (0.015..=0.065).contains(&rate),
            "false alerts in {rate} of windows, not about 5%"
        );
        // A threshold for k = 30 statistics is higher.
        assert!(psi_threshold(10, 500, 5_000, 30) > threshold * 1.4);
    }
}
