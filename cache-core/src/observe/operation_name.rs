//! [`OperationName`]: which façade method a metric or a span is about.

use std::fmt;

/// The façade method behind a metric's `operation` label and a span's `operation` field.
///
/// Raw and typed forms share a name (`get_raw` is `get`), as do `get_or_set` and
/// `get_or_try_set`: they do the same I/O.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OperationName {
    /// `get`, `get_raw`.
    Get,
    /// `get_many`, `get_many_raw`.
    GetMany,
    /// `has_key`.
    HasKey,
    /// `set`, `set_raw`.
    Set,
    /// `set_many`, `set_many_raw`.
    SetMany,
    /// `add`, `add_raw`.
    Add,
    /// `touch`.
    Touch,
    /// `delete`.
    Delete,
    /// `delete_many`.
    DeleteMany,
    /// `incr`.
    Incr,
    /// `decr`.
    Decr,
    /// `incr_version`.
    IncrVersion,
    /// `decr_version`.
    DecrVersion,
    /// `get_or_set`, `get_or_try_set`.
    GetOrSet,
    /// `clear`.
    Clear,
    /// `close`.
    Close,
}

impl OperationName {
    /// Every name, in label order.
    pub const ALL: [OperationName; 16] = [
        OperationName::Get,
        OperationName::GetMany,
        OperationName::HasKey,
        OperationName::Set,
        OperationName::SetMany,
        OperationName::Add,
        OperationName::Touch,
        OperationName::Delete,
        OperationName::DeleteMany,
        OperationName::Incr,
        OperationName::Decr,
        OperationName::IncrVersion,
        OperationName::DecrVersion,
        OperationName::GetOrSet,
        OperationName::Clear,
        OperationName::Close,
    ];

    /// The label value: the method's name in snake case.
    pub const fn as_str(self) -> &'static str {
        match self {
            OperationName::Get => "get",
            OperationName::GetMany => "get_many",
            OperationName::HasKey => "has_key",
            OperationName::Set => "set",
            OperationName::SetMany => "set_many",
            OperationName::Add => "add",
            OperationName::Touch => "touch",
            OperationName::Delete => "delete",
            OperationName::DeleteMany => "delete_many",
            OperationName::Incr => "incr",
            OperationName::Decr => "decr",
            OperationName::IncrVersion => "incr_version",
            OperationName::DecrVersion => "decr_version",
            OperationName::GetOrSet => "get_or_set",
            OperationName::Clear => "clear",
            OperationName::Close => "close",
        }
    }

    /// Position in [`OperationName::ALL`]: an index into per-operation tables.
    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for OperationName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_lists_every_name_at_its_index() {
        for (index, name) in OperationName::ALL.iter().enumerate() {
            assert_eq!(name.index(), index, "{name}");
        }
    }
}
