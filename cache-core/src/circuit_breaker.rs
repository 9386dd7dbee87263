//! [`CircuitBreaker`]: one server's record of recent failures, so that a server that hangs costs
//! one timeout per cool-down instead of one per call.
//!
//! The state machine is Closed → Open → HalfOpen → Closed (or back to Open):
//!
//! - **Closed**: calls go through. `failures` consecutive calls that failed *on the server* (a
//!   timeout, a refused or lost connection, a reply that broke the protocol, an I/O error) open it.
//! - **Open**: calls fail at once with [`Unavailability::CircuitOpen`] until `cool_down` has passed.
//! - **HalfOpen**: one call at a time is let through as a probe; if it gets an answer the circuit
//!   closes, if it fails the same way it opens again for another `cool_down`.
//!
//! What the server answered, even with a refusal (`KeyNotFound`, an error reply such as Redis'
//! `LOADING` or memcached's `SERVER_ERROR out of memory`), proves it is there and answering, so
//! it counts as a success: the breaker exists to stop paying timeouts, and a refusal costs none.
//! What never reached the server (a key or value refused before I/O, a call outside a runtime)
//! counts neither way.

use std::fmt;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

use crate::backend_error::{BackendError, BackendResult, ErrorKind, Unavailability};
use crate::clock::{Clock, Timestamp};

/// When a [`CircuitBreaker`] opens and for how long: backends read these from their
/// `circuit_failures` and `circuit_cooldown` options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CircuitSettings {
    failures: u32,
    cool_down: Duration,
}

impl CircuitSettings {
    /// Consecutive failures that open the circuit by default: 5.
    pub const DEFAULT_FAILURES: u32 = 5;
    /// How long an open circuit fails calls at once by default: one second.
    pub const DEFAULT_COOL_DOWN: Duration = Duration::from_secs(1);

    /// Opens after `failures` consecutive failures (0: never) for `cool_down`.
    pub const fn new(failures: u32, cool_down: Duration) -> Self {
        CircuitSettings { failures, cool_down }
    }

    /// A breaker that never opens.
    pub const fn disabled() -> Self {
        CircuitSettings::new(0, Self::DEFAULT_COOL_DOWN)
    }

    /// Consecutive failures that open the circuit; 0 when it never opens.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// How long an open circuit fails calls at once before it lets a probe through.
    pub fn cool_down(&self) -> Duration {
        self.cool_down
    }

    /// Whether the circuit can open at all.
    pub fn is_enabled(&self) -> bool {
        self.failures > 0
    }

    /// The rule the `circuit_failures` and `circuit_cooldown` options enforce, for settings made in
    /// code: the option at fault and what to give instead.
    pub fn check(&self) -> Option<(&'static str, String)> {
        use crate::config::option_values::{CIRCUIT_FAILURES, MAX_CIRCUIT_FAILURES, MAX_TIMEOUT};
        if self.failures > MAX_CIRCUIT_FAILURES {
            return Some((
                "options.circuit_failures",
                format!("expected {CIRCUIT_FAILURES}; got {}", self.failures),
            ));
        }
        if self.cool_down.is_zero() || self.cool_down > MAX_TIMEOUT {
            return Some((
                "options.circuit_cooldown",
                format!(
                    "expected a duration above 0 and at most a day; got {:?}",
                    self.cool_down
                ),
            ));
        }
        None
    }

    /// These settings with `failures` (0: never open).
    pub fn with_failures(mut self, failures: u32) -> Self {
        self.failures = failures;
        self
    }

    /// These settings with `cool_down`.
    pub fn with_cool_down(mut self, cool_down: Duration) -> Self {
        self.cool_down = cool_down;
        self
    }
}

impl Default for CircuitSettings {
    fn default() -> Self {
        CircuitSettings::new(Self::DEFAULT_FAILURES, Self::DEFAULT_COOL_DOWN)
    }
}

/// Where a [`CircuitBreaker`] stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CircuitState {
    /// Calls go through.
    Closed,
    /// Calls fail at once until the cool-down ends.
    Open,
    /// The cool-down ended: one call at a time probes the server.
    HalfOpen,
}

/// How often a breaker (or every breaker of a backend, added up) changed state and refused calls.
///
/// Read through its accessors; the fields are private so that counters can be added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CircuitStats {
    opened: u64,
    reopened: u64,
    half_opened: u64,
    closed: u64,
    rejected: u64,
}

impl CircuitStats {
    /// Times a closed circuit opened (consecutive failures reached the limit).
    pub fn opened(&self) -> u64 {
        self.opened
    }

