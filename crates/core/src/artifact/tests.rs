//! Artifact round trip, checksum and format refusal, and scoring by hand.

use super::*;
use crate::{parse_record, EXAMPLE_RECORD_JSON};

fn artifact() -> ModelArtifact {
    ModelArtifact {
        format: ARTIFACT_FORMAT.to_string(),
        target: "infection_180d".to_string(),
        horizon_days: 180,
        label_rule: LabelRule::TimeToEvent {
            time_column: "infection_time_days".to_string(),
            event_column: "infection_event".to_string(),
            censoring: CensoringRule::Ipcw,
        },
        operating_thresholds: vec![0.1, 0.2],
        flags: Vec::new(),
        version: 3,
        features: vec![
            FeatureSpec {
                name: "age_years".into(),
                kind: FeatureKind::Numeric {
                    center: 50.0,
                    scale: 10.0,
                },
                missing_indicator: false,
                allowed_range: None,
                training_bins: None,
                training_shares: None,
            },
            FeatureSpec {
                name: "diabetes".into(),
                kind: FeatureKind::Boolean,
                missing_indicator: false,
                allowed_range: None,
                training_bins: None,
                training_shares: None,
            },
            FeatureSpec {
                name: "cmv_serostatus".into(),
                kind: FeatureKind::Categorical {
                    categories: vec!["D+/R-".into(), "D-/R-".into()],
                },
                missing_indicator: false,
                allowed_range: None,
                training_bins: None,
                training_shares: None,
            },
            FeatureSpec {
                name: "igg_g_l".into(),
                kind: FeatureKind::Numeric {
                    center: 9.0,
                    scale: 2.0,
                },
                missing_indicator: true,
                allowed_range: None,
                training_bins: None,
                training_shares: None,
            },
        ],
        estimator: Estimator::Logistic {
            intercept: -1.5,
            coefficients: vec![0.2, 0.3, 0.5, -0.1, -0.4, 0.25],
            l2: 1.0,
        },
        calibration: Calibration::Platt { a: 1.0, b: 0.0 },
        probability_bins: None,
        metrics: [("auc".to_string(), 0.75)].into_iter().collect(),
        training_data: DataFingerprint {
            rows: 1000,
            events: 150,
            sha256: "ab".repeat(32),
        },
        trainer: TrainerInfo {
            name: "carescore-train".into(),
            version: "0.1.0".into(),
            seed: 7,
            source_date_epoch: None,
        },
        sha256: String::new(),
    }
}

#[test]
fn round_trip_preserves_everything_and_is_stable() {
    let json = artifact().to_json();
    let loaded = ModelArtifact::from_json(json.as_bytes()).unwrap();
    assert_eq!(loaded.sha256.len(), 64);
    let mut expected = artifact();
    expected.sha256 = loaded.sha256.clone();
    assert_eq!(loaded, expected);
    assert_eq!(loaded.to_json(), json, "same artifact, same bytes");
    assert_eq!(loaded.model_version(), "infection_180d@3");
}

#[test]
fn a_modified_artifact_is_refused() {
    let json = artifact().to_json().replace("0.3,", "0.31,");
    assert_eq!(ModelArtifact::from_json(json.as_bytes()), Err(ArtifactError::Checksum));
}

#[test]
fn a_format_1_artifact_is_refused_with_how_to_retrain() {
    let json = artifact().to_json().replace(ARTIFACT_FORMAT, "carescore.model/1");
    let error = ModelArtifact::from_json(json.as_bytes()).unwrap_err();
    assert_eq!(
        error,
        ArtifactError::Format {
            found: "carescore.model/1".into()
        }
    );
    assert!(
        error
            .to_string()
            .contains("retrain the model with this build's carescore-train"),
        "{error}"
    );
}

