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
    r.phq9_score = Some(0);
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
    let both = [Flag::TroughReview, Flag::TroughUrgent];
    r.tacrolimus_trough_ng_ml = Some(2.9);
    assert_eq!(flags(&r, 0.05, Tier::SelfService, &p), both);
    r.tacrolimus_trough_ng_ml = Some(20.5);
    assert_eq!(flags(&r, 0.05, Tier::SelfService, &p), both);
    // A centre narrowing its review range keeps the same-day range apart.
    let mut narrow = Policy::default();
    (narrow.flags.trough_low, narrow.flags.trough_high) = (4.0, 15.0);
    r.tacrolimus_trough_ng_ml = Some(16.0);
    assert_eq!(flags(&r, 0.05, Tier::SelfService, &narrow), [Flag::TroughReview]);
}

#[test]
fn cadence_by_phase_and_tier() {
    let p = Policy::default();
    let days = |phase, tier| follow_up(phase, tier, &[], &p).cadence_days;
    assert_eq!(days(Phase::Acute, Tier::Remote), 7);
    assert_eq!(days(Phase::Consolidation, Tier::Remote), 14);
    assert_eq!(days(Phase::Maintenance, Tier::Remote), 30);
    assert_eq!(days(Phase::Maintenance, Tier::Intensive), 7, "intensive: at most 7");
    assert_eq!(days(Phase::Consolidation, Tier::SelfService), 28, "self-service: twice");
    let channel = |tier| follow_up(Phase::Acute, tier, &[Flag::TierUpgrade], &p).channel;
    assert_eq!(channel(Tier::Intensive), Channel::SeniorCaseManager);
    assert_eq!(channel(Tier::Remote), Channel::NursePhone);
    assert_eq!(channel(Tier::SelfService), Channel::SelfServiceApp);
    let routine = follow_up(Phase::Acute, Tier::Remote, &[], &p);
    assert!(routine.urgent_flags.is_empty());
    assert_eq!(routine.reason, "routine: acute phase, remote tier");
    for phase in [Phase::Acute, Phase::Consolidation, Phase::Maintenance] {
        for tier in Tier::ALL {
            let reason = follow_up(phase, *tier, &[], &p).reason;
            assert_eq!(reason, format!("routine: {phase} phase, {tier} tier"));
        }
    }
}

/// A low-risk maintenance-phase record: self-service every 60 days unless urgent.
fn low_risk_self_service() -> (crate::PatientRecord, Policy) {
    let mut r = record();
    r.days_since_transplant = 800;
    r.phq9_score = Some(0);
    r.phq9_item9 = Some(0);
    r.tacrolimus_trough_ng_ml = Some(6.0);
    (r, Policy::default())
}

#[test]
fn the_urgent_pathway_sets_tier_cadence_and_channel() {
    let (mut r, p) = low_risk_self_service();
    let tier = |r: &crate::PatientRecord, p: &Policy| tier_with_urgency(Tier::SelfService, r, p);
    assert_eq!(tier(&r, &p), Tier::SelfService);
    let routine = follow_up(r.phase(), tier(&r, &p), &flags(&r, 0.01, Tier::SelfService, &p), &p);
    assert_eq!((routine.cadence_days, routine.channel), (60, Channel::SelfServiceApp));

    // Thoughts of self-harm with a total of 0: urgent whatever the risks.
    r.phq9_item9 = Some(1);
    let t = tier(&r, &p);
    assert_eq!(t, Tier::Remote, "at least the remote tier");
    let raised = flags(&r, 0.01, t, &p);
    assert!(raised.contains(&Flag::MentalHealthUrgent), "{raised:?}");
    let urgent = follow_up(r.phase(), t, &raised, &p);
    assert_eq!((urgent.cadence_days, urgent.channel), (1, Channel::ClinicianCall));
    assert_eq!(urgent.urgent_flags, [Flag::MentalHealthUrgent]);
    assert!(urgent.reason.contains("thoughts of self-harm"), "{}", urgent.reason);
    assert_eq!(
        tier_with_urgency(Tier::Intensive, &r, &p),
        Tier::Intensive,
        "never lowered"
    );

    // A same-day trough finding takes the same pathway, and both are named.
    r.tacrolimus_trough_ng_ml = Some(24.0);
    let raised = flags(&r, 0.01, tier(&r, &p), &p);
    let urgent = follow_up(r.phase(), tier(&r, &p), &raised, &p);
    assert_eq!(urgent.urgent_flags, [Flag::MentalHealthUrgent, Flag::TroughUrgent]);
    assert!(
        urgent.reason.contains("tacrolimus trough below 3 or above 20"),
        "{}",
        urgent.reason
    );

    // The pathway's settings come from the policy.
    let p = Policy::from_toml(
        "[urgent]
cadence_days = 2
min_tier = \"intensive\"\n",
    )
    .unwrap();
    assert_eq!(tier(&r, &p), Tier::Intensive);
    let urgent = follow_up(r.phase(), Tier::Intensive, &flags(&r, 0.01, Tier::Intensive, &p), &p);
    assert_eq!((urgent.cadence_days, urgent.channel), (2, Channel::ClinicianCall));
}

