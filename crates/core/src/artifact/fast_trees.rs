//! Tree ensembles evaluated column by column instead of tree by tree
//! (QuickScorer: Lucchese et al., "QuickScorer: a fast algorithm to rank
//! documents with additive ensembles of regression trees", SIGIR 2015).
//!
//! Each tree's leaves are numbered left to right and a row starts with every
//! leaf of every tree possible (a bit mask per tree). For each design column,
//! the splits on it are kept sorted by threshold: every split the row's value
//! exceeds sends the row right, so the leaves of its left subtree become
//! impossible and their bits are cleared. The leftmost leaf still possible is
//! where the tree's walk would have ended. The scan per column stops at the
//! first threshold not exceeded, so the branches are few and predictable,
//! unlike a walk down each tree, which stalls on a mispredicted branch at
//! nearly every split for real, varied rows.
//!
//! Explanations: the path to a leaf is fixed, so each leaf keeps its Saabas
//! steps (the feature credited and the change in node value), computed once
//! with the same subtraction the walk would do, padded to one length.
//!
//! Why hand-written: no maintained crate evaluates our artifact's trees (their
//! missing-value directions and Saabas attribution included) this way; the
//! tree crates we use (linfa-trees, smartcore) walk one tree at a time.
//!
//! Trees with more than 64 leaves (deep forest trees) do not fit a mask; they
//! are walked node by node as the artifact stores them.

use std::ops::Range;

use super::tree::{Tree, LEAF};

/// Leaves a tree may have to be evaluated by masks (bits of a `u64`).
const MASK_LEAVES: usize = 64;

/// A split: the tree it belongs to and the leaf bits that stay possible when
/// the row goes right.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Split {
    tree: u32,
    keep: u64,
}

/// One Saabas step on a leaf's path: `contributions[owner] += delta`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Step {
    owner: u32,
    delta: f64,
}

/// The splits on one design column.
#[derive(Debug, Clone, PartialEq)]
struct ColumnSplits {
    /// Into `FastTrees::splits`, ascending thresholds.
    by_threshold: Range<u32>,
    /// Into `FastTrees::missing_right`: the splits sending a missing value right.
    missing_right: Range<u32>,
}

/// How a tree is evaluated.
#[derive(Debug, Clone, PartialEq)]
enum Evaluation {
    /// By its mask; its leaf `i` is `leaves[first_leaf + i]`.
    Masked { first_leaf: u32 },
    /// Walked node by node.
    Walked { tree: Box<Tree> },
}

/// A tree ensemble ready to score rows of a design of fixed width.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FastTrees {
    trees: Vec<Evaluation>,
    columns: Vec<ColumnSplits>,
    /// Per column, its splits by ascending threshold ...
    splits: Vec<Split>,
    /// ... and their thresholds (apart, so the scan reads 8 bytes a split).
    thresholds: Vec<f64>,
    missing_right: Vec<Split>,
    /// The masked trees' leaf values.
    leaves: Vec<f64>,
    /// Per leaf of `leaves`, `path_len` steps: its path from the root (one
    /// step per feature), then padding steps that add 0 to spare slots past
    /// the features (so every path has the same length and the loop over it
    /// never mispredicts).
    steps: Vec<Step>,
    path_len: usize,
    /// Sum of the root values, in tree order.
    pub(crate) root_sum: f64,
}

/// Per node of a tree: its leaf count and the number of its leftmost leaf.
fn leaf_numbers(tree: &Tree) -> (Vec<usize>, Vec<usize>) {
    let n = tree.feature.len();
    let mut count = vec![1usize; n];
    // Children come after their parents and each node has one parent
    // (checked on load), so a backward pass sees children first.
    for i in (0..n).rev() {
        if tree.feature[i] != LEAF {
            count[i] = count[tree.left[i] as usize] + count[tree.right[i] as usize];
        }
    }
    let mut first = vec![0usize; n];
    for i in 0..n {
        if tree.feature[i] != LEAF {
            first[tree.left[i] as usize] = first[i];
            first[tree.right[i] as usize] = first[i] + count[tree.left[i] as usize];
        }
    }
    (count, first)
}

