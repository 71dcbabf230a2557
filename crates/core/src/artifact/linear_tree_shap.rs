//! Exact path-dependent TreeSHAP in time linear in the tree's size (after
//! Yu, Bhatt, Chen, Li, Tian and Chen 2022, "Linear TreeShap", NeurIPS): the
//! same values as [`super::tree_shap`]'s Algorithm 2, in `O(nodes * m)` per
//! row instead of `O(leaves * depth^2)`, where `m` is half the most distinct
//! columns on a root-to-leaf path. What explains trees too large for the
//! tables of [`super::fast_trees`] (a forest's trees of up to 255 leaves).
//!
//! For one leaf `l` whose path splits on the distinct columns `k`, column
//! `k`'s splits on the path have a combined cover share `q_k` (the product
//! of the child-to-parent cover ratios) and a row indicator `p_k` (1 when
//! the row takes the path's way at each of them). The leaf's part of the
//! path-dependent value of a set `S` of known columns is `v_l * prod(k in S:
//! p_k) * prod(k not in S: q_k)`, a product game, whose Shapley value for
//! column `i` is
//!
//! ```text
//! (p_i - q_i) * v_l * integral over y in [0, 1] of prod(k != i: q_k (1 - y) + p_k y)
//! ```
//!
//! (the Shapley weight `s! (n - s - 1)! / n!` is the Beta integral of
//! `y^s (1 - y)^(n - s - 1)`). The integrand is a polynomial of degree below
//! the path's distinct columns, so a Gauss-Legendre rule of `m` points
//! integrates it exactly. Holding each polynomial by its values at those
//! points, products and quotients are pointwise: one pass down the tree
//! multiplies each node's factor into its parent's product `G` (dividing
//! out the column's earlier factor when the column was split on above), and
//! one pass up sums `v_l * G_l` over each subtree (`S`). A split on column
//! `i` then credits `i` with `(p - q) * integral((S_c - D_c) / f)` at its
//! child `c`, where `f` is the column's combined factor at `c` and `D_c` is
//! the part of `S_c` below a further split on `i` (those leaves are
//! credited at their deepest split on `i`, with the column's fully
//! combined factor).
//!
//! Written here: no maintained Rust crate computes TreeSHAP on our trees
//! (see [`super::tree_shap`]), and the Gauss-Legendre rule is a few lines
//! where the quadrature crate would bring a linear-algebra library into
//! this dependency-light crate.

use super::tree::{Tree, LEAF};

/// No node: the root's parent, or a column not split on above.
const NONE: u32 = u32::MAX;

/// What the pass needs of the edge from a node's parent to it, known at load.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Edge {
    /// The parent split (`NONE` at the root).
    parent: u32,
    /// The player the parent's column belongs to.
    player: u32,
    /// The node at the end of the nearest edge above on the same column
    /// (`NONE` when the column is first split on here): its factor is the
    /// one this edge's replaces.
    earlier: u32,
    /// The column's combined cover share along the path down to this node.
    q: f64,
}

/// What the row-by-row passes read per node: the tree in the passes' terms,
/// with the spare slot `n` (one past the last node) standing in where a
/// node has no such partner, so the passes need no branch on the tree's
/// shape or on the row (a mispredicted branch per node costs more than the
/// arithmetic saved).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Step {
    /// The parent split and the child this node is of it (true: left).
    parent: u32,
    is_left: bool,
    /// The player credited at the edge into this node.
    player: u32,
    /// The edge's combined cover share, and `1 / q` (0 where `q` is 0: a
    /// leaf no training row reached, never anyone's `earlier`).
    q: f64,
    inverse_q: f64,
    /// The `earlier` node of the edge into this node, or the spare slot
    /// (whose indicator is 1 and factor 1).
    earlier: u32,
    /// Children (the spare slot, whose sum is 0, for a leaf).
    left: u32,
    right: u32,
    /// The leaf's value (0 for a split).
    leaf_value: f64,
    /// Where this split's subtree sum counts as `D`: the `earlier` node of
    /// its children's edges, or the spare slot (for a leaf too).
    gather: u32,
}

