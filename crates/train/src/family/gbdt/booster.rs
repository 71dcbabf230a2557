//! Gradient-boosted decision trees for binary outcomes: trees grown on
//! histograms ([`crate::model::trees`]) with shrinkage, leaf and size limits, an L2
//! penalty on leaf values and native missing-value handling, sample weights,
//! and early stopping on a validation set (or a fixed number of rounds
//! without one).
//!
//! Written here rather than taken from a crate: of the Rust boosters tried,
//! perpetual needs nightly Rust, lightgbm3 and xgb need cmake or a prebuilt
//! library downloaded in build.rs, forust-ml has had no commits since early
//! 2025, and gbdt is legacy (f32, single-threaded). The trees are exported
//! straight into the artifact's flat node arrays, which `carescore-core`
//! evaluates without training code.

use carescore_core::artifact::{leaf_sum, sigmoid, Tree};

use crate::model::loss::mean_log_loss;
use crate::model::trees::{grow, predict_binned, Binned, ColumnChoice, GrowParams};

/// Booster settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GbdtParams {
    /// Shrinkage applied to every tree.
    pub learning_rate: f64,
    /// Leaves per tree (leaf-wise growth).
    pub max_leaves: usize,
    /// Fewest training rows in a leaf.
    pub min_rows_in_leaf: usize,
    /// Smallest hessian sum in a leaf.
    pub min_hessian_in_leaf: f64,
    /// L2 penalty on leaf values.
    pub l2: f64,
    /// Most trees (the number of trees when there is no validation set).
    pub max_trees: usize,
    /// Stop after this many rounds without validation improvement.
    pub early_stopping_rounds: usize,
}

impl Default for GbdtParams {
    fn default() -> Self {
        GbdtParams {
            learning_rate: 0.05,
            max_leaves: 15,
            min_rows_in_leaf: 40,
            min_hessian_in_leaf: 1e-3,
            l2: 1.0,
            max_trees: 1000,
            early_stopping_rounds: 50,
        }
    }
}

impl GbdtParams {
    /// How each boosted tree grows.
    pub fn grow_params(&self) -> GrowParams {
        GrowParams {
            shrinkage: self.learning_rate,
            max_leaves: self.max_leaves,
            min_rows_in_leaf: self.min_rows_in_leaf,
            min_hessian_in_leaf: self.min_hessian_in_leaf,
            l2: self.l2,
        }
    }
}

/// A fitted booster: every tree grown, and how many of them the early
/// stopping keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Booster {
    /// Starting log-odds.
    pub base_score: f64,
    /// Every tree grown, including the rounds after the best one that early
    /// stopping waited through (so the booster can be read at any round count).
    pub grown: Vec<Tree>,
    /// Rounds with the lowest validation loss (every round without a validation set).
    pub best_rounds: usize,
    /// Validation log-loss per round.
    pub validation_loss: Vec<f64>,
}

/// The log-loss gradient and hessian of every row (the training rows' are
/// used), on all cores: each row's values depend on that row alone.
fn gradients(raw: &[f64], y: &[bool], w: &[f64], g: &mut [f64], h: &mut [f64]) {
    assert!(
        y.len() == raw.len() && w.len() == raw.len() && g.len() == raw.len() && h.len() == raw.len(),
        "one label, weight, gradient and hessian per row"
    );
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = raw.len().div_ceil(threads).max(1 << 14);
    std::thread::scope(|scope| {
        for ((((raw, y), w), g), h) in raw
            .chunks(chunk)
            .zip(y.chunks(chunk))
            .zip(w.chunks(chunk))
            .zip(g.chunks_mut(chunk))
            .zip(h.chunks_mut(chunk))
        {
            scope.spawn(move || {
                for i in 0..raw.len() {
                    let prob = sigmoid(raw[i]);
                    g[i] = w[i] * (prob - f64::from(u8::from(y[i])));
                    h[i] = w[i] * prob * (1.0 - prob);
                }
            });
        }
    });
}

