//! Reading a header the way Django's `request.META`/`response[...]` sees it.

use http::HeaderMap;

/// Every value of `name`, joined with `", "` (as a WSGI server joins repeated fields), or `None`
/// when the header is absent. Bytes that aren't UTF-8 are read lossily: Django decodes header
/// bytes as Latin-1, and the only use here is to compare or split them.
pub(crate) fn joined(headers: &HeaderMap, name: impl http::header::AsHeaderName) -> Option<String> {
    let mut values = headers.get_all(name).iter().peekable();
    values.peek()?;
    let mut text = String::new();
    for (index, value) in values.enumerate() {
        if index > 0 {
            text.push_str(", ");
        }
        text.push_str(&String::from_utf8_lossy(value.as_bytes()));
    }
    Some(text)
}

/// Django's `cc_delim_re.split(value)`: split on commas, dropping the spaces around each.
pub(crate) fn split_list(value: &str) -> impl Iterator<Item = &str> {
    let mut parts: Vec<&str> = value.split(',').collect();
    let last = parts.len() - 1;
    for (index, part) in parts.iter_mut().enumerate() {
        // `\s*,\s*` eats the spaces next to a comma only: the value's own leading and trailing
        // spaces (none once `http` has parsed it) stay.
        if index > 0 {
            *part = part.trim_start();
        }
        if index < last {
            *part = part.trim_end();
        }
    }
    parts.into_iter()
}
