//! Template fragment caching: Django's `{% cache timeout name vary_on… using="alias" %}`, written
//! `{% call cache(timeout, "name", vary_on…, using="alias") %}…{% endcall %}` in a component's
//! minijinja template (minijinja has no custom tags; a call block hands the body over unrendered).
//!
//! A template can't await a cache lookup, so `cache(…)` renders its body at once — cheap: the
//! components in it are only call markers — and leaves a template fragment marker. Once the
//! template is done the fragment is resolved with the component's other children: its key is
//! looked up in the alias; a hit replaces the body and the components in the body never render; a
//! miss resolves them and stores the result. The stored value is the same structured render the
//! output cache keeps, so the components of a cached fragment get fresh ids, their JS/CSS
//! variables and their dependencies on every hit.

pub(crate) mod key;
pub(crate) mod lookup;
pub(crate) mod tag;

use cache_core::{Cache, Timeout};

pub(crate) use lookup::resolve;

/// A `{% call cache(…) %}` block whose marker a template printed, waiting to be resolved.
#[derive(Debug)]
pub(crate) struct PendingTemplateFragment {
    /// Django's `make_template_fragment_key(name, vary_on)` (see [`key`]).
    pub(crate) key: String,
    /// The alias it is cached in.
    pub(crate) cache: Cache,
    /// How long a stored fragment lives.
    pub(crate) timeout: Timeout,
    /// The body as the template rendered it: HTML with markers.
    pub(crate) body: String,
}