impl FastTrees {
    /// Prepares `trees` (checked on load) over a design of `owners.len()`
    /// columns, `owners` giving each column's feature (one of `features`).
    pub(crate) fn new(trees: &[Tree], owners: &[usize], features: usize) -> FastTrees {
        let width = owners.len();
        let mut paths: Vec<Vec<Step>> = Vec::new();
        let mut per_column: Vec<Vec<(f64, Split)>> = vec![Vec::new(); width];
        let mut missing_per_column: Vec<Vec<Split>> = vec![Vec::new(); width];
        let mut fast = FastTrees {
            trees: Vec::with_capacity(trees.len()),
            columns: Vec::with_capacity(width),
            splits: Vec::new(),
            thresholds: Vec::new(),
            missing_right: Vec::new(),
            leaves: Vec::new(),
            steps: Vec::new(),
            path_len: 0,
            root_sum: 0.0,
        };
        for (t, tree) in trees.iter().enumerate() {
            fast.root_sum += tree.value[0];
            let (count, first) = leaf_numbers(tree);
            if count[0] > MASK_LEAVES {
                fast.trees.push(Evaluation::Walked {
                    tree: Box::new(tree.clone()),
                });
                continue;
            }
            fast.trees.push(Evaluation::Masked {
                first_leaf: fast.leaves.len() as u32,
            });
            let mut parent = vec![usize::MAX; tree.feature.len()];
            for i in 0..tree.feature.len() {
                if tree.feature[i] == LEAF {
                    continue;
                }
                let (left, right) = (tree.left[i] as usize, tree.right[i] as usize);
                parent[left] = i;
                parent[right] = i;
                let left_leaves = first[left]..first[left] + count[left];
                let cleared = left_leaves.fold(0u64, |m, leaf| m | (1u64 << leaf));
                let split = Split {
                    tree: t as u32,
                    keep: !cleared,
                };
                let column = tree.feature[i] as usize;
                per_column[column].push((tree.threshold[i], split));
                if !tree.missing_left[i] {
                    missing_per_column[column].push(split);
                }
            }
            // Leaves in left-to-right order, each with its path's steps in root-to-leaf order.
            let mut leaves: Vec<usize> = (0..tree.feature.len()).filter(|&i| tree.feature[i] == LEAF).collect();
            leaves.sort_by_key(|&i| first[i]);
            for leaf in leaves {
                let mut path = Vec::new();
                let mut node = leaf;
                while parent[node] != usize::MAX {
                    let up = parent[node];
                    path.push(Step {
                        owner: owners[tree.feature[up] as usize] as u32,
                        delta: tree.value[node] - tree.value[up],
                    });
                    node = up;
                }
                path.reverse();
                paths.push(merge_same_owner(path));
                fast.leaves.push(tree.value[leaf]);
            }
        }
        // A masked tree has at most 64 leaves, so a path at most 63 steps.
        fast.path_len = paths.iter().map(Vec::len).max().unwrap_or(0);
        for path in paths {
            // Padding step `k` adds 0 to its own spare slot past the features,
            // so no padding step waits for another.
            let pad = (path.len()..fast.path_len).map(|k| Step {
                owner: (features + k) as u32,
                delta: 0.0,
            });
            fast.steps.extend(path);
            fast.steps.extend(pad);
        }
        for (mut splits, mut missing) in per_column.into_iter().zip(missing_per_column) {
            // Thresholds are never NaN (checked on load); a missing value clears in any order.
            splits.sort_by(|a, b| a.0.total_cmp(&b.0));
            let by_threshold = fast.splits.len() as u32..(fast.splits.len() + splits.len()) as u32;
            let missing_right = fast.missing_right.len() as u32..(fast.missing_right.len() + missing.len()) as u32;
            fast.thresholds.extend(splits.iter().map(|(threshold, _)| threshold));
            fast.splits.extend(splits.into_iter().map(|(_, split)| split));
            fast.missing_right.append(&mut missing);
            fast.columns.push(ColumnSplits {
                by_threshold,
                missing_right,
            });
        }
        fast
    }

