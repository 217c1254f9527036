//! Aggregator selection as C teamd does it: ports are put into aggregators
//! (named by the ifindex of their lead port), and one aggregator is chosen by
//! `agg_select_policy`. Ports are kept in teamd's port-list order (most
//! recently added first), which decides ties exactly as C's list walks do.

use crate::lacpdu::state;
use crate::port::{Port, PortState};

/// `runner.agg_select_policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SelectPolicy {
    #[default]
    LacpPrio,
    LacpPrioStable,
    Bandwidth,
    Count,
    PortConfig,
}

impl SelectPolicy {
    pub const ALL: [SelectPolicy; 5] = [
        SelectPolicy::LacpPrio,
        SelectPolicy::LacpPrioStable,
        SelectPolicy::Bandwidth,
        SelectPolicy::Count,
        SelectPolicy::PortConfig,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SelectPolicy::LacpPrio => "lacp_prio",
            SelectPolicy::LacpPrioStable => "lacp_prio_stable",
            SelectPolicy::Bandwidth => "bandwidth",
            SelectPolicy::Count => "count",
            SelectPolicy::PortConfig => "port_config",
        }
    }

    pub fn from_name(name: &str) -> Option<SelectPolicy> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// The team's ports and the selected aggregator.
#[derive(Debug, Clone, Default)]
pub struct Ports {
    /// teamd's port-list order: most recently added first.
    pub list: Vec<Port>,
    /// Lead (ifindex) of the selected aggregator.
    pub selected_lead: Option<u32>,
    pub policy: SelectPolicy,
}

impl Ports {
    pub fn get(&self, ifindex: u32) -> Option<&Port> {
        self.list.iter().find(|p| p.ifindex == ifindex)
    }

    pub fn get_mut(&mut self, ifindex: u32) -> Option<&mut Port> {
        self.list.iter_mut().find(|p| p.ifindex == ifindex)
    }

    /// C's `lacp_port_better(p, q)`: is `p` a better lead than `q` (none: yes).
    pub fn better(&self, p: u32, q: Option<u32>) -> bool {
        let Some(q) = q else { return true };
        let (Some(p), Some(q)) = (self.get(p), self.get(q)) else {
            return false;
        };
        match self.policy {
            SelectPolicy::PortConfig => p.prio > q.prio,
            _ => p.prio_record() < q.prio_record(),
        }
    }

    fn members(&self, lead: u32) -> impl Iterator<Item = &Port> {
        self.list.iter().filter(move |p| p.agg_lead == Some(lead))
    }

    pub fn agg_port_count(&self, lead: u32) -> usize {
        self.members(lead).count()
    }

    pub fn agg_bandwidth(&self, lead: u32) -> u64 {
        self.members(lead).map(|p| u64::from(p.link.speed)).sum()
    }

    fn agg_sticky(&self, lead: u32) -> bool {
        self.members(lead).any(|p| p.cfg.sticky)
    }

    fn best_agg_by<F: Fn(&Ports, u32) -> u64>(&self, measure: F) -> Option<u32> {
        let mut best = None;
        let mut best_value = 0;
        for p in self.list.iter().filter(|p| p.selected()) {
            let Some(lead) = p.agg_lead else { continue };
            let v = measure(self, lead);
            if v > best_value {
                best_value = v;
                best = Some(lead);
            }
        }
        best
    }

    fn best_agg_by_best_port(&self) -> Option<u32> {
        let mut best = None;
        for p in self.list.iter() {
            let Some(lead) = p.agg_lead else { continue };
            if self.better(lead, best) {
                best = Some(lead);
            }
        }
        best
    }

    /// The aggregator the policy picks now.
    pub fn next_agg(&self) -> Option<u32> {
        match self.policy {
            SelectPolicy::LacpPrio => self.best_agg_by_best_port(),
            SelectPolicy::LacpPrioStable => match self.selected_lead {
                Some(lead) => Some(lead),
                None => self.best_agg_by_best_port(),
            },
            SelectPolicy::Bandwidth => self.best_agg_by(|ps, lead| ps.agg_bandwidth(lead)),
            SelectPolicy::Count => self.best_agg_by(|ps, lead| ps.agg_port_count(lead) as u64),
            SelectPolicy::PortConfig => match self.selected_lead {
                Some(lead) if self.agg_sticky(lead) => Some(lead),
                _ => self.best_agg_by_best_port(),
            },
        }
    }