    /// Times a probe failed and the circuit opened again for another cool-down.
    pub fn reopened(&self) -> u64 {
        self.reopened
    }

    /// Times a cool-down ended and a probe was let through.
    pub fn half_opened(&self) -> u64 {
        self.half_opened
    }

    /// Times a probe succeeded and the circuit closed.
    pub fn closed(&self) -> u64 {
        self.closed
    }

    /// Calls refused at once because the circuit was open (or a probe was already under way).
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// Both readings added up: a backend's total over its servers.
    pub fn merge(self, other: CircuitStats) -> CircuitStats {
        CircuitStats {
            opened: self.opened + other.opened,
            reopened: self.reopened + other.reopened,
            half_opened: self.half_opened + other.half_opened,
            closed: self.closed + other.closed,
            rejected: self.rejected + other.rejected,
        }
    }
}

const CLOSED: u8 = 0;
const OPEN: u8 = 1;
const HALF_OPEN: u8 = 2;

/// One server's circuit breaker. Share it (it is `Sync`) between every call to that server.
///
/// ```
/// use std::time::Duration;
/// use cache_core::{BackendError, CircuitBreaker, CircuitSettings, CircuitState, Clock, Wait};
///
/// let clock = Clock::manual();
/// let breaker = CircuitBreaker::new("memcached server 127.0.0.1:11211", CircuitSettings::new(2, Duration::from_secs(1)))
///     .with_clock(clock.clone());
/// for _ in 0..2 {
///     let permit = breaker.admit().unwrap();
///     permit.record(&Err::<(), _>(BackendError::timeout(Wait::Response, "no reply")));
/// }
/// assert_eq!(breaker.state(), CircuitState::Open);
/// assert!(breaker.admit().unwrap_err().is_unavailable());
/// clock.advance(Duration::from_secs(1));
/// breaker.admit().unwrap().record(&Ok(()));
/// assert_eq!(breaker.state(), CircuitState::Closed);
/// ```
pub struct CircuitBreaker {
    server: String,
    settings: CircuitSettings,
    clock: Clock,
    /// `CLOSED`, `OPEN` or `HALF_OPEN`: read without the lock on every call.
    state: AtomicU8,
    /// Consecutive failures while closed.
    failures: AtomicU32,
    guarded: Mutex<Guarded>,
    opened: AtomicU64,
    reopened: AtomicU64,
    half_opened: AtomicU64,
    closed: AtomicU64,
    rejected: AtomicU64,
}

/// What changes only with the lock held.
struct Guarded {
    /// When an open circuit lets its next probe through.
    open_until: Timestamp,
    /// Whether a probe is under way (half-open).
    probing: bool,
}

/// What a finished call says about the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// It answered.
    Answered,
    /// It failed to answer: counts towards opening.
    Failed,
    /// The call never reached it: counts neither way.
    NotTried,
}

fn verdict(error: &BackendError) -> Verdict {
    match error.kind() {
        ErrorKind::Timeout(_)
        | ErrorKind::Unavailable(Unavailability::Refused | Unavailability::Closed)
        | ErrorKind::Protocol
        | ErrorKind::Io => Verdict::Failed,
        ErrorKind::KeyNotFound | ErrorKind::NotAnInteger | ErrorKind::Overflow { .. } | ErrorKind::RefusedByServer => {
            Verdict::Answered
        }
        ErrorKind::Unavailable(Unavailability::CircuitOpen | Unavailability::NoRuntime)
        | ErrorKind::InvalidKey(_)
        | ErrorKind::ValueTooLarge { .. }
        | ErrorKind::Unsupported => Verdict::NotTried,
    }
}

impl BackendError {
    /// What a call gets at once while its server's circuit is open under `settings` (name the
    /// server with [`BackendError::on_server`]).
    pub fn circuit_open(settings: &CircuitSettings) -> Self {
        BackendError::unavailable(
            Unavailability::CircuitOpen,
            format!(
                "circuit open: {} consecutive calls went unanswered (timed out, lost their connection or got a broken reply), so calls fail at once for \
                 {:?} (options.circuit_cooldown) before one probes the server again; check that the server is \
                 running and not hung",
                settings.failures, settings.cool_down
            ),
        )
    }

    /// Whether this error counts against its server in a [`CircuitBreaker`]: a timeout, a refused or
    /// lost connection, a reply that broke the protocol, or an I/O error.
    pub fn trips_circuit(&self) -> bool {
        verdict(self) == Verdict::Failed
    }
}

