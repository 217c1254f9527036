// SPDX-License-Identifier: GPL-2.0-only
/*
 * Callable wrappers for the static inline functions, macros and bitfields
 * the Rust team driver needs. No logic lives here: each helper is one
 * kernel idiom.
 */
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <linux/rcupdate.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/filter.h>
#include <linux/if_vlan.h>
#include <linux/netpoll.h>
#include <net/genetlink.h>
#include <net/sch_generic.h>
#include <uapi/linux/if_team.h>

#include "helpers.h"

const struct nla_policy rteam_nl_policy[4] = {
	[TEAM_ATTR_TEAM_IFINDEX] = { .type = NLA_U32 },
	[TEAM_ATTR_LIST_OPTION] = { .type = NLA_NESTED },
	[TEAM_ATTR_LIST_PORT] = { .type = NLA_NESTED },
};

/*
 * Offload masks the team folds its ports' features into (features.rs):
 * what VLAN uppers, encapsulated and MPLS traffic may inherit, plus the
 * core's "one port suffices" / "every port must have it" groups.
 */
const netdev_features_t rteam_vlan_mask = NETIF_F_HW_CSUM | NETIF_F_SG | NETIF_F_FRAGLIST |
	NETIF_F_GSO_SOFTWARE | NETIF_F_HIGHDMA | NETIF_F_LRO | NETIF_F_GSO_ENCAP_ALL;
const netdev_features_t rteam_enc_mask = NETIF_F_HW_CSUM | NETIF_F_SG | NETIF_F_RXCSUM |
	NETIF_F_GSO_SOFTWARE;
const netdev_features_t rteam_mpls_mask = NETIF_F_HW_CSUM | NETIF_F_SG | NETIF_F_GSO_SOFTWARE;
const netdev_features_t rteam_enc_always = NETIF_F_GSO_ENCAP_ALL | NETIF_F_HW_VLAN_CTAG_TX |
	NETIF_F_HW_VLAN_STAG_TX;
const netdev_features_t rteam_one_for_all = NETIF_F_ONE_FOR_ALL;
const netdev_features_t rteam_all_for_all = NETIF_F_ALL_FOR_ALL;
const netdev_features_t rteam_all_tso = NETIF_F_ALL_TSO;

void *rteam_netdev_priv(struct net_device *dev) { return netdev_priv(dev); }

void rteam_setup_dev(struct net_device *dev, const struct net_device_ops *ops)
{
	ether_setup(dev);
	dev->max_mtu = ETH_MAX_MTU;
	dev->netdev_ops = ops;
	dev->needs_free_netdev = true;
	dev->priv_flags &= ~(IFF_XMIT_DST_RELEASE | IFF_TX_SKB_SHARING);
	dev->priv_flags |= IFF_NO_QUEUE | IFF_TEAM | IFF_UNICAST_FLT | IFF_LIVE_ADDR_CHANGE;
	dev->lltx = true;
	dev->netns_immutable = true;
	dev->pcpu_stat_type = NETDEV_PCPU_STAT_TSTATS;
	dev->features |= NETIF_F_GRO;
	/* What the team may offer before any port is known (features.rs). */
	dev->hw_features = rteam_vlan_mask | NETIF_F_GSO_ENCAP_ALL |
			   NETIF_F_HW_VLAN_CTAG_RX | NETIF_F_HW_VLAN_CTAG_FILTER |
			   NETIF_F_HW_VLAN_STAG_RX | NETIF_F_HW_VLAN_STAG_FILTER;
	dev->features |= dev->hw_features | NETIF_F_HW_VLAN_CTAG_TX | NETIF_F_HW_VLAN_STAG_TX;
}

