//! Running the catalogue against a [`Subject`]: one libtest trial per behaviour, so that `cargo test`
//! names each behaviour, passed, failed or skipped with the reason.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use libtest_mimic::{Arguments, Completion, Conclusion, Failed, Trial};
use parking_lot::RwLock;
use tokio::runtime::{Handle, Runtime};

use super::catalogue::{CONFORMANCE, Conformance, NOT_PORTED, NotPorted, Timing};
use crate::Capabilities;
use crate::testkit::Subject;

/// How many trials run at once when the command line doesn't say (`--test-threads`): they mostly
/// wait for servers and for entries to expire, so more than the machine's cores overlap usefully.
const DEFAULT_TEST_THREADS: usize = 8;

/// One behaviour of the catalogue, as it applies to a backend's [`Capabilities`].
#[derive(Debug, Clone, Copy)]
pub struct Behaviour {
    kind: Kind,
    skip: Option<&'static str>,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Function(&'static Conformance),
    NotPorted(&'static NotPorted),
}

impl Behaviour {
    /// `module::function` (the conformance function), or `not_ported::item` for a Django test with
    /// no Rust counterpart.
    pub fn name(&self) -> &'static str {
        match self.kind {
            Kind::Function(test) => test.name,
            Kind::NotPorted(item) => item.name,
        }
    }

    /// The Django tests (`tests/cache/tests.py`) it ports, or a plain description when it has no
    /// counterpart there.
    pub fn django(&self) -> &'static str {
        match self.kind {
            Kind::Function(test) => test.django,
            Kind::NotPorted(item) => item.django,
        }
    }

    /// Why it doesn't run on this backend, or `None` when it does.
    pub fn skip_reason(&self) -> Option<&'static str> {
        self.skip
    }

    /// Whether it waits for entries to expire. In real time these overlap one another (their keys
    /// are distinct); every other behaviour has the storage to itself.
    pub fn waits(&self) -> bool {
        matches!(self.kind, Kind::Function(test) if test.timing == Timing::Waits)
    }

    /// Runs it on `subject`: clears the storage first (unless it [`waits`](Self::waits) in real
    /// time, overlapping other such behaviours), and returns the panic message when it fails.
    /// A skipped behaviour returns `Ok` without doing anything.
    ///
    /// This doesn't keep other behaviours off the storage meanwhile; [`trials`] does.
    pub async fn run(&self, subject: &Subject) -> Result<(), String> {
        let Kind::Function(test) = self.kind else {
            return Ok(());
        };
        if self.skip.is_some() {
            return Ok(());
        }
        if self.exclusive(subject)
            && let Err(error) = subject.clear().await
        {
            return Err(format!("clearing the storage before the test failed: {error}"));
        }
        AssertUnwindSafe((test.run)(subject))
            .catch_unwind()
            .await
            .map_err(panic_message)
    }

    /// Whether it has the storage to itself while it runs, on `subject`: all but the waiting ones in
    /// real time.
    fn exclusive(&self, subject: &Subject) -> bool {
        !self.waits() || subject.time_is_manual()
    }
}

/// Every behaviour of the catalogue, with whether it applies to a backend that declares
/// `capabilities`: the conformance functions that don't wait first, then those that wait for
/// entries to expire, then the Django tests that have no Rust counterpart (always skipped).
pub fn behaviours(capabilities: &Capabilities) -> Vec<Behaviour> {
    let function = |test: &'static Conformance| Behaviour {
        kind: Kind::Function(test),
        skip: (test.applies)(capabilities).err(),
    };
    let instant = CONFORMANCE.iter().filter(|test| test.timing == Timing::Instant);
    let waiting = CONFORMANCE.iter().filter(|test| test.timing == Timing::Waits);
    instant
        .chain(waiting)
        .map(function)
        .chain(NOT_PORTED.iter().map(|item| Behaviour {
            kind: Kind::NotPorted(item),
            skip: Some(item.reason),
        }))
        .collect()
}

/// The storage a subject's trials share, and who may use it when.
struct Shared {
    subject: Subject,
    runtime: Handle,
    /// Held exclusively by every behaviour but the waiting ones in real time, which share it.
    storage: RwLock<()>,
}