impl CircuitBreaker {
    /// The breaker of `server` (named as errors and logs show it), on the system clock.
    pub fn new(server: impl Into<String>, settings: CircuitSettings) -> Self {
        CircuitBreaker {
            server: server.into(),
            settings,
            clock: Clock::system(),
            state: AtomicU8::new(CLOSED),
            failures: AtomicU32::new(0),
            guarded: Mutex::new(Guarded {
                open_until: Timestamp::from_nanos(0),
                probing: false,
            }),
            opened: AtomicU64::new(0),
            reopened: AtomicU64::new(0),
            half_opened: AtomicU64::new(0),
            closed: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
        }
    }

    /// The same breaker timing its cool-downs on `clock` (a manual one in tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The server, as errors and logs name it.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Its settings.
    pub fn settings(&self) -> &CircuitSettings {
        &self.settings
    }

    /// Where it stands. An open circuit whose cool-down has ended reads as open until the next
    /// call probes.
    pub fn state(&self) -> CircuitState {
        match self.state.load(Ordering::Acquire) {
            CLOSED => CircuitState::Closed,
            OPEN => CircuitState::Open,
            _ => CircuitState::HalfOpen,
        }
    }

    /// Its counters so far.
    pub fn stats(&self) -> CircuitStats {
        CircuitStats {
            opened: self.opened.load(Ordering::Relaxed),
            reopened: self.reopened.load(Ordering::Relaxed),
            half_opened: self.half_opened.load(Ordering::Relaxed),
            closed: self.closed.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
        }
    }

    /// Asks to make a call: a permit to report the call's result with, or the `CircuitOpen` error
    /// to return at once.
    #[inline]
    pub fn admit(&self) -> BackendResult<CircuitPermit<'_>> {
        if self.state.load(Ordering::Acquire) == CLOSED {
            return Ok(CircuitPermit {
                breaker: self,
                probe: false,
            });
        }
        self.admit_when_not_closed()
    }

    /// Runs `call` through the breaker: refused at once while open, its result recorded otherwise.
    pub async fn run<T>(&self, call: impl Future<Output = BackendResult<T>>) -> BackendResult<T> {
        let permit = self.admit()?;
        let result = call.await;
        permit.record(&result);
        result
    }

    #[cold]
    fn admit_when_not_closed(&self) -> BackendResult<CircuitPermit<'_>> {
        let mut guarded = self.guarded.lock();
        let probe = match self.state.load(Ordering::Acquire) {
            CLOSED => false,
            OPEN if self.clock.now() >= guarded.open_until => {
                self.state.store(HALF_OPEN, Ordering::Release);
                self.half_opened.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(
                    server = %self.server,
                    "{}: circuit half-open: the cool-down ended, one call probes the server",
                    self.server
                );
                true
            }
            HALF_OPEN if !guarded.probing => true,
            _ => {
                drop(guarded);
                self.rejected.fetch_add(1, Ordering::Relaxed);
                return Err(self.open_error());
            }
        };
        guarded.probing |= probe;
        Ok(CircuitPermit { breaker: self, probe })
    }

    fn open_error(&self) -> BackendError {
        BackendError::circuit_open(&self.settings).on_server(self.server.clone())
    }

    fn succeeded(&self, probe: bool) {
        if probe {
            let mut guarded = self.guarded.lock();
            guarded.probing = false;
            self.failures.store(0, Ordering::Relaxed);
            self.state.store(CLOSED, Ordering::Release);
            drop(guarded);
            self.closed.fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                server = %self.server,
                "{}: circuit closed: the server answered again",
                self.server
            );
        } else if self.failures.load(Ordering::Relaxed) != 0 {
            // Only written when there is something to reset, so answered calls share the line read-only.
            self.failures.store(0, Ordering::Relaxed);
        }
    }

    fn failed(&self, probe: bool) {
        if probe {
            let mut guarded = self.guarded.lock();
            guarded.probing = false;
            guarded.open_until = self.clock.now() + self.settings.cool_down;
            self.state.store(OPEN, Ordering::Release);
            drop(guarded);
            self.reopened.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(
                server = %self.server,
                "{}: circuit open again: the probe failed; next probe in {:?}",
                self.server,
                self.settings.cool_down
            );
            return;
        }
        let limit = self.settings.failures;
        // A call admitted before the circuit opened and failing after adds nothing.
        if limit == 0 || self.state.load(Ordering::Acquire) != CLOSED {
            return;
        }
        if self.failures.fetch_add(1, Ordering::Relaxed) + 1 < limit {
            return;
        }
        let mut guarded = self.guarded.lock();
        if self.state.load(Ordering::Acquire) != CLOSED {
            return;
        }
        guarded.open_until = self.clock.now() + self.settings.cool_down;
        self.state.store(OPEN, Ordering::Release);
        drop(guarded);
        self.opened.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            server = %self.server,
            "{}: circuit open after {limit} consecutive failures (timeouts or lost connections): calls to it fail \
             at once for {:?}, then one call probes it",
            self.server,
            self.settings.cool_down
        );
    }
}

