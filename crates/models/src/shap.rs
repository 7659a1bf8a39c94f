//! TreeSHAP: the exact Shapley values of one decision tree's output for one row (Lundberg, Erion
//! & Lee 2018, "Consistent Individualized Feature Attribution for Tree Ensembles", Algorithm 2),
//! in polynomial time.
//!
//! The game is the path-dependent one XGBoost's `pred_contribs=True` explains: the value of a
//! feature subset S is the tree's expected output when the features in S are known (the row
//! follows its own branch at their splits) and the others are not (both branches are taken,
//! weighted by the share of the training cover each received). Feature i's contribution is the
//! Shapley value of that game; over all features they add up to the tree's output for the row
//! minus its expected output (the cover-weighted mean of its leaves).
//!
//! The walk goes down every root-to-leaf path once, carrying the path's *unique* features with,
//! for each, the fraction of "unknown" mass that reaches the current node through its splits
//! (`zero`, a product of cover shares), whether the row itself does (`one`, 0 or 1), and the
//! permutation weights of the subsets of each size. A feature split on twice along a path is
//! first taken out of the path ("unwound") and put back with the product of both fractions. At a
//! leaf, each feature on the path gets the leaf value times (`one` − `zero`) times the summed
//! weights of the path without that feature.
//!
//! XGBoost 3.4 itself computes the same values with an 8-point quadrature of the same integrals
//! (`src/predictor/interpretability/shap.cc`), exact up to rounding for paths of up to 8 unique
//! features; this module keeps the combinatorial form, in `f64`.
//!
//! The walk is iterative (no recursion, so no stack overflow on a degenerate, very deep tree) and
//! works in a caller-held [`ShapScratch`]: once the scratch has grown to the model's deepest tree,
//! nothing is allocated. Its memory is O(depth × min(depth, features)) path elements.

/// No feature: the path's first element, which stands for the empty subset.
const NO_FEATURE: u32 = u32::MAX;

/// One feature on the current path.
#[derive(Debug, Clone, Copy)]
struct Element {
    feature: u32,
    /// Share of the "feature unknown" mass that flows down this feature's splits to the node.
    zero: f64,
    /// 1 if the row follows this feature's splits to the node, else 0.
    one: f64,
    /// Shapley weight of the subsets of the path's features whose size is this element's
    /// position in the path (an entry of the path's weight vector, not tied to its feature).
    weight: f64,
}

/// A node still to visit: its path is its parent's (at `parent`, `len` elements, the node's own
/// split feature already taken out) extended with (`zero`, `one`, `feature`).
#[derive(Debug, Clone, Copy)]
struct Visit {
    node: u32,
    parent: usize,
    len: usize,
    zero: f64,
    one: f64,
    feature: u32,
}

/// The paths and pending nodes of the walk.
#[derive(Debug, Clone, Default)]
pub(crate) struct Walk {
    /// The paths of the nodes on the current branch, each after its parent's.
    path: Vec<Element>,
    stack: Vec<Visit>,
}

/// Reusable working memory for [`GradientBoosted::contributions_with`] and
/// [`GradientBoosted::top_reasons`]: make one per thread (with
/// [`GradientBoosted::shap_scratch`] or `ShapScratch::default()`) and pass it to every call.
/// It grows to what the model needs on first use, and stays that size; a scratch may go from
/// one model to another.
///
/// [`GradientBoosted::contributions_with`]: crate::GradientBoosted::contributions_with
/// [`GradientBoosted::top_reasons`]: crate::GradientBoosted::top_reasons
/// [`GradientBoosted::shap_scratch`]: crate::GradientBoosted::shap_scratch
#[derive(Debug, Clone, Default)]
pub struct ShapScratch {
    pub(crate) walk: Walk,
    /// The contributions of [`top_reasons`](crate::GradientBoosted::top_reasons).
    pub(crate) phi: Vec<f64>,
}

impl ShapScratch {
    /// Working memory for trees up to `depth` deep over `width` features (more is taken when
    /// needed).
    pub fn new(depth: u32, width: usize) -> ShapScratch {
        let mut scratch = ShapScratch::default();
        scratch.walk.reserve(depth, width);
        scratch
            .phi
            .reserve(width.saturating_add(1).min(RESERVE_CAP));
        scratch
    }
}

