//! `Series`: one key's window entries, sorted by (event time, arrival sequence), with running
//! (prefix) sums.
//!
//! Entries arrive mostly in order, so an insert is usually a push at the back; an event within the
//! lateness is inserted at its place (and the running sums after it are moved up). A window is an
//! index range found by a search from the end for short windows or from the front for long ones,
//! and its sum is the difference of two running sums: O(log n), touching a few entries. Sums are
//! integers with wrapping arithmetic, so differences are exact whatever the history. An entry is
//! dropped only when no future window can reach it. Capacity is kept: once warm, nothing
//! allocates.

use std::collections::VecDeque;

/// What a window adds up: integers (or tuples of them) under wrapping addition.
pub trait Summary: Copy + Default {
    fn plus(self, other: Self) -> Self;
    fn minus(self, other: Self) -> Self;
}

impl Summary for () {
    fn plus(self, _: Self) -> Self {}
    fn minus(self, _: Self) -> Self {}
}

impl Summary for i64 {
    fn plus(self, o: Self) -> Self {
        self.wrapping_add(o)
    }
    fn minus(self, o: Self) -> Self {
        self.wrapping_sub(o)
    }
}

impl Summary for [i64; 2] {
    fn plus(self, o: Self) -> Self {
        [self[0].wrapping_add(o[0]), self[1].wrapping_add(o[1])]
    }
    fn minus(self, o: Self) -> Self {
        [self[0].wrapping_sub(o[0]), self[1].wrapping_sub(o[1])]
    }
}

impl Summary for i128 {
    fn plus(self, o: Self) -> Self {
        self.wrapping_add(o)
    }
    fn minus(self, o: Self) -> Self {
        self.wrapping_sub(o)
    }
}

/// A window entry: its event time (ms), arrival sequence number, its own contribution to the
/// sums and the running sum up to and including itself.
pub trait Entry {
    type Sum: Summary;
    fn time(&self) -> i64;
    fn seq(&self) -> u64;
    fn key(&self) -> (i64, u64) {
        (self.time(), self.seq())
    }
    fn own(&self) -> Self::Sum;
    fn cum(&self) -> Self::Sum;
    fn set_cum(&mut self, cum: Self::Sum);
}

/// Entries of one key, sorted by `(time, seq)`.
#[derive(Debug, Clone)]
pub struct Series<E: Entry> {
    items: VecDeque<E>,
    /// The running sum before the first entry (that of the last evicted one).
    base: E::Sum,
}

impl<E: Entry> Default for Series<E> {
    fn default() -> Self {
        Self {
            items: VecDeque::new(),
            base: E::Sum::default(),
        }
    }
}

impl<E: Entry> Series<E> {
    /// Inserts an entry at its place and returns its index.
    pub fn insert(&mut self, mut e: E) -> usize {
        let key = e.key();
        let own = e.own();
        match self.items.back() {
            Some(last) if last.key() > key => {
                let at = self.items.partition_point(|x| x.key() <= key);
                e.set_cum(self.prefix(at).plus(own));
                self.items.insert(at, e);
                for x in self.items.range_mut(at + 1..) {
                    x.set_cum(x.cum().plus(own));
                }
                at
            }
            _ => {
                e.set_cum(self.prefix(self.items.len()).plus(own));
                self.items.push_back(e);
                self.items.len() - 1
            }
        }
    }

    /// Changes entry `i` in place (its key must not change) and fixes the running sums.
    pub fn update(&mut self, i: usize, change: impl FnOnce(&mut E)) {
        let Some(e) = self.items.get_mut(i) else {
            return;
        };
        let before = e.own();
        change(e);
        let delta = e.own().minus(before);
        for x in self.items.range_mut(i..) {
            x.set_cum(x.cum().plus(delta));
        }
    }

    /// Drops the entries with time `<= time`.
    pub fn evict_through(&mut self, time: i64) {
        while self.items.front().is_some_and(|e| e.time() <= time) {
            if let Some(e) = self.items.pop_front() {
                self.base = e.cum();
            }
        }
    }

    /// Index of the first entry with time `> time`: a window `(time, …]` starts here. Searches
    /// from the front: for windows reaching back to the oldest entries.
    pub fn after(&self, time: i64) -> usize {
        match self.items.front() {
            Some(first) if first.time() > time => 0,
            _ => self.items.partition_point(|e| e.time() <= time),
        }
    }

