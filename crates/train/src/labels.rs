//! Fixed-horizon labels from censored follow-up (docs/data-contract.md).
//!
//! For a horizon H: label 1 if the event came by H; label 0 if the row was
//! followed event-free through H; unknown if censored before H — such a row is
//! not a negative. Rows with an unknown label get weight 0.
//!
//! Weights: with [`CensoringRule::Ipcw`] (the default) each row with a known label
//! is weighted by the inverse probability of having stayed uncensored long
//! enough to be labelled, `1 / G(min(T, H)-)`, where `G` is the Kaplan-Meier
//! estimate of the censoring distribution (censorings are its events; at tied
//! times events come first). The weighted event rate is then an unbiased
//! estimate of the true risk under independent censoring, where dropping
//! censored rows over-states it. With [`CensoringRule::Drop`] every known row
//! weighs 1. The same weights go into fitting and into every metric.

/// How rows censored before the horizon are handled: the artifact's own
/// type, so a model records exactly what its labels were made with.
pub use carescore_core::artifact::CensoringRule;

/// Labels and weights of one target.
#[derive(Debug, Clone, PartialEq)]
pub struct HorizonLabels {
    /// Per row: `Some(true)` event by the horizon, `Some(false)` event-free
    /// through it, `None` censored before it.
    pub labels: Vec<Option<bool>>,
    /// Per row: the weight (0 for unknown labels).
    pub weights: Vec<f64>,
}

impl HorizonLabels {
    /// Rows with a known label.
    pub fn known(&self) -> usize {
        self.labels.iter().filter(|l| l.is_some()).count()
    }

    /// Weighted share of positives among rows with a known label.
    pub fn weighted_rate(&self) -> f64 {
        let (mut positive, mut total) = (0.0, 0.0);
        for (label, weight) in self.labels.iter().zip(&self.weights) {
            if let Some(label) = label {
                total += weight;
                if *label {
                    positive += weight;
                }
            }
        }
        if total > 0.0 {
            positive / total
        } else {
            0.0
        }
    }
}

/// Why labels cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LabelError {
    /// Time and event columns differ in length.
    #[error("{times} follow-up times but {events} event indicators")]
    LengthMismatch {
        /// Number of times.
        times: usize,
        /// Number of event indicators.
        events: usize,
    },
    /// A follow-up time is negative or not a number.
    #[error("row {row}: follow-up time must be a number >= 0")]
    BadTime {
        /// Zero-based row index.
        row: usize,
    },
    /// The horizon is not a positive number.
    #[error("the horizon must be a positive number of days")]
    BadHorizon,
}

/// The fixed-horizon label of one row (see the module documentation).
pub fn horizon_label(time_days: f64, event: bool, horizon_days: f64) -> Option<bool> {
    if event && time_days <= horizon_days {
        Some(true)
    } else if time_days >= horizon_days {
        Some(false)
    } else {
        None
    }
}

/// The Kaplan-Meier estimate of the censoring survival `G`, as a step function.
#[derive(Debug, Clone)]
struct CensoringSurvival {
    /// Distinct censoring times, ascending.
    times: Vec<f64>,
    /// `G` just after each of `times`.
    survival: Vec<f64>,
}

impl CensoringSurvival {
    fn fit(times: &[f64], events: &[bool]) -> CensoringSurvival {
        let mut order: Vec<usize> = (0..times.len()).collect();
        order.sort_by(|&a, &b| times[a].total_cmp(&times[b]));
        let mut at_risk = times.len() as f64;
        let mut g = 1.0;
        let (mut out_times, mut out_survival) = (Vec::new(), Vec::new());
        let mut i = 0;
        while i < order.len() {
            let t = times[order[i]];
            let mut j = i;
            let mut censored = 0.0;
            while j < order.len() && times[order[j]] == t {
                censored += f64::from(u8::from(!events[order[j]]));
                j += 1;
            }
            if censored > 0.0 {
                g *= 1.0 - censored / at_risk;
                out_times.push(t);
                out_survival.push(g);
            }
            at_risk -= (j - i) as f64;
            i = j;
        }
        CensoringSurvival {
            times: out_times,
            survival: out_survival,
        }
    }

    /// `G(t-)`: the probability of remaining uncensored until just before `t`.
    fn before(&self, t: f64) -> f64 {
        let steps = self.times.partition_point(|s| *s < t);
        if steps == 0 {
            1.0
        } else {
            self.survival[steps - 1]
        }
    }
}