/// At most this many elements are reserved ahead; a pathological tree that needs more gets it as
/// its walk goes.
const RESERVE_CAP: usize = 1 << 16;

impl Walk {
    /// Makes room for a walk over a tree `depth` deep: the path of the node at depth d holds at
    /// most min(d, width) + 1 elements, and the current branch holds the paths of all its nodes.
    /// Allocates nothing when there already is room.
    pub(crate) fn reserve(&mut self, depth: u32, width: usize) {
        let depth = depth as usize;
        let full = depth.min(width);
        // Σ_{d ≤ depth} (min(d, width) + 1): the ramp up to `width`, then `width` a level, plus
        // one a level.
        let ramp = full.saturating_mul(full.saturating_add(1)) / 2;
        let path = ramp
            .saturating_add((depth - full).saturating_mul(width))
            .saturating_add(depth.saturating_add(1));
        self.path.clear();
        self.path.reserve(path.min(RESERVE_CAP));
        self.stack.clear();
        self.stack.reserve(depth.saturating_add(2).min(RESERVE_CAP));
    }
}

/// What the walk needs to know of a node, for the row being explained.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Step {
    /// A leaf and its value.
    Leaf(f64),
    /// A split on `feature`: the row goes to `hot`, and not to `cold`; `hot_share` and
    /// `cold_share` are the children's shares of the split's cover.
    Split {
        feature: u32,
        hot: u32,
        cold: u32,
        hot_share: f64,
        cold_share: f64,
    },
}

/// Adds the contributions of the tree at `root` to `phi` (indexed by feature), `step` describing
/// each node as the row sees it.
pub(crate) fn tree_shap(root: u32, step: impl Fn(u32) -> Step, walk: &mut Walk, phi: &mut [f64]) {
    let Walk { path, stack } = walk;
    path.clear();
    stack.clear();
    stack.push(Visit {
        node: root,
        parent: 0,
        len: 0,
        zero: 1.0,
        one: 1.0,
        feature: NO_FEATURE,
    });
    while let Some(visit) = stack.pop() {
        // This node's path goes right after its parent's, over whatever a sibling's subtree
        // left there.
        let start = visit.parent + visit.len;
        path.truncate(start);
        path.extend_from_within(visit.parent..start);
        extend(path, start, visit.zero, visit.one, visit.feature);
        match step(visit.node) {
            Step::Leaf(value) => leaf(&path[start..], value, phi),
            Step::Split {
                feature,
                hot,
                cold,
                hot_share,
                cold_share,
            } => {
                // A feature already on the path is taken out, and comes back with the fractions
                // of both splits multiplied.
                let (mut zero, mut one) = (1.0, 1.0);
                if let Some(k) = path[start + 1..].iter().position(|e| e.feature == feature) {
                    let k = start + 1 + k;
                    (zero, one) = (path[k].zero, path[k].one);
                    unwind(&mut path[start..], k - start);
                    path.pop();
                }
                let len = path.len() - start;
                stack.push(Visit {
                    node: cold,
                    parent: start,
                    len,
                    zero: zero * cold_share,
                    one: 0.0,
                    feature,
                });
                stack.push(Visit {
                    node: hot,
                    parent: start,
                    len,
                    zero: zero * hot_share,
                    one,
                    feature,
                });
            }
        }
    }
}

/// Adds what the leaf of value `value` at the end of path `m` gives each feature on the path:
/// value × (`one` − `zero`) × the summed weights of the path without the feature.
#[inline(always)]
fn leaf(m: &[Element], value: f64, phi: &mut [f64]) {
    let d = m.len() - 1;
    if d == 0 {
        return;
    }
    let n = (d + 1) as f64;
    // For a feature the row does not follow (one = 0), the path without it sums to
    // (d + 1) / zero × Σ_i w_i / (d − i), and times (0 − zero) the zero cancels: every such
    // feature gets the same share, worked out once.
    let mut cold = 0.0;
    for (i, e) in m[..d].iter().enumerate() {
        cold += e.weight * reciprocal(d - i);
    }
    let cold = -n * cold * value;
    // The features the row follows (one ≠ 0) each need [`extend`] run backwards: a serial
    // recurrence, so they go in lockstep, LANES at a time, for their steps to overlap.
    let mut lanes = [0usize; LANES];
    let mut hot = 0;
    for (k, e) in m.iter().enumerate().skip(1) {
        if e.one == 0.0 {
            if e.zero != 0.0
                && let Some(p) = phi.get_mut(e.feature as usize)
            {
                *p += cold;
            }
            continue;
        }
        lanes[hot] = k;
        hot += 1;
        if hot == LANES {
            hot_shares(m, &lanes, value, phi);
            hot = 0;
        }
    }
    if hot > 0 {
        hot_shares(m, &lanes[..hot], value, phi);
    }
}

