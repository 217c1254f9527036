//! What the activebackup and loadbalance runners ask of the daemon. Their
//! decisions are pure (an event and a [`View`](super::view::View) in, a list
//! of [`Action`]s out); [`apply`] performs the list in order. A kernel write
//! that fails logs C teamd's line for it, and its [`Then`] and the enclosing
//! [`Action::Call`] do with the error what C does at that point, so a hook
//! returns what C's returns.

use std::time::Duration;

use team_nl_client::team_nl::{OptionItem, OptionValue};

use crate::kernel::{is_gone, KResult, Kernel};
use crate::log;
use crate::team::{Ctx, TimerKey};

/// One write to the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// A port's `enabled` option.
    Enabled {
        ifindex: u32,
        enabled: bool,
    },
    /// The team's `activeport` option.
    ActivePort(u32),
    PortHwaddr {
        ifindex: u32,
        mac: Vec<u8>,
    },
    TeamHwaddr(Vec<u8>),
    /// Any other option (hash function, balancer settings).
    Option(OptionItem),
}

/// What a failed write does to the rest of the list (the enclosing call's
/// or the hook's), after its line is logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Then {
    /// The call stops and fails (C: `return err`).
    Fail,
    /// The call stops; a port that went away meanwhile is no failure (C:
    /// `return TEAMD_ENOENT(err) ? 0 : err`).
    FailUnlessGone,
    /// This write is taken back first, its own result ignored as C does,
    /// then as `Fail`.
    UndoAndFail(Op),
}

/// How the caller of an [`Action::Call`] takes its failure when the port
/// went away meanwhile (any other failure stops the caller too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfGone {
    /// Go on with what follows the call.
    GoOn,
    /// Go on, and run the runner's deferred work of this id soon (C queues
    /// it on its work queue).
    Retry(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Debug,
    Info,
}

/// `N`: the runner's own bookkeeping, done only if every write before it
/// in the list succeeded (as C updates its state only after them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<N> {
    Kernel {
        op: Op,
        /// Logged at error level when the write fails.
        log: String,
        then: Then,
    },
    Log(Level, String),
    Note(N),
    /// The steps of one C helper, whose caller looks at its error.
    Call {
        steps: Vec<Action<N>>,
        if_gone: IfGone,
    },
}

impl<N> Action<N> {
    pub fn kernel(op: Op, log: impl Into<String>, then: Then) -> Self {
        Action::Kernel {
            op,
            log: log.into(),
            then,
        }
    }

    pub fn info(msg: impl Into<String>) -> Self {
        Action::Log(Level::Info, msg.into())
    }

    pub fn debug(msg: impl Into<String>) -> Self {
        Action::Log(Level::Debug, msg.into())
    }
}

/// Performs one write.
pub async fn perform<K: Kernel>(ctx: &mut Ctx<K>, op: Op) -> KResult {
    match op {
        Op::Enabled { ifindex, enabled } => ctx.kernel.set_port_enabled(ifindex, enabled).await,
        Op::ActivePort(ifindex) => {
            let item = OptionItem::new("activeport", OptionValue::U32(ifindex));
            ctx.kernel.set_option(item).await
        }
        Op::PortHwaddr { ifindex, mac } => ctx.kernel.set_hwaddr(ifindex, &mac).await,
        Op::TeamHwaddr(mac) => {
            let team = ctx.kernel.team_ifindex();
            ctx.kernel.set_hwaddr(team, &mac).await
        }
        Op::Option(item) => ctx.kernel.set_option(item).await,
    }
}

/// Performs `actions` in order, handing each reached note to `note` (whose
/// error stops the list like a failed write); returns the first error that
/// C would have returned from the hook.
pub async fn apply<K: Kernel, N>(
    ctx: &mut Ctx<K>,
    actions: Vec<Action<N>>,
    mut note: impl FnMut(N) -> KResult,
) -> KResult {
    // Calls nest; they are walked with a stack of the lists under way rather than by
    // recursion, which would need a boxed (type-erased) future.
    let mut stack = vec![Frame {
        rest: actions.into_iter(),
        if_gone: None,
    }];
    while let Some(frame) = stack.last_mut() {
        let Some(action) = frame.rest.next() else {
            stack.pop();
            continue;
        };
        let outcome = match action {
            Action::Kernel { op, log, then } => match perform(ctx, op).await {
                Ok(()) => Step::Next,
                Err(e) => {
                    log::err(&log);
                    match then {
                        Then::Fail => Step::Fail(e),
                        Then::FailUnlessGone if is_gone(&e) => Step::EndList,
                        Then::FailUnlessGone => Step::Fail(e),
                        Then::UndoAndFail(undo) => {
                            let _ = perform(ctx, undo).await;
                            Step::Fail(e)
                        }
                    }
                }
            },
            Action::Log(Level::Info, msg) => {
                log::info(&msg);
                Step::Next
            }
            Action::Log(Level::Debug, msg) => {
                log::dbg(1, || msg);
                Step::Next
            }
            Action::Note(n) => match note(n) {
                Ok(()) => Step::Next,
                Err(e) => Step::Fail(e),
            },
            Action::Call { steps, if_gone } => {
                stack.push(Frame {
                    rest: steps.into_iter(),
                    if_gone: Some(if_gone),
                });
                Step::Next
            }
        };
        match outcome {
            Step::Next => {}
            Step::EndList => {
                stack.pop();
            }
            Step::Fail(e) => {
                // The failed list ends; its caller looks at the error, and a caller
                // that does not go on fails in turn, up to the hook.
                loop {
                    let Some(failed) = stack.pop() else {
                        return Err(e);
                    };
                    match failed.if_gone {
                        None => return Err(e),
                        Some(IfGone::GoOn) if is_gone(&e) => break,
                        Some(IfGone::Retry(work)) if is_gone(&e) => {
                            ctx.timers.arm(TimerKey::Runner(work), Duration::ZERO);
                            break;
                        }
                        Some(_) => {}
                    }
                }
            }
        }
    }
    Ok(())
}

