//! A team's option and port lists as libteam keeps them, so tools built on it
//! print what libteam's tools print: new entries go to the front of the list,
//! `changed` marks are cleared when the next batch of messages starts, and
//! removed ports stay listed (marked) until then. Pure: fed with parsed messages.

use team_nl::{OptionItem, OptionType, PortItem, TeamMessage};

use crate::Link;

/// Which lists a batch touched.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Changes {
    pub ports: bool,
    pub options: bool,
}

#[derive(Debug, Clone)]
pub struct TeamCache {
    team_ifindex: u32,
    options: Vec<OptionItem>,
    ports: Vec<PortItem>,
    batch_started: bool,
}

impl TeamCache {
    pub fn new(team_ifindex: u32) -> Self {
        Self {
            team_ifindex,
            options: Vec::new(),
            ports: Vec::new(),
            batch_started: false,
        }
    }

    pub fn team_ifindex(&self) -> u32 {
        self.team_ifindex
    }

    pub fn options(&self) -> &[OptionItem] {
        &self.options
    }

    pub fn ports(&self) -> &[PortItem] {
        &self.ports
    }

    /// Applies the messages of one reply or one event datagram.
    pub fn apply_batch<'a>(&mut self, msgs: impl IntoIterator<Item = &'a TeamMessage>) -> Changes {
        // libteam keeps one "batch started" flag for both lists: only the list
        // of the batch's first relevant message gets its last-state cleanup.
        self.batch_started = false;
        let mut changes = Changes::default();
        for msg in msgs {
            if msg.team_ifindex != Some(self.team_ifindex) {
                continue;
            }
            if let Some(items) = &msg.options {
                self.start_batch(|c| c.cleanup_options());
                items.iter().for_each(|i| self.apply_option(i));
                changes.options = true;
            }
            if let Some(items) = &msg.ports {
                self.start_batch(|c| c.cleanup_ports());
                items.iter().for_each(|p| self.apply_port(p));
                changes.ports = true;
            }
        }
        changes
    }

    fn start_batch(&mut self, cleanup: impl FnOnce(&mut Self)) {
        if !self.batch_started {
            cleanup(self);
            self.batch_started = true;
        }
    }

    fn cleanup_options(&mut self) {
        self.options.iter_mut().for_each(|o| o.changed = false);
    }

    fn cleanup_ports(&mut self) {
        self.ports.retain(|p| !p.removed);
        self.ports.iter_mut().for_each(|p| p.changed = false);
    }

    fn apply_option(&mut self, item: &OptionItem) {
        if matches!(item.value.option_type(), OptionType::Unknown(_)) {
            return; // libteam skips types it does not know
        }
        let pos = self.options.iter().position(|o| {
            o.name == item.name
                && o.port_ifindex == item.port_ifindex
                && o.array_index == item.array_index
        });
        if item.removed {
            if let Some(pos) = pos {
                self.options.remove(pos);
            }
            return;
        }
        let mut stored = item.clone();
        stored.removed = false;
        match pos {
            Some(pos) => self.options[pos] = stored,
            None => self.options.insert(0, stored),
        }
    }

    fn apply_port(&mut self, item: &PortItem) {
        match self.ports.iter_mut().find(|p| p.ifindex == item.ifindex) {
            Some(p) => *p = item.clone(),
            None => self.ports.insert(0, item.clone()),
        }
    }

    /// Finds an option instance by name, port and array index.
    pub fn option(&self, name: &str, port: Option<u32>, index: Option<u32>) -> Option<&OptionItem> {
        self.options
            .iter()
            // the integers first: most entries differ there (a port's or an array's)
            .find(|o| o.port_ifindex == port && o.array_index == index && o.name == name)
    }

    /// Records a value this process set, as libteam does after a successful set.
    pub fn set_local(&mut self, item: &OptionItem) {
        if let Some(o) = self.options.iter_mut().find(|o| {
            o.port_ifindex == item.port_ifindex
                && o.array_index == item.array_index
                && o.name == item.name
        }) {
            o.value = item.value.clone();
        }
    }
}

/// What changed on a link since the last batch (libteam's `CHANGED_*` bits).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct IfinfoChanged {
    pub removed: bool,
    pub hwaddr: bool,
    pub hwaddr_len: bool,
    pub ifname: bool,
    pub master: bool,
    pub admin_state: bool,
}

impl IfinfoChanged {
    pub fn any(&self) -> bool {
        self.removed
            || self.hwaddr
            || self.hwaddr_len
            || self.ifname
            || self.master
            || self.admin_state
    }
}

