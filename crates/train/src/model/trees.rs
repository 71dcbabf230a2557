//! Histogram tree growing, shared by gradient boosting
//! ([`crate::family::gbdt`]) and random forests ([`crate::family::forest`]): features binned once (at most 255
//! bins per column and one for missing values), gradient and hessian
//! histograms per leaf, leaf-wise growth to a number of leaves, and splits
//! that learn which way missing values go. Each family gives its own
//! [`GrowParams`].

use carescore_core::artifact::{Tree, LEAF};
use rand_chacha::ChaCha8Rng;

/// How a tree grows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GrowParams {
    /// Multiplier of every leaf value (the booster's learning rate; 1 for a forest).
    pub shrinkage: f64,
    /// Leaves per tree (leaf-wise growth).
    pub max_leaves: usize,
    /// Fewest training rows in a leaf.
    pub min_rows_in_leaf: usize,
    /// Smallest hessian sum in a leaf.
    pub min_hessian_in_leaf: f64,
    /// L2 penalty on leaf values.
    pub l2: f64,
}

/// Missing values' bin.
const MISSING_BIN: u8 = u8::MAX;

/// Most bins per feature the tree families use (the most a `u8` holds
/// besides the missing-value bin).
pub const MAX_BINS: usize = 255;

/// Features binned for training: per column, the bin of every row and the
/// upper edge of every bin but the last.
#[derive(Debug, Clone)]
pub struct Binned {
    pub(crate) rows: usize,
    cols: usize,
    /// Row-major bins: a row's bins share a cache line, so building the
    /// histogram of a subset of rows costs one memory access per row, not one
    /// per row and column.
    bins: Vec<u8>,
    /// The same bins column-major: splitting a leaf's rows (ascending) on one
    /// column reads that column forward.
    columns: Vec<u8>,
    /// Per column, the split thresholds: bin `b` holds values `<= edges[b]`
    /// (and above `edges[b - 1]`).
    pub(crate) edges: Vec<Vec<f64>>,
}

fn column_edges(mut values: Vec<f64>, max_bins: usize) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    values.dedup();
    if values.len() <= max_bins {
        return values.windows(2).map(|w| w[0] + (w[1] - w[0]) / 2.0).collect();
    }
    let mut edges: Vec<f64> = (1..max_bins).map(|j| values[j * values.len() / max_bins]).collect();
    edges.dedup();
    edges
}

impl Binned {
    /// Bins a row-major `rows x cols` matrix (NaN = missing).
    pub fn new(x: &[f64], cols: usize, max_bins: usize) -> Binned {
        let rows = x.len().checked_div(cols).unwrap_or(0);
        let max_bins = max_bins.clamp(2, 255);
        let mut columns = vec![0u8; rows * cols];
        let mut edges = Vec::with_capacity(cols);
        for c in 0..cols {
            let values: Vec<f64> = (0..rows).map(|r| x[r * cols + c]).filter(|v| !v.is_nan()).collect();
            let e = column_edges(values, max_bins);
            for r in 0..rows {
                let v = x[r * cols + c];
                columns[c * rows + r] = if v.is_nan() {
                    MISSING_BIN
                } else {
                    e.partition_point(|edge| *edge < v) as u8
                };
            }
            edges.push(e);
        }
        let mut bins = vec![0u8; rows * cols];
        for (c, column) in columns.chunks(rows.max(1)).enumerate() {
            for (r, &b) in column.iter().enumerate() {
                bins[r * cols + c] = b;
            }
        }
        Binned {
            rows,
            cols,
            bins,
            columns,
            edges,
        }
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    fn bin(&self, col: usize, row: usize) -> u8 {
        self.columns[col * self.rows + row]
    }
}

/// Gradient, hessian and row count of one bin.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Stat {
    g: f64,
    h: f64,
    n: u32,
}

impl Stat {
    fn add(&mut self, other: Stat) {
        self.g += other.g;
        self.h += other.h;
        self.n += other.n;
    }