#[test]
fn safety_signals_of_a_refused_record_raise_the_urgent_flags() {
    let p = Policy::default();
    let mut record: serde_json::Value = serde_json::from_str(EXAMPLE_RECORD_JSON).unwrap();
    record["phq9_item9"] = 2.into();
    record["phq9_score"] = 0.into();
    record["tacrolimus_trough_ng_ml"] = 75.0.into();
    record.as_object_mut().unwrap().remove("bmi");
    let Err(crate::RecordError::Invalid { errors, signals }) = parse_record(record.to_string().as_bytes()) else {
        panic!("a record without bmi and a trough above its range is refused");
    };
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(
        urgent_flags(&signals, &p),
        [Flag::MentalHealthUrgent, Flag::TroughUrgent]
    );
    record["phq9_item9"] = "2".into();
    record["tacrolimus_trough_ng_ml"] = 8.0.into();
    let Err(crate::RecordError::Invalid { signals, .. }) = parse_record(record.to_string().as_bytes()) else {
        panic!("refused");
    };
    assert_eq!(urgent_flags(&signals, &p), [], "a string is not read as an item score");

    // Refused on the typed path (every field present and typed, one out of
    // range): the same signals as on the lenient path.
    let signals_of = |record: &serde_json::Value| match parse_record(record.to_string().as_bytes()) {
        Err(crate::RecordError::Invalid { signals, .. }) => urgent_flags(&signals, &p),
        other => panic!("expected a refusal, got {other:?}"),
    };
    let mut typed: serde_json::Value = serde_json::from_str(EXAMPLE_RECORD_JSON).unwrap();
    typed["bmi"] = 5.0.into();
    typed["phq9_item9"] = 2.into();
    assert_eq!(signals_of(&typed), [Flag::MentalHealthUrgent]);
    typed["phq9_item9"] = 5.into();
    assert_eq!(
        signals_of(&typed),
        [],
        "5 is no answer on the 0-3 item scale, on either path"
    );
    typed.as_object_mut().unwrap().remove("bmi");
    assert_eq!(signals_of(&typed), []);

    // A key sent twice: every occurrence counts, so the alarming one is not hidden.
    let base = EXAMPLE_RECORD_JSON.trim_end().trim_end_matches('}');
    let twice = format!("{base}, \"phq9_item9\": 2, \"tacrolimus_trough_ng_ml\": 1.5}}");
    let Err(crate::RecordError::Invalid { errors, signals }) = parse_record(twice.as_bytes()) else {
        panic!("a duplicate key is refused");
    };
    assert!(errors.iter().all(|e| e.rule.id() == "duplicate_field"), "{errors:?}");
    assert_eq!(
        urgent_flags(&signals, &p),
        [Flag::MentalHealthUrgent, Flag::TroughUrgent]
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
    r.days_since_transplant = 2000;
    r.years_without_complications = Some(5);
    let t = grade(&r, 0.02, 0.02, &p).terms;
    assert_eq!(t.deductible, 5_000);
    assert!(t.renewal_discount_eligible);
}

#[test]
fn contradictory_complication_free_years_never_earn_the_renewal_discount() {
    let p = Policy::default();
    // The grade finds the contradiction itself, whatever the caller passes on.
    let graded = |r: &crate::PatientRecord| {
        let warnings = crate::validation::validate(r).warnings;
        let g = grade(r, 0.02, 0.02, &p);
        let withheld = g.reasons.iter().any(|r| r.starts_with("renewal discount withheld"));
        assert_eq!(
            withheld,
            !g.terms.renewal_discount_eligible && r.years_without_complications >= Some(5)
        );
        (g.terms.renewal_discount_eligible, warnings)
    };
    let mut r = stable();
    r.days_since_transplant = 3000;
    r.years_without_complications = Some(5);
    let (eligible, warnings) = graded(&r);
    assert!(eligible && warnings.is_empty(), "{warnings:?}");
    // Five complication-free years next to a rejection in the last 12 months.
    r.acute_rejection_episodes_12m = 1;
    let (eligible, warnings) = graded(&r);
    assert!(!eligible);
    assert_eq!(warnings[0].rule, "complication_free_despite_recent_event");
    // ... or an infection.
    r.acute_rejection_episodes_12m = 0;
    r.prior_infections_12m = 2;
    assert!(!graded(&r).0);
    // Ten complication-free years 40 days after transplant.
    r.prior_infections_12m = 0;
    r.days_since_transplant = 40;
    r.years_without_complications = Some(10);
    let (eligible, warnings) = graded(&r);
    assert!(!eligible);
    assert_eq!(warnings[0].rule, "complication_free_beyond_follow_up");
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
    refused(
        "[flags]\nmental_health_phq9 = 99\n",
        "flags.mental_health_phq9 = 99: must be from 0 to 27",
    );
    refused("[flags]\nmental_health_gad7 = 22\n", "flags.mental_health_gad7 = 22");
    refused(
        "[flags]\nadherence_below_pct = 0\n",
        "flags.adherence_below_pct = 0: must be above 0",
    );
    refused(
        "[flags]\ntrough_high = 60\n",
        "flags.trough_high = 60: must be at least 0 and below 60",
    );
    refused("[flags]\nearly_intervention_infection = 1.0\n", "would never apply");
    refused(
        "[flags]\nearly_intervention_infection = -0.5\n",
        "early_intervention_infection = -0.5: must be a probability, at least 0 and below 1",
    );
    refused(
        "[bands.readmission_30d]\nhigh = 1.0\n",
        "bands.readmission_30d.high = 1",
    );
    refused(
        "[urgent]\ncadence_days = 7\n",
        "urgent.cadence_days = 7: must be from 1 to 3",
    );
    refused("[urgent]\nmin_tier = \"self_service\"\n", "urgent.min_tier");
    refused(
        "[urgent]\ntrough_below = 25\ntrough_above = 20\n",
        "urgent.trough_below (25) is above",
    );
    refused(
        "[underwriting]\nrenewal_discount_after_years = 101\n",
        "underwriting.renewal_discount_after_years = 101",
    );
    refused("[bands.infection_180d]\nmedum = 0.1\n", "unknown field `medum`");
    refused(
        "[underwriting]\nclass_a = { infection = 0.1, readmision = 0.1 }\n",
        "unknown field `readmision`",
    );
}

#[test]
fn partial_tables_keep_the_other_keys_defaults() {
    let p = Policy::from_toml("[bands.infection_180d]\nmedium = 0.15\n").unwrap();
    assert_eq!(
        p.bands.infection_180d,
        BandThresholds {
            medium: 0.15,
            high: 0.20
        }
    );
    assert_eq!(p.bands.readmission_30d, Bands::default().readmission_30d);
    let p = Policy::from_toml("[bands.readmission_30d]\nhigh = 0.3\n").unwrap();
    assert_eq!(
        p.bands.readmission_30d,
        BandThresholds {
            medium: 0.12,
            high: 0.3
        }
    );
    let p = Policy::from_toml("[underwriting]\nclass_b = { infection = 0.22 }\n").unwrap();
    let d = Underwriting::default();
    assert_eq!(
        p.underwriting.class_b,
        ClassLimit {
            infection: 0.22,
            readmission: d.class_b.readmission
        }
    );
    assert_eq!((p.underwriting.class_a, p.underwriting.class_c), (d.class_a, d.class_c));
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
            crate::scoring::underwrite(&models, &p, &female, Vec::new()),
            crate::scoring::underwrite(&models, &p, &male, Vec::new()),
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

#[test]
fn levers_and_programme_read_from_toml_and_keep_their_defaults() {
    let policy = Policy::from_toml(
        r#"
[levers]
adherence_pct = 90
disabled = ["igg"]
[levers.tacrolimus]
kidney_liver_later = { low = 5, high = 7 }
[programme.caseload]
intensive = 35
[programme.relative_risk_reduction]
remote = 0.1
[programme.costs]
currency = "EUR"
per_patient = { self_service = 0, remote = 300, intensive = 2400 }
per_event = { infection_180d = 18000, readmission_30d = 9000 }
"#,
    )
    .unwrap();
    assert_eq!(policy.levers.adherence_pct, 90.0);
    assert_eq!(policy.levers.phq9, 4);
    assert!(!policy.levers.enabled(LeverInput::Igg));
    assert_eq!(
        policy.levers.tacrolimus.kidney_liver_later,
        TroughRange { low: 5.0, high: 7.0 }
    );
    assert_eq!(
        policy.levers.tacrolimus.heart_lung_early,
        TroughRange { low: 10.0, high: 15.0 }
    );
    assert_eq!(
        (policy.programme.caseload.intensive, policy.programme.caseload.remote),
        (35, 150)
    );
    assert_eq!(policy.programme.relative_risk_reduction.intensive, 0.15);
    assert_eq!(policy.programme.relative_risk_reduction.remote, 0.1);
    assert_eq!(policy.programme.costs.unwrap().per_patient.intensive, 2400.0);
}

#[test]
fn levers_and_programme_refuse_what_cannot_work() {
    let refused = |text: &str| Policy::from_toml(text).unwrap_err().to_string();
    assert!(refused("[levers]\nadherence_pct = 0").contains("levers.adherence_pct = 0: must be above 0"));
    assert!(refused("[levers]\nphq9 = 27").contains("levers.phq9 = 27"));
    assert!(refused("[levers]\nphq9 = 2").contains("must be at least 3"));
    assert!(refused("[levers]\ndisabled = [\"age\"]").contains("unknown variant `age`"));
    assert!(
        refused("[levers.tacrolimus]\nheart_lung_later = { low = 10, high = 5 }")
            .contains("levers.tacrolimus.heart_lung_later: low (10) must be below high (5)")
    );
    assert!(refused("[programme.relative_risk_reduction]\nintensive = 1.0")
        .contains("programme.relative_risk_reduction.intensive = 1"));
    assert!(refused("[programme.caseload]\nremote = 0").contains("intensive and remote must be positive"));
    let costs = |per_event: &str| {
        format!("[programme.costs]\ncurrency = \"EUR\"\nper_patient = {{ self_service = 0, remote = 1, intensive = 2 }}\nper_event = {per_event}")
    };
    assert!(refused(&costs("{ infection_180d = 1 }")).contains("needs `readmission_30d`"));
    assert!(
        refused(&costs("{ infection_180d = 1, readmission_30d = 1, graft_loss = 2 }"))
            .contains("`graft_loss` is not a target")
    );
    assert!(refused(&costs("{ infection_180d = -1, readmission_30d = 1 }")).contains("per_event.infection_180d = -1"));
}
