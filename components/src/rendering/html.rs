//! [`Html`]: what a render function writes its output with.

use std::any::TypeId;
use std::sync::Arc;

use crate::component::{Component, Data};
use crate::error::ComponentError;
use crate::rendering::call::{CallProps, Lineage, PendingCall};
use crate::rendering::markers;
use crate::rendering::slots::Slots;

/// The output of one render of a render-function component ([`crate::View::Function`]).
///
/// Text is escaped unless written with [`Html::raw`]; children and the instance id are written as
/// placeholders the renderer fills in, exactly as `component(...)` and `component_id` do in a template.
///
/// ```
/// use cache_components::{Component, Html, View};
/// use serde::{Deserialize, Serialize};
///
/// struct Badge;
/// #[derive(Serialize, Deserialize)]
/// struct BadgeProps { label: String }
///
/// impl Component for Badge {
///     const NAME: &'static str = "Badge";
///     type Props = BadgeProps;
///     fn view(&self) -> View<Self> {
///         View::function(Badge::write)
///     }
/// }
///
/// impl Badge {
///     fn write(&self, props: &BadgeProps, html: &mut Html<'_>) -> Result<(), cache_components::BoxError> {
///         html.raw("<span data-id=\"").component_id().raw("\">").text(&props.label);
///         html.slot("default");
///         html.raw("</span>");
///         Ok(())
///     }
/// }
/// ```
pub struct Html<'a> {
    pub(crate) out: String,
    calls: &'a dyn ChildCalls,
    call: &'a PendingCall<'a>,
    render: u32,
    data: &'a Data,
    lineage: Lineage,
}

impl std::fmt::Debug for Html<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Html")
            .field("written", &self.out.len())
            .finish_non_exhaustive()
    }
}

impl<'a> Html<'a> {
    pub(crate) fn new(
        calls: &'a dyn ChildCalls,
        call: &'a PendingCall,
        render: u32,
        data: &'a Data,
        lineage: Lineage,
    ) -> Self {
        Html {
            out: String::new(),
            calls,
            call,
            render,
            data,
            lineage,
        }
    }

    /// Writes `text`, HTML-escaped.
    pub fn text(&mut self, text: &str) -> &mut Self {
        markers::escape_into(text, &mut self.out);
        self
    }

    /// Writes trusted HTML as it is.
    pub fn raw(&mut self, html: &str) -> &mut Self {
        self.out.push_str(&markers::sanitize(html));
        self
    }

    /// Writes this instance's id (fresh on every render, cache hits included).
    pub fn component_id(&mut self) -> &mut Self {
        self.out.push_str(&markers::id_marker(self.render));
        self
    }

    /// Writes the content of slot `name`; false (and nothing written) when the caller didn't fill it.
    pub fn slot(&mut self, name: &str) -> bool {
        match self.call.slot(name) {
            Some(content) => {
                self.out.push_str(content);
                true
            }
            None => false,
        }
    }

    /// Whether the caller filled slot `name`.
    pub fn has_slot(&self, name: &str) -> bool {
        self.call.slot(name).is_some()
    }

    /// What [`Component::template_data`] returned for this render.
    pub fn data(&self) -> &Data {
        self.data
    }

    /// Writes child component `C` with `props`.
    pub fn child<C: Component>(&mut self, props: C::Props) -> Result<&mut Self, ComponentError> {
        self.child_with_slots::<C>(props, Slots::new())
    }

    /// Writes child component `C` with `props` and slot contents.
    pub fn child_with_slots<C: Component>(
        &mut self,
        props: C::Props,
        slots: Slots,
    ) -> Result<&mut Self, ComponentError> {
        let index = self.calls.index_of(TypeId::of::<C>(), C::NAME)?;
        let call = PendingCall::new(
            index,
            CallProps::Owned(Arc::new(props)),
            slots.into_sorted(),
            self.lineage.clone(),
        );
        let n = self.calls.add_call(call);
        self.out.push_str(&markers::call_marker(n));
        Ok(self)
    }
}

/// Where a render function's child calls go: the page in progress. A trait, so that what a
/// component author writes with doesn't depend on how pages are put together.
pub(crate) trait ChildCalls: Sync {
    /// The registry index of the component type `type_id`, whose `NAME` is `name`.
    fn index_of(&self, type_id: TypeId, name: &str) -> Result<usize, ComponentError>;

    /// Records a call and returns its number, for its marker.
    fn add_call(&self, call: PendingCall<'static>) -> u32;
}
