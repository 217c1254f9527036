//! Pairing events into latencies: from each start event to the moment every end pattern
//! has been seen after it.

use crate::event::Timed;

/// The latencies found, and how many starts saw no complete end before the next start.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Paired {
    pub ns: Vec<u64>,
    pub missed: usize,
}

/// For every start, the time until each of `ends` has matched an event after it (the
/// latest of those first matches). A start is witnessed by events matching `starts`:
/// several witnesses of one kernel change (e.g. the RTNLGRP_LINK carrier message and the
/// team driver's port event) arrive in either order, so each pattern is taken once per
/// start, the earliest witness counts, and a pattern seen again begins the next start.
/// A start whose ends are not all seen before the next start counts as missed. `events`
/// must be sorted by time.
pub fn pair(events: &[Timed], starts: &[&str], ends: &[&str]) -> Paired {
    let mut out = Paired::default();
    let mut first_starts: Vec<usize> = Vec::new();
    let mut seen = vec![false; starts.len()];
    for (i, e) in events.iter().enumerate() {
        let Some(k) = starts.iter().position(|s| e.matches(s)) else {
            continue;
        };
        if first_starts.is_empty() || seen[k] {
            first_starts.push(i);
            seen.iter_mut().for_each(|s| *s = false);
        }
        seen[k] = true;
    }
    let starts = first_starts;
    for (k, &si) in starts.iter().enumerate() {
        let limit = starts.get(k + 1).copied().unwrap_or(events.len());
        let t0 = events[si].ns;
        let mut last = Some(t0);
        for end in ends {
            let first = events[si + 1..limit]
                .iter()
                .find(|e| e.matches(end))
                .map(|e| e.ns);
            last = match (last, first) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            };
        }
        match last {
            Some(t1) if !ends.is_empty() => out.ns.push(t1 - t0),
            _ => out.missed += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::parse_log;

    #[test]
    fn single_end() {
        let (ev, _) = parse_log(
            "100 link p0 down\n150 option team0 activeport - p1\n\
             200 link p0 up\n210 option team0 activeport - p0\n\
             300 link p0 down\n390 option team0 activeport - p1\n",
        );
        let p = pair(&ev, &["link p0 down"], &["option team0 activeport - p1"]);
        assert_eq!(p.ns, vec![50, 90]);
        assert_eq!(p.missed, 0);
    }

    #[test]
    fn all_ends_needed_and_misses_counted() {
        let (ev, _) = parse_log(
            "10 link p1 up\n12 option team0 enabled p0 true\n20 option team0 enabled p1 true\n\
             30 link p1 up\n35 option team0 enabled p0 true\n",
        );
        let p = pair(
            &ev,
            &["link p1 up"],
            &[
                "option team0 enabled p0 true",
                "option team0 enabled p1 true",
            ],
        );
        assert_eq!(p.ns, vec![10]);
        assert_eq!(p.missed, 1);
    }

    #[test]
    fn two_witnesses_of_one_change_are_one_start() {
        let (ev, _) = parse_log(
            "100 port team0 p0 down\n120 option team0 activeport - p1\n130 link p0 down\n\
             200 link p0 up\n210 option team0 activeport - p0\n\
             300 link p0 down\n310 port team0 p0 down\n350 option team0 activeport - p1\n",
        );
        let p = pair(
            &ev,
            &["link p0 down", "port team0 p0 down"],
            &["option team0 activeport - p1"],
        );
        assert_eq!(p.ns, vec![20, 50]);
        assert_eq!(p.missed, 0);
    }

    #[test]
    fn end_before_start_does_not_count() {
        let (ev, _) = parse_log("5 option team0 activeport - p1\n10 link p0 down\n");
        let p = pair(&ev, &["link p0 down"], &["option team0 activeport"]);
        assert!(p.ns.is_empty());
        assert_eq!(p.missed, 1);
    }
}
