// SPDX-License-Identifier: GPL-2.0-only
//! Body of one OPTIONS_GET / PORT_LIST_GET message: the team ifindex and a
//! list nest holding as many items as fit. Long lists span several
//! NLM_F_MULTI messages, as team.ko sends them.

use super::abi;
use super::errno::Errno;
use super::nla::AttrWriter;

/// Writes `TEAM_ATTR_TEAM_IFINDEX` and a `list_attr` nest with items
/// `start..count` (written by `item`) until the buffer is full. Returns the
/// index of the first item not written (`count` when all fit). An item that
/// does not fit even in an empty message is `Errno::MsgSize`.
pub fn write_list(
    w: &mut AttrWriter<'_>,
    team_ifindex: u32,
    list_attr: u16,
    start: usize,
    count: usize,
    mut item: impl FnMut(&mut AttrWriter<'_>, usize) -> Result<(), Errno>,
) -> Result<usize, Errno> {
    w.put_u32(abi::ATTR_TEAM_IFINDEX, team_ifindex)?;
    let nest = w.nest_start(list_attr)?;
    let mut next = start;
    while next < count {
        match item(w, next) {
            Ok(()) => next += 1,
            Err(Errno::MsgSize) if next > start => break,
            Err(e) => return Err(e),
        }
    }
    w.nest_end(nest)?;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::nla::AttrIter;
    use crate::logic::ports::{write_port_item, PortReport};

    #[test]
    fn splits_long_lists_across_messages() {
        let reports: Vec<_> = (1..=10)
            .map(|i| PortReport {
                ifindex: i,
                ..Default::default()
            })
            .collect();
        let mut seen = Vec::new();
        let mut start = 0;
        let mut messages = 0;
        while start < reports.len() {
            let mut buf = [0u8; 120];
            let mut w = AttrWriter::new(&mut buf);
            start = write_list(
                &mut w,
                42,
                abi::ATTR_LIST_PORT,
                start,
                reports.len(),
                |w, i| write_port_item(w, &reports[i]),
            )
            .unwrap();
            messages += 1;
            let attrs: Vec<_> = AttrIter::new(w.bytes()).map(|a| a.unwrap()).collect();
            assert_eq!(attrs[0].u32(), Ok(42));
            for item in attrs[1].nested() {
                let first = item.unwrap().nested().next().unwrap().unwrap();
                seen.push(first.u32().unwrap());
            }
        }
        assert!(messages > 1);
        assert_eq!(seen, (1..=10).collect::<Vec<u32>>());
    }

    #[test]
    fn empty_list_and_oversized_item() {
        let mut buf = [0u8; 64];
        let mut w = AttrWriter::new(&mut buf);
        assert_eq!(
            write_list(&mut w, 1, abi::ATTR_LIST_PORT, 0, 0, |_, _| Ok(())),
            Ok(0)
        );
        assert_eq!(w.len(), 12);
        let mut w = AttrWriter::new(&mut buf);
        assert_eq!(
            write_list(&mut w, 1, abi::ATTR_LIST_PORT, 0, 1, |_, _| Err(
                Errno::MsgSize
            )),
            Err(Errno::MsgSize)
        );
    }
}