void rteam_eth_hw_addr_random(struct net_device *dev) { eth_hw_addr_random(dev); }
const struct net_device_ops *rteam_dev_ops(const struct net_device *dev) { return dev->netdev_ops; }
int rteam_ifindex(const struct net_device *dev) { return dev->ifindex; }
const char *rteam_name(const struct net_device *dev) { return dev->name; }
unsigned int rteam_dev_flags(const struct net_device *dev) { return dev->flags; }
unsigned int rteam_mtu(const struct net_device *dev) { return READ_ONCE(dev->mtu); }
unsigned short rteam_dev_type(const struct net_device *dev) { return dev->type; }
const unsigned char *rteam_dev_addr(const struct net_device *dev) { return dev->dev_addr; }
bool rteam_is_loopback(const struct net_device *dev) { return dev->flags & IFF_LOOPBACK; }
bool rteam_vlan_challenged(const struct net_device *dev)
{
	return dev->features & NETIF_F_VLAN_CHALLENGED;
}
bool rteam_oper_up(const struct net_device *dev)
{
	return netif_oper_up(dev);
}

void rteam_set_team_port_flag(struct net_device *dev, bool on)
{
	if (on)
		dev->priv_flags |= IFF_TEAM_PORT;
	else
		dev->priv_flags &= ~IFF_TEAM_PORT;
}

bool rteam_is_team_port(const struct net_device *dev) { return netif_is_team_port(dev); }

/* The team device pointer stored for a port of ours, else NULL. */
void *rteam_port_team_rtnl(const struct net_device *port_dev)
{
	if (rtnl_dereference(port_dev->rx_handler) != rteam_handle_frame)
		return NULL;
	return rtnl_dereference(port_dev->rx_handler_data);
}

void rteam_port_speed(struct net_device *dev, u32 *speed, u8 *duplex)
{
	struct ethtool_link_ksettings ecmd;

	*speed = 0;
	*duplex = 0;
	if (__ethtool_get_link_ksettings(dev, &ecmd))
		return;
	if (ecmd.base.speed != SPEED_UNKNOWN)
		*speed = ecmd.base.speed;
	if (ecmd.base.duplex != DUPLEX_UNKNOWN)
		*duplex = ecmd.base.duplex;
}

struct net *rteam_dev_net(const struct net_device *dev) { return dev_net(dev); }
void rteam_dev_put(struct net_device *dev) { dev_put(dev); }
struct net_device *rteam_notifier_dev(void *ptr) { return netdev_notifier_info_to_dev(ptr); }

int rteam_set_port_addr(struct net_device *port_dev, const unsigned char *addr)
{
	struct sockaddr_storage ss;

	ss.ss_family = port_dev->type;
	memcpy(ss.__data, addr, port_dev->addr_len);
	return dev_set_mac_address(port_dev, (struct sockaddr *)&ss, NULL);
}

struct sk_buff *rteam_skb_share_check(struct sk_buff *skb) { return skb_share_check(skb, GFP_ATOMIC); }
bool rteam_skb_dest_link_local(const struct sk_buff *skb)
{
	return is_link_local_ether_addr(eth_hdr(skb)->h_dest);
}
bool rteam_skb_is_slow_proto(const struct sk_buff *skb)
{
	return skb->protocol == htons(ETH_P_SLOW);
}
void rteam_skb_free(struct sk_buff *skb) { dev_kfree_skb_any(skb); }
struct sk_buff *rteam_skb_clone(struct sk_buff *skb) { return skb_clone(skb, GFP_ATOMIC); }

/*
 * A frame, already on its port, of a team with netpoll on (Skb::xmit sends
 * the others itself).
 */
int rteam_netpoll_xmit(struct sk_buff *skb, struct netpoll *np)
{
	/*
	 * netpoll (netconsole) sends with interrupts off, where the port's qdisc
	 * path must not run: the frame goes through the port's own netpoll,
	 * which drops it when there is none.
	 */
#ifdef CONFIG_NET_POLL_CONTROLLER
	if (unlikely(netpoll_tx_running(skb->dev)))
		return netpoll_send_skb(np, skb) == NETDEV_TX_OK ? 0 : -ENOBUFS;
#endif
	return dev_queue_xmit(skb);
}

