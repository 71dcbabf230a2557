//! Exact path-dependent TreeSHAP (Lundberg, Erion and Lee 2018, "Consistent
//! individualized feature attribution for tree ensembles", Algorithm 2): the
//! Shapley values of one tree's output for one row, where the value of a set
//! of known columns is the tree's expected output when the unknown columns'
//! splits are averaged by the nodes' training covers. The quantity the `shap`
//! package computes with `TreeExplainer(model,
//! feature_perturbation="tree_path_dependent")`, and LightGBM's
//! `pred_contrib` for its own trees (whose covers are its training counts).
//!
//! The players are the raw design's columns; [`tree_shap`] adds each column's
//! value into `phi`, and [`expected_value`] is the base value they start
//! from: `expected_value + sum(phi) = the tree's output` for the row.
//!
//! Written here rather than taken from a crate: the Rust SHAP crates found
//! either bind the C++ library (a build dependency this crate avoids) or
//! compute the Saabas path attribution.

use super::tree::{Tree, LEAF};

/// One feature on the path from the root: the share of the training cover
/// that continues when the feature is unknown (`zero`), whether the row
/// continues when it is known (`one`: 1 or 0), and the permutation weight.
#[derive(Debug, Clone, Copy)]
struct PathElement {
    column: u32,
    zero: f64,
    one: f64,
    weight: f64,
}

/// The tree's expected output over its training cover: each leaf's value
/// weighted by the share of the root's cover that reached it.
pub fn expected_value(tree: &Tree) -> f64 {
    let root = tree.cover[0];
    if root <= 0.0 {
        return tree.value[0];
    }
    (0..tree.feature.len())
        .filter(|&n| tree.feature[n] == LEAF)
        .map(|n| tree.value[n] * tree.cover[n] / root)
        .sum()
}

/// Adds the exact path-dependent SHAP value of each raw design column of
/// row `x` for `tree` into `phi` (one entry per column).
pub fn tree_shap(tree: &Tree, x: &[f64], phi: &mut [f64]) {
    tree_shap_by(tree, &|node| tree.child(node, x), phi);
}

/// [`tree_shap`] for the row whose way at each split `hot(node)` gives (the
/// child it goes to): what a row is to a tree, so the values can be
/// tabulated over every combination of ways ([`super::fast_trees`]).
pub fn tree_shap_by(tree: &Tree, hot: &dyn Fn(usize) -> usize, phi: &mut [f64]) {
    // Each level of the recursion keeps its own copy of the path, right
    // after its parent's: levels 0..=D need (D + 2)(D + 3) / 2 elements.
    let levels = tree.depth() + 2;
    let mut paths = vec![
        PathElement {
            column: LEAF,
            zero: 0.0,
            one: 0.0,
            weight: 0.0,
        };
        levels * (levels + 1) / 2
    ];
    recurse(
        tree,
        hot,
        phi,
        &mut paths,
        0,
        Arrival {
            node: 0,
            depth: 0,
            zero: 1.0,
            one: 1.0,
            column: LEAF,
        },
    );
}

/// How the recursion arrives at a node: the node, the parent's path length
/// (`depth`, not counting the empty root element), and the fractions of the
/// parent's split on `column` that continue here when the column is
/// unknown (`zero`) and known (`one`).
#[derive(Debug, Clone, Copy)]
struct Arrival {
    node: usize,
    depth: usize,
    zero: f64,
    one: f64,
    column: u32,
}

/// Extends the path `path[..=depth]` by a feature with fractions `zero` and `one`.
fn extend(path: &mut [PathElement], depth: usize, zero: f64, one: f64, column: u32) {
    path[depth] = PathElement {
        column,
        zero,
        one,
        weight: if depth == 0 { 1.0 } else { 0.0 },
    };
    let d = depth as f64;
    for i in (0..depth).rev() {
        path[i + 1].weight += one * path[i].weight * (i as f64 + 1.0) / (d + 1.0);
        path[i].weight = zero * path[i].weight * (d - i as f64) / (d + 1.0);
    }
}

