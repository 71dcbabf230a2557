//! Decision trees as flat node arrays, for gradient-boosted ensembles.
//!
//! Node 0 is the root. An internal node sends a row left when its feature is
//! at most `threshold`, right when above, and a missing value (NaN) where
//! `missing_left` says. A leaf has `feature == LEAF`. Every node keeps its
//! `value` (the prediction had the tree stopped there) and its `cover` (the
//! training weight that reached it), which exact TreeSHAP averages by
//! ([`super::tree_shap`]).

use serde::{Deserialize, Serialize};

/// `feature` value marking a leaf.
pub const LEAF: u32 = u32::MAX;

/// Most splits on a root-to-leaf path. The trainer grows at most 255
/// leaves, so at most 254; the explanation's recursion and path buffers are
/// bounded by it.
pub(crate) const MAX_DEPTH: usize = 256;

/// Why a tree without node covers is refused.
const NO_COVER: &str = "no node covers (`cover`): the artifact was written by a carescore-train from \
                        before trees carried them; retrain the model with this build's carescore-train \
                        (`models/rebuild.sh` retrains the default models)";

/// One tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tree {
    /// Split feature (column of the raw design) per node, or [`LEAF`].
    pub feature: Vec<u32>,
    /// Split threshold per node (unused for leaves).
    pub threshold: Vec<f64>,
    /// Left child per node (unused for leaves).
    pub left: Vec<u32>,
    /// Right child per node (unused for leaves).
    pub right: Vec<u32>,
    /// Whether a missing value goes left, per node.
    pub missing_left: Vec<bool>,
    /// Prediction (raw scale) per node.
    pub value: Vec<f64>,
    /// Cover per node: the sum of the training weights that reached it (the
    /// censoring weights; a forest's in-bag rows counted as often as their
    /// bootstrap drew them). The node weights exact TreeSHAP averages over
    /// the unknown side of a split by. Absent (empty) in artifacts written
    /// before trees carried it, which are refused.
    #[serde(default)]
    pub cover: Vec<f64>,
}

impl Tree {
    /// The leaf value for one raw design row.
    pub fn predict(&self, x: &[f64]) -> f64 {
        let mut node = 0usize;
        while self.feature[node] != LEAF {
            node = self.child(node, x);
        }
        self.value[node]
    }

    /// The child of internal `node` that row `x` goes to.
    pub fn child(&self, node: usize, x: &[f64]) -> usize {
        let v = x[self.feature[node] as usize];
        let go_left = if v.is_nan() {
            self.missing_left[node]
        } else {
            v <= self.threshold[node]
        };
        (if go_left { self.left[node] } else { self.right[node] }) as usize
    }

    /// The most splits on a root-to-leaf path. Children must come after
    /// their parent (as [`Self::check`] makes sure before calling it): one
    /// pass in node order finds every node's depth.
    pub fn depth(&self) -> usize {
        let mut depth = vec![0usize; self.feature.len()];
        let mut deepest = 0;
        for n in (0..self.feature.len()).filter(|&n| self.feature[n] != LEAF) {
            for child in [self.left[n], self.right[n]] {
                depth[child as usize] = depth[n] + 1;
                deepest = deepest.max(depth[n] + 1);
            }
        }
        deepest
    }

