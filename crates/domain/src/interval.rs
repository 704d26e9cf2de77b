//! Half-open time intervals `[start, end)` over absolute instants.

use jiff::Timestamp;

/// A half-open interval `[start, end)` of absolute time. Constructed only with `start < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval {
    start: Timestamp,
    end: Timestamp,
}

impl Interval {
    /// `[start, end)`, or `None` when the interval would be empty or reversed.
    pub fn new(start: Timestamp, end: Timestamp) -> Option<Self> {
        (start < end).then_some(Self { start, end })
    }

    /// Inclusive start.
    pub fn start(&self) -> Timestamp {
        self.start
    }

    /// Exclusive end.
    pub fn end(&self) -> Timestamp {
        self.end
    }

    /// True when the two intervals share at least one instant (touching is not overlapping).
    pub fn overlaps(&self, other: &Interval) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// True when `other` lies entirely inside `self`.
    pub fn contains(&self, other: &Interval) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// True when the instant lies in `[start, end)`.
    pub fn contains_instant(&self, t: Timestamp) -> bool {
        self.start <= t && t < self.end
    }
}

/// Sorts the intervals and merges those that overlap or touch.
pub fn merge(mut intervals: Vec<Interval>) -> Vec<Interval> {
    intervals.sort_unstable();
    let mut out: Vec<Interval> = Vec::with_capacity(intervals.len());
    for iv in intervals {
        match out.last_mut() {
            Some(last) if iv.start <= last.end => {
                if iv.end > last.end {
                    last.end = iv.end;
                }
            }
            _ => out.push(iv),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn iv(a: &str, b: &str) -> Interval {
        Interval::new(ts(a), ts(b)).unwrap()
    }

    #[test]
    fn empty_and_reversed_intervals_are_refused() {
        assert!(Interval::new(ts("2026-01-01T10:00:00Z"), ts("2026-01-01T10:00:00Z")).is_none());
        assert!(Interval::new(ts("2026-01-01T11:00:00Z"), ts("2026-01-01T10:00:00Z")).is_none());
    }

    #[test]
    fn touching_intervals_do_not_overlap_but_merge() {
        let a = iv("2026-01-01T09:00:00Z", "2026-01-01T10:00:00Z");
        let b = iv("2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z");
        assert!(!a.overlaps(&b));
        assert_eq!(
            merge(vec![b, a]),
            vec![iv("2026-01-01T09:00:00Z", "2026-01-01T11:00:00Z")]
        );
    }

    #[test]
    fn merge_keeps_gaps() {
        let a = iv("2026-01-01T09:00:00Z", "2026-01-01T10:00:00Z");
        let b = iv("2026-01-01T10:30:00Z", "2026-01-01T11:00:00Z");
        let c = iv("2026-01-01T09:30:00Z", "2026-01-01T09:45:00Z");
        assert_eq!(merge(vec![b, c, a]), vec![a, b]);
    }
}