    fn minus(self, other: Stat) -> Stat {
        Stat {
            g: self.g - other.g,
            h: self.h - other.h,
            n: self.n - other.n,
        }
    }
}

const SLOTS: usize = 256;

/// Per column, 255 value bins and the missing bin.
type Histogram = Vec<Stat>;

/// Fills the histogram slots of columns `first..` (one `SLOTS` block each)
/// from `rows`, whose gradients and hessians `ordered` holds in row order:
/// row by row, each of the row's bins into its column's block. Every slot
/// sums its rows in row order, whatever the number of threads.
fn fill_columns(data: &Binned, first: usize, blocks: &mut [Stat], rows: &[u32], ordered: &[(f64, f64)]) {
    let cols = blocks.len() / SLOTS;
    for (&r, &(g, h)) in rows.iter().zip(ordered) {
        let row_bins = &data.bins[r as usize * data.cols + first..][..cols];
        for (slots, &b) in blocks.chunks_exact_mut(SLOTS).zip(row_bins) {
            let s = &mut slots[b as usize];
            s.g += g;
            s.h += h;
            s.n += 1;
        }
    }
}

/// Row-column updates below which a histogram is built on one thread.
const PARALLEL_MIN_WORK: usize = 1 << 20;

/// The histogram of `rows`. The rows' gradients and hessians are gathered
/// once into row order ("ordered gradients", as LightGBM does), so each
/// column's pass reads them sequentially instead of gathering them again.
/// Large histograms are built column-parallel with scoped threads (each
/// column is summed by one thread in row order, so the result does not
/// depend on the number of threads).
fn histogram(data: &Binned, rows: &[u32], g: &[f64], h: &[f64]) -> Histogram {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    histogram_on(cores, data, rows, g, h)
}

/// [`histogram`] on at most `threads` threads.
fn histogram_on(threads: usize, data: &Binned, rows: &[u32], g: &[f64], h: &[f64]) -> Histogram {
    let mut hist = vec![Stat::default(); data.cols * SLOTS];
    let ordered: Vec<(f64, f64)> = rows.iter().map(|&r| (g[r as usize], h[r as usize])).collect();
    let threads = threads.min(data.cols.max(1));
    if threads < 2 || rows.len() * data.cols < PARALLEL_MIN_WORK {
        fill_columns(data, 0, &mut hist, rows, &ordered);
        return hist;
    }
    let per_thread = data.cols.div_ceil(threads);
    let ordered = &ordered;
    std::thread::scope(|scope| {
        for (i, blocks) in hist.chunks_mut(per_thread * SLOTS).enumerate() {
            scope.spawn(move || fill_columns(data, i * per_thread, blocks, rows, ordered));
        }
    });
    hist
}

#[derive(Debug, Clone, Copy)]
struct Split {
    gain: f64,
    col: usize,
    bin: u8,
    missing_left: bool,
}

fn leaf_score(s: Stat, l2: f64) -> f64 {
    s.g * s.g / (s.h + l2)
}

/// Which columns a split may use.
pub enum ColumnChoice<'a> {
    /// Every column (boosting).
    All,
    /// A fresh random subset of `per_split` columns for every split (random forests).
    Random {
        /// The tree's own generator.
        rng: &'a mut ChaCha8Rng,
        /// Columns drawn per split.
        per_split: usize,
    },
}

impl ColumnChoice<'_> {
    /// The columns the next split may use (`None`: all of them).
    fn draw(&mut self, cols: usize) -> Option<Vec<bool>> {
        match self {
            ColumnChoice::All => None,
            ColumnChoice::Random { rng, per_split } => {
                let mut allowed = vec![false; cols];
                for c in rand::seq::index::sample(&mut **rng, cols, (*per_split).clamp(1, cols.max(1))) {
                    allowed[c] = true;
                }
                Some(allowed)
            }
        }
    }
}