#ifdef CONFIG_NET_POLL_CONTROLLER
struct netpoll *rteam_netpoll_setup(struct net_device *port_dev, int *err)
{
	struct netpoll *np = kzalloc(sizeof(*np), GFP_KERNEL);

	if (!np) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = __netpoll_setup(np, port_dev);
	if (*err) {
		kfree(np);
		return NULL;
	}
	return np;
}

/* Waits a grace period first (__netpoll_free), so a sender still holding np is done. */
void rteam_netpoll_free(struct netpoll *np) { __netpoll_free(np); }
#else
struct netpoll *rteam_netpoll_setup(struct net_device *port_dev, int *err)
{
	*err = -EOPNOTSUPP;
	return NULL;
}
void rteam_netpoll_free(struct netpoll *np) { }
#endif

void rteam_tx_stats(struct net_device *dev, unsigned int len) { dev_sw_netstats_tx_add(dev, 1, len); }
void rteam_tx_dropped(struct net_device *dev) { dev_core_stats_tx_dropped_inc(dev); }
/*
 * A frame the team takes, counted as team.ko counts it: its length past the MAC header, and
 * multicast by the port's verdict. multicast is not in the per-CPU tstats, so it goes to
 * dev->stats (atomically), which dev_get_tstats64() adds in.
 */
void rteam_rx_stats(struct net_device *dev, const struct sk_buff *skb)
{
	dev_sw_netstats_rx_add(dev, skb->len);
	if (skb->pkt_type == PACKET_MULTICAST)
		DEV_STATS_INC(dev, multicast);
}

/* a frame a disabled or inactive port leaves to exact-match listeners, as team.ko counts it */
void rteam_rx_nohandler(struct net_device *dev) { dev_core_stats_rx_nohandler_inc(dev); }

void rteam_rcu_read_lock(void) { rcu_read_lock(); }
void rteam_rcu_read_unlock(void) { rcu_read_unlock(); }
void rteam_rcu_store(void **slot, void *val) { rcu_assign_pointer(*(void __rcu **)slot, val); }
void rteam_call_rcu(struct rcu_head *head, rcu_callback_t func) { call_rcu(head, func); }
void rteam_rcu_barrier(void) { rcu_barrier(); }

struct sk_buff *rteam_genlmsg_new(void) { return genlmsg_new(GENLMSG_DEFAULT_SIZE, GFP_KERNEL); }
void rteam_nlmsg_free(struct sk_buff *skb) { nlmsg_free(skb); }

/* Room left in the skb, reserving space for the closing NLMSG_DONE. */
unsigned char *rteam_skb_tail(struct sk_buff *skb, unsigned int *room)
{
	int left = skb_tailroom(skb) - NLMSG_HDRLEN;

	*room = left > 0 ? left : 0;
	return skb_tail_pointer(skb);
}

void rteam_genlmsg_end(struct sk_buff *skb, void *hdr) { genlmsg_end(skb, hdr); }

bool rteam_nlmsg_done(struct sk_buff *skb, u32 portid, u32 seq, int flags)
{
	return nlmsg_put(skb, portid, seq, NLMSG_DONE, 0, flags | NLM_F_MULTI) != NULL;
}

int rteam_genl_unicast(struct net *net, struct sk_buff *skb, u32 portid)
{
	return genlmsg_unicast(net, skb, portid);
}

int rteam_genl_multicast(const struct genl_family *family, struct net *net, struct sk_buff *skb)
{
	return genlmsg_multicast_netns(family, net, skb, 0, 0, GFP_KERNEL);
}

u32 rteam_info_portid(const struct genl_info *info) { return info->snd_portid; }
u32 rteam_info_seq(const struct genl_info *info) { return info->snd_seq; }
struct net *rteam_info_net(const struct genl_info *info) { return genl_info_net(info); }