/// One trial per behaviour of [`behaviours`] for `subject`, named `{prefix}::{module}::{function}`
/// (`redis_one_server::basic::add`). A behaviour that doesn't apply is a trial that reports itself
/// ignored, with the reason.
///
/// Each trial runs on `runtime`, which must belong to a multi-thread runtime (the trials block on
/// it from libtest's threads). Trials of one subject keep out of one another's way: each has the
/// storage to itself, cleared before and after it, except the ones that wait for entries to expire
/// in real time, which overlap one another. Trials of different subjects run in parallel, so give
/// each subject its own storage (its own server, database or `location`).
pub fn trials(subject: &Subject, prefix: &str, runtime: &Handle) -> Vec<Trial> {
    let shared = Arc::new(Shared {
        subject: subject.clone(),
        runtime: runtime.clone(),
        storage: RwLock::new(()),
    });
    behaviours(subject.capabilities())
        .into_iter()
        .map(|behaviour| {
            let name = format!("{prefix}::{}", behaviour.name());
            if let Some(reason) = behaviour.skip_reason() {
                return Trial::ignorable_test(name, move || Ok(Completion::ignored_with(reason)));
            }
            let shared = Arc::clone(&shared);
            Trial::test(name, move || run_trial(&shared, behaviour))
        })
        .collect()
}

fn run_trial(shared: &Shared, behaviour: Behaviour) -> Result<(), Failed> {
    let subject = &shared.subject;
    let outcome = if behaviour.exclusive(subject) {
        let _storage = shared.storage.write();
        shared.runtime.block_on(async {
            let outcome = behaviour.run(subject).await;
            // Leave the storage empty for the waiting behaviours, which don't clear it.
            let _ = subject.clear().await;
            outcome
        })
    } else {
        let _storage = shared.storage.read();
        shared.runtime.block_on(behaviour.run(subject))
    };
    outcome.map_err(|message| format!("{} ({}): {message}", behaviour.name(), behaviour.django()).into())
}

/// A test binary's harness (a `[[test]]` target with `harness = false`): a multi-thread Tokio
/// runtime to start servers and build subjects on, and the trials to run.
///
/// ```no_run
/// use cache_core::testkit::{Harness, Subject, Time};
/// use cache_core::testkit::servers::RedisServer;
/// use cache_core::{Backends, Location, Options};
///
/// fn main() -> std::process::ExitCode {
///     let mut harness = Harness::new();
///     let server = harness.block_on(RedisServer::start()).expect("redis-server starts");
///     let backends = Backends::new(); // plus `backends.register(cache_redis::registration())`
///     let subject = Subject::build(backends, "redis", Location::One(server.url()), Options::default(), Time::Real)
///         .expect("the aliases build");
///     harness.conformance("redis_one_server", &subject);
///     let conclusion = harness.run();
///     server.stop();
///     conclusion.exit_code()
/// }
/// ```
#[derive(Debug)]
pub struct Harness {
    runtime: Runtime,
    trials: Vec<Trial>,
}

impl Harness {
    /// A harness with a two-worker multi-thread runtime and no trials yet.
    ///
    /// # Panics
    /// When the runtime can't be built.
    pub fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a Tokio runtime for the conformance trials");
        Harness {
            runtime,
            trials: Vec::new(),
        }
    }

    /// Runs `future` to completion on the harness's runtime (to start servers, say).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// The runtime the trials run on.
    pub fn runtime(&self) -> &Handle {
        self.runtime.handle()
    }

    /// Adds one trial per behaviour of the catalogue for `subject`, named `{prefix}::…`; see
    /// [`trials`].
    pub fn conformance(&mut self, prefix: &str, subject: &Subject) -> &mut Self {
        let trials = trials(subject, prefix, self.runtime.handle());
        self.trials.extend(trials);
        self
    }

    /// Adds a trial of its own named `name`: it fails when the future `check` makes panics. It runs
    /// in parallel with the conformance trials, and after those added before it have started.
    pub fn check<C, F>(&mut self, name: impl Into<String>, check: C) -> &mut Self
    where
        C: FnOnce() -> F + Send + 'static,
        F: Future<Output = ()>,
    {
        let runtime = self.runtime.handle().clone();
        self.trials.push(Trial::test(name, move || {
            runtime
                .block_on(AssertUnwindSafe(check()).catch_unwind())
                .map_err(|panic| panic_message(panic).into())
        }));
        self
    }

    /// Runs the trials as the command line says (`cargo test -- <filter> --test-threads N …`) and
    /// prints libtest's report. Stop the servers you started, then exit with
    /// [`Conclusion::exit_code`].
    pub fn run(self) -> Conclusion {
        let mut arguments = Arguments::from_args();
        arguments.test_threads.get_or_insert(DEFAULT_TEST_THREADS);
        self.run_with(&arguments)
    }

    /// [`Harness::run`] with these arguments.
    pub fn run_with(self, arguments: &Arguments) -> Conclusion {
        libtest_mimic::run(arguments, self.trials)
    }
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
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