fn best_split(
    data: &Binned,
    hist: &Histogram,
    total: Stat,
    p: &GrowParams,
    allowed: Option<Vec<bool>>,
) -> Option<Split> {
    let mut best: Option<Split> = None;
    let parent = leaf_score(total, p.l2);
    for c in 0..data.cols {
        if allowed.as_ref().is_some_and(|a| !a[c]) {
            continue;
        }
        let slots = &hist[c * SLOTS..(c + 1) * SLOTS];
        let missing = slots[MISSING_BIN as usize];
        let value_bins = data.edges[c].len() + 1;
        let mut left = Stat::default();
        for (b, slot) in slots.iter().enumerate().take(value_bins.saturating_sub(1)) {
            left.add(*slot);
            for missing_left in [true, false] {
                let l = if missing_left {
                    Stat {
                        g: left.g + missing.g,
                        h: left.h + missing.h,
                        n: left.n + missing.n,
                    }
                } else {
                    left
                };
                let r = total.minus(l);
                if (l.n as usize) < p.min_rows_in_leaf
                    || (r.n as usize) < p.min_rows_in_leaf
                    || l.h < p.min_hessian_in_leaf
                    || r.h < p.min_hessian_in_leaf
                {
                    continue;
                }
                let gain = leaf_score(l, p.l2) + leaf_score(r, p.l2) - parent;
                if gain > 1e-12 && best.is_none_or(|s| gain > s.gain) {
                    best = Some(Split {
                        gain,
                        col: c,
                        bin: b as u8,
                        missing_left,
                    });
                }
            }
        }
    }
    best
}

/// A leaf while growing.
struct Growing {
    node: usize,
    rows: Vec<u32>,
    hist: Histogram,
    split: Option<Split>,
}

/// A grown tree, with what training needs to update scores quickly.
pub(crate) struct Grown {
    /// The tree.
    pub(crate) tree: Tree,
    /// Per node, the bin its split sends left up to (0 for leaves).
    pub(crate) split_bins: Vec<u8>,
    /// Each leaf's node and training rows.
    pub(crate) leaves: Vec<(usize, Vec<u32>)>,
}

