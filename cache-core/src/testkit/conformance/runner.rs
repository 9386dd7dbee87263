//! Running the catalogue against a [`Subject`] and reporting what ran, what was skipped and why.

use std::any::Any;
use std::fmt;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use futures::future::join_all;

use super::catalogue::{CONFORMANCE, Conformance, NOT_PORTED, Timing};
use crate::testkit::Subject;

/// What happened to one conformance function, or to a catalogue item that has no Rust counterpart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It ran and passed.
    Passed {
        /// `module::function`.
        name: &'static str,
        /// The catalogue items it ports.
        covers: &'static str,
    },
    /// It does not apply to this backend, or has no Rust counterpart.
    Skipped {
        /// `module::function`, or the Django tests for an item that isn't ported.
        name: &'static str,
        /// The catalogue items concerned.
        covers: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// It panicked.
    Failed {
        /// `module::function`.
        name: &'static str,
        /// The catalogue items it ports.
        covers: &'static str,
        /// The panic message.
        message: String,
    },
}

/// The outcome of every conformance function of a run, in the order they ran.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// One per function considered, then one per catalogue item that isn't ported.
    pub outcomes: Vec<Outcome>,
}

impl Report {
    /// The names of the functions that passed.
    pub fn passed(&self) -> Vec<&'static str> {
        self.outcomes
            .iter()
            .filter_map(|outcome| match outcome {
                Outcome::Passed { name, .. } => Some(*name),
                _ => None,
            })
            .collect()
    }

    /// The skipped functions and items, each with the reason.
    pub fn skipped(&self) -> Vec<(&'static str, &'static str)> {
        self.outcomes
            .iter()
            .filter_map(|outcome| match outcome {
                Outcome::Skipped { name, reason, .. } => Some((*name, *reason)),
                _ => None,
            })
            .collect()
    }

    /// The functions that failed, each with its panic message.
    pub fn failed(&self) -> Vec<(&'static str, &str)> {
        self.outcomes
            .iter()
            .filter_map(|outcome| match outcome {
                Outcome::Failed { name, message, .. } => Some((*name, message.as_str())),
                _ => None,
            })
            .collect()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "conformance: {} passed, {} skipped, {} failed",
            self.passed().len(),
            self.skipped().len(),
            self.failed().len()
        )?;
        for outcome in &self.outcomes {
            match outcome {
                Outcome::Passed { name, covers } => writeln!(f, "  passed   {name}  [{covers}]")?,
                Outcome::Skipped { name, covers, reason } => writeln!(f, "  skipped  {name}  [{covers}]: {reason}")?,
                Outcome::Failed { name, covers, message } => writeln!(f, "  FAILED   {name}  [{covers}]: {message}")?,
            }
        }
        Ok(())
    }
}

/// Runs every conformance function that applies to the subject's backend, clearing the storage
/// before each, and prints the [`Report`].
///
/// Tests that wait for entries to expire run last; in real time they overlap (about five seconds
/// in all), with a manual clock they run one after another.
///
/// # Panics
/// After running everything, when any function failed, naming each failure and its message.
pub async fn run_all(subject: &Subject) -> Report {
    run_matching(subject, |_| true).await
}

/// [`run_all`], restricted to the functions whose `module::function` name `filter` accepts
/// (`|name| name.starts_with("expiration::")`, say). Catalogue items that aren't ported are listed
/// when `filter` accepts their Django test names.
///
/// # Panics
/// When any function failed, naming each failure and its message.
pub async fn run_matching(subject: &Subject, filter: impl Fn(&str) -> bool) -> Report {
    let capabilities = subject.capabilities().clone();
    let mut report = Report::default();
    let mut waiting = Vec::new();
    for test in CONFORMANCE.iter().filter(|test| filter(test.name)) {
        match (test.applies)(&capabilities) {
            Err(reason) => report.outcomes.push(Outcome::Skipped {
                name: test.name,
                covers: test.covers,
                reason,
            }),
            Ok(()) if test.timing == Timing::Waits => waiting.push(test),
            Ok(()) => report.outcomes.push(run_cleared(subject, test).await),
        }
    }
    if subject.time_is_manual() {
        // Each moves the shared clock: one at a time.
        for test in waiting {
            report.outcomes.push(run_cleared(subject, test).await);
        }
    } else if !waiting.is_empty() {
        // They sleep: overlap them. Their keys are distinct, so one clear serves them all.
        match subject.clear().await {
            Ok(()) => report
                .outcomes
                .extend(join_all(waiting.into_iter().map(|test| run_one(subject, test))).await),
            Err(error) => report
                .outcomes
                .extend(waiting.into_iter().map(|test| clear_failed(test, &error))),
        }
    }
    // Leave the storage as the tests found it: empty.
    let _ = subject.clear().await;
    for (names, covers, reason) in NOT_PORTED.iter().filter(|(names, ..)| filter(names)) {
        report.outcomes.push(Outcome::Skipped {
            name: names,
            covers,
            reason,
        });
    }

    println!("{report}");
    let failed = report.failed();
    if !failed.is_empty() {
        let list: String = failed
            .iter()
            .map(|(name, message)| format!("\n  {name}: {message}"))
            .collect();
        panic!(
            "{} conformance test(s) failed (the full report is above):{list}",
            failed.len()
        );
    }
    report
}

async fn run_cleared(subject: &Subject, test: &Conformance) -> Outcome {
    match subject.clear().await {
        Ok(()) => run_one(subject, test).await,
        Err(error) => clear_failed(test, &error),
    }
}

async fn run_one(subject: &Subject, test: &Conformance) -> Outcome {
    match AssertUnwindSafe((test.run)(subject)).catch_unwind().await {
        Ok(()) => Outcome::Passed {
            name: test.name,
            covers: test.covers,
        },
        Err(panic) => Outcome::Failed {
            name: test.name,
            covers: test.covers,
            message: panic_message(panic),
        },
    }
}

fn clear_failed(test: &Conformance, error: &crate::CacheError) -> Outcome {
    Outcome::Failed {
        name: test.name,
        covers: test.covers,
        message: format!("clearing the storage before the test failed: {error}"),
    }
}

fn panic_message(panic: Box<dyn Any + Send>) -> String {
    match panic.downcast::<String>() {
        Ok(message) => *message,
        Err(panic) => match panic.downcast::<&'static str>() {
            Ok(message) => (*message).to_owned(),
            Err(_) => "a panic without a message".to_owned(),
        },
    }
}