/// One tree prepared for [`LinearTreeShap::add`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LinearTreeShap {
    tree: Tree,
    /// Per node (the root's unused), then the spare slot's.
    steps: Vec<Step>,
    /// Gauss-Legendre points `y` on [0, 1], `1 - y` and `1 / (1 - y)`, in
    /// groups of [`LANES`] (the last padded with points of weight 0).
    points: Vec<Lanes>,
    complements: Vec<Lanes>,
    inverse_complements: Vec<Lanes>,
    /// The rule's weights, and each divided by `1 - y`.
    weights: Vec<Lanes>,
    weights_by_complement: Vec<Lanes>,
    /// Per node and point, `1 / (q (1 - y) + y)`: the reciprocal of the
    /// edge's factor when the row takes the path's way (computed once, so
    /// a row costs no division); the spare slot's is 1.
    reciprocals: Vec<Lanes>,
}

/// Points handled together: fixed-length inner loops the compiler turns
/// into vector instructions without bounds checks.
const LANES: usize = 4;

/// Values at [`LANES`] points.
type Lanes = [f64; LANES];

/// `points` in groups of [`LANES`], the last padded with `pad`.
fn in_lanes(points: &[f64], pad: f64) -> Vec<Lanes> {
    points
        .chunks(LANES)
        .map(|chunk| {
            let mut lanes = [pad; LANES];
            lanes[..chunk.len()].copy_from_slice(chunk);
            lanes
        })
        .collect()
}

/// Working memory for [`LinearTreeShap::add`], reused from tree to tree.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// Per node: the row's indicator for the edge into it (0 or 1).
    p: Vec<f64>,
    /// Per node and point: `G` on the way down, then `S`.
    products: Vec<Lanes>,
    /// Per node and point: `D`.
    deeper: Vec<Lanes>,
}

impl LinearTreeShap {
    /// Prepares `tree` (checked on load), whose column `c` belongs to player
    /// `players[c]`: the values of a player's columns are added together.
    pub(crate) fn new(tree: &Tree, players: &[usize]) -> LinearTreeShap {
        let n = tree.feature.len();
        let mut edges = vec![
            Edge {
                parent: NONE,
                player: NONE,
                earlier: NONE,
                q: 1.0,
            };
            n
        ];
        // Per node, the distinct columns on the path down to it; children
        // come after their parents (checked on load), so one pass in node
        // order sees every parent first.
        let mut distinct = vec![0usize; n];
        let mut most_distinct = 0;
        for node in 0..n {
            if tree.feature[node] == LEAF {
                most_distinct = most_distinct.max(distinct[node]);
                continue;
            }
            let column = tree.feature[node];
            let earlier = nearest_split_above(tree, &edges, node, column);
            let (q_before, new_column) = match earlier {
                NONE => (1.0, 1),
                e => (edges[e as usize].q, 0),
            };
            for child in [tree.left[node] as usize, tree.right[node] as usize] {
                edges[child] = Edge {
                    parent: node as u32,
                    player: players[column as usize] as u32,
                    earlier,
                    q: q_before * tree.cover[child] / tree.cover[node],
                };
                distinct[child] = distinct[node] + new_column;
            }
        }
        let spare = n as u32;
        let or_spare = |node: u32| if node == NONE { spare } else { node };
        let mut steps: Vec<Step> = (0..n)
            .map(|node| {
                let edge = edges[node];
                let leaf = tree.feature[node] == LEAF;
                Step {
                    parent: or_spare(edge.parent),
                    is_left: edge.parent != NONE && tree.left[edge.parent as usize] as usize == node,
                    player: edge.player,
                    q: edge.q,
                    // 0 for q = 0 (and for a q so small that 1 / q overflows,
                    // where 0 * inf would give NaN): only a leaf's q is 0.
                    inverse_q: if edge.q >= f64::MIN_POSITIVE { 1.0 / edge.q } else { 0.0 },
                    earlier: or_spare(edge.earlier),
                    left: if leaf { spare } else { tree.left[node] },
                    right: if leaf { spare } else { tree.right[node] },
                    leaf_value: if leaf { tree.value[node] } else { 0.0 },
                    gather: if leaf {
                        spare
                    } else {
                        or_spare(edges[tree.left[node] as usize].earlier)
                    },
                }
            })
            .collect();
        steps.push(Step {
            parent: spare,
            is_left: false,
            player: NONE,
            q: 1.0,
            inverse_q: 0.0,
            earlier: spare,
            left: spare,
            right: spare,
            leaf_value: 0.0,
            gather: spare,
        });
        // A leaf's integrand has degree below its path's distinct columns;
        // m points integrate degree 2m - 1 exactly.
        let (points, weights) = gauss_legendre(most_distinct.div_ceil(2).max(1));
        let complements: Vec<f64> = points.iter().map(|y| 1.0 - y).collect();
        let weights_by_complement: Vec<f64> = weights.iter().zip(&complements).map(|(w, c)| w / c).collect();
        let inverse_complements: Vec<f64> = complements.iter().map(|c| 1.0 / c).collect();
        // Padding points at y = 1/2 weigh nothing and divide by nothing small.
        let (points, complements) = (in_lanes(&points, 0.5), in_lanes(&complements, 0.5));
        let mut reciprocals: Vec<Lanes> = edges
            .iter()
            .flat_map(|e| {
                points
                    .iter()
                    .zip(&complements)
                    .map(move |(y, c)| std::array::from_fn(|j| 1.0 / (e.q * c[j] + y[j])))
            })
            .collect();
        reciprocals.extend(std::iter::repeat_n([1.0; LANES], points.len()));
        LinearTreeShap {
            tree: tree.clone(),
            steps,
            points,
            complements,
            inverse_complements: in_lanes(&inverse_complements, 2.0),
            weights: in_lanes(&weights, 0.0),
            weights_by_complement: in_lanes(&weights_by_complement, 0.0),
            reciprocals,
        }
    }