/// Grows one tree on the rows with gradient `g` and hessian `h`; leaf values
/// are `-shrinkage * sum(g) / (sum(h) + l2)`, and each node's cover is the
/// sum of the training weights `w` of the rows that reached it. A row listed
/// twice in `rows` counts twice (bootstrap samples).
pub(crate) fn grow(
    data: &Binned,
    rows: Vec<u32>,
    g: &[f64],
    h: &[f64],
    w: &[f64],
    p: &GrowParams,
    columns: &mut ColumnChoice<'_>,
) -> Grown {
    let value = |s: Stat| -p.shrinkage * s.g / (s.h + p.l2);
    let hist = histogram(data, &rows, g, h);
    let mut total = Stat::default();
    for &r in &rows {
        total.add(Stat {
            g: g[r as usize],
            h: h[r as usize],
            n: 1,
        });
    }
    let cover = |rows: &[u32]| rows.iter().map(|&r| w[r as usize]).sum::<f64>();
    let mut tree = Tree {
        feature: vec![LEAF],
        threshold: vec![0.0],
        left: vec![0],
        right: vec![0],
        missing_left: vec![false],
        value: vec![value(total)],
        cover: vec![cover(&rows)],
    };
    let split = best_split(data, &hist, total, p, columns.draw(data.cols));
    let mut split_bins = vec![0u8];
    let mut leaves = vec![Growing {
        node: 0,
        rows,
        hist,
        split,
    }];
    while leaves.len() < p.max_leaves {
        let Some((i, _)) = leaves
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.split.map(|s| (i, s.gain)))
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
        else {
            break;
        };
        let leaf = leaves.swap_remove(i);
        let s = leaf.split.expect("chosen leaves have a split");
        // Without a branch per row (which way a row goes is unpredictable):
        // each row is written to both sides and only one side's end moves.
        let (mut left_rows, mut right_rows) = (vec![0u32; leaf.rows.len()], vec![0u32; leaf.rows.len()]);
        let (mut left_end, mut right_end) = (0, 0);
        let column = &data.columns[s.col * data.rows..][..data.rows];
        for &r in &leaf.rows {
            let b = column[r as usize];
            let go_left = (b <= s.bin && b != MISSING_BIN) | (b == MISSING_BIN && s.missing_left);
            left_rows[left_end] = r;
            right_rows[right_end] = r;
            left_end += usize::from(go_left);
            right_end += usize::from(!go_left);
        }
        left_rows.truncate(left_end);
        right_rows.truncate(right_end);
        // Build the smaller child's histogram; the larger one is the difference.
        let (small, large_is_left) = if left_rows.len() <= right_rows.len() {
            (&left_rows, false)
        } else {
            (&right_rows, true)
        };
        let small_hist = histogram(data, small, g, h);
        let large_hist: Histogram = leaf.hist.iter().zip(&small_hist).map(|(a, b)| a.minus(*b)).collect();
        let (left_hist, right_hist) = if large_is_left {
            (large_hist, small_hist)
        } else {
            (small_hist, large_hist)
        };
        let sum = |rows: &[u32]| {
            let mut t = Stat::default();
            for &r in rows {
                t.add(Stat {
                    g: g[r as usize],
                    h: h[r as usize],
                    n: 1,
                });
            }
            t
        };
        let (left_total, right_total) = (sum(&left_rows), sum(&right_rows));
        let (l, r) = (tree.feature.len(), tree.feature.len() + 1);
        for (t, rows) in [(left_total, &left_rows), (right_total, &right_rows)] {
            tree.feature.push(LEAF);
            tree.threshold.push(0.0);
            tree.left.push(0);
            tree.right.push(0);
            tree.missing_left.push(false);
            tree.value.push(value(t));
            tree.cover.push(cover(rows));
        }
        split_bins.extend([0, 0]);
        split_bins[leaf.node] = s.bin;
        tree.feature[leaf.node] = s.col as u32;
        tree.threshold[leaf.node] = data.edges[s.col][s.bin as usize];
        tree.left[leaf.node] = l as u32;
        tree.right[leaf.node] = r as u32;
        tree.missing_left[leaf.node] = s.missing_left;
        let left_split = best_split(data, &left_hist, left_total, p, columns.draw(data.cols));
        let right_split = best_split(data, &right_hist, right_total, p, columns.draw(data.cols));
        leaves.push(Growing {
            node: l,
            rows: left_rows,
            hist: left_hist,
            split: left_split,
        });
        leaves.push(Growing {
            node: r,
            rows: right_rows,
            hist: right_hist,
            split: right_split,
        });
    }
    // A split node's cover is its children's sum (children come after their
    // parent), so the artifact's check that it is holds to the last bit.
    for node in (0..tree.feature.len()).rev() {
        if tree.feature[node] != LEAF {
            tree.cover[node] = tree.cover[tree.left[node] as usize] + tree.cover[tree.right[node] as usize];
        }
    }
    Grown {
        tree,
        split_bins,
        leaves: leaves.into_iter().map(|l| (l.node, l.rows)).collect(),
    }
}