const void *rteam_info_attr(const struct genl_info *info, int attr, int *len)
{
	const struct nlattr *a = info->attrs[attr];

	if (!a)
		return NULL;
	*len = nla_len(a);
	return nla_data(a);
}

void rteam_store_mtu(struct net_device *dev, unsigned int mtu) { WRITE_ONCE(dev->mtu, mtu); }

const unsigned char *rteam_nla(const struct nlattr *a, int *len)
{
	*len = nla_len(a);
	return nla_data(a);
}

u32 rteam_bpf_run(const struct bpf_prog *prog, const struct sk_buff *skb) { return bpf_prog_run(prog, skb); }

void rteam_extack_msg(struct netlink_ext_ack *extack, const char *msg)
{
	if (extack)
		extack->_msg = msg;
}

void rteam_read_caps(const struct net_device *dev, struct rteam_caps *c)
{
	c->features = dev->features;
	c->vlan = dev->vlan_features;
	c->enc = dev->hw_enc_features;
	c->mpls = dev->mpls_features;
	c->dst_release = (dev->priv_flags & (IFF_XMIT_DST_RELEASE | IFF_XMIT_DST_RELEASE_PERM)) ==
			 (IFF_XMIT_DST_RELEASE | IFF_XMIT_DST_RELEASE_PERM);
	c->hard_header_len = dev->hard_header_len;
	c->needed_headroom = READ_ONCE(dev->needed_headroom);
	c->needed_tailroom = dev->needed_tailroom;
	c->tso_max_size = dev->tso_max_size;
	c->tso_max_segs = dev->tso_max_segs;
	c->gso_max_size = READ_ONCE(dev->gso_max_size);
	c->gso_ipv4_max_size = READ_ONCE(dev->gso_ipv4_max_size);
	c->gso_max_segs = READ_ONCE(dev->gso_max_segs);
}

void rteam_write_masks(struct net_device *dev, netdev_features_t vlan, netdev_features_t enc,
		       netdev_features_t mpls, bool dst_release)
{
	dev->vlan_features = vlan;
	dev->hw_enc_features = enc;
	dev->mpls_features = mpls;
	if (dst_release)
		dev->priv_flags |= IFF_XMIT_DST_RELEASE;
	else
		dev->priv_flags &= ~IFF_XMIT_DST_RELEASE;
}

void rteam_write_room(struct net_device *dev, unsigned short hlen, unsigned short head,
		      unsigned short tail)
{
	dev->hard_header_len = hlen;
	WRITE_ONCE(dev->needed_headroom, head);
	dev->needed_tailroom = tail;
}

/* Never raises a GSO limit, so a lower one set by the user stays. */
void rteam_lower_gso(struct net_device *dev, unsigned int size, unsigned int ipv4_size, u16 segs)
{
	if (size < READ_ONCE(dev->gso_max_size))
		WRITE_ONCE(dev->gso_max_size, size);
	if (ipv4_size < READ_ONCE(dev->gso_ipv4_max_size))
		WRITE_ONCE(dev->gso_ipv4_max_size, ipv4_size);
	if (segs < READ_ONCE(dev->gso_max_segs))
		WRITE_ONCE(dev->gso_max_segs, segs);
}

bool rteam_dev_registered(const struct net_device *dev) { return dev->reg_state == NETREG_REGISTERED; }

/* Walks the lower devices (ports) under RTNL; *iter is NULL to start. */
struct net_device *rteam_next_lower(struct net_device *dev, struct list_head **iter)
{
	if (!*iter)
		*iter = dev->adj_list.lower.next;
	return netdev_lower_get_next(dev, iter);
}

