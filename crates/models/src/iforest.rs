//! Isolation Forest (Liu, Ting & Zhou 2008). Each tree isolates points of a random subsample of
//! ψ rows by random axis-parallel splits, down to a height limit ⌈log₂ ψ⌉; anomalies are isolated
//! in fewer splits. A row's score is 2^(−E[h(x)] / c(ψ)), where h(x) is its path length in a tree
//! plus c(size) of the leaf it ends in: near 1 for anomalies, below 0.5 for ordinary rows. This is
//! scikit-learn's `score_samples`, negated.
//!
//! A split picks a feature uniformly among those not constant on the node's rows and a threshold
//! uniformly between their minimum and maximum; `x[feature] < threshold` goes left. Trees are
//! stored as flat node arrays, so scoring follows indices and allocates nothing.
//!
//! Scoring walks the first ⌈log₂ ψ⌉ steps of a tree (the height `fit` grows to) without a branch
//! on the data (a leaf steps onto itself), so that no walk ends in a mispredicted branch and
//! independent walks overlap in the CPU: [`IsolationForest::score`] walks a few trees side by
//! side, [`IsolationForest::score_batch`] a block of rows through one tree before the next. Path
//! lengths are added in tree order either way, so batch and single-row scores are equal to the bit.

use std::hint::select_unpredictable;

use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::ModelError;
use crate::path::average_path_length;

type Rng = rand_pcg::Pcg64Mcg;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// t, the number of trees.
    pub trees: usize,
    /// ψ, rows per tree (fewer if the data have fewer).
    pub sample_size: usize,
    pub seed: u64,
    /// Threads used for training (trees are independent; the result does not depend on it).
    pub threads: usize,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            trees: 100,
            sample_size: 256,
            seed: 42,
            threads: 2,
        }
    }
}

/// One node: a split (`left` and `right` are node indices) or a leaf (`left == LEAF`), whose
/// `threshold` holds the depth to add for the points it kept: c(size).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Node {
    feature: u32,
    left: u32,
    right: u32,
    threshold: f64,
}

const LEAF: u32 = u32::MAX;

