//! The shared conformance suite (Django's `BaseCacheTests`) on locmem, configured through the registry
//! like an application would, once with a clock the suite moves and once in real time. Each
//! behaviour is a test of its own (`harness = false`: the testkit's `Harness` is `main`).

use std::process::ExitCode;

use cache_core::testkit::{Harness, Subject, Time};
use cache_core::{Backends, Clock, Location, Options};

fn subject(location: &str, clock: Clock, time: Time) -> Subject {
    let mut backends = Backends::new();
    backends.register(cache_locmem::registration_with_clock(clock));
    Subject::build(
        backends,
        "locmem",
        Location::One(location.into()),
        Options::default(),
        time,
    )
    .expect("the conformance aliases build on locmem")
}

fn main() -> ExitCode {
    let clock = Clock::manual();
    let mut harness = Harness::new();
    harness
        .conformance(
            "locmem_manual_clock",
            &subject("conformance-manual", clock.clone(), Time::Manual(clock)),
        )
        .conformance(
            "locmem_real_time",
            &subject("conformance-real", Clock::system(), Time::Real),
        );
    harness.run().exit_code()
}
