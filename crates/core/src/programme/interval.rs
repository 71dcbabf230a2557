//! How many events a cohort will have if its probabilities are right: the
//! count is a sum of independent Bernoulli draws (a Poisson-binomial
//! variable), whose central 95% interval is computed exactly for cohorts up
//! to [`EXACT_UP_TO`] patients and by the normal approximation beyond (where
//! it is accurate and the exact convolution grows quadratic).
//!
//! Written here: no maintained Rust crate offers the Poisson-binomial
//! distribution; the recursion is a few lines.

use serde::Serialize;

/// Largest cohort whose interval is computed exactly.
pub const EXACT_UP_TO: usize = 20_000;

/// Probability the interval holds.
pub const LEVEL: f64 = 0.95;

/// The 0.975 quantile of the standard normal.
const Z_975: f64 = 1.959_963_984_540_054;

/// How an interval was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IntervalMethod {
    /// The exact Poisson-binomial distribution.
    ExactPoissonBinomial,
    /// The normal approximation (mean ± 1.96 sd, widened to whole events).
    Normal,
}

/// The central 95% interval of an event count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventInterval {
    /// Fewest events: at most 2.5% of outcomes have fewer.
    pub low: u64,
    /// Most events: at most 2.5% of outcomes have more.
    pub high: u64,
    /// How it was computed.
    pub method: IntervalMethod,
}

/// The interval of the number of events among patients with `probabilities`.
pub fn event_interval(probabilities: &[f64]) -> EventInterval {
    if probabilities.len() <= EXACT_UP_TO {
        exact(probabilities)
    } else {
        normal(probabilities)
    }
}

fn normal(probabilities: &[f64]) -> EventInterval {
    let mean: f64 = probabilities.iter().sum();
    let variance: f64 = probabilities.iter().map(|p| p * (1.0 - p)).sum();
    let half = Z_975 * variance.sqrt();
    EventInterval {
        low: (mean - half).floor().max(0.0) as u64,
        high: ((mean + half).ceil() as u64).min(probabilities.len() as u64),
        method: IntervalMethod::Normal,
    }
}

fn exact(probabilities: &[f64]) -> EventInterval {
    let n = probabilities.len();
    let mean: f64 = probabilities.iter().sum();
    let sd = probabilities.iter().map(|p| p * (1.0 - p)).sum::<f64>().sqrt();
    // Counts above mean + 12 sd + 20 carry less than 1e-30 of the mass: not tracked.
    let cap = ((mean + 12.0 * sd + 20.0).ceil() as usize).min(n);
    let mut pmf = vec![0.0_f64; cap + 1];
    pmf[0] = 1.0;
    let mut top = 0;
    for &p in probabilities {
        let p = p.clamp(0.0, 1.0);
        top = (top + 1).min(cap);
        for k in (1..=top).rev() {
            pmf[k] = pmf[k] * (1.0 - p) + pmf[k - 1] * p;
        }
        pmf[0] *= 1.0 - p;
    }
    let tail = (1.0 - LEVEL) / 2.0;
    let mut cumulative = 0.0;
    let mut low = None;
    let mut high = cap;
    for (k, mass) in pmf.iter().enumerate() {
        cumulative += mass;
        if low.is_none() && cumulative > tail {
            low = Some(k);
        }
        if cumulative >= 1.0 - tail {
            high = k;
            break;
        }
    }
    EventInterval {
        low: low.unwrap_or(0) as u64,
        high: high as u64,
        method: IntervalMethod::ExactPoissonBinomial,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_matches_the_binomial() {
        // Binomial(10, 0.5): P(X <= 1) = 11/1024 < 0.025 < P(X <= 2) = 56/1024,
        // P(X <= 7) = 968/1024 < 0.975 <= P(X <= 8) = 1013/1024.
        let interval = event_interval(&[0.5; 10]);
        assert_eq!((interval.low, interval.high), (2, 8));
        assert_eq!(interval.method, IntervalMethod::ExactPoissonBinomial);
    }

    #[test]
    fn certain_and_impossible_events() {
        let interval = event_interval(&[1.0, 1.0, 0.0, 0.0, 0.0]);
        assert_eq!((interval.low, interval.high), (2, 2));
        assert_eq!(event_interval(&[]).high, 0);
    }

    #[test]
    fn exact_and_normal_agree_on_a_large_cohort() {
        let probabilities: Vec<f64> = (0..EXACT_UP_TO)
            .map(|i| 0.02 + 0.3 * ((i * 37) % 101) as f64 / 101.0)
            .collect();
        let exact = exact(&probabilities);
        let normal = normal(&probabilities);
        assert!(
            exact.low.abs_diff(normal.low) <= 2 && exact.high.abs_diff(normal.high) <= 2,
            "{exact:?} {normal:?}"
        );
        assert_eq!(
            event_interval(&[probabilities, vec![0.1]].concat()).method,
            IntervalMethod::Normal
        );
    }

    #[test]
    fn coverage_is_about_95_percent() {
        // 2,000 simulated cohorts of 300 patients: the observed count falls
        // inside its interval about 95% of the time or more (the interval is
        // conservative on a discrete count; 94% allows for the simulation's
        // own error, about 0.5 points).
        let probabilities: Vec<f64> = (0..300).map(|i| 0.01 + 0.4 * ((i * 13) % 29) as f64 / 29.0).collect();
        let interval = event_interval(&probabilities);
        let mut state = 7u64;
        let mut uniform = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let inside = (0..2000)
            .filter(|_| {
                let events = probabilities.iter().filter(|&&p| uniform() < p).count() as u64;
                (interval.low..=interval.high).contains(&events)
            })
            .count();
        assert!((1880..=1990).contains(&inside), "{inside} of 2000 inside {interval:?}");
    }
}
