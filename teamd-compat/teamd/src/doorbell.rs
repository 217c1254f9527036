//! One wait for all of the main loop's event queues. The tasks that read the daemon's
//! sockets put what they read on queues of their own, then ring the bell with their
//! queue's bit; the main loop waits on the bell alone and takes from the queues whose
//! bits rang, without waiting on them. Waiting on each queue instead (a `select!` over
//! five of them) set up a wait on every queue on every turn, and that was most of what
//! an idle daemon spent between two probe packets.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, Notify};

/// The main loop's event sources, one bit each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Signal = 1,
    Team = 1 << 1,
    Link = 1 << 2,
    Packet = 1 << 3,
    Control = 1 << 4,
}

impl Source {
    /// In the order the main loop serves them within one turn.
    pub const ALL: [Source; 5] = [
        Source::Signal,
        Source::Team,
        Source::Link,
        Source::Packet,
        Source::Control,
    ];

    fn bit(self) -> u32 {
        self as u32
    }
}

/// A set of sources that rang.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rung(u32);

impl Rung {
    pub fn contains(self, source: Source) -> bool {
        self.0 & source.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn add(&mut self, source: Source) {
        self.0 |= source.bit();
    }
}

#[derive(Debug, Default)]
pub struct Doorbell {
    rung: AtomicU32,
    notify: Notify,
}

impl Doorbell {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Called after a message was queued for `source` (or its sender went away, so that
    /// the loop sees the queue closed).
    pub fn ring(&self, source: Source) {
        self.rung.fetch_or(source.bit(), Ordering::AcqRel);
        // stores a permit when the loop is not waiting: a ring is never lost
        self.notify.notify_one();
    }

    /// Puts back sources whose queues may hold more, for the next turn; the loop is
    /// running, so there is nobody to wake.
    pub fn keep(&self, rung: Rung) {
        if !rung.is_empty() {
            self.rung.fetch_or(rung.0, Ordering::AcqRel);
        }
    }

    /// The sources rung since the last call, waiting until there is one.
    pub async fn rung(&self) -> Rung {
        loop {
            let bits = self.rung.swap(0, Ordering::AcqRel);
            if bits != 0 {
                return Rung(bits);
            }
            // A permit left by a ring whose bits an earlier turn already took only
            // costs one more look.
            self.notify.notified().await;
        }
    }
}

/// Rings the bell when dropped: a queue whose last sender is gone reads as closed, and
/// the loop must look at it to learn that.
#[derive(Clone)]
pub struct RingOnDrop {
    bell: Arc<Doorbell>,
    source: Source,
}

impl RingOnDrop {
    pub fn new(bell: Arc<Doorbell>, source: Source) -> Self {
        Self { bell, source }
    }

    pub fn ring(&self) {
        self.bell.ring(self.source);
    }
}

impl Drop for RingOnDrop {
    fn drop(&mut self) {
        self.bell.ring(self.source);
    }
}

/// The sending side of a bounded queue of the main loop: each message queued rings the
/// bell, and so does the sender's drop.
pub struct Sender<T> {
    tx: mpsc::Sender<T>,
    ring: RingOnDrop,
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            ring: self.ring.clone(),
        }
    }
}

impl<T> Sender<T> {
    /// Waits for room in the queue; fails when the loop is gone.
    pub async fn send(&self, message: T) -> Result<(), ()> {
        self.tx.send(message).await.map_err(drop)?;
        self.ring.ring();
        Ok(())
    }
}

/// A queue of at most `bound` messages from `source`, whose sender rings `bell`; the loop
/// takes from the receiver without waiting on it.
pub fn channel<T>(
    bell: &Arc<Doorbell>,
    source: Source,
    bound: usize,
) -> (Sender<T>, mpsc::Receiver<T>) {
    let (tx, rx) = mpsc::channel(bound);
    let ring = RingOnDrop::new(bell.clone(), source);
    (Sender { tx, ring }, rx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_ring_before_the_wait_is_not_lost_and_bits_add_up() {
        let bell = Doorbell::new();
        bell.ring(Source::Team);
        bell.ring(Source::Packet);
        let r = bell.rung().await;
        assert!(r.contains(Source::Team) && r.contains(Source::Packet));
        assert!(!r.contains(Source::Link));
        // taken: the next wait blocks until another ring
        let waited = tokio::time::timeout(Duration::from_millis(50), bell.rung()).await;
        assert!(waited.is_err());
    }

    #[tokio::test]
    async fn a_ring_from_another_task_wakes_the_wait() {
        let bell = Doorbell::new();
        let b = bell.clone();
        let h = tokio::spawn(async move { b.rung().await });
        tokio::task::yield_now().await;
        bell.ring(Source::Control);
        let r = tokio::time::timeout(Duration::from_secs(5), h)
            .await
            .expect("woken")
            .expect("joined");
        assert!(r.contains(Source::Control));
    }

    #[tokio::test]
    async fn kept_sources_come_back_without_a_ring_and_drop_rings() {
        let bell = Doorbell::new();
        let mut kept = Rung::default();
        kept.add(Source::Link);
        bell.keep(kept);
        assert!(bell.rung().await.contains(Source::Link));
        drop(RingOnDrop::new(bell.clone(), Source::Signal));
        assert!(bell.rung().await.contains(Source::Signal));
    }

    #[tokio::test]
    async fn a_sender_rings_for_each_message_and_when_dropped() {
        let bell = Doorbell::new();
        let (tx, mut rx) = channel(&bell, Source::Team, 2);
        tx.send(7u32).await.expect("queued");
        assert!(bell.rung().await.contains(Source::Team));
        assert_eq!(rx.try_recv(), Ok(7));
        drop(tx);
        assert!(bell.rung().await.contains(Source::Team));
        assert_eq!(rx.try_recv(), Err(mpsc::error::TryRecvError::Disconnected));
    }
}