/* VLAN id registration (static inlines when the kernel has no 802.1Q). */
int rteam_vlan_vid_add(struct net_device *dev, __be16 proto, u16 vid) { return vlan_vid_add(dev, proto, vid); }
void rteam_vlan_vid_del(struct net_device *dev, __be16 proto, u16 vid) { vlan_vid_del(dev, proto, vid); }
int rteam_vlan_vids_add_by_dev(struct net_device *dev, const struct net_device *by_dev)
{
	return vlan_vids_add_by_dev(dev, by_dev);
}
void rteam_vlan_vids_del_by_dev(struct net_device *dev, const struct net_device *by_dev)
{
	vlan_vids_del_by_dev(dev, by_dev);
}

/* Receive filters (rx_mode.rs): the team's address lists copied to a port
 * under the team's address lock, which the core holds around ndo_set_rx_mode
 * but not around a port add. */
void rteam_addr_lists_sync(struct net_device *port, struct net_device *team)
{
	netif_addr_lock_bh(team);
	dev_uc_sync_multiple(port, team);
	dev_mc_sync_multiple(port, team);
	netif_addr_unlock_bh(team);
}
void rteam_addr_lists_sync_locked(struct net_device *port, struct net_device *team)
{
	dev_uc_sync_multiple(port, team);
	dev_mc_sync_multiple(port, team);
}
void rteam_addr_lists_unsync(struct net_device *port, struct net_device *team)
{
	dev_uc_unsync(port, team);
	dev_mc_unsync(port, team);
}
bool rteam_vlan_uses_dev(const struct net_device *dev) { return vlan_uses_dev(dev); }

void *rteam_pcpu_alloc(unsigned int count)
{
	return (void __force *)__alloc_percpu_gfp(count * sizeof(u64), sizeof(u64), GFP_KERNEL);
}

void rteam_pcpu_free(void *pcpu) { free_percpu((void __percpu __force *)pcpu); }

/* Fast path: BH is off in ndo_start_xmit, so this CPU's slot is ours. */
void rteam_pcpu_add(void *pcpu, unsigned int idx, u64 val)
{
	this_cpu_add(*((u64 __percpu __force *)pcpu + idx), val);
}

u64 rteam_pcpu_sum(void *pcpu, unsigned int idx)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(*per_cpu_ptr((u64 __percpu __force *)pcpu + idx, cpu));
	return sum;
}

/* Only for a slot no reader can reach (its port left a grace period ago). */
void rteam_pcpu_zero(void *pcpu, unsigned int idx)
{
	int cpu;

	for_each_possible_cpu(cpu)
		WRITE_ONCE(*per_cpu_ptr((u64 __percpu __force *)pcpu + idx, cpu), 0);
}

struct rteam_dwork {
	struct delayed_work dw;
	struct net_device *dev;
	unsigned int kind;
};

static void rteam_dwork_run(struct work_struct *work)
{
	struct rteam_dwork *w = container_of(to_delayed_work(work), struct rteam_dwork, dw);

	/* Never wait for RTNL here: uninit holds it while it cancels this work
	 * and waits for it. Busy now: try again a tick later. */
	if (!rtnl_trylock()) {
		schedule_delayed_work(&w->dw, 1);
		return;
	}
	rteam_team_work(w->dev, w->kind);
	rtnl_unlock();
}

struct rteam_dwork *rteam_dwork_alloc(struct net_device *dev, unsigned int kind)
{
	struct rteam_dwork *w = kzalloc(sizeof(*w), GFP_KERNEL);

	if (!w)
		return NULL;
	w->dev = dev;
	w->kind = kind;
	INIT_DELAYED_WORK(&w->dw, rteam_dwork_run);
	return w;
}

void rteam_dwork_schedule(struct rteam_dwork *w, unsigned int msecs)
{
	schedule_delayed_work(&w->dw, msecs_to_jiffies(msecs));
}

void rteam_dwork_cancel(struct rteam_dwork *w) { cancel_delayed_work(&w->dw); }

/* The work only ever trylocks RTNL, so waiting for it with RTNL held is safe. */
void rteam_dwork_free(struct rteam_dwork *w)
{
	cancel_delayed_work_sync(&w->dw);
	kfree(w);
}
