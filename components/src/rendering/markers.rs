//! The markers a component's raw output carries until the page is assembled.
//!
//! A template can't await a cache lookup, so `{{ component("Card", …) }}` only records the call
//! and leaves a *call marker* in the output; `{{ component_id }}` leaves an *id marker* naming the
//! render it belongs to; `{% call cache(…) %}…{% endcall %}` leaves a *template fragment marker*,
//! looked up once the template is done. Each is `U+0000`, a letter, a decimal number, `U+0000`. NUL can't come
//! from anywhere else: the template formatter, [`crate::Html::text`], [`crate::Html::raw`] and
//! slots given from Rust replace it with U+FFFD — which is what an HTML parser does with a NUL in
//! text anyway. Templates containing a NUL are refused at registration.

use std::borrow::Cow;
use std::fmt::Write as _;

const NUL: char = '\0';
const CALL: char = 'c';
const ID: char = 'i';
const TEMPLATE_FRAGMENT: char = 'f';

/// A piece of raw output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    /// HTML as it is.
    Text(&'a str),
    /// The output of the page's pending call number `n`.
    Call(u32),
    /// The instance id of the page's render number `n`.
    Id(u32),
    /// The page's pending template fragment number `n` (`{% call cache(…) %}`).
    TemplateFragment(u32),
}

/// The marker of pending call `n`.
pub(crate) fn call_marker(n: u32) -> String {
    marker(CALL, n)
}

/// The marker of render `n`'s instance id.
pub(crate) fn id_marker(n: u32) -> String {
    marker(ID, n)
}

/// The marker of pending template fragment `n`.
pub(crate) fn template_fragment_marker(n: u32) -> String {
    marker(TEMPLATE_FRAGMENT, n)
}

fn marker(kind: char, n: u32) -> String {
    let mut out = String::with_capacity(13);
    out.push(NUL);
    out.push(kind);
    let _ = write!(out, "{n}");
    out.push(NUL);
    out
}

/// Splits raw output into text and markers. A NUL that doesn't start a well-formed marker (only
/// trusted `|safe` content can hold one) comes out as U+FFFD, like an HTML parser would show it.
pub(crate) fn tokens(raw: &str) -> Tokens<'_> {
    Tokens { rest: raw }
}

/// Iterator of [`Token`]s; see [`tokens`].
pub(crate) struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        let Some(start) = self.rest.find(NUL) else {
            return Some(Token::Text(std::mem::take(&mut self.rest)));
        };
        if start > 0 {
            let (text, rest) = self.rest.split_at(start);
            self.rest = rest;
            return Some(Token::Text(text));
        }
        match parse_marker(self.rest) {
            Some((token, len)) => {
                self.rest = &self.rest[len..];
                Some(token)
            }
            None => {
                self.rest = &self.rest[NUL.len_utf8()..];
                Some(Token::Text("\u{FFFD}"))
            }
        }
    }
}

/// A marker at the start of `text` (which starts with NUL) and its length in bytes.
fn parse_marker(text: &str) -> Option<(Token<'static>, usize)> {
    let bytes = text.as_bytes();
    let kind = *bytes.get(1)?;
    let digits = bytes[2..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 10 || bytes.get(2 + digits) != Some(&0) {
        return None;
    }
    let n: u32 = text[2..2 + digits].parse().ok()?;
    let token = match kind {
        b'c' => Token::Call(n),
        b'i' => Token::Id(n),
        b'f' => Token::TemplateFragment(n),
        _ => return None,
    };
    Some((token, 3 + digits))
}

/// `text` with every NUL replaced by U+FFFD, so content from outside can't forge a marker.
pub(crate) fn sanitize(text: &str) -> Cow<'_, str> {
    if text.contains(NUL) {
        Cow::Owned(text.replace(NUL, "\u{FFFD}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Appends `text` HTML-escaped (and sanitized) to `out`, exactly as minijinja's autoescaping does.
pub(crate) fn escape_into(text: &str, out: &mut String) {
    let mut last = 0;
    for (i, byte) in text.bytes().enumerate() {
        let replacement = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#x27;",
            b'/' => "&#x2f;",
            0 => "\u{FFFD}",
            _ => continue,
        };
        out.push_str(&text[last..i]);
        out.push_str(replacement);
        last = i + 1;
    }
    out.push_str(&text[last..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_between_text() {
        let raw = format!(
            "<p>{}</p>{}x{}",
            call_marker(0),
            id_marker(4_000_000_000),
            call_marker(17)
        ) + &template_fragment_marker(3);
        let found: Vec<Token<'_>> = tokens(&raw).collect();
        assert_eq!(
            found,
            vec![
                Token::Text("<p>"),
                Token::Call(0),
                Token::Text("</p>"),
                Token::Id(4_000_000_000),
                Token::Text("x"),
                Token::Call(17),
                Token::TemplateFragment(3),
            ]
        );
    }

    #[test]
    fn stray_nuls_become_replacement_characters() {
        let found: Vec<Token<'_>> = tokens("a\0b\0x1\0\0c\0").collect();
        assert!(found.iter().all(|t| matches!(t, Token::Text(_))), "{found:?}");
        let text: String = found
            .iter()
            .map(|t| match t {
                Token::Text(s) => *s,
                _ => unreachable!(),
            })
            .collect();
        assert!(!text.contains('\0'));
        assert_eq!(sanitize("a\0b"), "a\u{FFFD}b");
    }

    #[test]
    fn escaping_matches_autoescape_and_drops_nuls() {
        let mut out = String::new();
        escape_into("<a href=\"x\">'&'\0</a>", &mut out);
        assert_eq!(
            out,
            "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;\u{FFFD}&lt;&#x2f;a&gt;"
        );
    }
}
