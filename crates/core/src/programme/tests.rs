use super::*;
use crate::policy::Costs;
use crate::scoring::{INFECTION, READMISSION};

/// A patient: infection and readmission probabilities, recommended and current tiers, flags.
type Patient = (f64, f64, Tier, Option<Tier>, Vec<Flag>);

/// Ten patients whose figures are worked out by hand below.
fn fixture() -> Vec<Patient> {
    use Flag::*;
    use Tier::*;
    vec![
        (
            0.30,
            0.10,
            Intensive,
            Some(Remote),
            vec![EarlyIntervention, TierUpgrade],
        ),
        (0.25, 0.30, Intensive, Some(Intensive), vec![EarlyIntervention]),
        (0.05, 0.28, Intensive, None, vec![]),
        (0.15, 0.05, Remote, Some(SelfService), vec![TierUpgrade]),
        (0.12, 0.13, Remote, Some(Remote), vec![MentalHealthReview]),
        (0.02, 0.15, Remote, None, vec![AdherenceSupport]),
        (0.05, 0.05, SelfService, Some(Remote), vec![]),
        (0.08, 0.10, SelfService, Some(SelfService), vec![]),
        (0.01, 0.02, SelfService, None, vec![]),
        (
            0.07,
            0.02,
            SelfService,
            Some(SelfService),
            vec![MentalHealthReview, AdherenceSupport],
        ),
    ]
}

fn tally(rows: &[Patient]) -> Tally {
    let mut tally = Tally::default();
    for (infection, readmission, recommended, current, flags) in rows {
        tally.add(Entry {
            probabilities: [*infection, *readmission],
            recommended: *recommended,
            current: *current,
            flags,
        });
    }
    tally
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn costed() -> Policy {
    let mut policy = Policy::default();
    policy.programme.costs = Some(Costs {
        currency: "CNY".into(),
        per_patient: PerTier {
            self_service: 10.0,
            remote: 200.0,
            intensive: 1000.0,
        },
        per_event: BTreeMap::from([(INFECTION.to_string(), 20_000.0), (READMISSION.to_string(), 8_000.0)]),
    });
    policy
}

#[test]
fn the_hand_computed_fixture() {
    let view = tally(&fixture()).view(&costed());
    assert_eq!(view.patients, 10);
    let patients: Vec<usize> = view.tiers.iter().map(|t| t.patients).collect();
    assert_eq!(patients, vec![4, 3, 3], "self-service, remote, intensive");
    assert_eq!(view.tiers[0].caseload, None);
    assert_eq!((view.tiers[1].caseload, view.tiers[2].caseload), (Some(150), Some(40)));
    // Workload: 3/150 + 3/40 = 0.02 + 0.075; whole: one remote, one intensive.
    assert!(close(view.tiers[1].case_managers, 0.02) && close(view.tiers[2].case_managers, 0.075));
    assert!(close(view.workload.case_managers, 0.095));
    assert_eq!(view.workload.case_managers_whole, 2);
    // Expected events: infection 0.60 + 0.29 + 0.21, readmission 0.68 + 0.33 + 0.19.
    let infection = &view.targets[INFECTION];
    let readmission = &view.targets[READMISSION];
    assert!(close(infection.expected_events, 1.10) && close(readmission.expected_events, 1.20));
    assert!(close(view.tiers[2].expected_events[INFECTION], 0.60));
    assert!(close(view.tiers[1].expected_events[READMISSION], 0.33));
    assert!(close(infection.mean_risk, 0.11));
    assert_eq!((infection.horizon_days, readmission.horizon_days), (180, 30));
    // Events avoided at 15% in the intensive and remote tiers, none in self-service.
    assert!(close(infection.events_avoided, 0.15 * 0.89));
    assert!(close(readmission.events_avoided, 0.15 * 1.01));
    assert!(close(view.tiers[0].events_avoided[INFECTION], 0.0));
    // Flags and tier changes.
    let count = |f: Flag| view.flags[&f];
    assert_eq!(
        Flag::ALL.map(count),
        [2, 2, 2, 0, 2, 0, 0],
        "early_intervention, tier_upgrade, mental_health_review, mental_health_urgent, adherence_support, trough_review, trough_urgent"
    );
    assert_eq!(
        view.tier_changes,
        TierChanges {
            upgrades: 2,
            downgrades: 1,
            unchanged: 4,
            no_current_tier: 3
        }
    );
    // Costs: 4 x 10 + 3 x 200 + 3 x 1000; value 0.1335 x 20,000 + 0.1515 x 8,000.
    let costs = view.costs.as_ref().unwrap();
    assert!(close(costs.programme_cost, 3640.0));
    assert!(close(costs.events_avoided_value, 2670.0 + 1212.0));
    assert!(close(costs.by_target[INFECTION].value, 2670.0) && close(costs.by_target[READMISSION].value, 1212.0));
    assert_eq!(
        (
            costs.by_target[INFECTION].horizon_days,
            costs.by_target[READMISSION].per_event
        ),
        (180, 8000.0)
    );
    assert!(close(costs.net_cost, 3640.0 - 3882.0));
    assert!(close(costs.cost_per_event_avoided.unwrap(), 3640.0 / 0.285));
    assert!(
        view.assumption.contains("intensive 15%, remote 15%, self-service 0%"),
        "{}",
        view.assumption
    );
    assert!(Policy::default().programme.costs.is_none());
    assert!(tally(&fixture()).view(&Policy::default()).costs.is_none());
}

#[test]
fn the_interval_matches_enumeration() {
    // Every one of the 2^10 outcomes of the fixture's infections, weighed.
    let p: Vec<f64> = fixture().iter().map(|r| r.0).collect();
    let mut pmf = [0.0; 11];
    for outcome in 0u32..1 << 10 {
        let mass: f64 = (0..10)
            .map(|i| if outcome >> i & 1 == 1 { p[i] } else { 1.0 - p[i] })
            .product();
        pmf[outcome.count_ones() as usize] += mass;
    }
    let cdf: Vec<f64> = pmf
        .iter()
        .scan(0.0, |c, m| {
            *c += m;
            Some(*c)
        })
        .collect();
    let low = cdf.iter().position(|c| *c > 0.025).unwrap() as u64;
    let high = cdf.iter().position(|c| *c >= 0.975).unwrap() as u64;
    let interval = tally(&fixture()).view(&Policy::default()).targets[INFECTION].interval_95;
    assert_eq!((interval.low, interval.high), (low, high));
    assert_eq!((low, high), (0, 3));
}

#[test]
fn an_empty_cohort_has_zero_everywhere() {
    let view = Tally::default().view(&costed());
    assert_eq!(view.patients, 0);
    assert_eq!(view.targets[INFECTION].mean_risk, 0.0);
    assert_eq!(view.costs.unwrap().cost_per_event_avoided, None);
}
