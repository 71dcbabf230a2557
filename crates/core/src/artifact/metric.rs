//! The names of the figures an artifact's `metrics` map carries, defined
//! once: what the trainer writes, the model card and the report read, and
//! `/v1/models` publishes. The map stays keyed by text so that an artifact
//! written by a newer trainer, with figures this build does not know, still
//! loads.

/// A figure in [`super::ModelArtifact::metrics`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// ROC AUC of the whole pipeline on patients it did not see (the headline).
    Auc,
    /// Lower end of the headline AUC's 95% interval (patient bootstrap).
    AucCi95Lower,
    /// Upper end of the headline AUC's 95% interval.
    AucCi95Upper,
    /// Weighted Brier score, same estimate.
    Brier,
    /// Lower end of the Brier score's 95% interval.
    BrierCi95Lower,
    /// Upper end of the Brier score's 95% interval.
    BrierCi95Upper,
    /// Calibration slope (1 is ideal), same estimate.
    CalibrationSlope,
    /// Lower end of the calibration slope's 95% interval.
    CalibrationSlopeCi95Lower,
    /// Upper end of the calibration slope's 95% interval.
    CalibrationSlopeCi95Upper,
    /// Calibration intercept, same estimate: the intercept of the logistic
    /// recalibration fitted together with the slope (0 with slope 1 is ideal).
    CalibrationIntercept,
    /// Expected calibration error over 10 bins, same estimate.
    Ece,
    /// Weighted event rate of the rows the estimate is on.
    EventRate,
    /// Patients the estimate is on.
    ValidationPatients,
    /// Events (unweighted) among them.
    ValidationEvents,
    /// Outer folds of the cross-validation behind the estimate: of the whole
    /// fitting pipeline (`fit`) or of the update procedure (`recalibrate`); absent for a hold-out.
    NestedCvFolds,
    /// Refits of the whole pipeline on bootstrap resamples of the patients
    /// whose nested estimates' spread widened the intervals (absent when
    /// the intervals are the patient bootstrap's alone).
    IntervalRefits,
    /// Share of patients in the untouched hold-out behind the estimate (absent for nested cross-validation).
    HoldoutShare,
    /// Patients whose rows fitted the delivered model.
    TrainingPatients,
    /// AUC on the temporal hold-out (the latest rows, kept out of fitting).
    TemporalAuc,
    /// Brier score on the temporal hold-out.
    TemporalBrier,
    /// Calibration slope on the temporal hold-out.
    TemporalCalibrationSlope,
    /// ECE on the temporal hold-out.
    TemporalEce,
    /// Logistic and boosted trees below 20,000 patients: cross-validated
    /// (out-of-fold) log loss of the chosen setting.
    CvLogLoss,
    /// Logistic and boosted trees from 20,000 patients: log loss on the validation fold.
    ValidationLogLoss,
    /// Forest from 20,000 patients: uncalibrated Brier score on its validation fold.
    ValidationBrierUncalibrated,
    /// Forest below 20,000 patients: cross-validated (out-of-fold) uncalibrated Brier score.
    CvBrierUncalibrated,
    /// A recalibrated model: parameters the update re-estimated (0 kept, 1 in the large, 2 logistic).
    UpdateParameters,
    /// A recalibrated model: intercept `a` of `logit p' = a + b · logit p`.
    UpdateIntercept,
    /// A recalibrated model: slope `b` of that update.
    UpdateSlope,
}

impl Metric {
    /// Every metric, in the order of this enum.
    pub const ALL: [Metric; 29] = [
        Metric::Auc,
        Metric::AucCi95Lower,
        Metric::AucCi95Upper,
        Metric::Brier,
        Metric::BrierCi95Lower,
        Metric::BrierCi95Upper,
        Metric::CalibrationSlope,
        Metric::CalibrationSlopeCi95Lower,
        Metric::CalibrationSlopeCi95Upper,
        Metric::CalibrationIntercept,
        Metric::Ece,
        Metric::EventRate,
        Metric::ValidationPatients,
        Metric::ValidationEvents,
        Metric::NestedCvFolds,
        Metric::IntervalRefits,
        Metric::HoldoutShare,
        Metric::TrainingPatients,
        Metric::TemporalAuc,
        Metric::TemporalBrier,
        Metric::TemporalCalibrationSlope,
        Metric::TemporalEce,
        Metric::CvLogLoss,
        Metric::ValidationLogLoss,
        Metric::ValidationBrierUncalibrated,
        Metric::CvBrierUncalibrated,
        Metric::UpdateParameters,
        Metric::UpdateIntercept,
        Metric::UpdateSlope,
    ];

    /// The key in the artifact's `metrics` map.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Auc => "auc",
            Metric::AucCi95Lower => "auc_ci95_lower",
            Metric::AucCi95Upper => "auc_ci95_upper",
            Metric::Brier => "brier",
            Metric::BrierCi95Lower => "brier_ci95_lower",
            Metric::BrierCi95Upper => "brier_ci95_upper",
            Metric::CalibrationSlope => "calibration_slope",
            Metric::CalibrationSlopeCi95Lower => "calibration_slope_ci95_lower",
            Metric::CalibrationSlopeCi95Upper => "calibration_slope_ci95_upper",
            Metric::CalibrationIntercept => "calibration_intercept",
            Metric::Ece => "ece",
            Metric::EventRate => "event_rate",
            Metric::ValidationPatients => "validation_patients",
            Metric::ValidationEvents => "validation_events",
            Metric::NestedCvFolds => "nested_cv_folds",
            Metric::IntervalRefits => "interval_refits",
            Metric::HoldoutShare => "holdout_share",
            Metric::TrainingPatients => "training_patients",
            Metric::TemporalAuc => "temporal_auc",
            Metric::TemporalBrier => "temporal_brier",
            Metric::TemporalCalibrationSlope => "temporal_calibration_slope",
            Metric::TemporalEce => "temporal_ece",
            Metric::CvLogLoss => "cv_log_loss",
            Metric::ValidationLogLoss => "validation_log_loss",
            Metric::ValidationBrierUncalibrated => "validation_brier_uncalibrated",
            Metric::CvBrierUncalibrated => "cv_brier_uncalibrated",
            Metric::UpdateParameters => "update_parameters",
            Metric::UpdateIntercept => "update_intercept",
            Metric::UpdateSlope => "update_slope",
        }
    }

    /// The metric with key `name`, if this build knows it.
    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_and_round_trip() {
        let mut names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
        for m in Metric::ALL {
            assert_eq!(Metric::from_name(m.name()), Some(m));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Metric::ALL.len());
    }
}