#[test]
fn label_rule_thresholds_and_allowed_ranges_are_checked() {
    let invalid = |change: &dyn Fn(&mut ModelArtifact)| {
        let mut a = artifact();
        change(&mut a);
        match ModelArtifact::from_json(a.to_json().as_bytes()) {
            Err(ArtifactError::Invalid(message)) => message,
            other => panic!("expected an invalid artifact, got {other:?}"),
        }
    };
    assert!(invalid(&|a| a.horizon_days = 0).contains("needs a positive horizon_days"));
    assert!(invalid(&|a| a.label_rule = LabelRule::LabelColumn { column: "y".into() }).contains("has no horizon"));
    assert!(invalid(&|a| a.operating_thresholds = vec![0.2, 0.1]).contains("increasing order"));
    assert!(invalid(&|a| a.operating_thresholds = vec![0.1, 1.0]).contains("strictly between 0 and 1"));
    let flag = |name: &str, above| DeclaredFlag {
        name: name.into(),
        above,
    };
    assert!(invalid(&|a| a.flags = vec![flag("Early", 0.2)]).contains("lower-case letters"));
    assert!(invalid(&|a| a.flags = vec![flag("early", 0.2), flag("early", 0.3)]).contains("declared twice"));
    assert!(invalid(&|a| a.flags = vec![flag("early", 1.5)]).contains("strictly between 0 and 1"));
    let range = |min, max| Some(AllowedRange { min, max });
    assert!(invalid(&|a| a.features[0].allowed_range = range(Some(90.0), Some(18.0))).contains("is above max"));
    assert!(invalid(&|a| a.features[1].allowed_range = range(Some(0.0), None)).contains("non-numeric"));
    // A label column with no horizon, and a numeric feature's range, are valid.
    let mut fine = artifact();
    fine.horizon_days = 0;
    fine.label_rule = LabelRule::LabelColumn { column: "y".into() };
    fine.features[0].allowed_range = range(Some(18.0), None);
    fine.flags = vec![flag("early_intervention", 0.2)];
    let loaded = ModelArtifact::from_json(fine.to_json().as_bytes()).unwrap();
    assert_eq!(loaded.features[0].allowed_range, range(Some(18.0), None));
    assert_eq!(loaded.flags, [flag("early_intervention", 0.2)]);
}

#[test]
fn another_format_is_refused() {
    let json = artifact().to_json().replace(ARTIFACT_FORMAT, "carescore.model/9");
    assert_eq!(
        ModelArtifact::from_json(json.as_bytes()),
        Err(ArtifactError::Format {
            found: "carescore.model/9".into()
        })
    );
}

#[test]
fn truncated_and_oversized_input_is_refused() {
    let json = artifact().to_json();
    assert!(matches!(
        ModelArtifact::from_json(&json.as_bytes()[..json.len() / 2]),
        Err(ArtifactError::Malformed(_))
    ));
    let huge = vec![b' '; MAX_ARTIFACT_BYTES + 1];
    assert_eq!(
        ModelArtifact::from_json(&huge),
        Err(ArtifactError::TooLarge(MAX_ARTIFACT_BYTES + 1))
    );
}

#[test]
fn inconsistent_sizes_are_refused_even_with_a_valid_checksum() {
    let mut bad = artifact();
    bad.estimator = Estimator::Logistic {
        intercept: 0.0,
        coefficients: vec![0.1; 3],
        l2: 1.0,
    };
    let json = bad.to_json();
    assert_eq!(
        ModelArtifact::from_json(json.as_bytes()),
        Err(ArtifactError::Invalid("3 coefficients for 6 design columns".into()))
    );
}

#[test]
fn scoring_a_record_by_hand() {
    // Example record: age 54, no diabetes, D+/R-, IgG 8.5 (present).
    let record = parse_record(EXAMPLE_RECORD_JSON.as_bytes()).unwrap().record;
    let a = artifact();
    let raw = -1.5 + 0.2 * 0.4 + 0.3 * 0.0 + 0.5 * 1.0 - 0.1 * 0.0 - 0.4 * ((8.5 - 9.0) / 2.0) + 0.25 * 0.0;
    assert!((a.compile().raw_score(&record) - raw).abs() < 1e-12);
    assert!((a.compile().predict(&record) - 1.0 / (1.0 + (-raw).exp())).abs() < 1e-12);
    // A missing IgG turns on its indicator and zeroes its value column.
    let mut missing = record;
    missing.igg_g_l = None;
    let raw_missing = -1.5 + 0.2 * 0.4 + 0.5 + 0.25;
    assert!((a.compile().raw_score(&missing) - raw_missing).abs() < 1e-12);
}

#[test]
fn isotonic_map_is_a_step_function() {
    let calibration = Calibration::Isotonic {
        steps: vec![
            IsotonicStep {
                raw: -1.0,
                probability: 0.1,
            },
            IsotonicStep {
                raw: 0.0,
                probability: 0.2,
            },
            IsotonicStep {
                raw: 1.0,
                probability: 0.6,
            },
        ],
    };
    assert_eq!(calibration.apply(-5.0), 0.1);
    assert_eq!(calibration.apply(-0.5), 0.1);
    assert_eq!(calibration.apply(0.0), 0.2);
    assert_eq!(calibration.apply(7.0), 0.6);
    assert!(calibration.check().is_ok());
    let unordered = Calibration::Isotonic {
        steps: vec![
            IsotonicStep {
                raw: 1.0,
                probability: 0.6,
            },
            IsotonicStep {
                raw: 0.0,
                probability: 0.2,
            },
        ],
    };
    assert!(unordered.check().is_err());
}

