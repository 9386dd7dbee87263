//! The bytes of component JS/CSS as they are stored, served and inlined: class JS bound to its
//! class, JS/CSS variables as a script or a style sheet, all safe inside `<script>`/`<style>`.

use crate::canonical;
use crate::error::ComponentError;

/// Refuses JS containing `</script` and CSS containing `</style` (any case): inlined in a page,
/// they would end the element early and let the rest run as HTML.
pub(crate) fn check_media(component: &str, js: Option<&str>, css: Option<&str>) -> Result<(), ComponentError> {
    if let Some(js) = js
        && contains_ignore_case(js, "</script")
    {
        return Err(ComponentError::definition(
            component,
            "its JS contains `</script`, which would end the <script> element it is inlined in; \
             write it as `<\\/script` inside strings",
        ));
    }
    if let Some(css) = css
        && contains_ignore_case(css, "</style")
    {
        return Err(ComponentError::definition(
            component,
            "its CSS contains `</style`, which would end the <style> element it is inlined in; \
             escape it (`<\\/style`) inside strings",
        ));
    }
    Ok(())
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    let needle = needle.as_bytes();
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle))
}

/// The class' JS as stored and inlined: every `$onComponent(` (spaces allowed before the
/// parenthesis) becomes a registration of the callback for this class.
pub(crate) fn class_js(class_id: &str, js: &str) -> String {
    const CALL: &str = "$onComponent";
    let mut out = String::with_capacity(js.len() + 64);
    let mut rest = js;
    while let Some(at) = rest.find(CALL) {
        let after = &rest[at + CALL.len()..];
        let trimmed = after.trim_start();
        out.push_str(&rest[..at]);
        if let Some(args) = trimmed.strip_prefix('(') {
            out.push_str("DjangoComponents.manager.registerComponent(");
            out.push_str(&js_string(class_id));
            out.push_str(", ");
            rest = args;
        } else {
            out.push_str(CALL);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// A JS string literal of `text`, safe inside a `<script>` element.
pub(crate) fn js_string(text: &str) -> String {
    script_safe(&serde_json::to_string(text).expect("a string serializes"))
}

/// JSON made safe to sit inside a `<script>` element: `<`, `>` and `&` (only ever inside strings
/// in JSON) become `\u` escapes, and so do U+2028/U+2029 (line terminators in older JS).
pub(crate) fn script_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The style sheet of one CSS variables payload: django-components' layout
/// (`/* <class id> */\n[data-djc-css-<hash>] {\n  --name: value;\n}`), with names escaped as CSS
/// identifiers and values that aren't plain CSS tokens written as escaped CSS strings, so no data
/// can end the rule, the sheet or the `<style>` element.
pub(crate) fn css_variables_sheet(class_id: &str, hash: &str, json: &str) -> String {
    let mut out = format!("/* {class_id} */\n[data-djc-css-{hash}] {{");
    let data: serde_json::Map<String, serde_json::Value> = serde_json::from_str(json).unwrap_or_default();
    for (name, value) in &data {
        out.push_str("\n  --");
        css_ident_into(name, &mut out);
        out.push_str(": ");
        css_value_into(value, &mut out);
        out.push(';');
    }
    out.push_str("\n}");
    out
}

fn css_ident_into(name: &str, out: &mut String) {
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' || (c as u32) >= 0x80 {
            out.push(c);
        } else {
            out.push_str(&format!("\\{:x} ", c as u32));
        }
    }
}

fn css_value_into(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Null => {}
        serde_json::Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        serde_json::Value::Number(n) => out.push_str(&n.to_string()),
        serde_json::Value::String(s) if is_plain_css_value(s) => out.push_str(s),
        serde_json::Value::String(s) => css_string_into(s, out),
        other => css_string_into(&canonical::to_string(other).unwrap_or_default(), out),
    }
}

/// Whether `value` can be written as it is: tokens, spaces and balanced parentheses only (`red`,
/// `1px solid #333`, `rgb(0 0 0 / 50%)`, `var(--x)`), nothing that ends a declaration or a rule.
fn is_plain_css_value(value: &str) -> bool {
    let mut depth = 0u32;
    for c in value.chars() {
        match c {
            '(' => depth += 1,
            ')' => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            c if c.is_ascii_alphanumeric() => {}
            ' ' | '#' | '%' | '.' | ',' | '+' | '-' | '_' | '/' | '*' => {}
            _ => return false,
        }
    }
    depth == 0 && !value.trim().is_empty() && !value.contains("/*") && !value.contains("*/")
}

fn css_string_into(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, ' ' | '#' | '%' | '.' | ',' | '-' | '_' | ':' | '(' | ')') {
            out.push(c);
        } else {
            out.push_str(&format!("\\{:x} ", c as u32));
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_component_calls_are_bound_to_the_class() {
        assert_eq!(
            class_js(
                "Btn_aeca93",
                "$onComponent ((d) => {}); x.$onComponentX; $onComponent(f)"
            ),
            "DjangoComponents.manager.registerComponent(\"Btn_aeca93\", (d) => {}); x.$onComponentX; \
             DjangoComponents.manager.registerComponent(\"Btn_aeca93\", f)"
        );
    }

    #[test]
    fn css_variables_are_escaped() {
        let json = r#"{"a b":"x;}</style>","color":"red","n":1.5,"none":null,"shadow":"0 0 1px rgb(0 0 0 / 50%)"}"#;
        assert_eq!(
            css_variables_sheet("C_000000", "00ff", json),
            "/* C_000000 */\n[data-djc-css-00ff] {\n  --a\\20 b: \"x\\3b \\7d \\3c \\2f style\\3e \";\n  \
             --color: red;\n  --n: 1.5;\n  --none: ;\n  --shadow: 0 0 1px rgb(0 0 0 / 50%);\n}"
        );
    }

    #[test]
    fn end_tags_in_media_are_refused() {
        assert!(check_media("A", Some("x = '</SCRIPT>'"), None).is_err());
        assert!(check_media("A", None, Some("/* </style */")).is_err());
        assert!(check_media("A", Some("x = '<\\/script>'"), Some("a{}")).is_ok());
    }

    #[test]
    fn script_safe_json_has_no_tags() {
        assert_eq!(
            script_safe(r#"{"a":"</script>&"}"#),
            r#"{"a":"\u003c/script\u003e\u0026"}"#
        );
    }
}
