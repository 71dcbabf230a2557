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
//! Explanations: exact path-dependent TreeSHAP ([`super::tree_shap`]). A
//! row is to a tree nothing but its way at each split (one bit each, set by
//! the same column scan as the masks), so the values are tabulated at load,
//! per tree, the cheaper way that fits:
//!
//! - a tree of at most [`TABLE_SPLITS`] splits: the values of every
//!   combination of ways, per feature; a row costs one table row;
//! - a larger one: leaf by leaf (in the manner of FastTreeSHAP v2: Yang,
//!   "Fast TreeSHAP", 2021), as a leaf's share depends only on which of the
//!   distinct columns on its path the row meets every split of (at most
//!   [`LEAF_TABLE_COLUMNS`] of them); a row costs a few bit tests and one
//!   table row per leaf;
//! - otherwise, or past [`TABLE_BYTES`] of tables per model, an exact
//!   algorithm runs for each row: in time linear in the tree's size
//!   ([`super::linear_tree_shap`]) within [`LINEAR_BYTES`] per model, else
//!   Algorithm 2 ([`super::tree_shap`]).
//!
//! Why hand-written: no maintained crate evaluates our artifact's trees (their
//! missing-value directions and TreeSHAP tables included) this way; the
//! tree crates we use (linfa-trees, smartcore) walk one tree at a time.
//!
//! Trees with more than 64 leaves (deep forest trees) do not fit a mask; they
//! are walked node by node as the artifact stores them, and explained by an
//! exact algorithm as above.

use std::ops::Range;

use super::linear_tree_shap::{LinearTreeShap, Scratch};
use super::tree::{Tree, LEAF};
use super::tree_shap;

/// Leaves a tree may have to be evaluated by masks (bits of a `u64`).
const MASK_LEAVES: usize = 64;

/// Most splits of a tree whose SHAP values are tabulated: `2^splits` rows.
pub(crate) const TABLE_SPLITS: usize = 8;

/// Most bytes of SHAP tables per model; trees past it are explained row by
/// row by an exact algorithm ([`ExactTree`]).
pub(crate) const TABLE_BYTES: usize = 16 << 20;

/// A split: the tree it belongs to and the leaf bits that stay possible when
/// the row goes right.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Split {
    tree: u32,
    keep: u64,
}

/// How a tree's SHAP values are found.
#[derive(Debug, Clone, PartialEq)]
enum Shap {
    /// Tabulated: for the row's ways at the splits (bit `i` set when it goes
    /// right at the tree's `i`-th split, in node order), the row at
    /// `start + ways * stride` of `FastTrees::way_rows`' values holds the value of
    /// the leaf the row ends in, then one value per feature in `owners` (the
    /// leaf's value beside them, so a row costs one read from one place).
    Table {
        owners: Range<u32>,
        start: u32,
        stride: u32,
    },
    /// Tabulated leaf by leaf (`leaf_tables[leaves]`, left to right): a
    /// leaf's share depends only on which of the distinct columns on its
    /// path the row meets every split of.
    Leaves { leaves: Range<u32> },
    /// Computed for each row by an exact algorithm.
    Exact { tree: ExactTree },
}

/// Most bytes per model of the linear-time algorithm's precomputed values
/// and working memory (an upper bound per tree from its depth); trees past
/// it are explained by Algorithm 2, which precomputes nothing and needs
/// memory only for its paths.
pub(crate) const LINEAR_BYTES: usize = 64 << 20;

/// A tree explained for each row by an exact algorithm.
#[derive(Debug, Clone, PartialEq)]
enum ExactTree {
    /// In time linear in its size ([`super::linear_tree_shap`]).
    Linear(Box<LinearTreeShap>),
    /// By Algorithm 2 ([`super::tree_shap`]).
    Paths(Box<Tree>),
}

impl ExactTree {
    /// The tree.
    fn tree(&self) -> &Tree {
        match self {
            ExactTree::Linear(tree) => tree.tree(),
            ExactTree::Paths(tree) => tree,
        }
    }
}

/// `f64` values in a 64-byte cache line.
const LINE_VALUES: usize = 8;

/// Values whose index 0 starts a 64-byte cache line: where this model's
/// buffer put it when built, and again in every clone (which aligns its own
/// copy), so equal values compare equal wherever their buffers start.
#[derive(Debug, Default)]
struct LineAligned {
    buffer: Vec<f64>,
    /// Where index 0 is in `buffer`.
    base: usize,
}