impl fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("server", &self.server)
            .field("settings", &self.settings)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

/// Leave to make one call, from [`CircuitBreaker::admit`]: report how it went with
/// [`CircuitPermit::record`]. A probe's permit dropped unrecorded (its call was cancelled) lets the
/// next caller probe instead.
#[must_use = "record the call's result, or the breaker learns nothing"]
pub struct CircuitPermit<'a> {
    breaker: &'a CircuitBreaker,
    probe: bool,
}

impl CircuitPermit<'_> {
    /// Whether this call is the half-open circuit's probe.
    pub fn is_probe(&self) -> bool {
        self.probe
    }

    /// Reports the call's result: an answer (even a refusal) counts as a success, a timeout, lost
    /// connection, protocol or I/O error as a failure, and an error found before any I/O as neither.
    pub fn record<T>(self, result: &BackendResult<T>) {
        match result.as_ref().map_err(verdict) {
            Ok(_) | Err(Verdict::Answered) => self.succeeded(),
            Err(Verdict::Failed) => self.failed(),
            Err(Verdict::NotTried) => drop(self),
        }
    }

    /// Reports that the server answered.
    pub fn succeeded(self) {
        let this = std::mem::ManuallyDrop::new(self);
        this.breaker.succeeded(this.probe);
    }

    /// Reports that the server failed to answer (timed out, refused or dropped the connection,
    /// broke the protocol).
    pub fn failed(self) {
        let this = std::mem::ManuallyDrop::new(self);
        this.breaker.failed(this.probe);
    }
}

impl Drop for CircuitPermit<'_> {
    fn drop(&mut self) {
        if self.probe {
            self.breaker.guarded.lock().probing = false;
        }
    }
}

