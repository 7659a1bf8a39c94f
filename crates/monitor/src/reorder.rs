//! Rows back in event-time order. A consumer reads partitions at different paces (a monitor
//! catching up reads one partition's backlog, then the next), so rows arrive out of event-time
//! order; windows of such rows would mix days. Rows wait here and leave oldest first: the
//! oldest whenever more than `capacity` wait, and all of them when the caller flushes (its
//! topics are drained, so nothing older can still come).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

#[derive(Debug, Clone)]
pub struct Reorder {
    width: usize,
    capacity: usize,
    /// (event time, arrival number, slot) of every waiting row, oldest on top.
    order: BinaryHeap<Reverse<(i64, u64, usize)>>,
    slots: Vec<f64>,
    free: Vec<usize>,
    arrivals: u64,
}

impl Reorder {
    /// Rows of `width` values; at most `capacity` wait (0: none, rows pass straight through).
    pub fn new(width: usize, capacity: usize) -> Reorder {
        Reorder {
            width,
            capacity,
            order: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            arrivals: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Queues a row (short rows are padded with NaN, long ones cut).
    pub fn push(&mut self, at_ms: i64, values: impl IntoIterator<Item = f64>) {
        let slot = self.free.pop().unwrap_or_else(|| {
            self.slots.resize(self.slots.len() + self.width, f64::NAN);
            self.slots.len() / self.width.max(1) - 1
        });
        let row = &mut self.slots[slot * self.width..(slot + 1) * self.width];
        let mut values = values.into_iter();
        for v in row.iter_mut() {
            *v = values.next().unwrap_or(f64::NAN);
        }
        self.order.push(Reverse((at_ms, self.arrivals, slot)));
        self.arrivals += 1;
    }

    /// Hands `f` the rows that must leave (oldest first): all with `flush`, else those beyond
    /// the capacity.
    pub fn release(&mut self, flush: bool, mut f: impl FnMut(i64, &[f64])) {
        let keep = if flush { 0 } else { self.capacity };
        while self.order.len() > keep {
            let Some(Reverse((at, _, slot))) = self.order.pop() else {
                break;
            };
            f(at, &self.slots[slot * self.width..(slot + 1) * self.width]);
            self.free.push(slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_leave_in_event_time_order() {
        let mut r = Reorder::new(2, 4);
        let mut out = Vec::new();
        // Two partitions read one after the other: 4 rows of skew, 4 may wait.
        for t in [10, 11, 12, 13, 1, 2, 3] {
            r.push(t, [t as f64, -(t as f64)]);
            r.release(false, |at, row| out.push((at, row.to_vec())));
        }
        r.release(true, |at, row| out.push((at, row.to_vec())));
        let times: Vec<i64> = out.iter().map(|(t, _)| *t).collect();
        assert_eq!(times, [1, 2, 3, 10, 11, 12, 13]);
        assert!(out.iter().all(|(t, row)| row == &[*t as f64, -(*t as f64)]));
        assert!(r.is_empty());
    }

    #[test]
    fn no_capacity_passes_rows_straight_through_and_slots_are_reused() {
        let mut r = Reorder::new(1, 0);
        let mut seen = Vec::new();
        for t in [5, 3, 9] {
            r.push(t, [t as f64]);
            r.release(false, |at, _| seen.push(at));
        }
        assert_eq!(seen, [5, 3, 9]);
        assert_eq!(r.slots.len(), 1, "one slot, reused");
    }
}