/// One link as libteam's `team_ifinfo` tracks it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ifinfo {
    pub ifindex: u32,
    pub ifname: String,
    pub hwaddr: Vec<u8>,
    /// The MAC last seen while the link had no master.
    pub orig_hwaddr: Vec<u8>,
    /// `orig_hwaddr` is held while our own enslave request is under way: the
    /// kernel changes a port's MAC (team modes other than activebackup give it
    /// the team's) before it links the master, and the event for that step
    /// still shows no master. libteam re-reads the link on each event, so it
    /// rarely sees that step; ours reads the event itself and must skip it.
    pub orig_held: bool,
    pub master: u32,
    pub admin_up: bool,
    pub changed: IfinfoChanged,
}

impl Ifinfo {
    /// What `link` shows as different from this entry, among what libteam tracks.
    fn differences(&self, link: &Link) -> IfinfoChanged {
        IfinfoChanged {
            removed: false,
            hwaddr: self.hwaddr != link.mac,
            hwaddr_len: self.hwaddr.len() != link.mac.len(),
            ifname: self.ifname != link.name,
            master: self.master != link.master.unwrap_or(0),
            admin_state: self.admin_up != link.admin_up,
        }
    }

    /// True when `link` shows nothing libteam tracks as different from this entry (a
    /// carrier or statistics change, say): applying it marks no change.
    pub fn matches(&self, link: &Link) -> bool {
        !self.differences(link).any()
    }

    fn update(&mut self, link: &Link) {
        let d = self.differences(link);
        if d.ifname {
            self.ifname = link.name.clone();
        }
        if d.master {
            self.master = link.master.unwrap_or(0);
        }
        if self.master != 0 {
            self.orig_held = false;
        }
        if d.hwaddr {
            self.hwaddr = link.mac.clone();
            if self.master == 0 && !self.orig_held {
                self.orig_hwaddr = link.mac.clone();
            }
        }
        if d.admin_state {
            self.admin_up = link.admin_up;
        }
        let c = &mut self.changed;
        c.ifname |= d.ifname;
        c.master |= d.master;
        c.hwaddr_len |= d.hwaddr_len;
        c.hwaddr |= d.hwaddr;
        c.admin_state |= d.admin_state;
    }

    /// `aa:bb:cc:dd:ee:ff`, lower case, as libteam prints it.
    pub fn hwaddr_str(&self) -> String {
        hwaddr_str(&self.hwaddr)
    }
}

