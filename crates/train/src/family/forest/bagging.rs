//! Random forests of probability trees: each tree is grown on a bootstrap
//! sample of the training rows, choosing every split among a random subset of
//! the columns, and predicts the weighted event share of its leaf; the forest
//! averages its trees.
//!
//! The trees are grown by the histogram grower of [`crate::model::trees`] (squared
//! error on the 0/1 label, i.e. Gini-style variance reduction, with the
//! censoring weights), not by linfa-trees or smartcore: their leaves hold a
//! class vote rather than a probability, they take no sample weights in the
//! split criterion (smartcore) or keep their nodes private (smartcore), and
//! neither routes missing values. Growing our own keeps the trees in the
//! artifact's flat node arrays, so serving needs no training code.

use carescore_core::artifact::{leaf_sum, Tree};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::cores::on_all_cores;
use crate::model::trees::{grow, Binned, ColumnChoice, GrowParams};

/// Forest settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForestParams {
    /// Number of trees.
    pub trees: usize,
    /// Most leaves per tree.
    pub max_leaves: usize,
    /// Fewest bootstrap rows in a leaf.
    pub min_rows_in_leaf: usize,
    /// Columns drawn for every split.
    pub columns_per_split: usize,
}

impl ForestParams {
    /// Defaults for `cols` columns: 100 trees of up to 255 leaves, a third of the columns per split.
    pub fn for_columns(cols: usize) -> ForestParams {
        ForestParams {
            trees: 100,
            max_leaves: 255,
            min_rows_in_leaf: 20,
            columns_per_split: (cols / 3).max(1),
        }
    }
}

/// Grows a forest on `train` rows. Tree `t` draws its bootstrap sample and
/// columns from its own generator seeded by `(seed, t)`, so the forest does
/// not depend on how many threads grow it.
pub fn fit(data: &Binned, y: &[bool], w: &[f64], train: &[u32], p: &ForestParams, seed: u64) -> Vec<Tree> {
    // Squared error on the label: gradient -w*y, hessian w; a leaf's value is its weighted event share.
    let g: Vec<f64> = y.iter().zip(w).map(|(y, w)| -w * f64::from(u8::from(*y))).collect();
    let h: Vec<f64> = w.to_vec();
    let params = GrowParams {
        shrinkage: 1.0,
        max_leaves: p.max_leaves,
        min_rows_in_leaf: p.min_rows_in_leaf,
        min_hessian_in_leaf: 1e-9,
        l2: 0.0,
    };
    let grow_tree = |t: usize| -> Tree {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(t as u64 + 1);
        let mut rows: Vec<u32> = (0..train.len()).map(|_| train[rng.gen_range(0..train.len())]).collect();
        rows.sort_unstable();
        let mut columns = ColumnChoice::Random {
            rng: &mut rng,
            per_split: p.columns_per_split,
        };
        grow(data, rows, &g, &h, w, &params, &mut columns).tree
    };
    if train.is_empty() {
        return Vec::new();
    }
    // Tree `t` depends on `t` alone: the trees are grown side by side and kept in order.
    let indices: Vec<usize> = (0..p.trees).collect();
    on_all_cores(&indices, |&t| grow_tree(t))
}

/// The forest's mean vote for a raw design row (the artifact's raw output, bit for bit).
pub fn mean_vote(trees: &[Tree], x: &[f64]) -> f64 {
    leaf_sum(trees, x) / trees.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use carescore_core::artifact::sigmoid;

    fn problem(n: usize) -> (Vec<f64>, Vec<bool>) {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let a: f64 = rng.gen_range(-2.0..2.0);
            let b: f64 = if rng.gen::<f64>() < 0.2 {
                f64::NAN
            } else {
                rng.gen_range(0.0..1.0)
            };
            let noise: f64 = rng.gen_range(0.0..1.0);
            let logit = -1.5 + if a > 1.0 { 2.0 } else { 0.0 } + if b.is_nan() { 1.0 } else { 0.0 };
            x.extend([a, b, noise]);
            y.push(rng.gen::<f64>() < sigmoid(logit));
        }
        (x, y)
    }

    #[test]
    fn votes_are_probabilities_that_follow_the_signal() {
        let (x, y) = problem(6000);
        let data = Binned::new(&x, 3, 255);
        let train: Vec<u32> = (0..6000).collect();
        let params = ForestParams {
            trees: 40,
            min_rows_in_leaf: 50,
            ..ForestParams::for_columns(3)
        };
        let trees = fit(&data, &y, &vec![1.0; 6000], &train, &params, 3);
        assert_eq!(trees.len(), 40);
        let p = |a: f64, b: f64| mean_vote(&trees, &[a, b, 0.5]);
        assert!((p(1.5, 0.5) - sigmoid(0.5)).abs() < 0.1, "{}", p(1.5, 0.5));
        assert!((p(-1.0, 0.5) - sigmoid(-1.5)).abs() < 0.06, "{}", p(-1.0, 0.5));
        assert!(p(-1.0, f64::NAN) > p(-1.0, 0.5) + 0.08, "{}", p(-1.0, f64::NAN));
        for t in &trees {
            assert!(t.value.iter().all(|v| (0.0..=1.0).contains(v)));
        }
    }

    #[test]
    fn same_seed_same_forest_and_weights_count() {
        let (x, y) = problem(2000);
        let data = Binned::new(&x, 3, 64);
        let train: Vec<u32> = (0..2000).collect();
        let params = ForestParams {
            trees: 7,
            ..ForestParams::for_columns(3)
        };
        let w = vec![1.0; 2000];
        assert_eq!(
            fit(&data, &y, &w, &train, &params, 9),
            fit(&data, &y, &w, &train, &params, 9)
        );
        assert_ne!(
            fit(&data, &y, &w, &train, &params, 9),
            fit(&data, &y, &w, &train, &params, 10)
        );
        // Doubling every weight changes no vote.
        let doubled = vec![2.0; 2000];
        let a = fit(&data, &y, &w, &train, &params, 9);
        let b = fit(&data, &y, &doubled, &train, &params, 9);
        for (s, t) in a.iter().zip(&b) {
            for (u, v) in s.value.iter().zip(&t.value) {
                assert!((u - v).abs() < 1e-12);
            }
        }
    }
}
