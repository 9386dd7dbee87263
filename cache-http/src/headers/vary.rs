//! `Vary`: Django's `patch_vary_headers` and `has_vary_header`.

use http::HeaderMap;
use http::header::{HeaderValue, VARY};

use super::cache_control::HeaderPatchError;
use super::list::{joined, split_list};

/// The header names listed in `Vary`, in order (empty when there is none).
pub fn vary_headers(headers: &HeaderMap) -> Vec<String> {
    match joined(headers, VARY) {
        Some(value) => split_list(&value).map(str::to_owned).collect(),
        None => Vec::new(),
    }
}

/// Django's `patch_vary_headers(response, newheaders)`: adds the names not yet in `Vary`
/// (compared ignoring case), keeping the existing order; a `*` among them makes `Vary: *`.
pub fn patch_vary_headers(headers: &mut HeaderMap, new_headers: &[&str]) -> Result<(), HeaderPatchError> {
    let mut names = vary_headers(headers);
    let existing: Vec<String> = names.iter().map(|name| name.to_lowercase()).collect();
    for new in new_headers {
        if !existing.contains(&new.to_lowercase()) {
            names.push((*new).to_owned());
        }
    }
    let value = if names.iter().any(|name| name == "*") {
        "*".to_owned()
    } else {
        names.join(", ")
    };
    let header = HeaderValue::from_str(&value).map_err(|_| HeaderPatchError::InvalidValue { value })?;
    headers.insert(VARY, header);
    Ok(())
}

/// Django's `has_vary_header(response, header_query)`: whether `Vary` names `name` (ignoring case).
pub fn has_vary_header(headers: &HeaderMap, name: &str) -> bool {
    let wanted = name.trim().to_lowercase();
    vary_headers(headers)
        .iter()
        .any(|listed| listed.trim().to_lowercase() == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Django's `CacheUtils.test_patch_vary_headers` table.
    #[test]
    fn djangos_patch_vary_headers_table() {
        let cases: [(Option<&str>, &[&str], &str); 11] = [
            (None, &["Accept-Encoding"], "Accept-Encoding"),
            (Some("Accept-Encoding"), &["accept-encoding"], "Accept-Encoding"),
            (Some("Accept-Encoding"), &["ACCEPT-ENCODING"], "Accept-Encoding"),
            (Some("Cookie"), &["Accept-Encoding"], "Cookie, Accept-Encoding"),
            (
                Some("Cookie, Accept-Encoding"),
                &["Accept-Encoding"],
                "Cookie, Accept-Encoding",
            ),
            (
                Some("Cookie, Accept-Encoding"),
                &["Accept-Encoding", "cookie"],
                "Cookie, Accept-Encoding",
            ),
            (None, &["Accept-Encoding", "COOKIE"], "Accept-Encoding, COOKIE"),
            (
                Some("Cookie,     Accept-Encoding"),
                &["Accept-Encoding", "cookie"],
                "Cookie, Accept-Encoding",
            ),
            (
                Some("Cookie    ,     Accept-Encoding"),
                &["Accept-Encoding", "cookie"],
                "Cookie, Accept-Encoding",
            ),
            (Some("*"), &["Accept-Language", "Cookie"], "*"),
            (Some("Accept-Language, Cookie"), &["*"], "*"),
        ];
        for (initial, new, expected) in cases {
            let mut headers = HeaderMap::new();
            if let Some(initial) = initial {
                headers.insert(VARY, HeaderValue::from_static(initial));
            }
            patch_vary_headers(&mut headers, new).unwrap();
            assert_eq!(headers[VARY], expected, "{initial:?} + {new:?}");
        }
    }

    #[test]
    fn has_vary_header_ignores_case_and_spaces() {
        let mut headers = HeaderMap::new();
        headers.insert(VARY, HeaderValue::from_static("Accept-Encoding,  Cookie"));
        assert!(has_vary_header(&headers, "cookie"));
        assert!(has_vary_header(&headers, "ACCEPT-ENCODING"));
        assert!(!has_vary_header(&headers, "Accept-Language"));
        assert!(!has_vary_header(&HeaderMap::new(), "Cookie"));
    }
}