/// A list under way: what is left of it, and how its caller takes its failure (`None`
/// for the hook's own list).
struct Frame<N> {
    rest: std::vec::IntoIter<Action<N>>,
    if_gone: Option<IfGone>,
}

enum Step {
    Next,
    /// The list ends here, successfully.
    EndList,
    Fail(team_nl_client::Error),
}

/// Every write of a list, calls flattened, in order.
#[cfg(test)]
pub fn ops<N>(actions: &[Action<N>]) -> Vec<Op> {
    let mut out = Vec::new();
    for a in actions {
        match a {
            Action::Kernel { op, .. } => out.push(op.clone()),
            Action::Call { steps, .. } => out.extend(ops(steps)),
            Action::Log(..) | Action::Note(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, TeamSettings};
    use crate::kernel::fake::{Call, FakeKernel};
    use crate::kernel::{ENODEV, ENOENT};
    use crate::team::Setup;
    use serde_json::json;

    fn ctx() -> Ctx<FakeKernel> {
        let config = Config::new(json!({})).unwrap();
        let settings = TeamSettings::from_config(&config).unwrap();
        Ctx::new(FakeKernel::new(1), config, settings, Setup::default())
    }

    fn enable(ifindex: u32, then: Then) -> Action<u32> {
        Action::kernel(
            Op::Enabled {
                ifindex,
                enabled: true,
            },
            "failed",
            then,
        )
    }

    fn disabled(ifindex: u32) -> Op {
        Op::Enabled {
            ifindex,
            enabled: false,
        }
    }

    #[tokio::test]
    async fn a_failed_write_stops_the_list_and_skips_later_notes() {
        let mut c = ctx();
        c.kernel.fail.push(("enabled".into(), Some(2), 5));
        let mut noted = Vec::new();
        let r = apply(
            &mut c,
            vec![Action::Note(1), enable(2, Then::Fail), Action::Note(2)],
            |n| {
                noted.push(n);
                Ok(())
            },
        )
        .await;
        assert_eq!(r.unwrap_err().errno(), Some(5));
        assert_eq!(noted, vec![1]);
    }

    #[tokio::test]
    async fn a_vanished_port_is_no_failure_where_c_says_so() {
        let mut c = ctx();
        c.kernel.fail.push(("enabled".into(), Some(2), ENOENT));
        let acts = vec![enable(2, Then::FailUnlessGone), enable(3, Then::Fail)];
        apply(&mut c, acts, |_: u32| Ok(())).await.unwrap();
        assert!(c.kernel.calls.is_empty(), "the list stopped there");
    }

    #[tokio::test]
    async fn undo_then_the_caller_retries_a_vanished_port() {
        let mut c = ctx();
        c.kernel.fail.push(("activeport".into(), None, ENODEV));
        let steps = vec![
            enable(2, Then::Fail),
            Action::kernel(Op::ActivePort(2), "x", Then::UndoAndFail(disabled(2))),
        ];
        let acts = vec![
            Action::Call {
                steps,
                if_gone: IfGone::Retry(7),
            },
            enable(3, Then::Fail),
        ];
        apply(&mut c, acts, |_: u32| Ok(())).await.unwrap();
        let set = |i, v| Call::Set(OptionItem::new("enabled", OptionValue::Bool(v)).port(i));
        assert_eq!(
            c.kernel.calls,
            vec![set(2, true), set(2, false), set(3, true)]
        );
        assert!(c.timers.is_armed(TimerKey::Runner(7)));
    }

    #[tokio::test]
    async fn a_call_fails_its_caller_unless_gone() {
        let mut c = ctx();
        c.kernel.fail.push(("enabled".into(), Some(2), 5));
        let acts = vec![
            Action::Call {
                steps: vec![enable(2, Then::Fail)],
                if_gone: IfGone::GoOn,
            },
            enable(3, Then::Fail),
        ];
        assert!(apply(&mut c, acts, |_: u32| Ok(())).await.is_err());
        assert!(c.kernel.calls.is_empty());
    }
}