#[test]
fn awkward_floats_survive_the_round_trip_exactly() {
    let mut a = artifact();
    a.features[0].kind = FeatureKind::Numeric {
        center: 53.261766143548314,
        scale: 1.0 / 3.0,
    };
    a.estimator = Estimator::Logistic {
        intercept: 0.1 + 0.2,
        coefficients: vec![
            -2.2250738585072014e-308,
            1e300,
            0.7315940016460651,
            1.0 / 7.0,
            -0.1 * 3.0,
            6.02214076e23,
        ],
        l2: 0.01,
    };
    let json = a.to_json();
    let loaded = ModelArtifact::from_json(json.as_bytes()).expect("exact float round trip keeps the checksum");
    assert_eq!(loaded.estimator, a.estimator);
}

/// A stump on raw column 0 (age): age <= 60 -> -0.2, else 0.3; missing goes right.
fn stump() -> Tree {
    Tree {
        feature: vec![0, LEAF, LEAF],
        threshold: vec![60.0, 0.0, 0.0],
        left: vec![1, 0, 0],
        right: vec![2, 0, 0],
        missing_left: vec![false, false, false],
        value: vec![0.0, -0.2, 0.3],
        cover: vec![10.0, 6.0, 4.0],
    }
}

fn boosted(trees: Vec<Tree>) -> ModelArtifact {
    let mut a = artifact();
    a.estimator = Estimator::BoostedTrees {
        base_score: -1.0,
        trees,
        learning_rate: 0.1,
    };
    a.calibration = Calibration::Identity;
    a
}

#[test]
fn boosted_trees_read_the_raw_design() {
    let record = parse_record(EXAMPLE_RECORD_JSON.as_bytes()).unwrap().record;
    let a = boosted(vec![stump(), stump()]);
    let loaded = ModelArtifact::from_json(a.to_json().as_bytes()).unwrap();
    // Age 54 goes left in both trees.
    assert!((loaded.compile().raw_score(&record) - (-1.0 - 0.4)).abs() < 1e-12);
    let mut old = record;
    old.age_years = 70.0;
    assert!((loaded.compile().raw_score(&old) - (-1.0 + 0.6)).abs() < 1e-12);
}

#[test]
fn hostile_trees_are_refused() {
    type Corruption = Box<dyn Fn(&mut Tree)>;
    let cases: Vec<(Corruption, &str)> = vec![
        (
            Box::new(|t| t.left[0] = 0),
            "tree 0: node 0: child index out of order or range",
        ),
        (
            Box::new(|t| t.right[0] = 9),
            "tree 0: node 0: child index out of order or range",
        ),
        (
            Box::new(|t| t.feature[0] = 99),
            "tree 0: node 0: feature 99 out of range",
        ),
        (Box::new(|t| t.value[1] = f64::NAN), "tree 0: node 1: non-finite value"),
        (
            Box::new(|t| t.right[0] = 1),
            "tree 0: node 1: 2 parents (a tree node has one)",
        ),
        (
            Box::new(|t| t.threshold.pop().map(|_| ()).unwrap_or(())),
            "tree 0: tree node arrays differ in length",
        ),
        (
            Box::new(|t| t.cover.clear()),
            "tree 0: no node covers (`cover`): the artifact was written by a carescore-train from before trees \
             carried them; retrain the model with this build's carescore-train (`models/rebuild.sh` retrains the \
             default models)",
        ),
        (
            Box::new(|t| t.cover.truncate(2)),
            "tree 0: tree node arrays differ in length (`cover`)",
        ),
        (
            Box::new(|t| t.cover[2] = 5.0),
            "tree 0: node 0: cover 10 is not the sum of its children's (11)",
        ),
        (
            Box::new(|t| t.cover = vec![0.0, 0.0, 0.0]),
            "tree 0: node 0: a split node's cover must be above 0",
        ),
        (
            Box::new(|t| t.cover[1] = -1.0),
            "tree 0: node 1: cover must be a finite number of at least 0",
        ),
        (
            // Tiny covers that do not add up: the check is relative.
            Box::new(|t| t.cover = vec![1e-12, 5e-10, 5e-10]),
            "tree 0: node 0: cover 0.000000000001 is not the sum of its children's (0.000000001)",
        ),
        (
            // A chain 300 splits deep (the explanation recurses along paths).
            Box::new(|t| {
                *t = Tree::leaf(0.0, 1.0);
                let mut node = 0;
                for _ in 0..300 {
                    node = t.split(node, 0, 0.0, false, [0.0, 0.0], [1.0, 1.0]) + 1;
                }
                t.sum_covers();
            }),
            "tree 0: deeper than 256 splits",
        ),
    ];
    for (corrupt, message) in cases {
        let mut tree = stump();
        corrupt(&mut tree);
        let json = boosted(vec![tree]).to_json();
        // NaN cannot be written as JSON: such an artifact does not even parse.
        match ModelArtifact::from_json(json.as_bytes()) {
            Err(ArtifactError::Invalid(m)) => assert_eq!(m, message),
            Err(ArtifactError::Malformed(_)) if message.contains("non-finite") => {}
            other => panic!("{message}: {other:?}"),
        }
    }
}