/// A hardware address as `aa:bb:cc:dd:ee:ff`, lower case, as libteam prints it.
pub fn hwaddr_str(hwaddr: &[u8]) -> String {
    hwaddr
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Every link of the namespace, newest first, as libteam's ifinfo list.
#[derive(Debug, Clone, Default)]
pub struct IfinfoCache {
    list: Vec<Ifinfo>,
}

impl IfinfoCache {
    pub fn list(&self) -> &[Ifinfo] {
        &self.list
    }

    pub fn get(&self, ifindex: u32) -> Option<&Ifinfo> {
        self.list.iter().find(|i| i.ifindex == ifindex)
    }

    fn find_create(&mut self, ifindex: u32) -> &mut Ifinfo {
        let pos = match self.list.iter().position(|i| i.ifindex == ifindex) {
            Some(p) => p,
            None => {
                self.list.insert(
                    0,
                    Ifinfo {
                        ifindex,
                        ..Ifinfo::default()
                    },
                );
                0
            }
        };
        &mut self.list[pos]
    }

    /// Loads a full link dump (libteam's initial `get_ifinfo_list`); links
    /// missing from it are dropped.
    pub fn load(&mut self, links: &[Link]) {
        let present: Vec<u32> = links.iter().map(|l| l.ifindex).collect();
        self.list.retain(|i| present.contains(&i.ifindex));
        for link in links {
            let info = self.find_create(link.ifindex);
            info.changed = IfinfoChanged::default();
            info.update(link);
        }
        self.end_batch();
    }

    /// A new/changed link (RTM_NEWLINK) with its current kernel state.
    /// Returns whether anything libteam tracks changed.
    pub fn on_newlink(&mut self, link: &Link) -> bool {
        self.destroy_removed();
        let info = self.find_create(link.ifindex);
        info.changed = IfinfoChanged::default();
        info.update(link);
        info.changed.any()
    }

    /// Holds (or releases) a link's `orig_hwaddr` around an enslave request
    /// of ours; linking a master releases it by itself.
    pub fn hold_orig_hwaddr(&mut self, ifindex: u32, hold: bool) {
        if let Some(info) = self.list.iter_mut().find(|i| i.ifindex == ifindex) {
            info.orig_held = hold;
        }
    }

    /// A link deletion (RTM_DELLINK); `still_exists` when a re-read found it
    /// (bridge port removal sends DELLINK for a live link).
    pub fn on_dellink(&mut self, ifindex: u32, still_exists: bool) -> bool {
        self.destroy_removed();
        let info = self.find_create(ifindex);
        if still_exists {
            return false;
        }
        info.changed = IfinfoChanged {
            removed: true,
            ..IfinfoChanged::default()
        };
        true
    }

    /// After the change handlers ran: forget removed links, clear marks.
    pub fn end_batch(&mut self) {
        self.destroy_removed();
        self.list
            .iter_mut()
            .for_each(|i| i.changed = IfinfoChanged::default());
    }

    fn destroy_removed(&mut self) {
        self.list.retain(|i| !i.changed.removed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use team_nl::OptionValue;

    fn options_msg(team: u32, items: Vec<OptionItem>) -> TeamMessage {
        let mut m = TeamMessage::options_get(team);
        m.options = Some(items);
        m
    }

    fn ports_msg(team: u32, items: Vec<PortItem>) -> TeamMessage {
        let mut m = TeamMessage::port_list_get(team);
        m.ports = Some(items);
        m
    }

    fn changed(mut o: OptionItem) -> OptionItem {
        o.changed = true;
        o
    }

    #[test]
    fn new_entries_are_listed_first_like_libteam() {
        let mut c = TeamCache::new(5);
        let msg = options_msg(
            5,
            vec![
                OptionItem::new("mode", OptionValue::String("roundrobin".into())),
                OptionItem::new("mcast_rejoin_count", OptionValue::U32(0)),
            ],
        );
        let ch = c.apply_batch([&msg]);
        assert!(ch.options && !ch.ports);
        let names: Vec<_> = c.options().iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["mcast_rejoin_count", "mode"]);
    }

    #[test]
    fn changed_marks_last_one_batch_and_updates_keep_position() {
        let mut c = TeamCache::new(5);
        c.apply_batch([&options_msg(
            5,
            vec![
                OptionItem::new("a", OptionValue::U32(1)),
                OptionItem::new("b", OptionValue::U32(2)),
            ],
        )]);
        c.apply_batch([&options_msg(
            5,
            vec![changed(OptionItem::new("b", OptionValue::U32(3)))],
        )]);
        assert_eq!(c.options()[0].value, OptionValue::U32(3));
        assert!(c.options()[0].changed);
        c.apply_batch([&options_msg(
            5,
            vec![OptionItem::new("a", OptionValue::U32(1))],
        )]);
        assert!(c.options().iter().all(|o| !o.changed));
    }

    #[test]
    fn removed_options_go_and_instances_are_keyed_by_port_and_index() {
        let mut c = TeamCache::new(5);
        c.apply_batch([&options_msg(
            5,
            vec![
                OptionItem::new("enabled", OptionValue::Bool(true)).port(7),
                OptionItem::new("enabled", OptionValue::Bool(false)).port(8),
                OptionItem::new("m", OptionValue::U32(0)).index(3),
            ],
        )]);
        assert_eq!(
            c.option("enabled", Some(8), None).map(|o| &o.value),
            Some(&OptionValue::Bool(false))
        );
        assert!(c.option("m", None, Some(3)).is_some());
        assert!(c.option("m", None, None).is_none());
        let mut gone = OptionItem::new("enabled", OptionValue::Bool(true)).port(7);
        gone.removed = true;
        c.apply_batch([&options_msg(5, vec![gone])]);
        assert!(c.option("enabled", Some(7), None).is_none());
        assert_eq!(c.options().len(), 2);
    }

    #[test]
    fn removed_ports_stay_marked_until_the_next_port_batch() {
        let mut c = TeamCache::new(5);
        let up = PortItem {
            ifindex: 7,
            linkup: true,
            speed: 10000,
            duplex: 1,
            ..Default::default()
        };
        c.apply_batch([&ports_msg(5, vec![up.clone()])]);
        let gone = PortItem {
            ifindex: 7,
            removed: true,
            changed: true,
            ..Default::default()
        };
        c.apply_batch([&ports_msg(5, vec![gone])]);
        assert!(c.ports()[0].removed);
        // an options-only batch does not clean the port list
        c.apply_batch([&options_msg(
            5,
            vec![OptionItem::new("x", OptionValue::U32(0))],
        )]);
        assert_eq!(c.ports().len(), 1);
        c.apply_batch([&ports_msg(
            5,
            vec![PortItem {
                ifindex: 8,
                ..Default::default()
            }],
        )]);
        assert_eq!(c.ports().len(), 1);
        assert_eq!(c.ports()[0].ifindex, 8);
    }

    #[test]
    fn other_teams_and_unknown_types_are_ignored() {
        let mut c = TeamCache::new(5);
        let ch = c.apply_batch([&options_msg(
            6,
            vec![OptionItem::new("x", OptionValue::U32(0))],
        )]);
        assert_eq!(ch, Changes::default());
        c.apply_batch([&options_msg(
            5,
            vec![OptionItem::new(
                "future",
                OptionValue::Unknown {
                    type_code: 99,
                    data: None,
                },
            )],
        )]);
        assert!(c.options().is_empty());
    }

    fn link(ifindex: u32, name: &str, mac: u8, master: Option<u32>, up: bool) -> Link {
        Link {
            ifindex,
            name: name.into(),
            mac: vec![2, 0, 0, 0, 0, mac],
            master,
            admin_up: up,
            carrier: false,
            mtu: 1500,
            kind: None,
        }
    }

    #[test]
    fn ifinfos_track_what_libteam_tracks() {
        let mut c = IfinfoCache::default();
        c.load(&[link(1, "lo", 0, None, true), link(4, "p0", 1, None, false)]);
        assert_eq!(c.list()[0].ifindex, 4);
        assert!(c.list().iter().all(|i| !i.changed.any()));
        // enslaving changes master and (roundrobin) the MAC; the original is kept
        assert!(c.on_newlink(&link(4, "p0", 9, Some(3), true)));
        let p0 = c.get(4).unwrap();
        assert!(p0.changed.master && p0.changed.hwaddr && p0.changed.admin_state);
        assert_eq!(p0.orig_hwaddr, vec![2, 0, 0, 0, 0, 1]);
        assert_eq!(p0.hwaddr_str(), "02:00:00:00:00:09");
        c.end_batch();
        // the original stays held: the team's mac and the master come apart
        c.end_batch();
        assert!(c.on_newlink(&link(4, "p0", 1, None, false)));
        assert_eq!(c.get(4).unwrap().orig_hwaddr, vec![2, 0, 0, 0, 0, 1]);
        c.end_batch();
        c.hold_orig_hwaddr(4, true);
        assert!(c.on_newlink(&link(4, "p0", 9, None, false)));
        assert_eq!(c.get(4).unwrap().orig_hwaddr, vec![2, 0, 0, 0, 0, 1]);
        assert!(c.on_newlink(&link(4, "p0", 9, Some(3), true)));
        assert!(!c.get(4).unwrap().orig_held);
        c.end_batch();
        // without the hold, that first step would have replaced the original
        c.on_newlink(&link(4, "p0", 1, None, false));
        c.on_newlink(&link(4, "p0", 9, None, false));
        assert_eq!(c.get(4).unwrap().orig_hwaddr, vec![2, 0, 0, 0, 0, 9]);
        c.on_newlink(&link(4, "p0", 9, Some(3), true));
        c.end_batch();
        // carrier alone is not tracked
        let mut same = link(4, "p0", 9, Some(3), true);
        same.carrier = true;
        assert!(!c.on_newlink(&same));
        // removal is reported once, then forgotten
        assert!(!c.on_dellink(4, true));
        assert!(c.on_dellink(4, false));
        assert!(c.get(4).unwrap().changed.removed);
        c.end_batch();
        assert!(c.get(4).is_none());
    }

    #[test]
    fn a_link_matches_its_entry_exactly_when_applying_it_would_mark_no_change() {
        let base = link(4, "p0", 1, Some(3), true);
        let mut carrier = base.clone();
        carrier.carrier = true;
        carrier.mtu = 9000;
        let mut renamed = base.clone();
        renamed.name = "p9".into();
        let mut released = base.clone();
        released.master = None;
        let mut short_mac = base.clone();
        short_mac.mac.pop();
        let cases = [
            (carrier, true),
            (renamed, false),
            (released, false),
            (short_mac, false),
            (link(4, "p0", 2, Some(3), true), false),
            (link(4, "p0", 1, Some(3), false), false),
        ];
        for (other, expect) in cases {
            let mut c = IfinfoCache::default();
            c.load(std::slice::from_ref(&base));
            assert_eq!(c.get(4).unwrap().matches(&other), expect, "{other:?}");
            assert_eq!(c.on_newlink(&other), !expect, "{other:?}");
        }
    }
}
