//! [`IntoKey`]: the keys the façade's methods accept, as callers hold them.

use std::borrow::Cow;

/// A key as a caller holds it: `&str`, `String`, `&String`, `&&str`, `&Cow<str>`, `&Box<str>`,
/// `&Arc<str>`… Borrowed keys stay borrowed; an owned `String` moves into the call, so
/// `cache.get(format!("user:{id}"))` needs no temporary.
pub trait IntoKey<'a> {
    /// The key, borrowed when it can be.
    fn into_key(self) -> Cow<'a, str>;
}

impl<'a, T: AsRef<str> + ?Sized> IntoKey<'a> for &'a T {
    #[inline]
    fn into_key(self) -> Cow<'a, str> {
        Cow::Borrowed(self.as_ref())
    }
}

impl IntoKey<'_> for String {
    #[inline]
    fn into_key(self) -> Cow<'static, str> {
        Cow::Owned(self)
    }
}

impl<'a> IntoKey<'a> for Cow<'a, str> {
    #[inline]
    fn into_key(self) -> Cow<'a, str> {
        self
    }
}