impl LineAligned {
    /// `values` in a buffer of their own, from a line boundary.
    fn new(values: &[f64]) -> LineAligned {
        let mut buffer: Vec<f64> = Vec::with_capacity(values.len() + LINE_VALUES);
        let size = std::mem::size_of::<f64>();
        let past = (buffer.as_ptr() as usize % (LINE_VALUES * size)) / size;
        let base = (LINE_VALUES - past) % LINE_VALUES;
        buffer.resize(base, 0.0);
        buffer.extend_from_slice(values);
        LineAligned { buffer, base }
    }

    /// The values, from index 0.
    fn values(&self) -> &[f64] {
        &self.buffer[self.base..]
    }
}

impl Clone for LineAligned {
    fn clone(&self) -> LineAligned {
        LineAligned::new(self.values())
    }
}

impl PartialEq for LineAligned {
    fn eq(&self, other: &LineAligned) -> bool {
        self.values() == other.values()
    }
}

/// Most distinct columns on one leaf's path for a tree to be tabulated leaf
/// by leaf (`2^columns` rows per leaf).
pub(crate) const LEAF_TABLE_COLUMNS: usize = 10;

/// One leaf's SHAP table.
#[derive(Debug, Clone, PartialEq)]
struct LeafTable {
    /// Into `FastTrees::conditions`: the distinct columns on its path.
    conditions: Range<u32>,
    /// Into `FastTrees::table_values`: row `met` (bit `j` set when the row
    /// meets every split on condition `j`'s column) holds the leaf's share
    /// of each condition's value.
    values: Range<u32>,
    /// The leaf's value (the tree's output when every condition is met).
    value: f64,
}