/// Removes element `index` from the path `path[..=depth]` (undoing its extension).
fn unwind(path: &mut [PathElement], depth: usize, index: usize) {
    let PathElement { zero, one, .. } = path[index];
    let d = depth as f64;
    let mut next_one = path[depth].weight;
    for i in (0..depth).rev() {
        if one != 0.0 {
            let kept = path[i].weight;
            path[i].weight = next_one * (d + 1.0) / ((i as f64 + 1.0) * one);
            next_one = kept - path[i].weight * zero * (d - i as f64) / (d + 1.0);
        } else {
            path[i].weight = path[i].weight * (d + 1.0) / (zero * (d - i as f64));
        }
    }
    for i in index..depth {
        path[i].column = path[i + 1].column;
        path[i].zero = path[i + 1].zero;
        path[i].one = path[i + 1].one;
    }
}

/// The total permutation weight of the path `path[..=depth]` were element
/// `index` unwound, without changing the path.
fn unwound_sum(path: &[PathElement], depth: usize, index: usize) -> f64 {
    let PathElement { zero, one, .. } = path[index];
    let d = depth as f64;
    let mut next_one = path[depth].weight;
    let mut total = 0.0;
    for i in (0..depth).rev() {
        if one != 0.0 {
            let share = next_one * (d + 1.0) / ((i as f64 + 1.0) * one);
            total += share;
            next_one = path[i].weight - share * zero * (d - i as f64) / (d + 1.0);
        } else if zero != 0.0 {
            total += path[i].weight / zero / ((d - i as f64) / (d + 1.0));
        }
    }
    total
}

/// Visits a node: copies the parent's path (at `paths[parent..]`) into this
/// level's, extends it by the parent's split, and at a leaf credits every
/// column on the path; at a split, recurses into the row's child (the
/// column known) and the other (the column unknown).
fn recurse(
    tree: &Tree,
    hot: &dyn Fn(usize) -> usize,
    phi: &mut [f64],
    paths: &mut [PathElement],
    parent: usize,
    at: Arrival,
) {
    let mut depth = at.depth;
    let start = parent + depth + 1;
    paths.copy_within(parent..start, start);
    let path = &mut paths[start..start + depth + 1];
    extend(path, depth, at.zero, at.one, at.column);
    let node = at.node;
    if tree.feature[node] == LEAF {
        let value = tree.value[node];
        for i in 1..=depth {
            let element = path[i];
            let weight = unwound_sum(path, depth, i);
            phi[element.column as usize] += weight * (element.one - element.zero) * value;
        }
        return;
    }
    let split = tree.feature[node];
    let cold = if hot(node) == tree.left[node] as usize {
        tree.right[node] as usize
    } else {
        tree.left[node] as usize
    };
    let (mut zero, mut one) = (1.0, 1.0);
    // A column split on again further down: undo its earlier extension, so
    // each column appears on the path once, with its fractions combined.
    if let Some(index) = (1..=depth).find(|&i| path[i].column == split) {
        zero = path[index].zero;
        one = path[index].one;
        unwind(path, depth, index);
        depth -= 1;
    }
    let cover = tree.cover[node];
    for (child, known) in [(hot(node), one), (cold, 0.0)] {
        let arrival = Arrival {
            node: child,
            depth: depth + 1,
            zero: zero * tree.cover[child] / cover,
            one: known,
            column: split,
        };
        recurse(tree, hot, phi, paths, start, arrival);
    }
}

/// One leaf's share of a tree's SHAP values for a row, from the distinct
/// columns on the leaf's path alone: column `j`'s `zero[j]` (the share of
/// the training cover that follows the path through its splits) and `one[j]`
/// (1 when the row meets every split of the path on it, else 0). Writes the
/// leaf's addition to each column's value into `out[j]`. The sum over the
/// leaves is [`tree_shap`]'s result: what Algorithm 2 adds at the leaf, with
/// each column on the path once.
pub fn leaf_share(zero: &[f64], one: &[f64], leaf_value: f64, out: &mut [f64]) {
    let k = zero.len();
    let mut path = vec![
        PathElement {
            column: LEAF,
            zero: 0.0,
            one: 0.0,
            weight: 0.0,
        };
        k + 1
    ];
    extend(&mut path, 0, 1.0, 1.0, LEAF);
    for j in 0..k {
        extend(&mut path, j + 1, zero[j], one[j], j as u32);
    }
    for j in 0..k {
        out[j] = unwound_sum(&path, k, j + 1) * (one[j] - zero[j]) * leaf_value;
    }
}