    /// Same as [`Series::after`], searching from `end` backwards (galloping): for short windows,
    /// it touches only the newest entries. Only entries before `end` are looked at.
    pub fn after_back(&self, time: i64, end: usize) -> usize {
        // Invariant: the entries in hi..end are all later than `time`.
        let (mut hi, mut step) = (end.min(self.items.len()), 1);
        while hi > 0 {
            let lo = hi.saturating_sub(step);
            if self.items[lo].time() <= time {
                return self.partition_in(lo + 1, hi, time);
            }
            hi = lo;
            step *= 2;
        }
        0
    }

    /// First index in `lo..hi` with time `> time` (`hi` if none); the range is sorted.
    fn partition_in(&self, lo: usize, hi: usize, time: i64) -> usize {
        let (mut lo, mut hi) = (lo, hi);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.items[mid].time() <= time {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The running sum of the entries before index `i`.
    pub fn prefix(&self, i: usize) -> E::Sum {
        match i.checked_sub(1) {
            None => self.base,
            Some(j) => self.items[j].cum(),
        }
    }

    /// The sum over the entries with index in `lo..hi`.
    pub fn sum(&self, lo: usize, hi: usize) -> E::Sum {
        self.prefix(hi).minus(self.prefix(lo))
    }

    /// Index of the entry with this exact key.
    pub fn find(&self, key: (i64, u64)) -> Option<usize> {
        let at = self.items.partition_point(|e| e.key() < key);
        (self.items.get(at)?.key() == key).then_some(at)
    }

    pub fn get(&self, i: usize) -> Option<&E> {
        self.items.get(i)
    }

    /// The entries with index in `range`, oldest first.
    pub fn range(&self, range: std::ops::Range<usize>) -> std::collections::vec_deque::Iter<'_, E> {
        self.items.range(range)
    }

    /// The times of the oldest and newest entries (0 when empty).
    pub fn ends(&self) -> (i64, i64) {
        (
            self.items.front().map_or(0, Entry::time),
            self.items.back().map_or(0, Entry::time),
        )
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq)]
    struct E {
        time: i64,
        seq: u64,
        x: i64,
        cum: i64,
    }

    fn e(time: i64, seq: u64, x: i64) -> E {
        E {
            time,
            seq,
            x,
            cum: 0,
        }
    }

    impl Entry for E {
        type Sum = i64;
        fn time(&self) -> i64 {
            self.time
        }
        fn seq(&self) -> u64 {
            self.seq
        }
        fn own(&self) -> i64 {
            self.x
        }
        fn cum(&self) -> i64 {
            self.cum
        }
        fn set_cum(&mut self, cum: i64) {
            self.cum = cum;
        }
    }

    #[test]
    fn inserts_in_order_and_delimits_windows() {
        let mut s = Series::default();
        assert_eq!(s.insert(e(10, 0, 1)), 0);
        assert_eq!(s.insert(e(20, 1, 10)), 1);
        assert_eq!(s.insert(e(15, 2, 100)), 1, "late entry goes to its place");
        assert_eq!(s.insert(e(15, 3, 1000)), 2, "same time: arrival order");
        assert_eq!(s.insert(e(20, 4, 10000)), 4);
        let keys: Vec<_> = s.range(0..s.len()).map(|e| e.key()).collect();
        assert_eq!(keys, [(10, 0), (15, 2), (15, 3), (20, 1), (20, 4)]);
        for (bound, want) in [
            (0, 0),
            (9, 0),
            (10, 1),
            (14, 1),
            (15, 3),
            (19, 3),
            (20, 5),
            (99, 5),
        ] {
            assert_eq!(s.after(bound), want, "after({bound})");
            assert_eq!(s.after_back(bound, s.len()), want, "after_back({bound})");
        }
        assert_eq!(
            s.after_back(15, 2),
            2,
            "only entries before `end` are looked at"
        );
        assert_eq!(s.sum(0, 5), 11111);
        assert_eq!(s.sum(1, 3), 1100);
        assert_eq!(s.find((15, 3)), Some(2));
        assert_eq!(s.find((15, 4)), None);
        s.update(1, |x| x.x = 200);
        assert_eq!((s.sum(0, 5), s.sum(2, 5)), (11211, 11010));
        s.evict_through(15);
        assert_eq!(s.len(), 2);
        assert_eq!(s.get(0).map(|x| x.key()), Some((20, 1)));
        assert_eq!((s.sum(0, 2), s.sum(0, 1), s.prefix(0)), (10010, 10, 1201));
    }

    #[test]
    fn gallops_back_over_long_series() {
        let mut s = Series::default();
        for i in 0..1000 {
            s.insert(e(i / 3, i as u64, 1));
        }
        for bound in [-1, 0, 1, 100, 332, 333, 400] {
            assert_eq!(s.after_back(bound, s.len()), s.after(bound), "{bound}");
        }
    }
}
