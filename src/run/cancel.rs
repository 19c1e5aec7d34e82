//! A cancelled job: the runner sends SIGTERM (or SIGINT) and kills the process soon after,
//! so the run stops sending mutations at once, gives the one in flight a short grace, and
//! writes its record while it still can.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// How long a mutation already sent may take to finish after a cancel, so that the record
/// is written and the process exits well within 10 s of the signal.
pub const GRACE: Duration = Duration::from_secs(6);

/// What the versions not tried because of a cancel are left with.
pub const CANCELLED: &str = "cancelled";

/// Why a cancelled run failed, for the log and the summary.
pub const CANCELLED_RUN: &str = "cancelled (SIGTERM or SIGINT: the job was cancelled or timed out); nothing was sent after the signal";

/// Why a run cancelled while planning failed, when nothing had been changed yet.
pub const CANCELLED_PLANNING: &str = "cancelled (SIGTERM or SIGINT) before anything was changed";

/// A cancel request, shared between the signal listener and the run. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    at: OnceLock<Instant>,
    notify: Notify,
}

impl Cancel {
    /// Ask the run to stop; the first request counts.
    pub fn request(&self) {
        let _ = self.inner.at.set(Instant::now());
        self.inner.notify.notify_waiters();
    }

    pub fn is_requested(&self) -> bool {
        self.inner.at.get().is_some()
    }

    /// Resolves once a cancel has been requested.
    pub async fn requested(&self) {
        loop {
            // Registered before the check, so a request between the two still wakes it.
            let notified = self.inner.notify.notified();
            if self.is_requested() {
                return;
            }
            notified.await;
        }
    }

    /// Resolves [`GRACE`] after a cancel was requested.
    pub async fn grace_over(&self) {
        self.requested().await;
        if let Some(at) = self.inner.at.get() {
            tokio::time::sleep_until(*at + GRACE).await;
        }
    }
}

/// Turn SIGTERM and SIGINT into a cancel request, from a task on the current runtime.
pub fn listen(cancel: &Cancel) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let cancel = cancel.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        cancel.request();
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_request_wakes_waiters_and_the_grace_ends_after_it() {
        let cancel = Cancel::default();
        assert!(!cancel.is_requested());
        let waiter = tokio::spawn({
            let cancel = cancel.clone();
            async move { cancel.requested().await }
        });
        tokio::task::yield_now().await;
        cancel.request();
        assert!(waiter.await.is_ok());
        assert!(cancel.is_requested());
        let start = Instant::now();
        cancel.grace_over().await;
        assert_eq!(Instant::now() - start, GRACE);
    }

    #[tokio::test(start_paused = true)]
    async fn a_second_request_does_not_extend_the_grace() {
        let cancel = Cancel::default();
        cancel.request();
        let start = Instant::now();
        tokio::time::sleep(Duration::from_secs(2)).await;
        cancel.request();
        cancel.grace_over().await;
        assert_eq!(Instant::now() - start, GRACE);
    }
}
