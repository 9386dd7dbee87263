//! The minijinja side of a render: the `component(...)` function templates call children with,
//! and running one component's template.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::value::{Kwargs, Object, Serde, Value, ValueKind, merge_maps};
use minijinja::{Error, ErrorKind, State};

use crate::component::Data;
use crate::error::ComponentError;
use crate::registry::RegisteredComponent;
use crate::rendering::call::{AnyProps, CallProps, Lineage, PendingCall};
use crate::rendering::markers;
use crate::rendering::page::Page;
use crate::rendering::slots::DEFAULT_SLOT;

/// The context variable holding the [`Scope`] of the render in progress. Not a name a template
/// would use by accident.
const SCOPE: &str = "__components_scope";

/// The render a template belongs to, reachable from `component(...)` calls inside it.
#[derive(Debug)]
pub(crate) struct Scope {
    pub(crate) page: Arc<Page>,
    /// The lineage of the calls this template makes.
    pub(crate) lineage: Lineage,
}

impl Object for Scope {}

/// The render the template running in `state` belongs to; `function` names the caller for the
/// error when there is none.
pub(crate) fn scope(state: &State, function: &str) -> Result<Arc<Scope>, Error> {
    state
        .lookup(SCOPE)
        .and_then(|value| value.downcast_object::<Scope>())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("{function} can only be called while a component renders"),
            )
        })
}

/// `component(name, prop=value, …, slots={…})`: records the call and prints its marker; the child
/// is rendered (or fetched from the cache) once this template is done.
pub(crate) fn component(state: &mut State, name: &str, kwargs: Kwargs) -> Result<Value, Error> {
    let scope = scope(state, "component()")?;
    let registry = &scope.page.state.registry;
    let index = registry.index_of_name(name).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!(
                "no component named `{name}` is registered (registered: {})",
                registry.names().join(", ")
            ),
        )
    })?;

    let mut slots = BTreeMap::new();
    // `peek`, not `get`: `get` records the name (an allocation) for `assert_all_used`, which we never call.
    if let Some(given) = kwargs.peek::<Option<Value>>("slots")? {
        if given.kind() != ValueKind::Map {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "`slots` must be a map of slot name to content, e.g. slots={\"header\": header}",
            ));
        }
        for slot in given.try_iter()? {
            let content = given.get_item(&slot)?;
            if content.is_undefined() || content.is_none() {
                continue;
            }
            let slot = slot
                .as_str()
                .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "slot names must be strings"))?;
            slots.insert(slot.to_owned(), slot_content(&content));
        }
    }
    if let Some(caller) = kwargs.peek::<Option<Value>>("caller")? {
        if slots.contains_key(DEFAULT_SLOT) {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "the default slot is filled twice: by the {% call %} body and by slots={\"default\": …}",
            ));
        }
        // The body runs now, in this template's context, so its variables are this template's.
        let body = caller.call(state, &[])?;
        slots.insert(DEFAULT_SLOT.to_owned(), slot_content(&body));
    }

    let props = if kwargs.has("slots") || kwargs.has("caller") {
        let mut props = BTreeMap::new();
        for arg in kwargs.args() {
            if arg != "slots" && arg != "caller" {
                props.insert(arg.to_owned(), kwargs.peek::<Value>(arg)?);
            }
        }
        Value::from(props)
    } else {
        // The keyword arguments are already the props map: no copy.
        Value::from(kwargs)
    };
    // Typed props are built when the child renders: a cache hit only needs the arguments.
    let props = CallProps::Arguments {
        args: props,
        typed: Default::default(),
    };
    let call = PendingCall::new(index, props, slots.into_iter().collect(), scope.lineage.clone());
    let n = scope.page.add_call(call);
    Ok(Value::from_safe_string(markers::call_marker(n)))
}

/// Slot content as HTML: markup (`{% set %}` blocks, call bodies, `|safe`) as it is, plain values escaped.
pub(crate) fn slot_content(value: &Value) -> String {
    if value.is_safe() {
        value.to_string()
    } else {
        let mut out = String::new();
        markers::escape_into(&value.to_string(), &mut out);
        out
    }
}

/// Runs `entry`'s template for `call`, whose render number is `render`: raw output with markers.
pub(crate) fn render(
    page: &Arc<Page>,
    call: &PendingCall<'_>,
    props: &AnyProps,
    entry: &RegisteredComponent,
    render: u32,
    data: Data,
    lineage: Lineage,
) -> Result<String, ComponentError> {
    let template_error = |source| ComponentError::Template {
        component: entry.name.to_owned(),
        source,
    };
    let template = page
        .state
        .registry
        .env
        .get_template(&entry.class_id)
        .map_err(template_error)?;
    let slots = Value::from_pairs(
        call.slots
            .iter()
            .map(|(name, content)| (name.as_str(), Value::from_safe_string(content.clone()))),
    );
    let reserved = minijinja::context! {
        component_id => Value::from_safe_string(markers::id_marker(render)),
        slots => slots,
        __components_scope => Value::from_object(Scope {
            page: Arc::clone(page),
            lineage,
        }),
    };
    let props = entry.component.template_context(props);
    // Later maps win: reserved names over template data over props.
    let context = if data.is_empty() {
        merge_maps([props, reserved])
    } else {
        merge_maps([props, Value::from(Serde(data)), reserved])
    };
    template.render(context).map_err(template_error)
}
