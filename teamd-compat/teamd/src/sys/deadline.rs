//! One timerfd for the daemon's own timers (`team::Timers`): armed for their earliest
//! deadline, on CLOCK_MONOTONIC in absolute time, as C teamd's timers are timerfds too.
//! Through the runtime's timer wheel instead, each re-arming after a tick woke the
//! runtime's driver (an eventfd write and a spurious turn), and every park read the
//! clock before sleeping; a timerfd is one `timerfd_settime` per change of deadline.

use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::{Duration, Instant};

use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use nix::time::{clock_gettime, ClockId as Clock};
use tokio::io::unix::AsyncFd;

/// nix's timerfd, which owns its descriptor but shows it only as `AsFd`.
struct Owned(TimerFd);

impl AsRawFd for Owned {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

pub struct DeadlineTimer {
    fd: AsyncFd<Owned>,
    /// An `Instant` and the CLOCK_MONOTONIC time read just after it: `Instant` does not
    /// show its clock reading, so deadlines are placed on the timerfd's clock by their
    /// distance from this pair (at most the gap between the two reads late, never early).
    base: (Instant, Duration),
    armed: Option<Instant>,
}

impl DeadlineTimer {
    pub fn new() -> io::Result<Self> {
        let timer = TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )?;
        let at = Instant::now();
        let mono = Duration::from(clock_gettime(Clock::CLOCK_MONOTONIC)?);
        Ok(Self {
            fd: super::async_fd(Owned(timer))?,
            base: (at, mono),
            armed: None,
        })
    }

    pub fn is_armed(&self) -> bool {
        self.armed.is_some()
    }

    /// Arms the timer for `deadline`, or disarms it for `None`; nothing to do when it
    /// is already set so.
    pub fn set(&mut self, deadline: Option<Instant>) -> io::Result<()> {
        if deadline == self.armed {
            return Ok(());
        }
        let timer = &self.fd.get_ref().0;
        match deadline {
            Some(at) => {
                let mono = self.base.1 + at.saturating_duration_since(self.base.0);
                // a zero time would disarm it; any time already passed fires at once
                let mono = mono.max(Duration::from_nanos(1));
                timer.set(
                    Expiration::OneShot(TimeSpec::from_duration(mono)),
                    TimerSetTimeFlags::TFD_TIMER_ABSTIME,
                )?;
            }
            None => timer.unset()?,
        }
        self.armed = deadline;
        Ok(())
    }

    /// Waits for the armed deadline (forever while disarmed); the timer is then
    /// disarmed.
    pub async fn expired(&mut self) -> io::Result<()> {
        let mut ready = self.fd.readable().await?;
        // The expiration count is not read: the next `set` resets it, and only a new
        // expiry after that makes the timerfd readable again.
        ready.clear_ready();
        self.armed = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHORT: Duration = Duration::from_millis(20);
    const LONG: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn fires_at_its_deadline_and_again_once_rearmed() {
        let mut t = DeadlineTimer::new().expect("timerfd");
        for _ in 0..3 {
            let at = Instant::now() + SHORT;
            t.set(Some(at)).expect("arm");
            tokio::time::timeout(LONG, t.expired())
                .await
                .expect("fires")
                .expect("no error");
            assert!(Instant::now() >= at, "never before its deadline");
            assert!(!t.is_armed());
        }
    }

    #[tokio::test]
    async fn a_passed_deadline_fires_at_once_and_a_disarmed_timer_never() {
        let mut t = DeadlineTimer::new().expect("timerfd");
        t.set(Some(Instant::now() - SHORT)).expect("arm");
        tokio::time::timeout(LONG, t.expired())
            .await
            .expect("fires")
            .expect("no error");
        t.set(Some(Instant::now() + SHORT)).expect("arm");
        t.set(None).expect("disarm");
        assert!(tokio::time::timeout(SHORT * 3, t.expired()).await.is_err());
    }

    #[tokio::test]
    async fn moving_the_deadline_later_delays_the_expiry() {
        let mut t = DeadlineTimer::new().expect("timerfd");
        t.set(Some(Instant::now() + SHORT)).expect("arm");
        let later = Instant::now() + SHORT * 4;
        t.set(Some(later)).expect("move");
        tokio::time::timeout(LONG, t.expired())
            .await
            .expect("fires")
            .expect("no error");
        assert!(Instant::now() >= later);
    }
}
