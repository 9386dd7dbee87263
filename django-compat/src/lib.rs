//! Django compatibility of the whole workspace, tested from the outside: real-world Django
//! `CACHES` settings (`tests/django_caches.rs`) and the conversion guide of cache-core's README
//! (`tests/readme_guide.rs`) load here with the meaning they have in Django, or are refused with
//! the exact message saying what to write instead.
//!
//! The library holds what both tests need: every backend of the workspace registered, a Django
//! settings module's `CACHES = {…}` read as the JSON `json.dump(settings.CACHES)` would write, and
//! what an alias means once its options are read by its backend.

// Every dependency must be used: a declared but unused one costs build time for nothing.
#![cfg_attr(not(test), deny(unused_crate_dependencies))]

mod meaning;
mod python;

pub use meaning::{BackendOptions, Meaning, backends, meaning};
pub use python::settings_to_json;
