//! Scoring a patient record for the case-management system and grading it
//! for underwriting: both models, their explanations, and the policy. The
//! service and `carescore-train predict` use this same code, so a record
//! gets the same probability offline and online.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::artifact::{CompiledModel, Estimator, ExplanationMethod, FeatureSpec, LabelRule, ModelArtifact, Row};
use crate::field::{Field, FieldKind, FieldValue};
use crate::overlay::Overlay;
use crate::phase::Phase;
use crate::policy::{self, Band, Flag, FollowUp, Grade, Policy};
use crate::record::{PatientRecord, Tier};
use crate::validation::{SafetySignals, Warning};

/// Name of the infection target.
pub const INFECTION: &str = "infection_180d";
/// Name of the readmission target.
pub const READMISSION: &str = "readmission_30d";
/// A built-in target: its name, and the horizon and outcome columns its
/// artifact must have been trained on (docs/data-contract.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltInTarget {
    /// The target's name (`infection_180d`, `readmission_30d`).
    pub name: &'static str,
    /// The horizon in days.
    pub horizon_days: u32,
    /// The training table's follow-up time column of the outcome.
    pub time_column: &'static str,
    /// The training table's event column of the outcome.
    pub event_column: &'static str,
}

/// The built-in targets, infection first.
pub const BUILT_IN_TARGETS: [BuiltInTarget; 2] = [
    BuiltInTarget {
        name: INFECTION,
        horizon_days: 180,
        time_column: "infection_time_days",
        event_column: "infection_event",
    },
    BuiltInTarget {
        name: READMISSION,
        horizon_days: 30,
        time_column: "readmission_time_days",
        event_column: "readmission_event",
    },
];
/// Factors listed per risk.
pub const TOP_FACTORS: usize = 5;

/// The two models the service scores with, compiled once.
#[derive(Debug, Clone, PartialEq)]
pub struct Models {
    /// `infection_180d`.
    pub infection: CompiledModel,
    /// `readmission_30d`.
    pub readmission: CompiledModel,
}

/// Why a model set was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelsError {
    /// An artifact for another target in a target's place.
    #[error("expected a model for `{expected}`, found one for `{found}`")]
    WrongTarget {
        /// The target expected.
        expected: &'static str,
        /// The artifact's target.
        found: String,
    },
    /// An artifact for a built-in target predicting another horizon.
    #[error("{model}: predicts {found} days ahead, but `{target}` is a {expected}-day risk")]
    WrongHorizon {
        /// The model.
        model: String,
        /// The built-in target.
        target: &'static str,
        /// The target's horizon.
        expected: u32,
        /// The artifact's horizon.
        found: u32,
    },
    /// An artifact for a built-in target trained on another outcome.
    #[error(
        "{model}: trained on the label rule {found}, but `{target}` is the event `{event_column}` by its horizon \
         from `{time_column}`"
    )]
    WrongLabelRule {
        /// The model.
        model: String,
        /// The built-in target.
        target: &'static str,
        /// The target's time column.
        time_column: &'static str,
        /// The target's event column.
        event_column: &'static str,
        /// The artifact's label rule, as JSON.
        found: String,
    },
    /// An artifact carrying what only a spec model has (a feature's allowed
    /// range, declared flags): the built-in targets take their ranges from
    /// the record's fields and their flags from the care policy.
    #[error("{model}: carries {what}, which only a model trained through a spec has")]
    SpecOnly {
        /// The model.
        model: String,
        /// What it carries.
        what: String,
    },
    /// An artifact reading columns that are not patient-record fields.
    #[error("{model}: features {features:?} are not patient-record fields (trained through a spec?)")]
    NotRecordFeatures {
        /// The model.
        model: String,
        /// The offending features.
        features: Vec<String>,
    },
    /// A feature whose kind is not its record field's kind (a number read as
    /// a category, a category the field does not have).
    #[error("{model}: feature `{feature}` {problem}")]
    FeatureKind {
        /// The model.
        model: String,
        /// The feature.
        feature: String,
        /// What does not match.
        problem: String,
    },
}