/// Evaluates a tree on binned row `r` (the same decisions as on raw values).
pub(crate) fn predict_binned(tree: &Tree, split_bins: &[u8], data: &Binned, r: usize) -> f64 {
    let mut node = 0usize;
    while tree.feature[node] != LEAF {
        let b = data.bin(tree.feature[node] as usize, r);
        let go_left = if b == MISSING_BIN {
            tree.missing_left[node]
        } else {
            b <= split_bins[node]
        };
        node = if go_left { tree.left[node] } else { tree.right[node] } as usize;
    }
    tree.value[node]
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    use super::*;

    #[test]
    fn a_histogram_on_several_threads_equals_the_one_thread_sum() {
        // Enough row-column updates for the column-parallel path.
        let (cols, n) = (4, PARALLEL_MIN_WORK / 3);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let x: Vec<f64> = (0..n * cols).map(|_| rng.gen_range(0.0..1.0)).collect();
        let data = Binned::new(&x, cols, 255);
        let g: Vec<f64> = (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let h: Vec<f64> = (0..n).map(|_| rng.gen_range(0.0..0.25)).collect();
        let rows: Vec<u32> = (0..n as u32).filter(|r| r % 7 != 3).collect();
        assert!(
            rows.len() * cols >= PARALLEL_MIN_WORK,
            "the test must take the parallel path"
        );
        // Two threads whatever the machine has, so the parallel path runs.
        let parallel = histogram_on(2, &data, &rows, &g, &h);
        let ordered: Vec<(f64, f64)> = rows.iter().map(|&r| (g[r as usize], h[r as usize])).collect();
        let mut one_thread = vec![Stat::default(); cols * SLOTS];
        fill_columns(&data, 0, &mut one_thread, &rows, &ordered);
        assert!(parallel == one_thread, "the histogram depends on the threads");
    }

    #[test]
    fn covers_are_the_training_weights_that_reached_each_node() {
        let (cols, n) = (3, 400);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
        let x: Vec<f64> = (0..n * cols)
            .map(|_| {
                if rng.gen_bool(0.1) {
                    f64::NAN
                } else {
                    rng.gen_range(0.0..1.0)
                }
            })
            .collect();
        let data = Binned::new(&x, cols, 255);
        let y: Vec<bool> = (0..n).map(|r| x[r * cols] + rng.gen_range(0.0..0.5) > 0.7).collect();
        let w: Vec<f64> = (0..n).map(|_| rng.gen_range(0.5..3.0)).collect();
        let g: Vec<f64> = y
            .iter()
            .zip(&w)
            .map(|(y, w)| w * (0.3 - f64::from(u8::from(*y))))
            .collect();
        let h: Vec<f64> = w.iter().map(|w| w * 0.21).collect();
        // A bootstrap sample: some rows twice, some not at all.
        let mut rows: Vec<u32> = (0..n as u32)
            .filter(|r| r % 5 != 0)
            .chain((0..n as u32).step_by(3))
            .collect();
        rows.sort_unstable();
        let params = GrowParams {
            shrinkage: 0.1,
            max_leaves: 8,
            min_rows_in_leaf: 10,
            min_hessian_in_leaf: 1e-3,
            l2: 1.0,
        };
        let grown = grow(&data, rows.clone(), &g, &h, &w, &params, &mut ColumnChoice::All);
        let tree = &grown.tree;
        assert!(grown.leaves.len() > 2, "the tree splits");
        let weight = |rows: &[u32]| rows.iter().map(|&r| w[r as usize]).sum::<f64>();
        // Each leaf's cover: its rows' weights, a row drawn twice counted twice.
        for (node, leaf_rows) in &grown.leaves {
            assert_eq!(tree.cover[*node], weight(leaf_rows));
        }
        assert!((tree.cover[0] - weight(&rows)).abs() < 1e-9 * tree.cover[0]);
        for node in (0..tree.feature.len()).filter(|&n| tree.feature[n] != LEAF) {
            let children = tree.cover[tree.left[node] as usize] + tree.cover[tree.right[node] as usize];
            assert_eq!(
                tree.cover[node], children,
                "a split's cover is its children's, to the bit"
            );
        }
        // Walking the training rows down the tree reaches the same covers.
        let mut walked = vec![0.0; tree.feature.len()];
        for &r in &rows {
            let row = &x[r as usize * cols..][..cols];
            let mut node = 0;
            walked[0] += w[r as usize];
            while tree.feature[node] != LEAF {
                node = tree.child(node, row);
                walked[node] += w[r as usize];
            }
        }
        for (node, (walked, cover)) in walked.iter().zip(&tree.cover).enumerate() {
            assert!(
                (walked - cover).abs() < 1e-9 * cover.max(1.0),
                "node {node}: {walked} vs {cover}"
            );
        }
    }
}
