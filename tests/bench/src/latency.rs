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
    pair_from(events, starts, ends, Witness::Earliest)
}

/// As [`pair`], but each start counts from the latest of its witnesses that came before
/// the first end event: the time from which the kernel had sent everything the daemon
/// might have waited for.
pub fn pair_after_last(events: &[Timed], starts: &[&str], ends: &[&str]) -> Paired {
    pair_from(events, starts, ends, Witness::LatestBeforeEnd)
}

#[derive(Clone, Copy)]
enum Witness {
    Earliest,
    LatestBeforeEnd,
}

fn pair_from(events: &[Timed], starts: &[&str], ends: &[&str], witness: Witness) -> Paired {
    let mut out = Paired::default();
    let mut seen = vec![false; starts.len()];
    // each start's witnesses (indices into `events`), the first one opening it
    let mut witnesses: Vec<Vec<usize>> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let Some(k) = starts.iter().position(|s| e.matches(s)) else {
            continue;
        };
        match witnesses.last_mut() {
            Some(w) if !seen[k] => w.push(i),
            _ => {
                witnesses.push(vec![i]);
                seen.iter_mut().for_each(|s| *s = false);
            }
        }
        seen[k] = true;
    }
    for (k, w) in witnesses.iter().enumerate() {
        let si = w[0];
        let limit = witnesses.get(k + 1).map_or(events.len(), |next| next[0]);
        let t0 = match witness {
            Witness::Earliest => events[si].ns,
            Witness::LatestBeforeEnd => {
                let first_end = events[si + 1..limit]
                    .iter()
                    .position(|e| ends.iter().any(|p| e.matches(p)))
                    .map_or(limit, |at| si + 1 + at);
                w.iter()
                    .take_while(|&&i| i < first_end)
                    .map(|&i| events[i].ns)
                    .max()
                    .unwrap_or(events[si].ns)
            }
        };
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

    #[test]
    fn after_last_counts_from_the_later_witness_before_the_end() {
        // the port event first, then the link message, then the write; then the link
        // message first, the write, and a late port event that the write did not wait for
        let (ev, _) = parse_log(
            "100 port team0 p0 down\n130 link p0 down\n140 option team0 user_linkup p0 false\n\
             200 port team0 p0 up\n\
             300 link p0 down\n310 option team0 user_linkup p0 false\n320 port team0 p0 down\n",
        );
        let starts = ["link p0 down", "port team0 p0 down"];
        let ends = ["option team0 user_linkup p0 false"];
        assert_eq!(pair(&ev, &starts, &ends).ns, vec![40, 10]);
        let p = pair_after_last(&ev, &starts, &ends);
        assert_eq!(p.ns, vec![10, 10]);
        assert_eq!(p.missed, 0);
    }
}