/// Rows walked together through one tree by [`IsolationForest::score_batch`].
const BLOCK: usize = 64;
/// Trees walked together by [`IsolationForest::score`].
const TREES: usize = 8;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Tree {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsolationForest {
    width: usize,
    sample_size: usize,
    trees: Vec<Tree>,
}

impl IsolationForest {
    /// Trains on `data`, `width` features per row, row after row.
    pub fn fit(data: &[f64], width: usize, params: &Params) -> Result<Self, ModelError> {
        let param = |name, value: usize, rule| ModelError::Param {
            name,
            value: value.to_string(),
            rule,
        };
        if width == 0 || !data.len().is_multiple_of(width) {
            return Err(ModelError::Shape(
                data.len() / width.max(1),
                width,
                data.len(),
            ));
        }
        if params.trees == 0 {
            return Err(param("trees", params.trees, "must be at least 1"));
        }
        if params.sample_size < 2 {
            return Err(param(
                "sample_size",
                params.sample_size,
                "must be at least 2",
            ));
        }
        let rows = data.len() / width;
        if rows < 2 {
            return Err(ModelError::Empty);
        }
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::NotFinite {
                row: i / width,
                feature: i % width,
                value: data[i],
            });
        }
        let psi = params.sample_size.min(rows);
        let limit = (psi as f64).log2().ceil() as usize;
        let threads = params.threads.clamp(1, params.trees);
        let mut trees: Vec<Option<Tree>> = vec![None; params.trees];
        std::thread::scope(|s| {
            for (worker, chunk) in trees.chunks_mut(params.trees.div_ceil(threads)).enumerate() {
                let first = worker * params.trees.div_ceil(threads);
                s.spawn(move || {
                    for (k, slot) in chunk.iter_mut().enumerate() {
                        // One stream per tree: the forest does not depend on the thread count.
                        let mut rng = Rng::seed_from_u64(
                            params.seed ^ ((first + k) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
                        );
                        *slot = Some(grow(data, width, rows, psi, limit, &mut rng));
                    }
                });
            }
        });
        Ok(Self {
            width,
            sample_size: psi,
            trees: trees.into_iter().flatten().collect(),
        })
    }

    /// Checks a forest read from outside (a bundle): every split names a feature below the
    /// width and children after their parent within the tree, so scoring cannot go astray.
    pub fn check(&self) -> Result<(), ModelError> {
        let bad = |what: String| Err(ModelError::Malformed(format!("isolation forest: {what}")));
        if self.width == 0 || self.sample_size < 2 || self.trees.is_empty() {
            return bad(format!(
                "width {}, sample size {} and {} trees: none may be this small",
                self.width,
                self.sample_size,
                self.trees.len()
            ));
        }
        for (t, tree) in self.trees.iter().enumerate() {
            let len = tree.nodes.len();
            if len == 0 {
                return bad(format!("tree {t} has no nodes"));
            }
            for (i, n) in tree.nodes.iter().enumerate() {
                let child_ok = |c: u32| (c as usize) > i && (c as usize) < len;
                if !n.threshold.is_finite() {
                    return bad(format!("tree {t} node {i} has threshold {}", n.threshold));
                }
                // The branch-free walk reads the row at a leaf's feature too.
                if n.feature as usize >= self.width
                    || (n.left != LEAF && (!child_ok(n.left) || !child_ok(n.right)))
                {
                    return bad(format!(
                        "tree {t} node {i} (feature {}, children {} and {}) points outside the tree or the width {}",
                        n.feature, n.left, n.right, self.width
                    ));
                }
            }
        }
        Ok(())
    }

    /// Features per row.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The anomaly score of one row, in (0, 1].
    pub fn score(&self, row: &[f64]) -> Result<f64, ModelError> {
        if row.len() != self.width {
            return Err(ModelError::Width {
                got: row.len(),
                want: self.width,
            });
        }
        let steps = self.steps();
        let mut total = 0.0;
        // A few trees walked side by side, so that their independent walks overlap.
        for trees in self.trees.chunks(TREES) {
            let mut at = [(0u32, 0u32); TREES];
            for _ in 0..steps {
                for (a, tree) in at.iter_mut().zip(trees) {
                    *a = step(tree, row, *a);
                }
            }
            for (&a, tree) in at.iter().zip(trees) {
                total += walk_on(tree, row, a);
            }
        }
        Ok(self.normalise(total))
    }

    /// Scores `rows` (row after row) into `out`, one score per row.
    pub fn score_batch(&self, rows: &[f64], out: &mut [f64]) -> Result<(), ModelError> {
        if rows.len() != out.len() * self.width {
            return Err(ModelError::Shape(out.len(), self.width, rows.len()));
        }
        let w = self.width;
        let steps = self.steps();
        let mut total = [0f64; BLOCK];
        // Per row of the block: (node, splits walked so far).
        let mut at = [(0u32, 0u32); BLOCK];
        for (block, out) in rows.chunks(BLOCK * w).zip(out.chunks_mut(BLOCK)) {
            let total = &mut total[..out.len()];
            let at = &mut at[..out.len()];
            total.fill(0.0);
            for tree in &self.trees {
                at.fill((0, 0));
                for _ in 0..steps {
                    for (a, row) in at.iter_mut().zip(block.chunks_exact(w)) {
                        *a = step(tree, row, *a);
                    }
                }
                for ((t, &a), row) in total.iter_mut().zip(at.iter()).zip(block.chunks_exact(w)) {
                    *t += walk_on(tree, row, a);
                }
            }
            for (score, &t) in out.iter_mut().zip(total.iter()) {
                *score = self.normalise(t);
            }
        }
        Ok(())
    }

    /// ⌈log₂ ψ⌉: steps that reach a leaf in any tree `fit` grew. 0 without features, where every
    /// tree is a lone leaf (and a row has no feature for [`step`] to read).
    fn steps(&self) -> usize {
        if self.width == 0 {
            return 0;
        }
        (self.sample_size as f64).log2().ceil() as usize
    }

    /// The score from the sum of the trees' path lengths.
    fn normalise(&self, total: f64) -> f64 {
        let mean = total / self.trees.len() as f64;
        2f64.powf(-mean / average_path_length(self.sample_size))
    }
}