/// A column on a leaf's path: the splits on it (bits of the tree's ways),
/// the ways the path takes at them, and the feature owning the column.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Condition {
    splits: u64,
    right: u64,
    owner: u32,
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
    Masked { first_leaf: u32, shap: Shap },
    /// Walked node by node, explained by an exact algorithm.
    Walked { tree: ExactTree },
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
    /// Per split of `splits` and of `missing_right`, its bit in its tree's ways.
    split_bits: Vec<u64>,
    missing_bits: Vec<u64>,
    /// The tables of ways: rows of a tree's stride (a power of two when a
    /// row has at most [`LINE_VALUES`] values), each tree's first row at a
    /// multiple of its stride, so no row of up to a line's values straddles
    /// two cache lines (a row read then costs one line, not two).
    way_rows: LineAligned,
    /// The leaf tables' contents.
    leaf_tables: Vec<LeafTable>,
    conditions: Vec<Condition>,
    table_owners: Vec<u32>,
    table_values: Vec<f64>,
    /// Sum of the trees' expected values over their training covers: the
    /// base value the SHAP values start from.
    pub(crate) expected_sum: f64,
    /// Most bytes of SHAP tables.
    budget: usize,
    /// Bytes the linear-time algorithm may still take ([`LINEAR_BYTES`] to start).
    linear_left: usize,
    /// The feature owning each design column (Algorithm 2 credits columns).
    owners: Vec<usize>,
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
    /// columns, `owners` giving each column's feature.
    pub(crate) fn new(trees: &[Tree], owners: &[usize]) -> FastTrees {
        FastTrees::with_table_budget(trees, owners, TABLE_BYTES)
    }

    /// [`Self::new`] with at most `budget` bytes of SHAP tables.
    fn with_table_budget(trees: &[Tree], owners: &[usize], budget: usize) -> FastTrees {
        FastTrees::with_budgets(trees, owners, budget, LINEAR_BYTES)
    }

    /// [`Self::new`] with at most `budget` bytes of SHAP tables and
    /// `linear_budget` bytes for the linear-time algorithm.
    fn with_budgets(trees: &[Tree], owners: &[usize], budget: usize, linear_budget: usize) -> FastTrees {
        let width = owners.len();
        let mut per_column: Vec<Vec<(f64, Split, u64)>> = vec![Vec::new(); width];
        let mut missing_per_column: Vec<Vec<(Split, u64)>> = vec![Vec::new(); width];
        let mut fast = FastTrees {
            trees: Vec::with_capacity(trees.len()),
            columns: Vec::with_capacity(width),
            splits: Vec::new(),
            thresholds: Vec::new(),
            missing_right: Vec::new(),
            leaves: Vec::new(),
            split_bits: Vec::new(),
            missing_bits: Vec::new(),
            leaf_tables: Vec::new(),
            conditions: Vec::new(),
            table_owners: Vec::new(),
            table_values: Vec::new(),
            way_rows: LineAligned::default(),
            expected_sum: 0.0,
            budget,
            linear_left: linear_budget,
            owners: owners.to_vec(),
        };
        for (t, tree) in trees.iter().enumerate() {
            fast.expected_sum += tree_shap::expected_value(tree);
            let (count, first) = leaf_numbers(tree);
            if count[0] > MASK_LEAVES {
                let tree = fast.exact(tree, owners);
                fast.trees.push(Evaluation::Walked { tree });
                continue;
            }
            let first_leaf = fast.leaves.len() as u32;
            // Each split's bit in the tree's ways: its rank among the splits, in node order.
            let mut bit = vec![0u64; tree.feature.len()];
            let mut splits = 0;
            for (i, bit) in bit.iter_mut().enumerate() {
                if tree.feature[i] == LEAF {
                    continue;
                }
                *bit = 1u64 << splits;
                splits += 1;
                let left = tree.left[i] as usize;
                let left_leaves = first[left]..first[left] + count[left];
                let cleared = left_leaves.fold(0u64, |m, leaf| m | (1u64 << leaf));
                let split = Split {
                    tree: t as u32,
                    keep: !cleared,
                };
                let column = tree.feature[i] as usize;
                per_column[column].push((tree.threshold[i], split, *bit));
                if !tree.missing_left[i] {
                    missing_per_column[column].push((split, *bit));
                }
            }
            // Leaves in left-to-right order.
            let mut leaves: Vec<usize> = (0..tree.feature.len()).filter(|&i| tree.feature[i] == LEAF).collect();
            leaves.sort_by_key(|&i| first[i]);
            fast.leaves.extend(leaves.iter().map(|&leaf| tree.value[leaf]));
            let shap = fast.tabulate(tree, splits, &bit, &leaves, owners);
            fast.trees.push(Evaluation::Masked { first_leaf, shap });
        }
        for (mut splits, missing) in per_column.into_iter().zip(missing_per_column) {
            // Thresholds are never NaN (checked on load); a missing value clears in any order.
            splits.sort_by(|a, b| a.0.total_cmp(&b.0));
            let by_threshold = fast.splits.len() as u32..(fast.splits.len() + splits.len()) as u32;
            let missing_right = fast.missing_right.len() as u32..(fast.missing_right.len() + missing.len()) as u32;
            fast.thresholds.extend(splits.iter().map(|(threshold, ..)| threshold));
            fast.split_bits.extend(splits.iter().map(|(.., bit)| bit));
            fast.splits.extend(splits.into_iter().map(|(_, split, _)| split));
            fast.missing_bits.extend(missing.iter().map(|(_, bit)| bit));
            fast.missing_right.extend(missing.into_iter().map(|(split, _)| split));
            fast.columns.push(ColumnSplits {
                by_threshold,
                missing_right,
            });
        }
        fast.way_rows = LineAligned::new(fast.way_rows.values());
        fast
    }

    /// The SHAP table of a masked tree with `splits` splits (`bit` giving
    /// each split node's bit in the ways, `leaves` its leaves left to
    /// right); its leaf tables
    /// ([`Self::tabulate_leaves`]) when it has more splits or the table does
    /// not fit the budget.
    fn tabulate(&mut self, tree: &Tree, splits: usize, bit: &[u64], leaves: &[usize], owners: &[usize]) -> Shap {
        if splits > TABLE_SPLITS {
            return self.tabulate_leaves(tree, bit, leaves, owners);
        }
        // The columns the tree splits on, ascending, and the features owning
        // them in order of first use: the values of every other column stay 0.
        let mut tree_columns: Vec<usize> = (0..tree.feature.len())
            .filter(|&i| tree.feature[i] != LEAF)
            .map(|i| tree.feature[i] as usize)
            .collect();
        tree_columns.sort_unstable();
        tree_columns.dedup();
        let mut tree_owners: Vec<usize> = Vec::new();
        for i in (0..tree.feature.len()).filter(|&i| tree.feature[i] != LEAF) {
            let owner = owners[tree.feature[i] as usize];
            if !tree_owners.contains(&owner) {
                tree_owners.push(owner);
            }
        }
        let rows = 1usize << splits;
        let width = tree_owners.len() + 1;
        let stride = if width <= LINE_VALUES {
            width.next_power_of_two()
        } else {
            width
        };
        let bytes = (rows * stride + stride) * 8;
        if self.table_bytes() + bytes > self.budget {
            // The leaf tables of a small tree may still fit.
            return self.tabulate_leaves(tree, bit, leaves, owners);
        }
        let owners_start = self.table_owners.len() as u32;
        self.table_owners.extend(tree_owners.iter().map(|&o| o as u32));
        // Built unaligned from index 0; aligned once the model is built.
        let rows_built = &mut self.way_rows.buffer;
        let start = rows_built.len().next_multiple_of(stride);
        rows_built.resize(start, 0.0);
        let mut columns = vec![0.0; owners.len()];
        for ways in 0..rows as u64 {
            let hot = |node: usize| {
                (if ways & bit[node] != 0 {
                    tree.right[node]
                } else {
                    tree.left[node]
                }) as usize
            };
            for &c in &tree_columns {
                columns[c] = 0.0;
            }
            tree_shap::tree_shap_by(tree, &hot, &mut columns);
            let mut node = 0;
            while tree.feature[node] != LEAF {
                node = hot(node);
            }
            self.way_rows.buffer.push(tree.value[node]);
            for &owner in &tree_owners {
                let value: f64 = tree_columns
                    .iter()
                    .filter(|&&c| owners[c] == owner)
                    .map(|&c| columns[c])
                    .sum();
                self.way_rows.buffer.push(value);
            }
            let rows_built = &mut self.way_rows.buffer;
            rows_built.resize(rows_built.len() + stride - width, 0.0);
        }
        Shap::Table {
            owners: owners_start..self.table_owners.len() as u32,
            start: start as u32,
            stride: stride as u32,
        }
    }

    /// How `tree` is explained row by row: in linear time while the
    /// model's [`LINEAR_BYTES`] allow, else by Algorithm 2.
    fn exact(&mut self, tree: &Tree, owners: &[usize]) -> ExactTree {
        let bytes = LinearTreeShap::most_bytes(tree);
        if bytes <= self.linear_left {
            self.linear_left -= bytes;
            ExactTree::Linear(Box::new(LinearTreeShap::new(tree, owners)))
        } else {
            ExactTree::Paths(Box::new(tree.clone()))
        }
    }

    /// Bytes of SHAP tables so far.
    fn table_bytes(&self) -> usize {
        (self.table_values.len() + self.way_rows.values().len()) * 8
            + self.conditions.len() * std::mem::size_of::<Condition>()
            + self.leaf_tables.len() * std::mem::size_of::<LeafTable>()
    }

    /// The leaf-by-leaf SHAP tables of a masked tree (`leaves` left to
    /// right), or [`Shap::Exact`] when a path has more than
    /// [`LEAF_TABLE_COLUMNS`] distinct columns or the model's tables are full.
    fn tabulate_leaves(&mut self, tree: &Tree, bit: &[u64], leaves: &[usize], owners: &[usize]) -> Shap {
        let exact = |fast: &mut FastTrees| Shap::Exact {
            tree: fast.exact(tree, owners),
        };
        let mut parent = vec![usize::MAX; tree.feature.len()];
        for i in (0..tree.feature.len()).filter(|&i| tree.feature[i] != LEAF) {
            parent[tree.left[i] as usize] = i;
            parent[tree.right[i] as usize] = i;
        }
        // Per leaf: its conditions (column, splits, right) and the share of
        // the cover that follows its path through each column's splits.
        let mut paths: Vec<Vec<(u32, u64, u64, f64)>> = Vec::with_capacity(leaves.len());
        let mut bytes = 0;
        for &leaf in leaves {
            let mut path: Vec<(u32, u64, u64, f64)> = Vec::new();
            let mut node = leaf;
            while parent[node] != usize::MAX {
                let up = parent[node];
                let column = tree.feature[up];
                let right = if node == tree.right[up] as usize { bit[up] } else { 0 };
                let share = tree.cover[node] / tree.cover[up];
                match path.iter_mut().find(|c| c.0 == column) {
                    Some(c) => {
                        c.1 |= bit[up];
                        c.2 |= right;
                        c.3 *= share;
                    }
                    None => path.push((column, bit[up], right, share)),
                }
                node = up;
            }
            if path.len() > LEAF_TABLE_COLUMNS {
                return exact(self);
            }
            bytes += (1usize << path.len()) * path.len() * 8
                + path.len() * std::mem::size_of::<Condition>()
                + std::mem::size_of::<LeafTable>();
            paths.push(path);
        }
        if self.table_bytes() + bytes > self.budget {
            return exact(self);
        }
        let start = self.leaf_tables.len() as u32;
        for (&leaf, path) in leaves.iter().zip(paths) {
            let conditions = self.conditions.len() as u32..(self.conditions.len() + path.len()) as u32;
            self.conditions
                .extend(path.iter().map(|&(column, splits, right, _)| Condition {
                    splits,
                    right,
                    owner: owners[column as usize] as u32,
                }));
            let zero: Vec<f64> = path.iter().map(|c| c.3).collect();
            let values_start = self.table_values.len() as u32;
            let mut share = vec![0.0; path.len()];
            for met in 0..1usize << path.len() {
                let one: Vec<f64> = (0..path.len())
                    .map(|j| f64::from(u8::from(met & (1 << j) != 0)))
                    .collect();
                tree_shap::leaf_share(&zero, &one, tree.value[leaf], &mut share);
                self.table_values.extend_from_slice(&share);
            }
            self.leaf_tables.push(LeafTable {
                conditions,
                values: values_start..self.table_values.len() as u32,
                value: tree.value[leaf],
            });
        }
        Shap::Leaves {
            leaves: start..self.leaf_tables.len() as u32,
        }
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
                Evaluation::Masked { first_leaf, .. } => self.leaves[exit(*first_leaf, mask)],
                Evaluation::Walked { tree } => tree.tree().predict(design),
            };
        }
        sum
    }

    /// Each masked tree's ways at its splits for `design` (bit `i` set when
    /// the row goes right at the tree's `i`-th split).
    fn ways(&self, design: &[f64]) -> Vec<u64> {
        let mut ways = vec![0u64; self.trees.len()];
        for (column, &v) in self.columns.iter().zip(design) {
            if v.is_nan() {
                let missing = range(&column.missing_right);
                for (split, bit) in self.missing_right[missing.clone()]
                    .iter()
                    .zip(&self.missing_bits[missing])
                {
                    ways[split.tree as usize] |= bit;
                }
            } else {
                let splits = range(&column.by_threshold);
                let exceeded = self.thresholds[splits.clone()].iter().take_while(|&&t| t < v).count();
                let exceeded = splits.start..splits.start + exceeded;
                for (split, bit) in self.splits[exceeded.clone()].iter().zip(&self.split_bits[exceeded]) {
                    ways[split.tree as usize] |= bit;
                }
            }
        }
        ways
    }

    /// Adds every tree's exact SHAP values (path-dependent TreeSHAP:
    /// [`super::tree_shap`], from tables or [`super::linear_tree_shap`]) for the
    /// row `design` to the features owning their columns (as mapped by the
    /// `owners` given to [`Self::new`]); returns the sum of
    /// the leaf values (equal to [`Self::leaf_sum`], bit for bit).
    /// `expected_sum` plus the values added is that sum. Tree `t` adds into
    /// accumulator `t % 4`, and the four are summed at the end: the same
    /// numbers, in a fixed order, without one long chain of additions to the
    /// same feature.
    pub(crate) fn explain(&self, design: &[f64], contributions: &mut [f64]) -> f64 {
        const ACCUMULATORS: usize = 4;
        let features = contributions.len();
        let mut acc = vec![0.0; ACCUMULATORS * features];
        let ways = self.ways(design);
        let mut scratch = Scratch::default();
        let mut columns: Vec<f64> = Vec::new();
        let mut sum = 0.0;
        for (t, (tree, ways)) in self.trees.iter().zip(ways).enumerate() {
            let acc = &mut acc[(t % ACCUMULATORS) * features..][..features];
            let mut exactly = |tree: &ExactTree| match tree {
                ExactTree::Linear(tree) => {
                    tree.add(design, acc, &mut scratch);
                    tree.tree().predict(design)
                }
                ExactTree::Paths(tree) => {
                    columns.clear();
                    columns.resize(self.owners.len(), 0.0);
                    tree_shap::tree_shap(tree, design, &mut columns);
                    for (value, &owner) in columns.iter().zip(&self.owners) {
                        acc[owner] += value;
                    }
                    tree.predict(design)
                }
            };
            sum += match tree {
                Evaluation::Masked {
                    shap: Shap::Table { owners, start, stride },
                    ..
                } => {
                    let tree_owners = &self.table_owners[range(owners)];
                    let width = tree_owners.len() + 1;
                    let row = &self.way_rows.values()[*start as usize + ways as usize * *stride as usize..][..width];
                    for (&owner, value) in tree_owners.iter().zip(&row[1..]) {
                        acc[owner as usize] += value;
                    }
                    row[0]
                }
                Evaluation::Masked {
                    shap: Shap::Leaves { leaves },
                    ..
                } => {
                    let mut exit = 0.0;
                    for leaf in &self.leaf_tables[range(leaves)] {
                        let conditions = &self.conditions[range(&leaf.conditions)];
                        let met = conditions
                            .iter()
                            .enumerate()
                            .fold(0usize, |met, (j, c)| met | usize::from(ways & c.splits == c.right) << j);
                        let k = conditions.len();
                        let row = &self.table_values[range(&leaf.values)][met * k..][..k];
                        for (c, value) in conditions.iter().zip(row) {
                            acc[c.owner as usize] += value;
                        }
                        // The leaf whose every condition is met is the one the row ends in.
                        if met + 1 == 1 << k {
                            exit = leaf.value;
                        }
                    }
                    exit
                }
                Evaluation::Masked {
                    shap: Shap::Exact { tree },
                    ..
                } => exactly(tree),
                Evaluation::Walked { tree } => exactly(tree),
            };
        }
        for (f, c) in contributions.iter_mut().enumerate() {
            *c += (acc[f] + acc[features + f]) + (acc[2 * features + f] + acc[3 * features + f]);
        }
        sum
    }
}

