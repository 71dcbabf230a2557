use super::*;
use crate::record::{Organ, Sex, Tier};
use crate::Phase;
use crate::{parse_record, EXAMPLE_RECORD_JSON};

fn record() -> crate::PatientRecord {
    parse_record(EXAMPLE_RECORD_JSON.as_bytes()).unwrap().record
}

#[test]
fn bands_and_tiers_follow_the_default_thresholds() {
    let p = Policy::default();
    let t = p.bands.infection_180d;
    assert_eq!(band(0.10, t), Band::Low, "at the threshold is not above it");
    assert_eq!(band(0.1001, t), Band::Medium);
    assert_eq!(band(0.2001, t), Band::High);
    assert_eq!(recommended_tier(0.05, 0.05, &p), Tier::SelfService);
    assert_eq!(recommended_tier(0.15, 0.05, &p), Tier::Remote);
    assert_eq!(recommended_tier(0.05, 0.13, &p), Tier::Remote);
    assert_eq!(recommended_tier(0.05, 0.26, &p), Tier::Intensive);
    assert_eq!(recommended_tier(0.21, 0.0, &p), Tier::Intensive);
}

#[test]
fn each_flag_has_its_trigger() {
    let p = Policy::default();
    let mut r = record();
    r.current_tier = None;
    r.phq9_score = Some(4);
    r.phq9_item9 = Some(0);
    r.gad7_score = Some(3);
    r.adherence_pct = Some(95.0);
    r.tacrolimus_trough_ng_ml = Some(8.0);
    assert_eq!(flags(&r, 0.10, Tier::Remote, &p), []);
    assert_eq!(flags(&r, 0.21, Tier::Intensive, &p), [Flag::EarlyIntervention]);
    r.current_tier = Some(Tier::SelfService);
    assert_eq!(flags(&r, 0.15, Tier::Remote, &p), [Flag::TierUpgrade]);
    assert_eq!(flags(&r, 0.05, Tier::SelfService, &p), [], "same tier: no upgrade");
    r.current_tier = Some(Tier::Intensive);
    assert_eq!(
        flags(&r, 0.05, Tier::Remote, &p),
        [],
        "a lower recommendation is no upgrade"
    );
    r.phq9_item9 = Some(1);
    assert_eq!(
        flags(&r, 0.05, Tier::SelfService, &p),
        [Flag::MentalHealthUrgent],
        "item 9 whatever the total"
    );
    r.phq9_item9 = Some(0);
    r.gad7_score = Some(10);
    assert_eq!(flags(&r, 0.05, Tier::SelfService, &p), [Flag::MentalHealthReview]);
    r.gad7_score = Some(3);
    r.adherence_pct = Some(89.9);
    assert_eq!(flags(&r, 0.05, Tier::SelfService, &p), [Flag::AdherenceSupport]);
    r.adherence_pct = None;
    r.tacrolimus_trough_ng_ml = Some(2.9);
    assert_eq!(flags(&r, 0.05, Tier::SelfService, &p), [Flag::TroughReview]);
    r.tacrolimus_trough_ng_ml = Some(20.5);
    assert_eq!(flags(&r, 0.05, Tier::SelfService, &p), [Flag::TroughReview]);
}

#[test]
fn cadence_by_phase_and_tier() {
    let p = Policy::default();
    let days = |phase, tier| follow_up(phase, tier, &p).cadence_days;
    assert_eq!(days(Phase::Acute, Tier::Remote), 7);
    assert_eq!(days(Phase::Consolidation, Tier::Remote), 14);
    assert_eq!(days(Phase::Maintenance, Tier::Remote), 30);
    assert_eq!(days(Phase::Maintenance, Tier::Intensive), 7, "intensive: at most 7");
    assert_eq!(days(Phase::Consolidation, Tier::SelfService), 28, "self-service: twice");
    assert_eq!(
        follow_up(Phase::Acute, Tier::Intensive, &p).channel,
        "senior_case_manager"
    );
    assert_eq!(follow_up(Phase::Acute, Tier::Remote, &p).channel, "nurse_phone");
    assert_eq!(
        follow_up(Phase::Acute, Tier::SelfService, &p).channel,
        "self_service_app"
    );
}

/// A maintenance-phase kidney recipient without recent rejection.
fn stable() -> crate::PatientRecord {
    let mut r = record();
    r.days_since_transplant = 800;
    r.organ = Organ::Kidney;
    r.acute_rejection_episodes_12m = 0;
    r.enrolled_in_program = false;
    r.years_without_complications = Some(2);
    r
}

#[test]
fn grades_follow_the_class_limits_and_name_the_reasons() {
    let p = Policy::default();
    let g = grade(&stable(), 0.08, 0.10, &p);
    assert_eq!((g.risk_class, g.premium_loading_pct), (RiskClass::A, 0));
    assert!(g.conditions.is_empty());
    let g = grade(&stable(), 0.27, 0.10, &p);
    assert_eq!((g.risk_class, g.premium_loading_pct), (RiskClass::C, 50));
    assert_eq!(g.reasons, ["infection risk 0.27 above 0.20"]);
    let g = grade(&stable(), 0.5, 0.45, &p);
    assert_eq!((g.risk_class, g.premium_loading_pct), (RiskClass::D, 100));
    assert_eq!(g.conditions, [underwriting::HEALTH_MANAGEMENT_PACKAGE], "class D");
    assert_eq!(g.reasons.len(), 2, "{:?}", g.reasons);
}

