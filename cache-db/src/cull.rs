//! Django's database cull (`DatabaseCache._cull`), decided here and run by each store's
//! statements.
//!
//! A `set` or `add` counts the rows first; over `max_entries` (strictly, as Django) it culls:
//! `cull_frequency = 0` empties the table; otherwise the expired rows go, and if the rest is still
//! over `max_entries`, so do the `rest / cull_frequency` rows whose keys sort first (Django deletes
//! every key below the one at that offset in key order).

use cache_core::CullOptions;

/// What a write that counted `rows` must do before writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cull {
    /// Room enough.
    Nothing,
    /// `cull_frequency = 0`: every row goes.
    Clear,
    /// Remove the expired rows, then ask [`after_expired`] with what is left.
    Expired,
}

pub(crate) fn decide(rows: u64, options: CullOptions) -> Cull {
    if rows <= options.max_entries {
        Cull::Nothing
    } else if options.cull_frequency == 0 {
        Cull::Clear
    } else {
        Cull::Expired
    }
}

/// With `remaining` rows left after the expired ones went: the offset of the first key to keep,
/// when keys must go.
pub(crate) fn after_expired(remaining: u64, options: CullOptions) -> Option<u64> {
    (remaining > options.max_entries && options.cull_frequency > 0).then(|| remaining / options.cull_frequency)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(max_entries: u64, cull_frequency: u64) -> CullOptions {
        let mut options = CullOptions::default();
        options.max_entries = max_entries;
        options.cull_frequency = cull_frequency;
        options
    }

    #[test]
    fn djangos_rules() {
        assert_eq!(
            decide(30, options(30, 3)),
            Cull::Nothing,
            "strictly over, as Django's `num > max_entries`"
        );
        assert_eq!(decide(31, options(30, 3)), Cull::Expired);
        assert_eq!(decide(31, options(30, 0)), Cull::Clear);
        assert_eq!(decide(1, options(0, 3)), Cull::Expired);
        assert_eq!(decide(0, options(0, 3)), Cull::Nothing);
        assert_eq!(after_expired(31, options(30, 3)), Some(10));
        assert_eq!(after_expired(30, options(30, 3)), None);
        assert_eq!(after_expired(5, options(0, 1)), Some(5));
    }
}