#[test]
fn explanations_add_up_to_the_raw_output() {
    let record = parse_record(EXAMPLE_RECORD_JSON.as_bytes()).unwrap().record;
    let mut missing = record.clone();
    missing.igg_g_l = None;
    for model in [artifact(), boosted(vec![stump(), two_level_tree()])] {
        for row in [&record, &missing] {
            let e = model.compile().explain(row);
            let total = e.base_value + e.contributions.iter().sum::<f64>();
            assert!((total - e.raw).abs() < 1e-12, "{e:?}");
            assert_eq!(
                e.raw,
                model.compile().raw_score(row),
                "the explained raw output is the scored one, bit for bit"
            );
            assert_eq!(e.contributions.len(), model.features.len());
        }
    }
    // Logistic: the IgG contribution is its coefficient times the standardised value.
    let e = artifact().compile().explain(&record);
    assert!((e.contributions[3] - (-0.4 * (8.5 - 9.0) / 2.0)).abs() < 1e-12);
    // Trees, by hand: the stump's expected value is 0.6 x -0.2 + 0.4 x 0.3 = 0,
    // and age 54 goes left: -0.2. In the second tree (expected value 0.06),
    // knowing age alone gives -0.1, IgG 8.5 alone 0.18, both 0.1: Shapley
    // values -0.12 for age and 0.16 for IgG.
    let e = boosted(vec![stump(), two_level_tree()]).compile().explain(&record);
    assert!((e.base_value - (-1.0 + 0.06)).abs() < 1e-12, "{e:?}");
    assert!((e.contributions[0] - (-0.32)).abs() < 1e-12, "{e:?}");
    assert!((e.contributions[3] - 0.16).abs() < 1e-12, "{e:?}");
}

/// The stump with its left leaf split again on IgG (raw column 4), missing going left.
fn two_level_tree() -> Tree {
    Tree {
        feature: vec![0, 4, LEAF, LEAF, LEAF],
        threshold: vec![60.0, 7.0, 0.0, 0.0, 0.0],
        left: vec![1, 3, 0, 0, 0],
        right: vec![2, 4, 0, 0, 0],
        missing_left: vec![false, true, false, false, false],
        value: vec![0.0, -0.2, 0.3, -0.5, 0.1],
        cover: vec![10.0, 6.0, 4.0, 2.0, 4.0],
    }
}

fn forest(trees: Vec<Tree>) -> ModelArtifact {
    let mut a = artifact();
    a.estimator = Estimator::RandomForest { trees };
    a.calibration = Calibration::Identity;
    a
}

/// A probability tree: age <= 60 -> 0.1, else 0.4 (root share 0.2).
fn vote_tree() -> Tree {
    Tree {
        value: vec![0.2, 0.1, 0.4],
        ..stump()
    }
}