/// Whether `spec` reads its record field as the field's kind: numbers as
/// numbers, booleans as booleans, categories among the field's values.
fn kind_problem(spec: &FeatureSpec, field: Field) -> Option<String> {
    use crate::artifact::FeatureKind as Feature;
    match (&spec.kind, field.spec().kind) {
        (Feature::Numeric { .. }, FieldKind::Number { .. } | FieldKind::Integer { .. })
        | (Feature::Boolean, FieldKind::Boolean) => None,
        (Feature::Categorical { categories }, FieldKind::Category(names)) => {
            categories.iter().find(|c| !names.contains(&c.as_str())).map(|c| {
                format!(
                    "has category `{c}`, which the field does not (allowed: {})",
                    names.join(", ")
                )
            })
        }
        (_, kind) => Some(format!(
            "is not read as the field is typed ({})",
            FieldKind::allowed(&kind)
        )),
    }
}

/// Checks that `artifact` may serve the built-in `target`: the target's
/// name, horizon and outcome columns, nothing only a spec model carries,
/// patient-record features read as their fields are typed.
///
/// # Errors
/// [`ModelsError`] naming the artifact and the problem.
pub fn admit(target: BuiltInTarget, artifact: &ModelArtifact) -> Result<(), ModelsError> {
    let BuiltInTarget {
        name: target,
        horizon_days: horizon,
        time_column,
        event_column,
    } = target;
    if artifact.target != target {
        return Err(ModelsError::WrongTarget {
            expected: target,
            found: artifact.target.clone(),
        });
    }
    if artifact.horizon_days != horizon {
        return Err(ModelsError::WrongHorizon {
            model: artifact.model_version(),
            target,
            expected: horizon,
            found: artifact.horizon_days,
        });
    }
    let outcome_matches = matches!(
        &artifact.label_rule,
        LabelRule::TimeToEvent { time_column: t, event_column: e, .. } if t == time_column && e == event_column
    );
    if !outcome_matches {
        return Err(ModelsError::WrongLabelRule {
            model: artifact.model_version(),
            target,
            time_column,
            event_column,
            found: serde_json::to_string(&artifact.label_rule).unwrap_or_default(),
        });
    }
    if !artifact.flags.is_empty() {
        return Err(ModelsError::SpecOnly {
            model: artifact.model_version(),
            what: "declared flags".to_string(),
        });
    }
    if let Some(feature) = artifact.features.iter().find(|f| f.allowed_range.is_some()) {
        return Err(ModelsError::SpecOnly {
            model: artifact.model_version(),
            what: format!("an allowed range on feature `{}`", feature.name),
        });
    }
    let foreign = artifact.non_record_features();
    if !foreign.is_empty() {
        return Err(ModelsError::NotRecordFeatures {
            model: artifact.model_version(),
            features: foreign.into_iter().map(str::to_string).collect(),
        });
    }
    for spec in &artifact.features {
        let problem = Field::from_name(&spec.name).and_then(|field| kind_problem(spec, field));
        if let Some(problem) = problem {
            return Err(ModelsError::FeatureKind {
                model: artifact.model_version(),
                feature: spec.name.clone(),
                problem,
            });
        }
    }
    Ok(())
}

impl Models {
    /// Admits each artifact for its built-in target ([`admit`]): the
    /// target's name, horizon and outcome columns, nothing only a spec model
    /// carries, patient-record features read as their fields are typed.
    ///
    /// # Errors
    /// [`ModelsError`] naming the artifact and the problem.
    pub fn new(infection: ModelArtifact, readmission: ModelArtifact) -> Result<Models, ModelsError> {
        let [infection_target, readmission_target] = BUILT_IN_TARGETS;
        admit(infection_target, &infection)?;
        admit(readmission_target, &readmission)?;
        Ok(Models {
            infection: CompiledModel::new(infection),
            readmission: CompiledModel::new(readmission),
        })
    }

