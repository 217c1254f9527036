/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel headers the Rust team driver binds to (bindgen input), plus the
 * prototypes of helpers.c, which wraps static inlines, macros and bitfields
 * that bindgen cannot expose as callable functions.
 */
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <linux/rcupdate.h>
#include <linux/workqueue.h>
#include <linux/filter.h>
#include <linux/netpoll.h>
#include <net/rtnetlink.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sch_generic.h>

#include "helpers.h"
