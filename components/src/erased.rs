//! A [`Component`] behind a trait object, so one registry holds components of every props type.

use std::sync::Arc;

use cache_core::BoxError;
use futures::future::BoxFuture;
use minijinja::value::{Serde, Value};
use serde::Deserialize;

use crate::component::{Component, Data, RenderFn, View};
use crate::output_cache::key::sink::HashSink;
use crate::output_cache::key::typed;
use crate::rendering::call::{AnyProps, Props};
use crate::rendering::html::Html;

/// What the renderer needs from a component without knowing its types.
pub(crate) trait Erased: Send + Sync {
    fn props_from_template(&self, kwargs: Value) -> Result<Props, BoxError>;
    fn props_from_json(&self, value: serde_json::Value) -> Result<Props, BoxError>;
    /// Feeds the call's key ([`Component::cache_key`], the props unless overridden) to the digest.
    fn key(&self, props: &AnyProps, out: &mut HashSink) -> Result<(), BoxError>;
    fn template_context(&self, props: &AnyProps) -> Value;
    fn template_data<'a>(&'a self, props: &'a AnyProps) -> BoxFuture<'a, Result<Data, BoxError>>;
    fn js_data(&self, props: &AnyProps) -> Data;
    fn css_data(&self, props: &AnyProps) -> Data;
    /// Runs the render function; `None` when the component has a template instead.
    fn render_function(&self, props: &AnyProps, html: &mut Html<'_>) -> Option<Result<(), BoxError>>;
}

/// A component and, when its view is a function, that function.
pub(crate) struct Typed<C: Component> {
    pub(crate) component: C,
    pub(crate) render: Option<RenderFn<C>>,
}

impl<C: Component> Typed<C> {
    pub(crate) fn new(component: C, view: &View<C>) -> Self {
        let render = match view {
            View::Template(_) => None,
            View::Function(render) => Some(*render),
        };
        Typed { component, render }
    }
}

fn downcast<C: Component>(props: &AnyProps) -> &C::Props {
    props
        .downcast_ref::<C::Props>()
        .expect("props are made by their own component")
}

impl<C: Component> Erased for Typed<C> {
    fn props_from_template(&self, kwargs: Value) -> Result<Props, BoxError> {
        let props = C::Props::deserialize(kwargs)?;
        Ok(Arc::new(props))
    }

    fn props_from_json(&self, value: serde_json::Value) -> Result<Props, BoxError> {
        let props: C::Props = serde_json::from_value(value)?;
        Ok(Arc::new(props))
    }

    fn key(&self, props: &AnyProps, out: &mut HashSink) -> Result<(), BoxError> {
        typed::encode(&self.component.cache_key(downcast::<C>(props)), out)?;
        Ok(())
    }

    fn template_context(&self, props: &AnyProps) -> Value {
        Value::from(Serde(downcast::<C>(props)))
    }

    fn template_data<'a>(&'a self, props: &'a AnyProps) -> BoxFuture<'a, Result<Data, BoxError>> {
        Box::pin(self.component.template_data(downcast::<C>(props)))
    }

    fn js_data(&self, props: &AnyProps) -> Data {
        self.component.js_data(downcast::<C>(props))
    }

    fn css_data(&self, props: &AnyProps) -> Data {
        self.component.css_data(downcast::<C>(props))
    }

    fn render_function(&self, props: &AnyProps, html: &mut Html<'_>) -> Option<Result<(), BoxError>> {
        self.render
            .map(|render| render(&self.component, downcast::<C>(props), html))
    }
}