    /// The aggregator `ifindex` would join: that of the first selected port
    /// it is aggregable with, else its own.
    pub fn agg_lead_for(&self, ifindex: u32) -> u32 {
        let Some(me) = self.get(ifindex) else {
            return ifindex;
        };
        self.list
            .iter()
            .filter(|p| p.ifindex != ifindex)
            .find_map(|p| match p.agg_lead {
                Some(lead) if p.aggregable_with(me) => Some(lead),
                _ => None,
            })
            .unwrap_or(ifindex)
    }

    fn switch_agg_lead(&mut self, old: u32, new: Option<u32>) {
        if self.selected_lead == Some(old) {
            self.selected_lead = new;
        }
        for p in self.list.iter_mut() {
            if p.agg_lead == Some(old) {
                p.agg_lead = new;
            }
        }
    }

    pub fn agg_select(&mut self, ifindex: u32) {
        let lead = self.agg_lead_for(ifindex);
        if let Some(p) = self.get_mut(ifindex) {
            p.agg_lead = Some(lead);
        }
        if self.better(ifindex, Some(lead)) {
            self.switch_agg_lead(lead, Some(ifindex));
        }
    }

    pub fn agg_unselect(&mut self, ifindex: u32) {
        let Some(p) = self.get_mut(ifindex) else {
            return;
        };
        let lead = p.agg_lead.take();
        if lead == Some(ifindex) {
            let mut new_lead = None;
            for q in self.list.iter() {
                if q.agg_lead == Some(ifindex) && self.better(q.ifindex, new_lead) {
                    new_lead = Some(q.ifindex);
                }
            }
            self.switch_agg_lead(ifindex, new_lead);
        }
    }

    /// Still aggregable with the (first) other member of its aggregator.
    pub fn correct_aggregation(&self, ifindex: u32) -> bool {
        let Some(me) = self.get(ifindex) else {
            return true;
        };
        match self
            .list
            .iter()
            .find(|p| p.ifindex != ifindex && p.selected() && p.agg_lead == me.agg_lead)
        {
            Some(other) => other.aggregable_with(me),
            None => true,
        }
    }

    /// Alone in its aggregator while another selected port would take it.
    pub fn mergeable(&self, ifindex: u32) -> bool {
        let Some(me) = self.get(ifindex) else {
            return false;
        };
        me.is_agg_lead()
            && self.agg_port_count(ifindex) == 1
            && self.agg_lead_for(ifindex) != ifindex
    }

    /// C's rule: enabled ⇔ selected into the selected aggregator and the
    /// partner says it is in sync.
    pub fn should_enable(&self, p: &Port) -> bool {
        p.selected()
            && p.agg_lead == self.selected_lead
            && p.partner.state & state::SYNCHRONIZATION != 0
    }

    /// `lacp_port_agg_selected`: the port's aggregator is the selected one.
    pub fn in_selected_agg(&self, p: &Port) -> bool {
        p.agg_lead.is_some() && p.agg_lead == self.selected_lead
    }

    /// For `runner.fallback` (not in C teamd): the port that stays enabled
    /// while no partner was ever heard. Policy order on the actor side, as
    /// there is no partner to compare: `port_config` by kernel priority
    /// (higher wins), otherwise by LACP port priority then port number
    /// (lower wins); ties go to the first in list order.
    pub fn fallback_port(&self) -> Option<u32> {
        let mut best: Option<&Port> = None;
        for p in self.list.iter().filter(|p| p.state != PortState::Disabled) {
            let better = match best {
                None => true,
                Some(b) => match self.policy {
                    SelectPolicy::PortConfig => p.prio > b.prio,
                    _ => {
                        (p.actor.port_priority, p.actor.port)
                            < (b.actor.port_priority, b.actor.port)
                    }
                },
            };
            if better {
                best = Some(p);
            }
        }
        best.map(|p| p.ifindex)
    }
}
