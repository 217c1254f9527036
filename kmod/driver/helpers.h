/* SPDX-License-Identifier: GPL-2.0-only */
/* Prototypes of the C helpers (helpers.c) called from Rust. */
#ifndef RTEAM_HELPERS_H
#define RTEAM_HELPERS_H

#include <linux/netdevice.h>
#include <net/genetlink.h>
#include <linux/filter.h>
#include <linux/netpoll.h>

/* The Rust receive handler; helpers.c compares port rx_handlers with it. */
rx_handler_result_t rteam_handle_frame(struct sk_buff **pskb);

extern const struct nla_policy rteam_nl_policy[4];

void *rteam_netdev_priv(struct net_device *dev);
void rteam_setup_dev(struct net_device *dev, const struct net_device_ops *ops);
void rteam_eth_hw_addr_random(struct net_device *dev);
const struct net_device_ops *rteam_dev_ops(const struct net_device *dev);
int rteam_ifindex(const struct net_device *dev);
const char *rteam_name(const struct net_device *dev);
unsigned int rteam_dev_flags(const struct net_device *dev);
unsigned int rteam_mtu(const struct net_device *dev);
unsigned short rteam_dev_type(const struct net_device *dev);
const unsigned char *rteam_dev_addr(const struct net_device *dev);
bool rteam_is_loopback(const struct net_device *dev);
bool rteam_vlan_challenged(const struct net_device *dev);
bool rteam_oper_up(const struct net_device *dev);
void rteam_set_team_port_flag(struct net_device *dev, bool on);
bool rteam_is_team_port(const struct net_device *dev);
void *rteam_port_team_rtnl(const struct net_device *port_dev);
void rteam_port_speed(struct net_device *dev, u32 *speed, u8 *duplex);
struct net *rteam_dev_net(const struct net_device *dev);
void rteam_dev_put(struct net_device *dev);
struct net_device *rteam_notifier_dev(void *ptr);
int rteam_set_port_addr(struct net_device *port_dev, const unsigned char *addr);

struct sk_buff *rteam_skb_share_check(struct sk_buff *skb);
bool rteam_skb_dest_link_local(const struct sk_buff *skb);
bool rteam_skb_is_slow_proto(const struct sk_buff *skb);
void rteam_skb_free(struct sk_buff *skb);
struct sk_buff *rteam_skb_clone(struct sk_buff *skb);
int rteam_netpoll_xmit(struct sk_buff *skb, struct netpoll *np);
struct netpoll *rteam_netpoll_setup(struct net_device *port_dev, int *err);
void rteam_netpoll_free(struct netpoll *np);
void rteam_tx_stats(struct net_device *dev, unsigned int len);
void rteam_rx_stats(struct net_device *dev, const struct sk_buff *skb);
void rteam_rx_nohandler(struct net_device *dev);
void rteam_tx_dropped(struct net_device *dev);

void rteam_rcu_read_lock(void);
void rteam_rcu_read_unlock(void);
void rteam_rcu_store(void **slot, void *val);
void rteam_call_rcu(struct rcu_head *head, rcu_callback_t func);
void rteam_rcu_barrier(void);

struct sk_buff *rteam_genlmsg_new(void);
void rteam_nlmsg_free(struct sk_buff *skb);
unsigned char *rteam_skb_tail(struct sk_buff *skb, unsigned int *room);
void rteam_genlmsg_end(struct sk_buff *skb, void *hdr);
bool rteam_nlmsg_done(struct sk_buff *skb, u32 portid, u32 seq, int flags);
int rteam_genl_unicast(struct net *net, struct sk_buff *skb, u32 portid);
int rteam_genl_multicast(const struct genl_family *family, struct net *net, struct sk_buff *skb);
u32 rteam_info_portid(const struct genl_info *info);
u32 rteam_info_seq(const struct genl_info *info);
struct net *rteam_info_net(const struct genl_info *info);
const void *rteam_info_attr(const struct genl_info *info, int attr, int *len);

void rteam_store_mtu(struct net_device *dev, unsigned int mtu);
const unsigned char *rteam_nla(const struct nlattr *a, int *len);
u32 rteam_bpf_run(const struct bpf_prog *prog, const struct sk_buff *skb);
void rteam_extack_msg(struct netlink_ext_ack *extack, const char *msg);

/* Offload state of a device, as features.rs folds it (plain copies). */
struct rteam_caps {
	netdev_features_t features;
	netdev_features_t vlan;
	netdev_features_t enc;
	netdev_features_t mpls;
	bool dst_release;
	unsigned short hard_header_len;
	unsigned short needed_headroom;
	unsigned short needed_tailroom;
	unsigned int tso_max_size;
	unsigned int tso_max_segs;
	unsigned int gso_max_size;
	unsigned int gso_ipv4_max_size;
	unsigned int gso_max_segs;
};

extern const netdev_features_t rteam_vlan_mask;
extern const netdev_features_t rteam_enc_mask;
extern const netdev_features_t rteam_mpls_mask;
extern const netdev_features_t rteam_enc_always;
extern const netdev_features_t rteam_one_for_all;
extern const netdev_features_t rteam_all_for_all;
extern const netdev_features_t rteam_all_tso;

void rteam_read_caps(const struct net_device *dev, struct rteam_caps *c);
void rteam_write_masks(struct net_device *dev, netdev_features_t vlan, netdev_features_t enc,
		       netdev_features_t mpls, bool dst_release);
void rteam_write_room(struct net_device *dev, unsigned short hlen, unsigned short head,
		      unsigned short tail);
bool rteam_dev_registered(const struct net_device *dev);
struct net_device *rteam_next_lower(struct net_device *dev, struct list_head **iter);
void rteam_lower_gso(struct net_device *dev, unsigned int size, unsigned int ipv4_size, u16 segs);
void rteam_addr_lists_sync(struct net_device *port, struct net_device *team);
void rteam_addr_lists_sync_locked(struct net_device *port, struct net_device *team);
void rteam_addr_lists_unsync(struct net_device *port, struct net_device *team);
bool rteam_vlan_uses_dev(const struct net_device *dev);

/*
 * loadbalance statistics: per-CPU u64 counters (the tx bytes of each hash
 * bucket, then of each port slot). The team's delayed work items (the
 * stats refresher, the notify_peers and mcast_rejoin bursts) run
 * rteam_team_work(dev, kind) with RTNL held.
 */
void *rteam_pcpu_alloc(unsigned int count);
void rteam_pcpu_free(void *pcpu);
void rteam_pcpu_add(void *pcpu, unsigned int idx, u64 val);
u64 rteam_pcpu_sum(void *pcpu, unsigned int idx);
void rteam_pcpu_zero(void *pcpu, unsigned int idx);

struct rteam_dwork;
/* Implemented in Rust: process context, RTNL held. */
void rteam_team_work(struct net_device *dev, unsigned int kind);
struct rteam_dwork *rteam_dwork_alloc(struct net_device *dev, unsigned int kind);
void rteam_dwork_schedule(struct rteam_dwork *w, unsigned int msecs);
void rteam_dwork_cancel(struct rteam_dwork *w);
void rteam_dwork_free(struct rteam_dwork *w);

int rteam_vlan_vid_add(struct net_device *dev, __be16 proto, u16 vid);
void rteam_vlan_vid_del(struct net_device *dev, __be16 proto, u16 vid);
int rteam_vlan_vids_add_by_dev(struct net_device *dev, const struct net_device *by_dev);
void rteam_vlan_vids_del_by_dev(struct net_device *dev, const struct net_device *by_dev);

#endif