/// Elements of a path unwound together by [`hot_shares`].
const LANES: usize = 4;

/// For each element `k` of `lanes` (`one` ≠ 0), adds value × (`one` − `zero`) × the summed
/// weights of the path `m` without it, those weights coming from [`extend`] run backwards from
/// the largest subset size down. No division on the loop.
#[inline(always)]
fn hot_shares(m: &[Element], lanes: &[usize], value: f64, phi: &mut [f64]) {
    let d = m.len() - 1;
    let n = (d + 1) as f64;
    let h = lanes.len().min(LANES);
    // Unused lanes compute harmless zeros: a fixed width keeps the lanes in registers.
    let (mut up, mut down) = ([0.0; LANES], [0.0; LANES]);
    for (j, &k) in lanes[..h].iter().enumerate() {
        up[j] = n / m[k].one;
        down[j] = m[k].zero / n;
    }
    let mut carry = [m[d].weight; LANES];
    let mut total = [0.0; LANES];
    let mut size = 1.0;
    for i in (0..d).rev() {
        let (r, below) = (reciprocal(i + 1), m[i].weight);
        for j in 0..LANES {
            let w = carry[j] * up[j] * r;
            total[j] += w;
            carry[j] = below - w * down[j] * size;
        }
        size += 1.0;
    }
    for (j, &k) in lanes[..h].iter().enumerate() {
        let e = m[k];
        if let Some(p) = phi.get_mut(e.feature as usize) {
            *p += total[j] * (e.one - e.zero) * value;
        }
    }
}

/// 1 / k, from a table for the small k of real paths.
#[inline(always)]
fn reciprocal(k: usize) -> f64 {
    const TABLE: [f64; 65] = {
        let mut t = [0.0; 65];
        let mut k = 1;
        while k < t.len() {
            t[k] = 1.0 / k as f64;
            k += 1;
        }
        t
    };
    match TABLE.get(k) {
        Some(&r) => r,
        None => 1.0 / k as f64,
    }
}

/// Appends a feature with fractions (`zero`, `one`) to the path starting at `start` (the last
/// one in `path`), updating the subset-size weights: with d features before it, a subset of size
/// i either leaves the new feature out (weight × zero × (d − i) / (d + 1)) or takes it in
/// (size i + 1, weight × one × (i + 1) / (d + 1)).
fn extend(path: &mut Vec<Element>, start: usize, zero: f64, one: f64, feature: u32) {
    let d = path.len() - start;
    path.push(Element {
        feature,
        zero,
        one,
        weight: if d == 0 { 1.0 } else { 0.0 },
    });
    let m = &mut path[start..];
    let (one, zero) = (one * reciprocal(d + 1), zero * reciprocal(d + 1));
    // Size i + 1's new weight: size i + 1 without the feature, plus size i with it. The first
    // part is carried in `without`, so no step waits on the one before.
    // (Float counters: converting a usize to f64 on every step costs more than the step.)
    let mut without = 0.0;
    let (mut into, mut left) = (d as f64, 1.0);
    for i in (0..d).rev() {
        let w = m[i].weight;
        m[i + 1].weight = without + one * w * into;
        without = zero * w * left;
        into -= 1.0;
        left += 1.0;
    }
    if d > 0 {
        m[0].weight = without;
    }
}

/// One step of [`extend`] run backwards, for the path `m` without element `k` whose fractions are
/// (`zero`, `one`), d = `m.len()` − 1: the weight of subset size `i` (d − 1 down to 0) from the
/// current weight `w` of size `i` and the `carry` of the step before (which starts as the
/// weight of size d). With `one` = 1 the weights come out from the largest size down; with
/// `one` = 0 each size on its own.
#[inline(always)]
fn unextend(w: f64, carry: &mut f64, i: usize, d: usize, zero: f64, one: f64) -> f64 {
    let n = (d + 1) as f64;
    if one != 0.0 {
        let out = *carry * n / ((i + 1) as f64 * one);
        *carry = w - out * zero * (d - i) as f64 / n;
        out
    } else if zero != 0.0 {
        w * n / (zero * (d - i) as f64)
    } else {
        // Nothing reached the node either way: every weight was zeroed, and stays so.
        0.0
    }
}