    /// Checks that the tree is well formed for `width` features: equal array
    /// lengths, children after their parent (so no cycles) and in bounds,
    /// one parent per node but the root, features in bounds, finite numbers,
    /// covers (present, positive at splits, each split's the sum of its
    /// children's, to a relative 1e-9), and at most [`MAX_DEPTH`] splits deep.
    pub(crate) fn check(&self, width: usize) -> Result<(), String> {
        let n = self.feature.len();
        if n == 0 {
            return Err("a tree has no nodes".into());
        }
        let lengths = [
            self.threshold.len(),
            self.left.len(),
            self.right.len(),
            self.missing_left.len(),
            self.value.len(),
        ];
        if lengths.iter().any(|l| *l != n) {
            return Err("tree node arrays differ in length".into());
        }
        if self.cover.is_empty() {
            return Err(NO_COVER.into());
        }
        if self.cover.len() != n {
            return Err("tree node arrays differ in length (`cover`)".into());
        }
        // Every node but the root has exactly one parent: a tree, not a graph
        // (shared subtrees would make leaf numbering and paths ambiguous).
        let mut parents = vec![0u8; n];
        for i in 0..n {
            if !self.value[i].is_finite() {
                return Err(format!("node {i}: non-finite value"));
            }
            if !(self.cover[i].is_finite() && self.cover[i] >= 0.0) {
                return Err(format!("node {i}: cover must be a finite number of at least 0"));
            }
            if self.feature[i] == LEAF {
                continue;
            }
            if self.cover[i] <= 0.0 {
                return Err(format!("node {i}: a split node's cover must be above 0"));
            }
            if self.feature[i] as usize >= width {
                return Err(format!("node {i}: feature {} out of range", self.feature[i]));
            }
            let (l, r) = (self.left[i] as usize, self.right[i] as usize);
            if l <= i || r <= i || l >= n || r >= n {
                return Err(format!("node {i}: child index out of order or range"));
            }
            if self.threshold[i].is_nan() {
                return Err(format!("node {i}: NaN threshold"));
            }
            for child in [l, r] {
                parents[child] = parents[child].saturating_add(1);
            }
        }
        if let Some(i) = parents.iter().skip(1).position(|&p| p != 1) {
            return Err(format!(
                "node {}: {} parents (a tree node has one)",
                i + 1,
                parents[i + 1]
            ));
        }
        if self.depth() > MAX_DEPTH {
            return Err(format!("deeper than {MAX_DEPTH} splits"));
        }
        // Every training row that reached a split went to one side.
        for i in (0..n).filter(|&i| self.feature[i] != LEAF) {
            let children = self.cover[self.left[i] as usize] + self.cover[self.right[i] as usize];
            if (children - self.cover[i]).abs() > 1e-9 * self.cover[i] {
                return Err(format!(
                    "node {i}: cover {} is not the sum of its children's ({children})",
                    self.cover[i]
                ));
            }
        }
        Ok(())
    }
}

/// Building trees by hand, for tests.
#[cfg(test)]
impl Tree {
    /// A tree of one leaf of `value` and `cover`.
    pub(crate) fn leaf(value: f64, cover: f64) -> Tree {
        Tree {
            feature: vec![LEAF],
            threshold: vec![0.0],
            left: vec![0],
            right: vec![0],
            missing_left: vec![false],
            value: vec![value],
            cover: vec![cover],
        }
    }

    /// Turns leaf `node` into a split on `column` at `threshold` (missing
    /// values going left when `missing_left`) with two new leaves of
    /// `values` and `covers`; returns the new left leaf's index (the right
    /// one's is the next). Covers of splits are set by [`Self::sum_covers`].
    pub(crate) fn split(
        &mut self,
        node: usize,
        column: u32,
        threshold: f64,
        missing_left: bool,
        values: [f64; 2],
        covers: [f64; 2],
    ) -> usize {
        let left = self.feature.len();
        for (value, cover) in values.into_iter().zip(covers) {
            self.feature.push(LEAF);
            self.threshold.push(0.0);
            self.left.push(0);
            self.right.push(0);
            self.missing_left.push(false);
            self.value.push(value);
            self.cover.push(cover);
        }
        self.feature[node] = column;
        self.threshold[node] = threshold;
        self.missing_left[node] = missing_left;
        self.left[node] = left as u32;
        self.right[node] = left as u32 + 1;
        left
    }

    /// Sets each split's cover to the sum of its children's, as training writes them.
    pub(crate) fn sum_covers(&mut self) {
        for node in (0..self.feature.len()).rev() {
            if self.feature[node] != LEAF {
                self.cover[node] = self.cover[self.left[node] as usize] + self.cover[self.right[node] as usize];
            }
        }
    }
}