    /// At most the bytes [`Self::new`] precomputes for `tree` and
    /// [`Self::add`] works in: per node, its step and three groups of
    /// values (reciprocals, products, sums below), at most one point per
    /// two splits of the tree's depth.
    pub(crate) fn most_bytes(tree: &Tree) -> usize {
        let lanes = tree.depth().div_ceil(2).max(1).div_ceil(LANES);
        (tree.feature.len() + 1) * (std::mem::size_of::<Step>() + 3 * lanes * std::mem::size_of::<Lanes>())
    }

    /// The tree.
    pub(crate) fn tree(&self) -> &Tree {
        &self.tree
    }

    /// Adds the exact path-dependent SHAP value of each player for row `x`
    /// (the raw design) into `phi` (one entry per player).
    pub(crate) fn add(&self, x: &[f64], phi: &mut [f64], scratch: &mut Scratch) {
        let tree = &self.tree;
        let n = tree.feature.len();
        let k = self.points.len();
        let Scratch { p, products, deeper } = scratch;
        // The spare slot: indicator 1, products 0 (a leaf's children's sum).
        p.clear();
        p.resize(n + 1, 1.0);
        products.clear();
        products.resize((n + 1) * k, [1.0; LANES]);
        products[n * k..].fill([0.0; LANES]);
        deeper.clear();
        deeper.resize((n + 1) * k, [0.0; LANES]);
        // Down: G at each node, its parent's with this edge's factor for the
        // column in place of the column's earlier one (`1 / (q_e (1 - y) +
        // p_e y)` for the earlier edge `e`: its stored reciprocal when
        // `p_e` is 1, `1 / (q_e (1 - y))` when 0; 1 when there is none).
        for node in 1..n {
            let step = self.steps[node];
            let parent = step.parent as usize;
            let value = x[tree.feature[parent] as usize];
            let goes_left = if value.is_nan() {
                tree.missing_left[parent]
            } else {
                value <= tree.threshold[parent]
            };
            let taken = f64::from(u8::from(goes_left == step.is_left));
            let earlier = step.earlier as usize;
            let p_before = p[earlier];
            let p_here = p_before * taken;
            p[node] = p_here;
            let scaled = (1.0 - p_before) * self.steps[earlier].inverse_q;
            let (above, below) = products.split_at_mut(node * k);
            let above = &above[parent * k..][..k];
            let here = &mut below[..k];
            let replaced = &self.reciprocals[earlier * k..][..k];
            for (i, (h, a)) in here.iter_mut().zip(above).enumerate() {
                let (c, y, r, ic) = (
                    &self.complements[i],
                    &self.points[i],
                    &replaced[i],
                    &self.inverse_complements[i],
                );
                for j in 0..LANES {
                    let reciprocal = p_before * r[j] + scaled * ic[j];
                    h[j] = a[j] * (step.q * c[j] + p_here * y[j]) * reciprocal;
                }
            }
        }
        // Up: S at each node (in place of G), D gathered at the nearest edge
        // above on the same column, and each edge's credit:
        // (p - q) * integral((S - D) / (q (1 - y) + p y)), which is
        // (1 - q) * integral((S - D) * reciprocal) when p is 1 and
        // -integral((S - D) / (1 - y)) when p is 0.
        for node in (1..n).rev() {
            let step = self.steps[node];
            let (l, r, gather) = (step.left as usize, step.right as usize, step.gather as usize);
            let (p_here, q) = (p[node], step.q);
            let (mut taken_sum, mut missed_sum) = ([0.0; LANES], [0.0; LANES]);
            for i in 0..k {
                let (a, b, g) = (products[l * k + i], products[r * k + i], products[node * k + i]);
                let s: Lanes = std::array::from_fn(|j| step.leaf_value * g[j] + a[j] + b[j]);
                products[node * k + i] = s;
                let d = &mut deeper[gather * k + i];
                for j in 0..LANES {
                    d[j] += s[j];
                }
                let (d, w, wc, reciprocal) = (
                    &deeper[node * k + i],
                    &self.weights[i],
                    &self.weights_by_complement[i],
                    &self.reciprocals[node * k + i],
                );
                for j in 0..LANES {
                    taken_sum[j] += w[j] * (s[j] - d[j]) * reciprocal[j];
                    missed_sum[j] += wc[j] * (s[j] - d[j]);
                }
            }
            let total = |sum: Lanes| (sum[0] + sum[1]) + (sum[2] + sum[3]);
            phi[step.player as usize] += p_here * (1.0 - q) * total(taken_sum) - (1.0 - p_here) * total(missed_sum);
        }
    }
}