    /// Each model's version (`<target>@<version>`) by target, as answers list them.
    pub fn versions(&self) -> BTreeMap<&'static str, String> {
        self.iter().map(|(t, a)| (t, a.model_version())).into_iter().collect()
    }

    /// Each artifact's checksum by target, as answers list them.
    pub fn checksums(&self) -> BTreeMap<&'static str, String> {
        self.iter().map(|(t, a)| (t, a.sha256.clone())).into_iter().collect()
    }

    /// Both artifacts with their target names.
    pub fn iter(&self) -> [(&'static str, &ModelArtifact); 2] {
        [
            (INFECTION, self.infection.artifact()),
            (READMISSION, self.readmission.artifact()),
        ]
    }
}

/// One contribution in the record's own terms.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Factor {
    /// Record field.
    pub feature: String,
    /// The record's value (null when missing).
    pub value: serde_json::Value,
    /// Contribution on the model's raw scale.
    pub contribution: f64,
}

/// One target's risk.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Risk {
    /// Calibrated probability.
    pub probability: f64,
    /// Policy band.
    pub band: Band,
    /// `<target>@<version>`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub model_version: Arc<str>,
    /// The artifact's checksum (its `sha256`): two artifacts with the same
    /// version are never confused.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub model_sha256: Arc<str>,
    /// Raw output with no feature information.
    pub base_value: f64,
    /// Scale of `base_value` and contributions: `log_odds` or `vote_share`.
    pub scale: &'static str,
    /// How the contributions were computed: `tree_shap` (exact path-dependent
    /// TreeSHAP, as the `shap` package's `TreeExplainer` gives) or `linear`
    /// (coefficient times standardised value).
    pub explanation: ExplanationMethod,
    /// The largest contributions by absolute value.
    pub top_factors: Vec<Factor>,
}

/// The answer to the case-management system.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Score {
    /// The record's case id.
    pub case_id: String,
    /// Clinical phase.
    pub phase: Phase,
    /// Risks by target name.
    pub risks: BTreeMap<&'static str, Risk>,
    /// Tier the policy recommends: the higher band's tier, at least the
    /// urgent pathway's minimum while an urgent flag is raised.
    pub recommended_tier: Tier,
    /// Tier the patient is in now, if any.
    pub current_tier: Option<Tier>,
    /// Follow-up cadence and channel, and why.
    pub follow_up: FollowUp,
    /// Flags raised.
    pub flags: Vec<Flag>,
    /// Plausibility warnings on the input.
    pub warnings: Vec<Warning>,
    /// Policy version used.
    pub policy_version: String,
}

/// The answer to underwriting.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Underwriting {
    /// The record's case id.
    pub case_id: String,
    /// The grade.
    #[serde(flatten)]
    pub grade: Grade,
    /// Record fields averaged out of the risks the grade uses.
    pub protected_attributes_neutralised: Vec<String>,
    /// Model versions by target.
    pub model_versions: BTreeMap<&'static str, String>,
    /// The artifacts' checksums by target.
    pub model_sha256: BTreeMap<&'static str, String>,
    /// Plausibility warnings on the input, as in a score: a doubted input is
    /// never graded silently (a doubted `years_without_complications` earns
    /// no renewal discount).
    pub warnings: Vec<Warning>,
    /// Urgent flags the record raises (the urgent pathway of the care
    /// policy). They never change the grade; pass them to the clinical team.
    pub safety_flags: Vec<Flag>,
    /// Policy version used.
    pub policy_version: String,
    /// The risks the grade used (averaged over the protected attributes), by
    /// target: for the audit trail, not part of the answer.
    #[serde(skip)]
    pub neutralised_probabilities: BTreeMap<&'static str, f64>,
}

impl Factor {
    /// Feature `index` of `model` with its `contribution` and its value in
    /// `row`, as the answers show it.
    pub(crate) fn of(model: &CompiledModel, index: usize, row: &dyn Row, contribution: f64) -> Factor {
        Factor {
            feature: model.artifact().features[index].name.clone(),
            value: json_value(model.feature_value(index, row)),
            contribution,
        }
    }
}

