//! Callers hammering a cache while a test breaks what is under it: the fault tests' load.
//!
//! Each task runs the test's operation in a loop until told to stop, counting what succeeded and
//! what failed; a caller that fails backs off a little, as an application would. The operation
//! asserts what it reads (a panic in a task fails [`Load::stop`]), so a wrong value under faults
//! fails the test, not just an error.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::{CacheError, Result};

/// How many errors each task keeps for the test to read; the rest are only counted.
const KEPT_ERRORS: usize = 200;

/// How long a failed caller waits before its next call.
const BACK_OFF: Duration = Duration::from_millis(5);

/// Tasks calling an operation until stopped. See the module docs.
#[derive(Debug)]
pub struct Load {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicUsize>,
    errors: Arc<AtomicUsize>,
    tasks: Vec<JoinHandle<Vec<CacheError>>>,
}

impl Load {
    /// Starts `tasks` tasks, each calling `operation(task, i)` for `i` = 0, 1, 2… until
    /// [`Load::stop`]. Must be called within a tokio runtime.
    pub fn start<F, Fut>(tasks: usize, operation: F) -> Load
    where
        F: Fn(usize, usize) -> Fut + Clone + Send + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicUsize::new(0));
        let errors = Arc::new(AtomicUsize::new(0));
        let tasks = (0..tasks)
            .map(|task| {
                let (operation, stop, ok, errors) = (operation.clone(), stop.clone(), ok.clone(), errors.clone());
                tokio::spawn(async move {
                    let mut kept = Vec::new();
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        match operation(task, i).await {
                            Ok(()) => {
                                ok.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(error) => {
                                errors.fetch_add(1, Ordering::Relaxed);
                                if kept.len() < KEPT_ERRORS {
                                    kept.push(error);
                                }
                                tokio::time::sleep(BACK_OFF).await;
                            }
                        }
                        i += 1;
                    }
                    kept
                })
            })
            .collect();
        Load {
            stop,
            ok,
            errors,
            tasks,
        }
    }

    /// Calls that succeeded so far.
    pub fn ok(&self) -> usize {
        self.ok.load(Ordering::Relaxed)
    }

    /// Calls that failed so far.
    pub fn errors(&self) -> usize {
        self.errors.load(Ordering::Relaxed)
    }

    /// Waits until `counter` (say [`Load::ok`]) reaches `at_least`; panics naming `what` after 30 s.
    pub async fn until(&self, what: &str, counter: impl Fn(&Load) -> usize, at_least: usize) {
        for _ in 0..6000 {
            if counter(self) >= at_least {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("no {at_least} {what} within 30 s");
    }

    /// Stops the tasks; the errors they kept (up to 200 each). A panic in a task panics here.
    pub async fn stop(self) -> Vec<CacheError> {
        self.stop.store(true, Ordering::Relaxed);
        let mut errors = Vec::new();
        for task in self.tasks {
            errors.extend(task.await.expect("no caller panicked"));
        }
        errors
    }
}