/// The index in `leaves` of a masked tree's exit leaf: its leftmost possible leaf.
fn exit(first_leaf: u32, mask: u64) -> usize {
    // The exit leaf's bit is never cleared, so the mask is never zero.
    first_leaf as usize + mask.trailing_zeros() as usize
}

fn range(r: &Range<u32>) -> Range<usize> {
    r.start as usize..r.end as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How many of `fast`'s trees are explained by Algorithm 2.
    fn by_paths_count(fast: &FastTrees) -> usize {
        fast.trees
            .iter()
            .filter(|t| {
                matches!(
                    t,
                    Evaluation::Masked {
                        shap: Shap::Exact {
                            tree: ExactTree::Paths(_)
                        },
                        ..
                    } | Evaluation::Walked {
                        tree: ExactTree::Paths(_)
                    }
                )
            })
            .count()
    }

    /// A tree of `splits` splits in a chain over columns 0, 1, 2, ... (one
    /// leaf per level, the last split's two), covers halving down the chain.
    fn chain(splits: usize) -> Tree {
        let mut t = Tree::leaf(0.0, 0.0);
        let mut node = 0;
        for level in 0..splits {
            let values = [level as f64 / 5.0 - 0.7, level as f64 / 5.0 - 0.6];
            let left = t.split(
                node,
                level as u32,
                0.5,
                level % 2 == 0,
                values,
                [1.0 + level as f64, 0.0],
            );
            node = left + 1;
        }
        t.cover[node] = 3.0;
        t.sum_covers();
        t
    }

    /// A bushy tree of `splits` splits, grown breadth first, split `i` on
    /// column `i`: short paths, so its leaf tables are smaller than its
    /// table of ways.
    fn bushy(splits: usize) -> Tree {
        let mut t = Tree::leaf(0.1, 0.0);
        for split in 0..splits {
            let next = t.feature.len() as f64;
            let values = [next / 20.0 - 0.5, (next + 1.0) / 20.0 - 0.5];
            t.split(
                split,
                split as u32,
                0.4,
                split % 2 == 0,
                values,
                [1.0 + next, 2.0 + next],
            );
        }
        t.sum_covers();
        t
    }

    #[test]
    fn a_small_tree_whose_table_does_not_fit_gets_leaf_tables() {
        let trees = [bushy(8)];
        let owners: Vec<usize> = (0..8).collect();
        let full = FastTrees::new(&trees, &owners);
        let table = full.table_bytes();
        assert!(matches!(
            full.trees[0],
            Evaluation::Masked {
                shap: Shap::Table { .. },
                ..
            }
        ));
        let tight = FastTrees::with_table_budget(&trees, &owners, table - 1);
        assert!(matches!(
            tight.trees[0],
            Evaluation::Masked {
                shap: Shap::Leaves { .. },
                ..
            }
        ));
        assert!(tight.table_bytes() < table);
        for v in [0.0, 0.3, 0.5, f64::NAN] {
            let design = vec![v; 8];
            let (mut a, mut b) = (vec![0.0; 8], vec![0.0; 8]);
            assert_eq!(full.explain(&design, &mut a), tight.explain(&design, &mut b));
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).abs() < 1e-12, "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn a_clone_has_its_tables_of_ways_from_a_cache_line_and_explains_alike() {
        let trees = [bushy(6), chain(5)];
        let owners: Vec<usize> = (0..8).collect();
        let fast = FastTrees::new(&trees, &owners);
        let copy = fast.clone();
        let copy_of_copy = copy.clone();
        for copy in [&fast, &copy, &copy_of_copy] {
            assert_eq!(copy.way_rows.values().as_ptr() as usize % 64, 0);
            assert_eq!(copy, &fast);
            let design = [0.3, 0.7, f64::NAN, 0.1, 0.9, 0.5, 0.2, 0.6];
            let (mut a, mut b) = (vec![0.0; 8], vec![0.0; 8]);
            assert_eq!(copy.explain(&design, &mut a), fast.explain(&design, &mut b));
            assert_eq!(a, b);
        }
    }

    #[test]
    fn every_way_of_finding_the_values_gives_the_exact_ones() {
        // A table of ways (4 splits), leaf tables (10 splits) and the exact
        // algorithm (16 distinct columns on a path), then all three again
        // with no room for tables.
        let trees = [chain(4), chain(10), chain(16)];
        let owners: Vec<usize> = (0..16).map(|c| c / 2).collect();
        let tabled = FastTrees::new(&trees, &owners);
        let kinds: Vec<&str> = tabled
            .trees
            .iter()
            .map(|t| match t {
                Evaluation::Masked {
                    shap: Shap::Table { .. },
                    ..
                } => "table",
                Evaluation::Masked {
                    shap: Shap::Leaves { .. },
                    ..
                } => "leaves",
                Evaluation::Masked {
                    shap: Shap::Exact { .. },
                    ..
                } => "exact",
                Evaluation::Walked { .. } => "walked",
            })
            .collect();
        assert_eq!(kinds, ["table", "leaves", "exact"]);
        let untabled = FastTrees::with_table_budget(&trees, &owners, 0);
        assert_eq!(untabled.table_bytes(), 0);
        // No room for the linear-time algorithm either: Algorithm 2.
        let by_paths = FastTrees::with_budgets(&trees, &owners, 0, 0);
        assert_eq!((by_paths_count(&by_paths), by_paths_count(&untabled)), (3, 0));
        let mut state = 9u64;
        for _ in 0..200 {
            let design: Vec<f64> = (0..16)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    match state >> 61 {
                        0 => f64::NAN,
                        r => (r as f64) / 7.0,
                    }
                })
                .collect();
            let mut expected = vec![0.0; 8];
            for tree in &trees {
                let mut columns = vec![0.0; 16];
                tree_shap::tree_shap(tree, &design, &mut columns);
                for (value, owner) in columns.iter().zip(&owners) {
                    expected[*owner] += value;
                }
            }
            for fast in [&tabled, &untabled, &by_paths] {
                let mut contributions = vec![0.0; 8];
                let raw = fast.explain(&design, &mut contributions);
                assert_eq!(raw, fast.leaf_sum(&design), "the explained output is the scored one");
                for (c, e) in contributions.iter().zip(&expected) {
                    assert!((c - e).abs() < 1e-12, "{contributions:?} vs {expected:?}");
                }
                let total = fast.expected_sum + contributions.iter().sum::<f64>();
                assert!((total - raw).abs() < 1e-12);
            }
        }
    }
}