/// A row's value as JSON (null when missing), as the answers show it.
fn json_value(value: Option<FieldValue<'_>>) -> serde_json::Value {
    match value {
        None => serde_json::Value::Null,
        Some(FieldValue::Number(x)) => serde_json::Number::from_f64(x).map_or(serde_json::Value::Null, Into::into),
        Some(FieldValue::Integer(n)) => n.into(),
        Some(FieldValue::Boolean(b)) => b.into(),
        Some(FieldValue::Text(s)) => s.into(),
    }
}

/// The scale of an estimator's raw output.
pub fn scale_of(estimator: &Estimator) -> &'static str {
    match estimator {
        Estimator::RandomForest { .. } => "vote_share",
        Estimator::Logistic { .. } | Estimator::BoostedTrees { .. } => "log_odds",
    }
}

/// The indices of the [`TOP_FACTORS`] largest contributions by absolute
/// value, largest first (ties: the earlier feature first). One pass keeping
/// the best few in order, rather than sorting every feature.
fn top_indices(contributions: &[f64]) -> Vec<usize> {
    let mut top: Vec<usize> = Vec::with_capacity(TOP_FACTORS + 1);
    // `a` ranks before `b`: larger magnitude, or equal magnitude and earlier.
    let before = |a: usize, b: usize| contributions[a].abs().total_cmp(&contributions[b].abs()).is_gt();
    for i in 0..contributions.len() {
        if top.len() == TOP_FACTORS && !before(i, top[TOP_FACTORS - 1]) {
            continue;
        }
        let place = top.iter().position(|&t| before(i, t)).unwrap_or(top.len());
        top.insert(place, i);
        top.truncate(TOP_FACTORS);
    }
    top
}

/// A target's risk for `record`: probability, band and top factors.
pub fn risk(model: &CompiledModel, record: &dyn Row, band: crate::policy::BandThresholds) -> Risk {
    let explanation = model.explain(record);
    let probability = model.calibrate(explanation.raw);
    let artifact = model.artifact();
    let (model_version, model_sha256) = model.identity();
    let top_factors = top_indices(&explanation.contributions)
        .into_iter()
        .map(|i| Factor::of(model, i, record, explanation.contributions[i]))
        .collect();
    Risk {
        probability,
        band: policy::band(probability, band),
        model_version,
        model_sha256,
        base_value: explanation.base_value,
        scale: scale_of(&artifact.estimator),
        explanation: ExplanationMethod::of(&artifact.estimator),
        top_factors,
    }
}

/// What a score decides, without its explanations: the probabilities, the
/// recommended tier and the flags (the programme view needs only these).
#[derive(Debug, Clone, PartialEq)]
pub struct Triage {
    /// Probability of each built-in target, in [`BUILT_IN_TARGETS`] order.
    pub probabilities: [f64; 2],
    /// The recommended tier.
    pub recommended_tier: Tier,
    /// Flags raised.
    pub flags: Vec<Flag>,
}

/// The tier and flags of a record with these probabilities: the one rule
/// [`score`] and [`triage`] share.
fn care(record: &PatientRecord, infection: f64, readmission: f64, policy: &Policy) -> (Tier, Vec<Flag>) {
    let risk_tier = policy::recommended_tier(infection, readmission, policy);
    let tier = policy::tier_with_urgency(risk_tier, record, policy);
    let flags = policy::flags(record, infection, tier, policy);
    (tier, flags)
}

/// The probabilities, tier and flags of a validated record, as [`score`]
/// gives them, without computing explanations.
pub fn triage(models: &Models, policy: &Policy, record: &PatientRecord) -> Triage {
    let probabilities = [models.infection.predict(record), models.readmission.predict(record)];
    let (recommended_tier, flags) = care(record, probabilities[0], probabilities[1], policy);
    Triage {
        probabilities,
        recommended_tier,
        flags,
    }
}

