//! Conditional GET: Django's `get_conditional_response`, `ConditionalGetMiddleware` and the
//! `condition`/`etag`/`last_modified` view decorators.

mod condition;
mod etags;
pub(crate) mod middleware;
mod preconditions;

pub use condition::{
    ConditionLayer, ConditionService, EtagFunction, LastModifiedFunction, condition, etag, last_modified,
};
pub use etags::{parse_etags, quote_etag};
pub use middleware::{ConditionalGetLayer, ConditionalGetService};
pub use preconditions::{
    Precondition, evaluate_preconditions, get_conditional_response, not_modified, precondition_failed,
};