impl fmt::Debug for CircuitPermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitPermit")
            .field("server", &self.breaker.server)
            .field("probe", &self.probe)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend_error::Wait;

    const COOL_DOWN: Duration = Duration::from_secs(1);

    fn breaker(failures: u32) -> (CircuitBreaker, Clock) {
        let clock = Clock::manual();
        let breaker =
            CircuitBreaker::new("test server", CircuitSettings::new(failures, COOL_DOWN)).with_clock(clock.clone());
        (breaker, clock)
    }

    fn timeout() -> BackendResult<()> {
        Err(BackendError::timeout(Wait::Response, "no reply"))
    }

    fn fail(breaker: &CircuitBreaker, times: usize) {
        for _ in 0..times {
            breaker.admit().unwrap().record(&timeout());
        }
    }

    fn is_circuit_open(result: BackendResult<CircuitPermit<'_>>) -> bool {
        result.err().is_some_and(|error| error.is_circuit_open())
    }

    #[test]
    fn opens_after_consecutive_failures_and_fails_at_once() {
        let (breaker, _clock) = breaker(3);
        fail(&breaker, 2);
        assert_eq!(breaker.state(), CircuitState::Closed);
        fail(&breaker, 1);
        assert_eq!(breaker.state(), CircuitState::Open);
        let error = breaker.admit().unwrap_err();
        assert_eq!(error.kind(), &ErrorKind::Unavailable(Unavailability::CircuitOpen));
        assert!(error.is_retryable());
        let message = error.to_string();
        assert!(
            message.starts_with("test server: circuit open: 3 consecutive calls"),
            "{message}"
        );
        assert!(message.contains("options.circuit_cooldown"), "{message}");
        assert!(is_circuit_open(breaker.admit()));
        let stats = breaker.stats();
        assert_eq!((stats.opened(), stats.rejected()), (1, 2));
    }

    #[test]
    fn an_answer_resets_the_count() {
        let (breaker, _clock) = breaker(3);
        fail(&breaker, 2);
        breaker.admit().unwrap().record(&Ok(()));
        fail(&breaker, 2);
        // A refusal is an answer too: the server is there.
        breaker
            .admit()
            .unwrap()
            .record(&Err::<(), _>(BackendError::refused_by_server("LOADING")));
        fail(&breaker, 2);
        assert_eq!(breaker.state(), CircuitState::Closed);
        fail(&breaker, 1);
        assert_eq!(breaker.state(), CircuitState::Open);
    }

    #[test]
    fn errors_before_io_count_neither_way() {
        let (breaker, _clock) = breaker(2);
        fail(&breaker, 1);
        for error in [
            BackendError::no_runtime("test"),
            BackendError::value_too_large(10, 5),
            BackendError::unsupported("no"),
        ] {
            breaker.admit().unwrap().record(&Err::<(), _>(error));
        }
        fail(&breaker, 1);
        assert_eq!(breaker.state(), CircuitState::Open);
        assert!(BackendError::protocol("garbage").trips_circuit());
        assert!(!BackendError::key_not_found().trips_circuit());
    }

    #[test]
    fn after_the_cool_down_one_probe_at_a_time_and_an_answer_closes() {
        let (breaker, clock) = breaker(1);
        fail(&breaker, 1);
        clock.advance(COOL_DOWN - Duration::from_millis(1));
        assert!(is_circuit_open(breaker.admit()));
        clock.advance(Duration::from_millis(1));
        let probe = breaker.admit().unwrap();
        assert!(probe.is_probe());
        assert_eq!(breaker.state(), CircuitState::HalfOpen);
        // Others still fail at once while the probe is out.
        assert!(is_circuit_open(breaker.admit()));
        probe.record(&Ok(()));
        assert_eq!(breaker.state(), CircuitState::Closed);
        let permit = breaker.admit().unwrap();
        assert!(!permit.is_probe());
        permit.succeeded();
        let stats = breaker.stats();
        assert_eq!(
            (stats.opened(), stats.half_opened(), stats.closed(), stats.reopened()),
            (1, 1, 1, 0)
        );
    }

    #[test]
    fn a_failed_probe_opens_it_for_another_cool_down() {
        let (breaker, clock) = breaker(1);
        fail(&breaker, 1);
        clock.advance(COOL_DOWN);
        breaker.admit().unwrap().record(&timeout());
        assert_eq!(breaker.state(), CircuitState::Open);
        clock.advance(COOL_DOWN / 2);
        assert!(is_circuit_open(breaker.admit()));
        clock.advance(COOL_DOWN / 2);
        assert!(breaker.admit().unwrap().is_probe());
        assert_eq!(breaker.stats().reopened(), 1);
        assert_eq!(breaker.stats().opened(), 1);
    }

    #[test]
    fn a_cancelled_probe_lets_the_next_call_probe() {
        let (breaker, clock) = breaker(1);
        fail(&breaker, 1);
        clock.advance(COOL_DOWN);
        drop(breaker.admit().unwrap());
        let probe = breaker.admit().unwrap();
        assert!(probe.is_probe());
        probe.succeeded();
        assert_eq!(breaker.state(), CircuitState::Closed);
    }

    #[test]
    fn late_failures_of_calls_admitted_before_opening_change_nothing() {
        let (breaker, clock) = breaker(2);
        let late = [
            breaker.admit().unwrap(),
            breaker.admit().unwrap(),
            breaker.admit().unwrap(),
        ];
        let [a, b, c] = late;
        a.failed();
        b.failed();
        c.failed();
        assert_eq!(breaker.stats().opened(), 1);
        clock.advance(COOL_DOWN);
        assert!(breaker.admit().unwrap().is_probe());
    }

    #[test]
    fn zero_failures_never_opens() {
        let clock = Clock::manual();
        let breaker = CircuitBreaker::new("s", CircuitSettings::disabled()).with_clock(clock);
        fail(&breaker, 100);
        assert_eq!(breaker.state(), CircuitState::Closed);
        assert!(!CircuitSettings::disabled().is_enabled());
        assert_eq!(CircuitSettings::default().failures(), 5);
        assert_eq!(CircuitSettings::default().cool_down(), Duration::from_secs(1));
    }

    #[test]
    fn stats_merge() {
        let (one, _) = breaker(1);
        let (two, _) = breaker(1);
        fail(&one, 1);
        fail(&two, 1);
        let _ = two.admit();
        let total = one.stats().merge(two.stats());
        assert_eq!((total.opened(), total.rejected()), (2, 1));
    }

    #[cfg(feature = "testkit")]
    #[tokio::test]
    async fn each_change_is_logged_once_and_opening_warns() {
        let (breaker, clock) = breaker(2);
        let ((), warnings) = crate::testkit::capture_warnings(async {
            fail(&breaker, 2);
            for _ in 0..10 {
                let _ = breaker.admit();
            }
            clock.advance(COOL_DOWN);
            breaker.admit().unwrap().succeeded();
        })
        .await;
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with("test server: circuit open after 2 consecutive failures"),
            "{warnings:?}"
        );
    }
}