    /// Number of trees.
    pub(crate) fn len(&self) -> usize {
        self.trees.len()
    }

    /// Each masked tree's mask of still-possible leaves for `design`.
    fn masks(&self, design: &[f64]) -> Vec<u64> {
        let mut masks = vec![u64::MAX; self.trees.len()];
        for (column, &v) in self.columns.iter().zip(design) {
            if v.is_nan() {
                for split in &self.missing_right[range(&column.missing_right)] {
                    masks[split.tree as usize] &= split.keep;
                }
            } else {
                // A row goes right exactly when its value exceeds the threshold.
                let splits = range(&column.by_threshold);
                let exceeded = self.thresholds[splits.clone()].iter().take_while(|&&t| t < v).count();
                for split in &self.splits[splits.start..][..exceeded] {
                    masks[split.tree as usize] &= split.keep;
                }
            }
        }
        masks
    }

    /// The sum of the leaf values, in tree order.
    pub(crate) fn leaf_sum(&self, design: &[f64]) -> f64 {
        let masks = self.masks(design);
        let mut sum = 0.0;
        for (tree, mask) in self.trees.iter().zip(masks) {
            sum += match tree {
                Evaluation::Masked { first_leaf } => self.leaves[exit(*first_leaf, mask)],
                Evaluation::Walked { tree } => tree.predict(design),
            };
        }
        sum
    }

    /// Adds each split's change in node value along every tree's path to the
    /// feature owning its column (Saabas; `owners` maps columns to features,
    /// as given to [`Self::new`]); returns the sum of the leaf values
    /// (equal to [`Self::leaf_sum`]). Tree `t` adds into accumulator `t % 4`,
    /// and the four are summed at the end: the same numbers, in a fixed order,
    /// without one long chain of additions to the same feature.
    pub(crate) fn attribute(&self, design: &[f64], owners: &[usize], contributions: &mut [f64]) -> f64 {
        const ACCUMULATORS: usize = 4;
        let features = contributions.len();
        // Spare slots per accumulator for the padding steps.
        let stride = features + self.path_len;
        let mut acc = vec![0.0; ACCUMULATORS * stride];
        let masks = self.masks(design);
        let mut sum = 0.0;
        for (t, (tree, mask)) in self.trees.iter().zip(masks).enumerate() {
            let acc = &mut acc[(t % ACCUMULATORS) * stride..][..stride];
            sum += match tree {
                Evaluation::Masked { first_leaf } => {
                    let leaf = exit(*first_leaf, mask);
                    for step in &self.steps[leaf * self.path_len..][..self.path_len] {
                        acc[step.owner as usize] += step.delta;
                    }
                    self.leaves[leaf]
                }
                Evaluation::Walked { tree } => {
                    let mut node = 0usize;
                    while tree.feature[node] != LEAF {
                        let next = tree.child(node, design);
                        acc[owners[tree.feature[node] as usize]] += tree.value[next] - tree.value[node];
                        node = next;
                    }
                    tree.value[node]
                }
            };
        }
        for (f, c) in contributions.iter_mut().enumerate() {
            *c += (acc[f] + acc[stride + f]) + (acc[2 * stride + f] + acc[3 * stride + f]);
        }
        sum
    }
}

/// A path's steps with each feature credited once, at its first place, with
/// the sum of its changes along the path: consecutive additions to the same
/// feature would each wait for the previous one.
fn merge_same_owner(path: Vec<Step>) -> Vec<Step> {
    let mut merged: Vec<Step> = Vec::with_capacity(path.len());
    for step in path {
        match merged.iter_mut().find(|m| m.owner == step.owner) {
            Some(m) => m.delta += step.delta,
            None => merged.push(step),
        }
    }
    merged
}

/// The index in `leaves` of a masked tree's exit leaf: its leftmost possible leaf.
fn exit(first_leaf: u32, mask: u64) -> usize {
    // The exit leaf's bit is never cleared, so the mask is never zero.
    first_leaf as usize + mask.trailing_zeros() as usize
}

fn range(r: &Range<u32>) -> Range<usize> {
    r.start as usize..r.end as usize
}
