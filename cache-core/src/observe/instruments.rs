//! The alias' handles in the [`metrics`] facade: registered on first use, then one atomic load and
//! one call each time they are bumped.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{Counter, Histogram, Label};

use super::error_class::ErrorLabel;
use super::names;
use super::operation_name::OperationName;
use crate::metrics::Event;

const OPERATIONS: usize = OperationName::ALL.len();

/// One alias' counters and latency histogram in the `metrics` facade.
///
/// A handle is registered with whichever recorder is installed when it is first needed, so an
/// exporter installed before the first call sees every series. Without a recorder the handles are
/// the facade's no-ops.
pub(crate) struct Instruments {
    alias: String,
    backend: &'static str,
    events: [[OnceLock<Counter>; Event::FACADE_COUNT]; OPERATIONS],
    errors: [[OnceLock<Counter>; ErrorLabel::COUNT]; OPERATIONS],
    /// `None` unless the alias records latency: taking the time costs more than a locmem hit's
    /// whole budget for counting.
    latency: Option<[OnceLock<Histogram>; OPERATIONS]>,
}

impl Instruments {
    pub(crate) fn new(alias: &str, backend: &'static str, record_latency: bool) -> Self {
        Instruments {
            alias: alias.to_owned(),
            backend,
            events: Default::default(),
            errors: Default::default(),
            latency: record_latency.then(Default::default),
        }
    }

    #[inline]
    pub(crate) fn records_latency(&self) -> bool {
        self.latency.is_some()
    }

    #[inline]
    pub(crate) fn count(&self, operation: OperationName, event: Event, n: u64) {
        let Some(slot) = event.facade_index() else {
            return;
        };
        self.events[operation.index()][slot]
            .get_or_init(|| self.counter(event.metric_name(), operation, None))
            .increment(n);
    }

    /// Counts one error under `event`'s metric (server or caller errors), labelled by kind.
    #[cold]
    pub(crate) fn count_error(&self, operation: OperationName, event: Event, label: ErrorLabel) {
        self.errors[operation.index()][label.index()]
            .get_or_init(|| self.counter(event.metric_name(), operation, Some(label)))
            .increment(1);
    }

    pub(crate) fn record_latency(&self, operation: OperationName, elapsed: Duration) {
        if let Some(latency) = &self.latency {
            latency[operation.index()]
                .get_or_init(|| metrics::histogram!(names::DURATION, self.labels(operation, None)))
                .record(elapsed.as_secs_f64());
        }
    }

    fn counter(&self, name: &'static str, operation: OperationName, kind: Option<ErrorLabel>) -> Counter {
        metrics::counter!(name, self.labels(operation, kind))
    }

    fn labels(&self, operation: OperationName, kind: Option<ErrorLabel>) -> Vec<Label> {
        let mut labels = vec![
            Label::new(names::ALIAS, self.alias.clone()),
            Label::from_static_parts(names::BACKEND, self.backend),
            Label::from_static_parts(names::OPERATION, operation.as_str()),
        ];
        if let Some(kind) = kind {
            labels.push(Label::from_static_parts(names::KIND, kind.as_str()));
        }
        labels
    }
}
