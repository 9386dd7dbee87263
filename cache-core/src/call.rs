//! The awaitable builders behind [`Cache`]'s methods: Django's keyword arguments as optional steps.
//!
//! `cache.set("k", &v).timeout(Timeout::Seconds(60.0)).version(2).await?` — each step is optional,
//! and the call runs when awaited. Applications rarely name these types: each [`Cache`] method
//! returns a [`Call`] over one of the operation types here, and awaiting it runs the operation.
//! The traits are sealed: the operations are the façade's own.

use std::fmt;
use std::future::{Future, IntoFuture};

use crate::cache::Cache;
use crate::observe::{OperationName, Running};
use crate::timeout::Timeout;

/// The per-call arguments Django spells `timeout=` and `version=`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallOptions {
    /// `version=`; `None` means the alias' version.
    pub version: Option<i64>,
    /// `timeout=`; only writes read it.
    pub timeout: Timeout,
}

/// A façade call waiting to be awaited; see the module docs.
#[must_use = "a cache call does nothing until it is awaited"]
pub struct Call<'a, Op> {
    cache: &'a Cache,
    op: Op,
    options: CallOptions,
}

impl<Op: fmt::Debug> fmt::Debug for Call<'_, Op> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("alias", &self.cache.alias())
            .field("op", &self.op)
            .field("options", &self.options)
            .finish()
    }
}

/// One façade operation: what it needs and how it runs. Implemented by the types behind
/// [`Cache`]'s methods (sealed); users call those methods rather than this trait.
pub trait Operation<'a>: Sized + Sealed {
    /// What awaiting the call yields: a `Result`.
    type Output;
    /// The future that runs it.
    type Future: Future<Output = Self::Output> + Send + Unpin + 'a;
    /// Starts the operation.
    fn start(self, cache: &'a Cache, options: CallOptions) -> Self::Future;
    /// The method's name, for metrics' `operation` label and the call's span.
    fn name(&self) -> OperationName;
    /// The caller's key, for the span, when the operation has one.
    fn key(&self) -> Option<&str> {
        None
    }
    /// How the call ended, for the span's `outcome` field: `hit`, `miss`, `ok`, `stored`,
    /// `not_stored`, or the error's kind (`timeout`, `invalid_key`, …).
    fn outcome(output: &Self::Output) -> &'static str;
}

/// Marks the operations that write, so only they offer `.timeout(…)` (sealed).
pub trait Writes: Sealed {}

pub use crate::operations::{
    Add, Delete, DeleteMany, Get, GetMany, GetOrSet, GetOrTrySet, HasKey, Incr, IncrVersion, Raw, Set, SetMany, Touch,
    Typed, ValueKind,
};

/// Keeps [`Operation`], [`Writes`] and [`ValueKind`] to this crate's types: the façade's
/// semantics live in them, and new operations can then be added without breaking anyone.
pub(crate) mod sealed {
    pub trait Sealed {}
}
use sealed::Sealed;

impl<'a, Op> Call<'a, Op> {
    pub(crate) fn new(cache: &'a Cache, op: Op) -> Self {
        Call {
            cache,
            op,
            options: CallOptions::default(),
        }
    }

    /// Uses this version instead of the alias' `version` (Django's `version=`).
    pub fn version(mut self, version: i64) -> Self {
        self.options.version = Some(version);
        self
    }
}

impl<Op: Writes> Call<'_, Op> {
    /// Uses this timeout instead of the alias' `timeout` (Django's `timeout=`).
    pub fn timeout(mut self, timeout: impl Into<Timeout>) -> Self {
        self.options.timeout = timeout.into();
        self
    }
}

impl<'a, Op: Operation<'a>> IntoFuture for Call<'a, Op> {
    type Output = Op::Output;
    type IntoFuture = Running<'a, Op::Future>;

    fn into_future(self) -> Self::IntoFuture {
        Running::start(self.cache, self.op, self.options)
    }
}