#[test]
fn forests_average_their_trees_and_explain_on_the_vote_scale() {
    let record = parse_record(EXAMPLE_RECORD_JSON.as_bytes()).unwrap().record;
    let mut leaf_only = vote_tree();
    leaf_only.feature = vec![LEAF];
    leaf_only.threshold = vec![0.0];
    leaf_only.left = vec![0];
    leaf_only.right = vec![0];
    leaf_only.missing_left = vec![false];
    leaf_only.value = vec![0.3];
    leaf_only.cover = vec![10.0];
    let a = forest(vec![vote_tree(), leaf_only]);
    let loaded = ModelArtifact::from_json(a.to_json().as_bytes()).unwrap();
    // Age 54: (0.1 + 0.3) / 2.
    assert!((loaded.compile().raw_score(&record) - 0.2).abs() < 1e-12);
    let e = loaded.compile().explain(&record);
    // Expected values 0.6 x 0.1 + 0.4 x 0.4 = 0.22 and 0.3; age's value in
    // the first tree 0.1 - 0.22, averaged over the two trees.
    assert!((e.base_value - 0.26).abs() < 1e-12, "{e:?}");
    assert!((e.contributions[0] - (-0.06)).abs() < 1e-12, "{e:?}");
    assert_eq!(e.raw, loaded.compile().raw_score(&record));
    assert!((e.base_value + e.contributions.iter().sum::<f64>() - e.raw).abs() < 1e-12);
    // An empty forest is refused.
    match ModelArtifact::from_json(forest(Vec::new()).to_json().as_bytes()) {
        Err(ArtifactError::Invalid(m)) => assert_eq!(m, "a random forest needs at least one tree"),
        other => panic!("{other:?}"),
    }
}

/// The next number (31 bits) of a linear congruential sequence: the tests'
/// deterministic randomness.
fn next(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *state >> 33
}

/// A deterministic pseudo-random tree over `width` raw columns, at most `max_depth` deep.
fn random_tree(state: &mut u64, width: u32, max_depth: usize) -> Tree {
    fn grow(t: &mut Tree, state: &mut u64, width: u32, depth: usize) -> u32 {
        let here = t.feature.len();
        let split = depth > 0 && next(state) % 4 != 0;
        t.feature.push(if split {
            (next(state) % u64::from(width)) as u32
        } else {
            LEAF
        });
        // Thresholds around the sample record's values (age 54, IgG 8.5, 0/1 columns).
        t.threshold.push((next(state) % 1200) as f64 / 10.0 - 30.0);
        t.left.push(0);
        t.right.push(0);
        t.missing_left.push(next(state) % 2 == 0);
        t.value.push((next(state) % 2001) as f64 / 1000.0 - 1.0);
        if split {
            t.left[here] = grow(t, state, width, depth - 1);
            t.right[here] = grow(t, state, width, depth - 1);
        }
        here as u32
    }
    let mut t = Tree {
        feature: Vec::new(),
        threshold: Vec::new(),
        left: Vec::new(),
        right: Vec::new(),
        missing_left: Vec::new(),
        value: Vec::new(),
        cover: Vec::new(),
    };
    grow(&mut t, state, width, max_depth);
    with_covers(t, state)
}

/// `t` with pseudo-random leaf covers (1 to 100) and each split's cover the
/// sum of its children's, as training writes them.
fn with_covers(mut t: Tree, state: &mut u64) -> Tree {
    t.cover = (0..t.feature.len()).map(|_| (next(state) % 100 + 1) as f64).collect();
    t.sum_covers();
    t
}

/// Exact TreeSHAP one tree at a time on the artifact's own trees, each
/// column's value credited to its feature: the oracle of the tabulated,
/// column-by-column evaluation.
fn reference_contributions(a: &ModelArtifact, trees: &[Tree], row: &dyn Row) -> Vec<f64> {
    let mut design = Vec::new();
    append_design(&a.features, DesignKind::Raw, row, &mut design);
    let owners: Vec<usize> = a
        .features
        .iter()
        .enumerate()
        .flat_map(|(i, f)| std::iter::repeat_n(i, f.raw_width()))
        .collect();
    let mut contributions = vec![0.0; a.features.len()];
    for tree in trees {
        let mut columns = vec![0.0; design.len()];
        tree_shap::tree_shap(tree, &design, &mut columns);
        for (value, owner) in columns.iter().zip(&owners) {
            contributions[*owner] += value;
        }
    }
    contributions
}