/// Boosts trees on `train` rows, early-stopping on `valid` rows; with no
/// `valid` rows, boosts `p.max_trees` rounds.
pub fn fit(data: &Binned, y: &[bool], w: &[f64], train: &[u32], valid: &[u32], p: &GbdtParams) -> Booster {
    let (mut positive, mut total) = (0.0, 0.0);
    for &r in train {
        total += w[r as usize];
        if y[r as usize] {
            positive += w[r as usize];
        }
    }
    let rate = (positive / total.max(f64::MIN_POSITIVE)).clamp(1e-6, 1.0 - 1e-6);
    let base_score = (rate / (1.0 - rate)).ln();
    let mut raw = vec![base_score; data.rows];
    let (mut g, mut h) = (vec![0.0; data.rows], vec![0.0; data.rows]);
    let mut trees = Vec::new();
    let mut validation_loss = Vec::new();
    let (mut best_loss, mut best_round) = (f64::INFINITY, 0);
    let grow_params = p.grow_params();
    for round in 0..p.max_trees {
        gradients(&raw, y, w, &mut g, &mut h);
        let grown = grow(data, train.to_vec(), &g, &h, w, &grow_params, &mut ColumnChoice::All);
        // Training rows: by leaf membership; validation rows: down the binned tree.
        for (node, rows) in &grown.leaves {
            for &r in rows {
                raw[r as usize] += grown.tree.value[*node];
            }
        }
        for &r in valid {
            raw[r as usize] += predict_binned(&grown.tree, &grown.split_bins, data, r as usize);
        }
        trees.push(grown.tree);
        if valid.is_empty() {
            best_round = round;
            continue;
        }
        let loss = mean_log_loss(valid.iter().map(|&r| (raw[r as usize], y[r as usize], w[r as usize])));
        validation_loss.push(loss);
        if loss < best_loss - 1e-9 {
            best_loss = loss;
            best_round = round;
        } else if round - best_round >= p.early_stopping_rounds {
            break;
        }
    }
    Booster {
        base_score,
        best_rounds: if trees.is_empty() { 0 } else { best_round + 1 },
        grown: trees,
        validation_loss,
    }
}

impl Booster {
    /// The trees early stopping keeps.
    pub fn trees(&self) -> &[Tree] {
        &self.grown[..self.best_rounds]
    }

    /// The kept trees, the rest dropped.
    pub fn into_trees(mut self) -> Vec<Tree> {
        self.grown.truncate(self.best_rounds);
        self.grown
    }

    /// The raw log-odds of a raw design row (the artifact's raw output, bit for bit).
    pub fn raw(&self, x: &[f64]) -> f64 {
        self.base_score + leaf_sum(self.trees(), x)
    }

    /// The raw log-odds of a raw design row after the first `rounds` trees
    /// (all grown trees if there are fewer).
    pub fn raw_after(&self, rounds: usize, x: &[f64]) -> f64 {
        self.base_score + leaf_sum(&self.grown[..rounds.min(self.grown.len())], x)
    }
}

#[cfg(test)]
mod tests {
    use carescore_core::artifact::LEAF;
    use rand::{Rng, SeedableRng};

    use super::*;

