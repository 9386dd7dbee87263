//! Entity tags as Django reads and writes them (`django.utils.http`).

/// Django's `ETAG_MATCH`: `W/"…"` or `"…"`, with no `"` inside.
pub(crate) fn is_quoted_etag(text: &str) -> bool {
    let strong = text.strip_prefix("W/").unwrap_or(text);
    strong.len() >= 2 && strong.starts_with('"') && strong.ends_with('"') && !strong[1..strong.len() - 1].contains('"')
}

/// Django's `parse_etags`: the valid entity tags of an `If-Match`/`If-None-Match` value, or `["*"]`.
/// Malformed items are dropped.
pub fn parse_etags(header: &str) -> Vec<String> {
    if header.trim() == "*" {
        return vec!["*".to_owned()];
    }
    header
        .split(',')
        .map(str::trim)
        .filter(|item| is_quoted_etag(item))
        .map(str::to_owned)
        .collect()
}

/// Django's `quote_etag`: `text` when it is already a quoted entity tag, else `"text"` (strong).
pub fn quote_etag(text: &str) -> String {
    if is_quoted_etag(text) {
        text.to_owned()
    } else {
        format!("\"{text}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Django's `ETagProcessingTests`.
    #[test]
    fn parse_and_quote_like_django() {
        assert_eq!(
            parse_etags(r#""" ,  "etag", "e\\tag", W/"weak""#),
            [r#""""#, r#""etag""#, r#""e\\tag""#, r#"W/"weak""#]
        );
        assert_eq!(parse_etags("*"), ["*"]);
        assert_eq!(
            parse_etags(r#"etag, W/"x""#),
            [r#"W/"x""#],
            "an unquoted tag is dropped"
        );
        assert_eq!(quote_etag("etag"), r#""etag""#);
        assert_eq!(quote_etag(r#""etag""#), r#""etag""#);
        assert_eq!(quote_etag(r#"W/"etag""#), r#"W/"etag""#);
    }
}
