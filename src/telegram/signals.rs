//! Stopping on SIGINT and SIGTERM, gracefully but within a deadline.
//!
//! teloxide's own ctrl-c handler catches only SIGINT, and a service manager (systemd, Docker,
//! Kubernetes) stops a process with SIGTERM, so both are caught here. A signal sets a [`Stop`]
//! flag that every part of the bot watches (start-up, the dispatcher, the webhook server); they
//! finish what is in flight and return. If that takes longer than [`GRACE`] (a reply stuck
//! behind a long `retry_after`, say), the process exits anyway, so an orchestrator never has to
//! escalate to SIGKILL.
//!
//! SIGHUP asks for a content reload: [`hangups`] delivers each one to [`super::reload`]. Once
//! it is listened for, a SIGHUP no longer ends the process (its default action).

use std::time::Duration;

use tokio::sync::watch;

/// How long in-flight work may take after a stop signal before the process exits regardless.
pub(crate) const GRACE: Duration = Duration::from_secs(4);

/// A flag raised once, when the bot is asked to stop. Cheap to clone; every clone sees it.
#[derive(Clone, Debug)]
pub struct Stop {
    rx: watch::Receiver<bool>,
}

/// Raises a [`Stop`] flag; the handle a signal listener (or a test) holds.
#[derive(Debug)]
pub struct StopHandle {
    tx: watch::Sender<bool>,
}

impl Stop {
    /// A flag and the handle that raises it.
    pub fn pair() -> (StopHandle, Stop) {
        let (tx, rx) = watch::channel(false);
        (StopHandle { tx }, Stop { rx })
    }

    /// Whether the flag is up.
    #[cfg(test)]
    pub(crate) fn is_requested(&self) -> bool {
        *self.rx.borrow()
    }

    /// Wait until the flag is up (at once if it already is).
    pub async fn requested(&self) {
        let mut rx = self.rx.clone();
        // An error means every handle is gone: nobody can ask any more, so wait forever.
        if rx.wait_for(|&up| up).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl StopHandle {
    /// Raise the flag.
    pub fn stop(&self) {
        self.tx.send_replace(true);
    }
}

/// Listen for SIGINT and SIGTERM (Ctrl-C elsewhere than Unix) from now on. The first one raises
/// the returned flag and starts the [`GRACE`] deadline; when it passes, or a second signal
/// comes (Ctrl-C pressed twice), the process exits with status 0 even if something is still
/// running. Must be called inside a tokio runtime.
pub fn listen() -> std::io::Result<Stop> {
    let (handle, stop) = Stop::pair();
    let mut signals = Signals::new()?;
    tokio::spawn(async move {
        let name = signals.next().await;
        log::info!("{name} received: finishing replies in flight, then stopping");
        handle.stop();
        tokio::select! {
            () = tokio::time::sleep(GRACE) => log::warn!(
                "still busy {} s after {name}: exiting with work in flight",
                GRACE.as_secs()
            ),
            again = signals.next() => log::warn!("{again} received again: exiting now"),
        }
        std::process::exit(0);
    });
    Ok(stop)
}

/// SIGHUPs, as they arrive (a reload request). Several arriving while one is handled count as one.
#[derive(Debug)]
pub struct Hangups {
    #[cfg(unix)]
    signal: tokio::signal::unix::Signal,
}

/// Listen for SIGHUP from now on. Must be called inside a tokio runtime.
pub fn hangups() -> std::io::Result<Hangups> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Hangups {
            signal: signal(SignalKind::hangup())?,
        })
    }
    #[cfg(not(unix))]
    {
        Ok(Hangups {})
    }
}

impl Hangups {
    /// Wait for the next SIGHUP (forever where there is none).
    pub async fn next(&mut self) {
        #[cfg(unix)]
        {
            if self.signal.recv().await.is_none() {
                std::future::pending::<()>().await;
            }
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await;
    }
}

#[cfg(unix)]
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn new() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// The name of the next stop signal to arrive.
    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn new() -> std::io::Result<Self> {
        Ok(Self)
    }

    async fn next(&mut self) -> &'static str {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_clone_sees_the_flag() {
        let (handle, stop) = Stop::pair();
        let other = stop.clone();
        assert!(!other.is_requested());
        let waiter = tokio::spawn(async move { other.requested().await });
        handle.stop();
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .expect("the waiter wakes")
            .expect("the waiter does not panic");
        assert!(stop.is_requested());
    }
}