/// The child end of the nearest edge above `node` (inclusive of the edge
/// into it) whose parent splits on `column`, or `NONE`.
fn nearest_split_above(tree: &Tree, edges: &[Edge], node: usize, column: u32) -> u32 {
    let mut at = node;
    while edges[at].parent != NONE {
        let parent = edges[at].parent as usize;
        if tree.feature[parent] == column {
            return at as u32;
        }
        at = parent;
    }
    NONE
}

/// The `m`-point Gauss-Legendre rule on [0, 1]: points and weights that
/// integrate every polynomial of degree up to `2m - 1` exactly. The roots
/// of the Legendre polynomial `P_m` by Newton's method from the usual
/// starting guesses, `P_m` and its derivative by the three-term recurrence.
fn gauss_legendre(m: usize) -> (Vec<f64>, Vec<f64>) {
    let mut points = Vec::with_capacity(m);
    let mut weights = Vec::with_capacity(m);
    for i in 0..m {
        let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (m as f64 + 0.5)).cos();
        let mut derivative = 1.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, x);
            for k in 2..=m {
                let k = k as f64;
                (p0, p1) = (p1, ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k);
            }
            derivative = m as f64 * (x * p1 - p0) / (x * x - 1.0);
            let step = p1 / derivative;
            x -= step;
            if step.abs() <= 1e-16 {
                break;
            }
        }
        points.push((1.0 - x) / 2.0);
        weights.push(1.0 / ((1.0 - x * x) * derivative * derivative));
    }
    (points, weights)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quadrature_integrates_polynomials_up_to_its_degree_exactly() {
        for m in [1, 2, 3, 5, 8, 13, 64, 128] {
            let (points, weights) = gauss_legendre(m);
            for degree in 0..2 * m {
                let integral: f64 = points
                    .iter()
                    .zip(&weights)
                    .map(|(y, w)| w * y.powi(degree as i32))
                    .sum();
                let exact = 1.0 / (degree as f64 + 1.0);
                assert!(
                    (integral - exact).abs() < 1e-13,
                    "{m} points, y^{degree}: {integral} vs {exact}"
                );
            }
        }
    }
}
