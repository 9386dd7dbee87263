//! The shared conformance suite (Django's `BaseCacheTests`) on the file backend, configured through
//! the registry like an application would, each run in its own directory: once with a clock the
//! suite moves and once in real time. Each behaviour is a test of its own (`harness = false`: the
//! testkit's `Harness` is `main`).

use std::process::ExitCode;

use cache_core::testkit::{Harness, Subject, Time};
use cache_core::{Backends, Clock, Location, Options};

fn subject(directory: &std::path::Path, clock: Clock, time: Time) -> Subject {
    let mut backends = Backends::new();
    backends.register(cache_file::registration_with_clock(clock));
    let location = Location::One(directory.to_str().expect("a UTF-8 temporary path").to_owned());
    Subject::build(backends, "file", location, Options::default(), time)
        .expect("the conformance aliases build on files")
}

fn main() -> ExitCode {
    let manual = tempfile::tempdir().expect("a temporary directory");
    let real = tempfile::tempdir().expect("a temporary directory");
    let clock = Clock::manual();
    let mut harness = Harness::new();
    harness
        .conformance(
            "file_manual_clock",
            &subject(manual.path(), clock.clone(), Time::Manual(clock)),
        )
        .conformance("file_real_time", &subject(real.path(), Clock::system(), Time::Real));
    harness.run().exit_code()
}