#[test]
fn compiled_trees_score_and_explain_exactly_as_the_artifact_arrays_say() {
    let record = parse_record(EXAMPLE_RECORD_JSON.as_bytes()).unwrap().record;
    let mut rows = vec![record.clone()];
    for age in [18.0, 35.5, 60.0, 61.0, 80.0] {
        let mut r = record.clone();
        r.age_years = age;
        r.igg_g_l = if age > 60.0 { None } else { Some(age / 5.0) };
        r.cmv_serostatus = if age < 50.0 {
            crate::CmvSerostatus::DonorNegRecipientNeg
        } else {
            crate::CmvSerostatus::DonorPosRecipientPos
        };
        r.diabetes = age < 40.0;
        rows.push(r);
    }
    let mut state = 20261127;
    // 13 trees: three full groups of four and one tree alone; depths 0 to 9.
    for max_depth in [0, 1, 3, 6, 9] {
        let trees: Vec<Tree> = (0..13).map(|_| random_tree(&mut state, 5, max_depth)).collect();
        for a in [boosted(trees.clone()), forest(trees.clone())] {
            let a = ModelArtifact::from_json(a.to_json().as_bytes()).expect("random trees are well formed");
            let model = a.compile();
            for row in &rows {
                let mut design = Vec::new();
                append_design(&a.features, DesignKind::Raw, row, &mut design);
                let (expected_raw, n) = match &a.estimator {
                    Estimator::BoostedTrees { base_score, .. } => (base_score + leaf_sum(&trees, &design), 1.0),
                    _ => (leaf_sum(&trees, &design) / 13.0, 13.0),
                };
                assert_eq!(model.raw_score(row), expected_raw, "depth {max_depth}");
                let e = model.explain(row);
                assert_eq!(e.raw, expected_raw);
                // Tabulated (small trees) or computed (large ones), the same
                // values up to rounding.
                let expected = reference_contributions(&a, &trees, row);
                for (c, x) in e.contributions.iter().zip(expected) {
                    assert!((c - x / n).abs() < 1e-9, "depth {max_depth}: {c} vs {}", x / n);
                }
                let total = e.base_value + e.contributions.iter().sum::<f64>();
                assert!((total - e.raw).abs() < 1e-9, "depth {max_depth}: {total} vs {}", e.raw);
            }
        }
    }
}

/// The most distinct features on one root-to-leaf path of `tree` (`owners`:
/// each column's feature): how many steps its longest merged path has.
fn longest_merged_path(tree: &Tree, owners: &[usize]) -> usize {
    fn walk(tree: &Tree, owners: &[usize], node: usize, seen: &mut Vec<usize>) -> usize {
        if tree.feature[node] == LEAF {
            return seen.len();
        }
        let owner = owners[tree.feature[node] as usize];
        let added = !seen.contains(&owner);
        if added {
            seen.push(owner);
        }
        let left = walk(tree, owners, tree.left[node] as usize, seen);
        let right = walk(tree, owners, tree.right[node] as usize, seen);
        if added {
            seen.pop();
        }
        left.max(right)
    }
    walk(tree, owners, 0, &mut Vec::new())
}

/// A deterministic pseudo-random chain `depth` splits deep over `width`
/// columns: one child of each split is a leaf, so the tree has `depth + 1`
/// leaves (few enough to be evaluated by masks) and a path as long as it is
/// deep, crediting a different feature at each split while any are left.
fn chain_tree(state: &mut u64, width: u32, depth: usize) -> Tree {
    let mut t = Tree::leaf(0.0, 0.0);
    let first = next(state) % u64::from(width);
    let mut node = 0;
    for level in 0..depth as u64 {
        let column = ((first + level) % u64::from(width)) as u32;
        // Around the middle of the rows' values, so rows go both ways.
        let threshold = (next(state) % 400) as f64 / 10.0;
        let missing_left = next(state) % 2 == 0;
        let mut value = || (next(state) % 2001) as f64 / 1000.0 - 1.0;
        let values = [value(), value()];
        let left = t.split(node, column, threshold, missing_left, values, [0.0, 0.0]);
        node = if next(state) % 2 == 0 { left } else { left + 1 };
    }
    with_covers(t, state)
}