/// One step from `(node, splits walked)`: to a child from a split, nowhere from a leaf.
#[inline(always)]
fn step(tree: &Tree, row: &[f64], (i, depth): (u32, u32)) -> (u32, u32) {
    let n = tree.nodes[i as usize];
    let leaf = n.left == LEAF;
    // A branch here would be mispredicted half the time.
    let child = select_unpredictable(row[n.feature as usize] < n.threshold, n.left, n.right);
    (
        select_unpredictable(leaf, i, child),
        depth + u32::from(!leaf),
    )
}

/// Walks on from `(node, splits walked)` to the leaf (no step left in trees `fit` grew); returns
/// the splits walked plus the leaf's c(size).
fn walk_on(tree: &Tree, row: &[f64], mut at: (u32, u32)) -> f64 {
    loop {
        let n = tree.nodes[at.0 as usize];
        if n.left == LEAF {
            return f64::from(at.1) + n.threshold;
        }
        at = step(tree, row, at);
    }
}

/// Grows one tree on a subsample of ψ distinct rows.
fn grow(data: &[f64], width: usize, rows: usize, psi: usize, limit: usize, rng: &mut Rng) -> Tree {
    // Partial Fisher–Yates: the first ψ entries become a uniform sample without replacement.
    let mut index: Vec<usize> = (0..rows).collect();
    for i in 0..psi {
        let j = rng.random_range(i..rows);
        index.swap(i, j);
    }
    index.truncate(psi);
    let mut tree = Tree {
        nodes: Vec::with_capacity(2 * psi),
    };
    split(data, width, &mut index, 0, limit, rng, &mut tree);
    tree
}

/// Builds the node for `rows` at `depth`; returns its index.
fn split(
    data: &[f64],
    width: usize,
    rows: &mut [usize],
    depth: usize,
    limit: usize,
    rng: &mut Rng,
    tree: &mut Tree,
) -> u32 {
    let at = tree.nodes.len() as u32;
    let leaf = Node {
        feature: 0,
        left: LEAF,
        right: LEAF,
        threshold: average_path_length(rows.len()),
    };
    tree.nodes.push(leaf);
    if depth >= limit || rows.len() <= 1 {
        return at;
    }
    let range = |f: usize| {
        rows.iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &r| {
                let v = data[r * width + f];
                (lo.min(v), hi.max(v))
            })
    };
    // A feature drawn uniformly among those that vary on these rows.
    let varying: Vec<(usize, f64, f64)> = (0..width)
        .map(|f| (f, range(f)))
        .filter(|(_, (lo, hi))| lo < hi)
        .map(|(f, (lo, hi))| (f, lo, hi))
        .collect();
    if varying.is_empty() {
        return at;
    }
    let (feature, lo, hi) = varying[rng.random_range(0..varying.len())];
    let threshold = rng.random_range(lo..hi);
    // Partition in place: left of `mid` are the rows below the threshold.
    let mut mid = 0;
    for i in 0..rows.len() {
        if data[rows[i] * width + feature] < threshold {
            rows.swap(i, mid);
            mid += 1;
        }
    }
    let (l, r) = rows.split_at_mut(mid);
    let left = split(data, width, l, depth + 1, limit, rng, tree);
    let right = split(data, width, r, depth + 1, limit, rng, tree);
    tree.nodes[at as usize] = Node {
        feature: feature as u32,
        left,
        right,
        threshold,
    };
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-built tree: root splits feature 0 at 0.5; left is a leaf of 3 points, right a leaf
    /// of 1.
    fn tiny() -> IsolationForest {
        let nodes = vec![
            Node {
                feature: 0,
                left: 1,
                right: 2,
                threshold: 0.5,
            },
            Node {
                feature: 0,
                left: LEAF,
                right: LEAF,
                threshold: average_path_length(3),
            },
            Node {
                feature: 0,
                left: LEAF,
                right: LEAF,
                threshold: average_path_length(1),
            },
        ];
        IsolationForest {
            width: 1,
            sample_size: 4,
            trees: vec![Tree { nodes }],
        }
    }

    #[test]
    fn score_follows_the_definition() {
        let f = tiny();
        let c4 = average_path_length(4);
        let inside = 2f64.powf(-(1.0 + average_path_length(3)) / c4);
        let alone = 2f64.powf(-1.0 / c4);
        assert_eq!(f.score(&[0.1]).unwrap(), inside);
        assert_eq!(f.score(&[0.9]).unwrap(), alone);
        assert!(alone > inside);
        assert!(f.score(&[0.1, 2.0]).is_err());
    }
}