    /// A non-linear problem: risk jumps above x0 > 1 and with x1 missing.
    fn problem(n: usize, seed: u64) -> (Vec<f64>, Vec<bool>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let a: f64 = rng.gen_range(-2.0..2.0);
            let b: f64 = if rng.gen::<f64>() < 0.2 {
                f64::NAN
            } else {
                rng.gen_range(0.0..1.0)
            };
            let logit = -1.5 + if a > 1.0 { 2.0 } else { 0.0 } + if b.is_nan() { 1.0 } else { 0.0 };
            x.extend([a, b]);
            y.push(rng.gen::<f64>() < sigmoid(logit));
        }
        (x, y)
    }

    #[test]
    fn learns_thresholds_and_missingness_and_matches_raw_prediction() {
        let (x, y) = problem(8000, 1);
        let data = Binned::new(&x, 2, 255);
        let train: Vec<u32> = (0..6000).collect();
        let valid: Vec<u32> = (6000..8000).collect();
        let w = vec![1.0; y.len()];
        let booster = fit(
            &data,
            &y,
            &w,
            &train,
            &valid,
            &GbdtParams {
                max_leaves: 4,
                ..GbdtParams::default()
            },
        );
        assert!(booster.trees().len() > 5, "{}", booster.trees().len());
        let p = |a: f64, b: f64| sigmoid(booster.raw(&[a, b]));
        assert!((p(1.5, 0.5) - sigmoid(0.5)).abs() < 0.08, "{}", p(1.5, 0.5));
        assert!((p(-1.0, 0.5) - sigmoid(-1.5)).abs() < 0.05, "{}", p(-1.0, 0.5));
        assert!(
            (p(-1.0, f64::NAN) - sigmoid(-0.5)).abs() < 0.08,
            "{}",
            p(-1.0, f64::NAN)
        );
        // Binned and raw evaluation agree on every training row.
        let split_bins = |t: &Tree| -> Vec<u8> {
            let edge_bin = |(f, th): (&u32, &f64)| match *f {
                LEAF => 0,
                f => data.edges[f as usize].partition_point(|e| e < th) as u8,
            };
            t.feature.iter().zip(&t.threshold).map(edge_bin).collect()
        };
        for r in 0..200 {
            let binned: f64 = booster.base_score
                + booster
                    .trees()
                    .iter()
                    .map(|t| predict_binned(t, &split_bins(t), &data, r))
                    .sum::<f64>();
            assert!((binned - booster.raw(&x[r * 2..r * 2 + 2])).abs() < 1e-12);
        }
    }

    #[test]
    fn same_input_same_trees() {
        let (x, y) = problem(3000, 2);
        let data = Binned::new(&x, 2, 64);
        let rows: Vec<u32> = (0..2500).collect();
        let valid: Vec<u32> = (2500..3000).collect();
        let w = vec![1.0; y.len()];
        let a = fit(&data, &y, &w, &rows, &valid, &GbdtParams::default());
        let b = fit(&data, &y, &w, &rows, &valid, &GbdtParams::default());
        assert_eq!(a, b);
    }

    #[test]
    fn boosting_on_without_validation_grows_the_same_trees_first() {
        let (x, y) = problem(3000, 4);
        let data = Binned::new(&x, 2, 64);
        let w = vec![1.0; y.len()];
        let train: Vec<u32> = (0..2500).collect();
        let valid: Vec<u32> = (2500..3000).collect();
        let stopped = fit(&data, &y, &w, &train, &valid, &GbdtParams::default());
        let longer = GbdtParams {
            max_trees: stopped.grown.len() + 20,
            ..GbdtParams::default()
        };
        let on = fit(&data, &y, &w, &train, &[], &longer);
        assert_eq!(on.grown.len(), stopped.grown.len() + 20);
        assert!(
            on.grown[..stopped.grown.len()] == stopped.grown[..],
            "the validation rows shape no tree"
        );
    }

    #[test]
    fn trees_pass_the_artifact_checks() {
        use carescore_core::artifact::{Estimator, FeatureKind, FeatureSpec};
        use carescore_core::ModelArtifact;
        let (x, y) = problem(2000, 3);
        let data = Binned::new(&x, 2, 255);
        let rows: Vec<u32> = (0..2000).collect();
        // More rounds than early stopping would wait through.
        let params = GbdtParams {
            max_trees: 80,
            ..GbdtParams::default()
        };
        let booster = fit(&data, &y, &vec![1.0; 2000], &rows, &[], &params);
        // The artifact's own checks (node order, feature indices, finite
        // values) run when an artifact is read back, as the service reads it.
        let mut artifact: ModelArtifact =
            serde_json::from_str(include_str!("../../../../../models/readmission_30d-1.json")).unwrap();
        artifact.features = ["a", "b"]
            .map(|name| FeatureSpec {
                name: name.to_string(),
                kind: FeatureKind::Numeric {
                    center: 0.0,
                    scale: 1.0,
                },
                missing_indicator: false,
                allowed_range: None,
                training_bins: None,
                training_shares: None,
            })
            .to_vec();
        let with = |trees: Vec<Tree>| {
            let mut a = artifact.clone();
            a.estimator = Estimator::BoostedTrees {
                base_score: booster.base_score,
                trees,
                learning_rate: params.learning_rate,
            };
            ModelArtifact::from_json(a.to_json().as_bytes())
        };
        assert_eq!(
            booster.trees().len(),
            80,
            "without a validation set, every round is kept"
        );
        with(booster.trees().to_vec()).expect("grown trees are valid artifact trees");
        // The check bites: a split on a column the signature does not have.
        let mut broken = booster.trees().to_vec();
        let split = broken[0].feature.iter().position(|f| *f != LEAF).unwrap();
        broken[0].feature[split] = 2;
        assert!(with(broken).is_err());
    }
}