#[test]
fn long_paths_over_many_features_explain_exactly() {
    // Ten numeric features, one column each, so one path can credit ten
    // features: more than the default models' six, and more than the tests
    // above reach (their artifact has four features).
    let names = [
        "age_years",
        "bmi",
        "days_since_transplant",
        "egfr_ml_min",
        "tacrolimus_trough_ng_ml",
        "lymphocyte_count_10e9_l",
        "igg_g_l",
        "albumin_g_dl",
        "adherence_pct",
        "distance_to_center_km",
    ];
    let mut state = 20261128;
    // Chains (long paths) among bushy trees (many short ones), all of at
    // most 64 leaves, so every tree is evaluated by masks; those of more
    // than the tabulated number of splits are explained by the exact
    // algorithm, the others from their tables.
    let trees: Vec<Tree> = (0..26)
        .map(|i| {
            if i % 2 == 0 {
                chain_tree(&mut state, 10, 12)
            } else {
                random_tree(&mut state, 10, 5)
            }
        })
        .collect();
    let owners: Vec<usize> = (0..names.len()).collect();
    assert!(trees
        .iter()
        .all(|t| t.feature.iter().filter(|f| **f == LEAF).count() <= 64));
    let longest = trees.iter().map(|t| longest_merged_path(t, &owners)).max().unwrap();
    assert_eq!(longest, 10, "a chain credits every feature on its longest path");
    let mut a = boosted(trees.clone());
    a.features = names
        .iter()
        .map(|name| FeatureSpec {
            name: (*name).into(),
            kind: FeatureKind::Numeric {
                center: 0.0,
                scale: 1.0,
            },
            missing_indicator: false,
            allowed_range: None,
            training_bins: None,
            training_shares: None,
        })
        .collect();
    let a = ModelArtifact::from_json(a.to_json().as_bytes()).expect("random trees are well formed");
    let model = a.compile();
    let record = parse_record(EXAMPLE_RECORD_JSON.as_bytes()).unwrap().record;
    let mut values = 7u64;
    let mut value = |missing_one_in: u64| {
        // Spread across the thresholds (-30 to 90), now and then missing.
        let v = next(&mut values) % 1300;
        ((values >> 20) % missing_one_in != 0).then_some(v as f64 / 10.0 - 35.0)
    };
    for k in 0..2000u32 {
        let mut r = record.clone();
        r.age_years = value(u64::MAX).unwrap_or_default();
        r.bmi = value(u64::MAX).unwrap_or_default();
        r.days_since_transplant = value(u64::MAX).unwrap_or_default().abs() as u32;
        r.egfr_ml_min = value(u64::MAX).unwrap_or_default();
        r.tacrolimus_trough_ng_ml = value(5);
        r.lymphocyte_count_10e9_l = value(3);
        r.igg_g_l = value(4);
        r.albumin_g_dl = value(6);
        r.adherence_pct = value(7);
        r.distance_to_center_km = value(8);
        let mut design = Vec::new();
        append_design(&a.features, DesignKind::Raw, &r, &mut design);
        let expected_raw = -1.0 + leaf_sum(&trees, &design);
        assert_eq!(model.raw_score(&r), expected_raw);
        let e = model.explain(&r);
        assert_eq!(e.raw, expected_raw);
        for (c, x) in e.contributions.iter().zip(reference_contributions(&a, &trees, &r)) {
            assert!((c - x).abs() < 1e-9, "row {k}: {c} vs {x}");
        }
    }
}

/// The path-dependent value of knowing the columns in `known` (a bit set):
/// the tree's output with every split on an unknown column averaged over
/// its children by their covers. The definition exact TreeSHAP computes the
/// Shapley values of.
fn path_dependent_value(tree: &Tree, x: &[f64], known: u32, node: usize) -> f64 {
    if tree.feature[node] == LEAF {
        return tree.value[node];
    }
    if known & (1 << tree.feature[node]) != 0 {
        return path_dependent_value(tree, x, known, tree.child(node, x));
    }
    let (l, r) = (tree.left[node] as usize, tree.right[node] as usize);
    (tree.cover[l] * path_dependent_value(tree, x, known, l) + tree.cover[r] * path_dependent_value(tree, x, known, r))
        / tree.cover[node]
}

/// Shapley values of the `width` columns by brute force over every subset.
fn brute_force_shapley(tree: &Tree, x: &[f64], width: u32) -> Vec<f64> {
    let factorial = |n: u32| (1..=n).map(f64::from).product::<f64>();
    let m = width;
    (0..width)
        .map(|i| {
            (0u32..1 << width)
                .filter(|s| s & (1 << i) == 0)
                .map(|s| {
                    let size = s.count_ones();
                    let weight = factorial(size) * factorial(m - size - 1) / factorial(m);
                    weight * (path_dependent_value(tree, x, s | (1 << i), 0) - path_dependent_value(tree, x, s, 0))
                })
                .sum()
        })
        .collect()
}

/// `t` with pseudo-random leaf covers of which about a quarter are 0 (a
/// leaf no training row reached), each split's cover the sum of its
/// children's; `None` when a split would be left with none (refused on load).
fn with_some_zero_covers(mut t: Tree, state: &mut u64) -> Option<Tree> {
    t.cover = (0..t.feature.len())
        .map(|_| {
            if next(state) % 4 == 0 {
                0.0
            } else {
                (next(state) % 100 + 1) as f64
            }
        })
        .collect();
    t.sum_covers();
    (0..t.feature.len())
        .all(|n| t.feature[n] == LEAF || t.cover[n] > 0.0)
        .then_some(t)
}