/// Takes element `k` out of the path `m`, in place: new weights in `m[..d]`, the features after
/// `k` moved down one place. `m[d]` is left over, for the caller to drop.
fn unwind(m: &mut [Element], k: usize) {
    let d = m.len() - 1;
    let (zero, one) = (m[k].zero, m[k].one);
    let mut carry = m[d].weight;
    for i in (0..d).rev() {
        m[i].weight = unextend(m[i].weight, &mut carry, i, d, zero, one);
    }
    for i in k..d {
        m[i].feature = m[i + 1].feature;
        m[i].zero = m[i + 1].zero;
        m[i].one = m[i + 1].one;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sum of the path's weights without element `k`.
    fn unwound_sum(m: &[Element], k: usize) -> f64 {
        let d = m.len() - 1;
        let (zero, one) = (m[k].zero, m[k].one);
        let mut carry = m[d].weight;
        let mut total = 0.0;
        for i in (0..d).rev() {
            total += unextend(m[i].weight, &mut carry, i, d, zero, one);
        }
        total
    }

    /// [`leaf`] the plain way: every element's own unwound sum.
    fn plain_leaf(m: &[Element], value: f64, phi: &mut [f64]) {
        for (i, e) in m.iter().enumerate().skip(1) {
            phi[e.feature as usize] += unwound_sum(m, i) * (e.one - e.zero) * value;
        }
    }

    #[test]
    fn a_leaf_shares_as_the_plain_unwinding_does() {
        let m = path(&[
            (NO_FEATURE, 1.0, 1.0),
            (3, 0.4, 1.0),
            (1, 0.25, 0.0),
            (0, 0.7, 1.0),
            (2, 0.1, 0.0),
            (4, 0.0, 0.0),
        ]);
        let (mut fast, mut plain) = ([0.0; 5], [0.0; 5]);
        leaf(&m, 1.75, &mut fast);
        plain_leaf(&m, 1.75, &mut plain);
        for (a, b) in fast.iter().zip(&plain) {
            assert!((a - b).abs() < 1e-12, "{fast:?} vs {plain:?}");
        }
        assert_eq!(fast[4], 0.0);
    }

    fn path(elements: &[(u32, f64, f64)]) -> Vec<Element> {
        let mut p = Vec::new();
        for &(f, z, o) in elements {
            extend(&mut p, 0, z, o, f);
        }
        p
    }

    #[test]
    fn unwinding_undoes_extending() {
        let full = path(&[
            (NO_FEATURE, 1.0, 1.0),
            (3, 0.4, 1.0),
            (1, 0.25, 0.0),
            (7, 0.7, 1.0),
        ]);
        for k in 1..full.len() {
            let rest: Vec<_> = full
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != k)
                .map(|(_, e)| (e.feature, e.zero, e.one))
                .collect();
            let without = path(&rest);
            let mut m = full.clone();
            unwind(&mut m, k);
            m.pop();
            assert_eq!(m.len(), without.len());
            for (a, b) in m.iter().zip(&without) {
                assert_eq!(a.feature, b.feature);
                assert!((a.weight - b.weight).abs() < 1e-12, "{k}: {a:?} {b:?}");
            }
            let sum: f64 = without.iter().map(|e| e.weight).sum();
            assert!((unwound_sum(&full, k) - sum).abs() < 1e-12);
        }
    }

    #[test]
    fn the_weights_of_a_path_of_ones_are_the_shapley_weights() {
        // All fractions 1 (zero = one = 1): the weights are |S|! (d − |S|)! / (d + 1)! summed
        // over the subsets of each size, i.e. 1 / (d + 1) each.
        let p = path(&[
            (NO_FEATURE, 1.0, 1.0),
            (0, 1.0, 1.0),
            (1, 1.0, 1.0),
            (2, 1.0, 1.0),
        ]);
        for e in &p {
            assert!((e.weight - 0.25).abs() < 1e-15, "{e:?}");
        }
    }
}