/// Scores a validated record for the case-management system.
pub fn score(models: &Models, policy: &Policy, record: &PatientRecord, warnings: Vec<Warning>) -> Score {
    let infection = risk(&models.infection, record, policy.bands.infection_180d);
    let readmission = risk(&models.readmission, record, policy.bands.readmission_30d);
    let (tier, flags) = care(record, infection.probability, readmission.probability, policy);
    let phase = record.phase();
    Score {
        case_id: record.case_id.clone(),
        phase,
        risks: BTreeMap::from([(INFECTION, infection), (READMISSION, readmission)]),
        recommended_tier: tier,
        current_tier: record.current_tier,
        follow_up: policy::follow_up(phase, tier, &flags, policy),
        flags,
        warnings,
        policy_version: policy.version.clone(),
    }
}

/// Every value a protected attribute can take (categories, or true/false).
fn values_of(field: Field) -> Vec<FieldValue<'static>> {
    match field.spec().kind {
        FieldKind::Category(names) => names.iter().map(|n| FieldValue::Text(n)).collect(),
        FieldKind::Boolean => vec![FieldValue::Boolean(false), FieldValue::Boolean(true)],
        // Policy::check allows only categorical and boolean fields.
        _ => Vec::new(),
    }
}

/// The mean calibrated probability of `artifact` over every combination of
/// the protected attributes' values, the rest of the record as it is.
pub fn neutralised_probability(model: &CompiledModel, record: &PatientRecord, protected: &[String]) -> f64 {
    let mut combinations: Vec<Vec<(Field, FieldValue<'static>)>> = vec![Vec::new()];
    for field in protected.iter().filter_map(|name| Field::from_name(name)) {
        let values = values_of(field);
        if values.is_empty() {
            continue;
        }
        combinations = combinations
            .into_iter()
            .flat_map(|c| {
                values.iter().map(move |v| {
                    let mut next = c.clone();
                    next.push((field, *v));
                    next
                })
            })
            .collect();
    }
    let n = combinations.len() as f64;
    combinations
        .into_iter()
        .map(|overrides| {
            model.predict(&Overlay {
                base: record,
                overrides,
            })
        })
        .sum::<f64>()
        / n
}

/// Grades a validated record for underwriting, from risks averaged over the
/// policy's protected attributes; `warnings` are the record's plausibility
/// warnings, passed on in the answer.
pub fn underwrite(models: &Models, policy: &Policy, record: &PatientRecord, warnings: Vec<Warning>) -> Underwriting {
    let protected = &policy.underwriting.protected_attributes;
    let infection = neutralised_probability(&models.infection, record, protected);
    let readmission = neutralised_probability(&models.readmission, record, protected);
    Underwriting {
        case_id: record.case_id.clone(),
        grade: policy::grade(record, infection, readmission, policy),
        protected_attributes_neutralised: protected.clone(),
        model_versions: models.versions(),
        model_sha256: models.checksums(),
        warnings,
        safety_flags: policy::urgent_flags(&SafetySignals::of_record(record), policy),
        policy_version: policy.version.clone(),
        neutralised_probabilities: BTreeMap::from([(INFECTION, infection), (READMISSION, readmission)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The order the top factors are defined by: every feature sorted.
    fn by_sorting(contributions: &[f64]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..contributions.len()).collect();
        order.sort_by(|&a, &b| {
            contributions[b]
                .abs()
                .total_cmp(&contributions[a].abs())
                .then(a.cmp(&b))
        });
        order.truncate(TOP_FACTORS);
        order
    }

    proptest! {
        #[test]
        fn top_indices_match_a_full_sort(
            // Few distinct magnitudes and both signs, so ties are common.
            contributions in proptest::collection::vec((-4i32..=4).prop_map(|k| f64::from(k) * 0.25), 0..40)
        ) {
            prop_assert_eq!(top_indices(&contributions), by_sorting(&contributions));
        }
    }

    #[test]
    fn a_built_in_target_admits_its_horizon_and_its_fields_as_typed() {
        use crate::artifact::FeatureKind;
        let artifact = ModelArtifact::from_json(include_bytes!("../../../models/infection_180d-1.json")).unwrap();
        let [infection_target, _] = BUILT_IN_TARGETS;
        assert_eq!(admit(infection_target, &artifact), Ok(()));
        let refused = |change: &dyn Fn(&mut ModelArtifact)| {
            let mut changed = artifact.clone();
            change(&mut changed);
            admit(infection_target, &changed).unwrap_err().to_string()
        };
        assert_eq!(
            refused(&|a| a.horizon_days = 365),
            "infection_180d@1: predicts 365 days ahead, but `infection_180d` is a 180-day risk"
        );
        assert!(refused(&|a| a.target = READMISSION.into()).contains("found one for `readmission_30d`"));
        // Trained on another outcome (the readmission columns, or a label column).
        let readmission_columns = |a: &mut ModelArtifact| {
            a.label_rule = LabelRule::TimeToEvent {
                time_column: "readmission_time_days".into(),
                event_column: "infection_event".into(),
                censoring: crate::artifact::CensoringRule::Drop,
            }
        };
        assert!(
            refused(&readmission_columns).contains(
                "but `infection_180d` is the event `infection_event` by its horizon from `infection_time_days`"
            ),
            "{}",
            refused(&readmission_columns)
        );
        let label_column = |a: &mut ModelArtifact| {
            a.label_rule = LabelRule::LabelColumn {
                column: "infected".into(),
            }
        };
        assert!(
            refused(&label_column).contains(r#"trained on the label rule {"type":"label_column","column":"infected"}"#)
        );
        // The censoring handling is the trainer's choice, not the target's.
        let dropped = |a: &mut ModelArtifact| {
            if let LabelRule::TimeToEvent { censoring, .. } = &mut a.label_rule {
                *censoring = crate::artifact::CensoringRule::Drop;
            }
        };
        let mut with_drop = artifact.clone();
        dropped(&mut with_drop);
        assert_eq!(admit(infection_target, &with_drop), Ok(()));
        // What only a spec model carries is refused, not silently ignored.
        let flagged = |a: &mut ModelArtifact| {
            a.flags = vec![crate::artifact::DeclaredFlag {
                name: "early".into(),
                above: 0.2,
            }]
        };
        assert_eq!(
            refused(&flagged),
            "infection_180d@1: carries declared flags, which only a model trained through a spec has"
        );
        let ranged = |a: &mut ModelArtifact| {
            a.features[1].allowed_range = Some(crate::artifact::AllowedRange {
                min: Some(18.0),
                max: None,
            })
        };
        assert!(refused(&ranged).contains("carries an allowed range on feature `age_years`"));
        let kind_of = |name: &'static str, kind: FeatureKind| {
            move |a: &mut ModelArtifact| {
                let feature = a
                    .features
                    .iter_mut()
                    .find(|f| f.name == name)
                    .expect("a feature of the default model");
                feature.kind = kind.clone();
            }
        };
        let categories = |names: &[&str]| FeatureKind::Categorical {
            categories: names.iter().map(|n| n.to_string()).collect(),
        };
        let message = refused(&kind_of("age_years", categories(&["old"])));
        assert!(
            message.contains("feature `age_years` is not read as the field is typed"),
            "{message}"
        );
        let message = refused(&kind_of("organ", categories(&["kidney", "pancreas"])));
        assert!(message.contains("feature `organ` has category `pancreas`"), "{message}");
        let message = refused(&kind_of(
            "organ",
            FeatureKind::Numeric {
                center: 0.0,
                scale: 1.0,
            },
        ));
        assert!(message.contains("feature `organ` is not read"), "{message}");
    }

    #[test]
    fn top_indices_of_few_features() {
        assert_eq!(top_indices(&[0.1, -0.3]), vec![1, 0]);
        assert!(top_indices(&[]).is_empty());
        assert_eq!(top_indices(&[0.0, 1.0, -1.0, 0.5, 2.0, 0.5, 0.25]), vec![4, 1, 2, 3, 5]);
    }
}