#[test]
fn tree_shap_equals_brute_force_shapley_values_on_random_trees_with_missing_values() {
    let mut state = 2018u64;
    let width = 6u32;
    let players: Vec<usize> = (0..width as usize).collect();
    let mut scratch = linear_tree_shap::Scratch::default();
    let (mut checked, mut zero_covered) = (0, 0);
    for tree_index in 0..300 {
        // Deep trees on few columns split the same column again on one path,
        // which is where the path bookkeeping (unwinding; the linear
        // algorithm's replaced factors) is exercised.
        let tree = random_tree(&mut state, width, 2 + tree_index % 6);
        // A third of the trees have leaves no training row reached.
        let tree = if tree_index % 3 == 2 {
            match with_some_zero_covers(tree, &mut state) {
                Some(t) if t.cover.contains(&0.0) => {
                    zero_covered += 1;
                    t
                }
                _ => continue,
            }
        } else {
            tree
        };
        tree.check(width as usize).expect("a well-formed tree");
        let linear = linear_tree_shap::LinearTreeShap::new(&tree, &players);
        for _ in 0..5 {
            let x: Vec<f64> = (0..width)
                .map(|_| {
                    if next(&mut state) % 5 == 0 {
                        f64::NAN
                    } else {
                        (next(&mut state) % 1200) as f64 / 10.0 - 30.0
                    }
                })
                .collect();
            let mut phi = vec![0.0; width as usize];
            tree_shap::tree_shap(&tree, &x, &mut phi);
            let mut linear_phi = vec![0.0; width as usize];
            linear.add(&x, &mut linear_phi, &mut scratch);
            let expected = brute_force_shapley(&tree, &x, width);
            for (column, ((fast, slow), linear)) in phi.iter().zip(&expected).zip(&linear_phi).enumerate() {
                assert!(
                    (fast - slow).abs() <= 1e-9,
                    "tree {tree_index}, column {column}: TreeSHAP {fast}, brute force {slow}"
                );
                assert!(
                    (linear - slow).abs() <= 1e-9,
                    "tree {tree_index}, column {column}: linear TreeSHAP {linear}, brute force {slow}"
                );
            }
            // Local accuracy: the base value plus the values is the output.
            let base = tree_shap::expected_value(&tree);
            assert!((base - path_dependent_value(&tree, &x, 0, 0)).abs() <= 1e-9);
            let total = base + phi.iter().sum::<f64>();
            assert!(
                (total - tree.predict(&x)).abs() <= 1e-9,
                "tree {tree_index}: {total} vs {}",
                tree.predict(&x)
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 1200 && zero_covered >= 40,
        "{checked} rows, {zero_covered} trees with empty leaves"
    );
}

#[test]
fn linear_tree_shap_equals_algorithm_2_on_large_trees() {
    // Trees of up to hundreds of leaves (a forest's), deep enough to split
    // the same column many times on a path, over 9 columns grouped into 4
    // players, as a category's one-hot columns are.
    let mut state = 2022u64;
    let width = 9u32;
    let players: Vec<usize> = (0..width as usize).map(|c| c / 3 + usize::from(c == 8)).collect();
    let mut scratch = linear_tree_shap::Scratch::default();
    let mut largest = 0;
    for tree_index in 0..40 {
        let tree = random_tree(&mut state, width, 8 + tree_index % 8);
        largest = largest.max(tree.feature.iter().filter(|f| **f == LEAF).count());
        let linear = linear_tree_shap::LinearTreeShap::new(&tree, &players);
        for _ in 0..10 {
            let x: Vec<f64> = (0..width)
                .map(|_| match next(&mut state) % 6 {
                    0 => f64::NAN,
                    _ => (next(&mut state) % 1200) as f64 / 10.0 - 30.0,
                })
                .collect();
            let mut columns = vec![0.0; width as usize];
            tree_shap::tree_shap(&tree, &x, &mut columns);
            let mut expected = vec![0.0; 5];
            for (value, &player) in columns.iter().zip(&players) {
                expected[player] += value;
            }
            let mut phi = vec![0.0; 5];
            linear.add(&x, &mut phi, &mut scratch);
            for (player, (a, b)) in phi.iter().zip(&expected).enumerate() {
                assert!((a - b).abs() <= 1e-9, "tree {tree_index}, player {player}: {a} vs {b}");
            }
        }
    }
    assert!(largest >= 255, "the largest tree has {largest} leaves");
}