#[test]
fn floors_and_conditions() {
    let p = Policy::default();
    let mut r = stable();
    r.acute_rejection_episodes_12m = 1;
    let g = grade(&r, 0.02, 0.02, &p);
    assert_eq!(g.risk_class, RiskClass::C, "a recent rejection: at least C");
    assert_eq!(g.conditions, ["health_management_package_required"]);
    assert!(g
        .reasons
        .contains(&"acute rejection in the last 12 months: at least C".to_string()));
    let mut r = stable();
    r.organ = Organ::Lung;
    assert_eq!(grade(&r, 0.02, 0.02, &p).risk_class, RiskClass::B, "lung: at least B");
    let mut r = stable();
    r.days_since_transplant = 30;
    let g = grade(&r, 0.02, 0.02, &p);
    assert_eq!(g.risk_class, RiskClass::B, "acute phase: at least B");
    assert!(g.conditions.is_empty());
}

#[test]
fn deductible_and_renewal_terms() {
    let p = Policy::default();
    let mut r = stable();
    let t = grade(&r, 0.02, 0.02, &p).terms;
    assert_eq!((t.currency.as_str(), t.deductible), ("CNY", 10_000));
    assert_eq!((t.deductible_standard, t.deductible_if_enrolled), (10_000, 5_000));
    assert_eq!(
        (
            t.renewal_discount_pct,
            t.renewal_discount_after_years_without_complications
        ),
        (10, 5)
    );
    assert!(!t.renewal_discount_eligible);
    r.enrolled_in_program = true;
    r.years_without_complications = Some(5);
    let t = grade(&r, 0.02, 0.02, &p).terms;
    assert_eq!(t.deductible, 5_000);
    assert!(t.renewal_discount_eligible);
}

#[test]
fn toml_overrides_keep_the_other_defaults() {
    assert_eq!(Policy::from_toml("").unwrap(), Policy::default());
    let p = Policy::from_toml(
        "version = \"insurer-7\"\n[bands.infection_180d]\nmedium = 0.15\nhigh = 0.3\n[underwriting]\ncurrency = \"EUR\"\n",
    )
    .unwrap();
    assert_eq!(p.version, "insurer-7");
    assert_eq!(p.bands.infection_180d.high, 0.3);
    assert_eq!(p.bands.readmission_30d, Bands::default().readmission_30d);
    assert_eq!(p.underwriting.currency, "EUR");
    assert_eq!(p.underwriting.deductible_standard, 10_000);
    assert_eq!(p.underwriting.floor_recent_rejection, RiskClass::C);
}

#[test]
fn bad_policies_are_refused_with_the_key() {
    let refused = |text: &str, needle: &str| {
        let message = Policy::from_toml(text).unwrap_err().to_string();
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    };
    refused(
        "[bands.infection_180d]\nmedium = 0.3\nhigh = 0.2\n",
        "medium (0.3) is above high (0.2)",
    );
    refused(
        "[bands.infection_180d]\nmedium = 1.5\nhigh = 2\n",
        "bands.infection_180d.medium = 1.5",
    );
    refused(
        "[flags]\nearly_intervention = 0.2\n",
        "unknown field `early_intervention`",
    );
    refused("[follow_up]\nacute_days = 0\n", "must be positive");
    refused("[underwriting]\nloading_pct = [0, 50, 25, 100]\n", "must not decrease");
    refused(
        "[underwriting]\nprotected_attributes = [\"age_years\"]\n",
        "`age_years` is not a categorical",
    );
    refused(
        "[underwriting]\nfloor_recent_rejection = \"E\"\n",
        "unknown variant `E`",
    );
    refused("version = ", "line 1: ");
}

#[test]
fn records_differing_only_in_sex_get_the_same_grade() {
    let models = crate::scoring::Models::new(
        crate::ModelArtifact::from_json(include_bytes!("../../../../models/infection_180d-1.json")).unwrap(),
        crate::ModelArtifact::from_json(include_bytes!("../../../../models/readmission_30d-1.json")).unwrap(),
    )
    .unwrap();
    let p = Policy::default();
    for days in [20, 200, 900] {
        let mut female = record();
        female.days_since_transplant = days;
        female.sex = Sex::Female;
        let mut male = female.clone();
        male.sex = Sex::Male;
        let (a, b) = (
            crate::scoring::underwrite(&models, &p, &female),
            crate::scoring::underwrite(&models, &p, &male),
        );
        assert_eq!(a.grade, b.grade, "day {days}");
        assert_eq!(a.protected_attributes_neutralised, ["sex"]);
    }
    // The models do use sex, so the clinical scores may differ while the grade does not.
    let mut female = record();
    female.sex = Sex::Female;
    let mut male = female.clone();
    male.sex = Sex::Male;
    let (f, m) = (
        crate::scoring::score(&models, &p, &female, Vec::new()),
        crate::scoring::score(&models, &p, &male, Vec::new()),
    );
    assert_ne!(
        f.risks["infection_180d"].probability, m.risks["infection_180d"].probability,
        "sex is a clinical predictor"
    );
}

#[test]
fn the_documented_policy_file_is_the_default_policy() {
    let doc = include_str!("../../../../docs/policy.md");
    let toml = doc
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/policy.md holds a TOML block");
    assert_eq!(Policy::from_toml(toml).unwrap(), Policy::default());
}