/// Builds labels and weights for `horizon_days` from follow-up `times` and `events`.
///
/// # Errors
/// [`LabelError`] for mismatched lengths, a negative or NaN time, or a bad horizon.
pub fn horizon_labels(
    times: &[f64],
    events: &[bool],
    horizon_days: f64,
    censoring: CensoringRule,
) -> Result<HorizonLabels, LabelError> {
    if times.len() != events.len() {
        return Err(LabelError::LengthMismatch {
            times: times.len(),
            events: events.len(),
        });
    }
    if !(horizon_days.is_finite() && horizon_days > 0.0) {
        return Err(LabelError::BadHorizon);
    }
    if let Some(row) = times.iter().position(|t| !(t.is_finite() && *t >= 0.0)) {
        return Err(LabelError::BadTime { row });
    }
    let labels: Vec<Option<bool>> = times
        .iter()
        .zip(events)
        .map(|(t, e)| horizon_label(*t, *e, horizon_days))
        .collect();
    let weights = match censoring {
        CensoringRule::Drop => labels.iter().map(|l| if l.is_some() { 1.0 } else { 0.0 }).collect(),
        CensoringRule::Ipcw => {
            let g = CensoringSurvival::fit(times, events);
            labels
                .iter()
                .zip(times)
                .map(|(label, t)| match label {
                    None => 0.0,
                    Some(_) => {
                        let survival = g.before(t.min(horizon_days));
                        // A known label implies survival > 0; guard anyway.
                        if survival > 0.0 {
                            1.0 / survival
                        } else {
                            0.0
                        }
                    }
                })
                .collect()
        }
    };
    Ok(HorizonLabels { labels, weights })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_design_rule() {
        assert_eq!(horizon_label(180.0, true, 180.0), Some(true));
        assert_eq!(horizon_label(181.0, true, 180.0), Some(false));
        assert_eq!(horizon_label(179.0, false, 180.0), None);
        assert_eq!(horizon_label(180.0, false, 180.0), Some(false));
    }

    #[test]
    fn kaplan_meier_of_censoring_by_hand() {
        // times 1(c) 2(e) 3(c) 4(e) 5(c): G drops at 1 (1 of 5) and 3 (1 of 3).
        let times = [1.0, 2.0, 3.0, 4.0, 5.0];
        let events = [false, true, false, true, false];
        let g = CensoringSurvival::fit(&times, &events);
        assert_eq!(g.before(1.0), 1.0);
        assert!((g.before(2.0) - 0.8).abs() < 1e-12);
        assert!((g.before(3.5) - 0.8 * (2.0 / 3.0)).abs() < 1e-12);
        let labels = horizon_labels(&times, &events, 4.0, CensoringRule::Ipcw).unwrap();
        assert_eq!(labels.labels, [None, Some(true), None, Some(true), Some(false)]);
        assert_eq!(labels.weights[0], 0.0);
        assert!((labels.weights[1] - 1.25).abs() < 1e-12);
        assert!((labels.weights[3] - 1.0 / (0.8 * 2.0 / 3.0)).abs() < 1e-12);
        assert!((labels.weights[4] - 1.0 / (0.8 * 2.0 / 3.0)).abs() < 1e-12);
        // The weights of known rows add up to the number of rows.
        let total: f64 = labels.weights.iter().sum();
        assert!((total - 1.25 - 2.0 * 1.875).abs() < 1e-12 && total <= 5.0 + 1e-9);
    }

    #[test]
    fn drop_weighs_known_rows_one() {
        let labels = horizon_labels(&[1.0, 10.0, 3.0], &[false, false, true], 5.0, CensoringRule::Drop).unwrap();
        assert_eq!(labels.weights, [0.0, 1.0, 1.0]);
        assert_eq!(labels.known(), 2);
        assert!((labels.weighted_rate() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn bad_input_is_refused() {
        assert_eq!(
            horizon_labels(&[1.0], &[], 30.0, CensoringRule::Ipcw),
            Err(LabelError::LengthMismatch { times: 1, events: 0 })
        );
        assert_eq!(
            horizon_labels(&[1.0, -2.0], &[true, true], 30.0, CensoringRule::Ipcw),
            Err(LabelError::BadTime { row: 1 })
        );
        assert_eq!(
            horizon_labels(&[1.0], &[true], 0.0, CensoringRule::Ipcw),
            Err(LabelError::BadHorizon)
        );
    }
}
