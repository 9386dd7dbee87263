//! Finding root elements once, while a render's output is put together, so that instance
//! attributes (`data-djc-id-…`, `data-djc-css-…`) are spliced in on every render and every hit
//! without parsing the HTML again.
//!
//! A small scanner of HTML's tokens: tags (quoted attribute values, `/>`), comments, `<!…>`
//! declarations, and the raw text of `script`, `style`, `textarea` and `title`. A root element of a
//! fragment is a start tag at depth 0 or less from where the fragment starts; depth counts start
//! tags of elements that have content and end tags, as the browser's tree would if every element
//! were closed explicitly (roots are found by end tags: close root elements). Each root records
//! where its start tag ends — the `>`, or the `/` of `/>` — which is where attributes go, after
//! the element's own (where django-components and lol_html put them too).

use crate::media::strategies::{CSS_PLACEHOLDER, JS_PLACEHOLDER};

/// What a finished fragment's HTML does to the depth of whatever contains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outline {
    /// The depth at the end, from 0 at the start.
    pub(crate) depth: i32,
    /// The least depth any start tag was at (`i32::MAX` when there is none).
    pub(crate) min_depth: i32,
    /// Whether the HTML ends between tokens (not inside a tag, comment or raw text).
    pub(crate) clean: bool,
}

impl Default for Outline {
    fn default() -> Self {
        Outline {
            depth: 0,
            min_depth: i32::MAX,
            clean: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Data,
    /// Just after `<`.
    TagOpen,
    /// Just after `</`.
    EndTagOpen,
    TagName,
    InTag,
    Quoted(u8),
    /// After `<!`, with the number of `-` seen (`<!--` opens a comment).
    MarkupDeclaration(u8),
    /// In a comment, with the number of `-` just seen.
    Comment(u8),
    /// `<!DOCTYPE …>`, `<?…>`: until `>`.
    Bogus,
    /// In a raw text element: how much of its end tag (`</script`) was matched so far.
    RawText(RawText, u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RawText {
    Script,
    Style,
    Textarea,
    Title,
}

impl RawText {
    fn of(name: &[u8]) -> Option<RawText> {
        Some(match name {
            b"script" => RawText::Script,
            b"style" => RawText::Style,
            b"textarea" => RawText::Textarea,
            b"title" => RawText::Title,
            _ => return None,
        })
    }

    fn end_tag(self) -> &'static [u8] {
        match self {
            RawText::Script => b"</script",
            RawText::Style => b"</style",
            RawText::Textarea => b"</textarea",
            RawText::Title => b"</title",
        }
    }
}

/// Elements without content or end tag.
fn is_void(name: &[u8]) -> bool {
    matches!(
        name,
        b"area"
            | b"base"
            | b"br"
            | b"col"
            | b"embed"
            | b"hr"
            | b"img"
            | b"input"
            | b"link"
            | b"meta"
            | b"param"
            | b"source"
            | b"track"
            | b"wbr"
    )
}

/// Tag names longer than this are none of the above: only their length matters.
const NAME_BYTES: usize = 10;

/// Scans one fragment's HTML as it is appended; see the module docs.
#[derive(Debug)]
pub(crate) struct RootScanner {
    state: State,
    outline: Outline,
    is_end_tag: bool,
    name: [u8; NAME_BYTES],
    /// The name's length; more than `NAME_BYTES` for a long name.
    name_len: usize,
    tag_start: usize,
    /// Where the `/` of a `/>` is, when the last character in the tag was one.
    slash: Option<usize>,
    /// Where the attributes of the fragment's own root elements go.
    pub(crate) roots: Vec<u32>,
    /// The elements this scan opened and hasn't seen closed: an end tag closes the ones opened
    /// after its own too (`<ul><li>a</ul>`), as lol_html and the browser do.
    open: Vec<([u8; NAME_BYTES], usize)>,
}

impl RootScanner {
    pub(crate) fn new() -> Self {
        RootScanner {
            state: State::Data,
            outline: Outline::default(),
            is_end_tag: false,
            name: [0; NAME_BYTES],
            name_len: 0,
            tag_start: 0,
            slash: None,
            roots: Vec::new(),
            open: Vec::new(),
        }
    }

    /// Whether HTML appended now is between tokens, and how deep.
    pub(crate) fn depth_between_tokens(&self) -> Option<i32> {
        (self.state == State::Data).then_some(self.outline.depth)
    }

    /// Takes into account a child fragment appended between tokens without scanning it: its roots
    /// are ours when it starts at depth 0 (the caller adds them), and its outline moves our depth.
    pub(crate) fn skip(&mut self, child: Outline) {
        let depth = self.outline.depth;
        self.outline.min_depth = self.outline.min_depth.min(depth.saturating_add(child.min_depth));
        self.outline.depth = depth + child.depth;
    }

    pub(crate) fn outline(&self) -> Outline {
        Outline {
            clean: self.state == State::Data,
            ..self.outline
        }
    }

    /// Scans `html[from..]` (`html` is the whole fragment so far).
    pub(crate) fn scan(&mut self, html: &[u8], from: usize) {
        let mut at = from;
        while at < html.len() {
            let byte = html[at];
            match self.state {
                State::Data => match memchr_lt(&html[at..]) {
                    Some(skip) => {
                        at += skip;
                        self.tag_start = at;
                        self.state = State::TagOpen;
                    }
                    None => return,
                },
                State::TagOpen => {
                    self.state = match byte {
                        b'/' => State::EndTagOpen,
                        b'!' => State::MarkupDeclaration(0),
                        b'?' => State::Bogus,
                        b if b.is_ascii_alphabetic() => {
                            self.start_name(false, b);
                            State::TagName
                        }
                        // A `<` that starts no tag is text; look at this byte again as text.
                        _ => {
                            self.state = State::Data;
                            continue;
                        }
                    };
                }
                State::EndTagOpen => {
                    self.state = match byte {
                        b if b.is_ascii_alphabetic() => {
                            self.start_name(true, b);
                            State::TagName
                        }
                        b'>' => State::Data,
                        _ => State::Bogus,
                    };
                }
                State::TagName => match byte {
                    b'>' => self.end_of_tag(html, at),
                    b'/' => {
                        self.slash = Some(at);
                        self.state = State::InTag;
                    }
                    b if b.is_ascii_whitespace() => self.state = State::InTag,
                    b => {
                        if self.name_len < NAME_BYTES {
                            self.name[self.name_len] = b.to_ascii_lowercase();
                        }
                        self.name_len += 1;
                    }
                },
                State::InTag => match byte {
                    b'>' => self.end_of_tag(html, at),
                    b'"' | b'\'' => {
                        self.slash = None;
                        self.state = State::Quoted(byte);
                    }
                    b'/' => self.slash = Some(at),
                    b if b.is_ascii_whitespace() => {}
                    _ => self.slash = None,
                },
                State::Quoted(quote) => match memchr(quote, &html[at..]) {
                    Some(skip) => {
                        at += skip;
                        self.state = State::InTag;
                    }
                    None => return,
                },
                State::MarkupDeclaration(dashes) => {
                    self.state = match (byte, dashes) {
                        (b'-', 0) => State::MarkupDeclaration(1),
                        (b'-', _) => State::Comment(0),
                        (b'>', _) => State::Data,
                        _ => State::Bogus,
                    };
                }
                State::Comment(dashes) => {
                    self.state = match byte {
                        b'-' => State::Comment((dashes + 1).min(2)),
                        b'>' if dashes >= 2 => State::Data,
                        _ => State::Comment(0),
                    };
                }
                State::Bogus => match memchr(b'>', &html[at..]) {
                    Some(skip) => {
                        at += skip;
                        self.state = State::Data;
                    }
                    None => return,
                },
                State::RawText(kind, matched) => {
                    let end = kind.end_tag();
                    let matched = usize::from(matched);
                    if byte.to_ascii_lowercase() == end[matched] {
                        if matched + 1 == end.len() {
                            // The end tag's name is read; what follows is its `>`.
                            let name = &end[2..];
                            self.is_end_tag = true;
                            self.name[..name.len()].copy_from_slice(name);
                            self.name_len = name.len();
                            self.state = State::InTag;
                        } else {
                            self.state = State::RawText(kind, (matched + 1) as u8);
                        }
                    } else {
                        // Not the end tag; a `<` may start it again.
                        self.state = State::RawText(kind, u8::from(byte == b'<'));
                    }
                }
            }
            at += 1;
        }
    }

    fn start_name(&mut self, end: bool, first: u8) {
        self.is_end_tag = end;
        self.name = [0; NAME_BYTES];
        self.name[0] = first.to_ascii_lowercase();
        self.name_len = 1;
        self.slash = None;
    }

    fn end_of_tag(&mut self, html: &[u8], at: usize) {
        self.state = State::Data;
        if self.is_end_tag {
            let name = (self.name, self.name_len);
            match self.open.iter().rposition(|open| *open == name) {
                Some(at) => {
                    self.outline.depth -= (self.open.len() - at) as i32;
                    self.open.truncate(at);
                }
                // Closes what the fragment is in (or nothing).
                None => self.outline.depth -= 1,
            }
            return;
        }
        let name = &self.name[..self.name_len.min(NAME_BYTES)];
        let name = if self.name_len > NAME_BYTES { &[][..] } else { name };
        let tag = &html[self.tag_start..=at];
        let placeholder = tag == CSS_PLACEHOLDER.as_bytes()
            || tag == &JS_PLACEHOLDER.as_bytes()[..JS_PLACEHOLDER.len() - "</script>".len()];
        let depth = self.outline.depth;
        if depth <= 0 && !placeholder {
            self.roots.push(self.slash.unwrap_or(at) as u32);
        }
        self.outline.min_depth = self.outline.min_depth.min(depth);
        if self.slash.is_some() || is_void(name) {
            return;
        }
        self.outline.depth += 1;
        self.open.push((self.name, self.name_len));
        if let Some(kind) = RawText::of(name) {
            self.state = State::RawText(kind, 0);
        }
    }
}

fn memchr(byte: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == byte)
}

fn memchr_lt(haystack: &[u8]) -> Option<usize> {
    memchr(b'<', haystack)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots(html: &str) -> (Vec<u32>, Outline) {
        let mut scanner = RootScanner::new();
        scanner.scan(html.as_bytes(), 0);
        (scanner.roots.clone(), scanner.outline())
    }

    fn marked(html: &str) -> String {
        let (roots, _) = roots(html);
        let mut out = html.to_owned();
        for &at in roots.iter().rev() {
            out.insert(at as usize, '|');
        }
        out
    }

    #[test]
    fn roots_are_the_start_tags_at_depth_zero() {
        assert_eq!(
            marked("<div a=\"x>y\"><p>t</p></div>text<br/><img src=x>"),
            "<div a=\"x>y\"|><p>t</p></div>text<br|/><img src=x|>"
        );
        assert_eq!(marked("<ul><li>a<li>b</ul><p>c</p>"), "<ul|><li>a<li>b</ul><p|>c</p>");
        assert_eq!(
            marked("<!-- <p> --><!DOCTYPE html><p>x</p>"),
            "<!-- <p> --><!DOCTYPE html><p|>x</p>"
        );
        assert_eq!(
            marked("<script>if (a<b) '<p>'</script><style>p{}</style><i>"),
            "<script|>if (a<b) '<p>'</script><style|>p{}</style><i|>"
        );
        assert_eq!(marked("a < b <p>x</p>"), "a < b <p|>x</p>");
        // A `/` ends a start tag only when nothing but whitespace follows it.
        assert_eq!(
            marked("<div/ a>x</div><b / ><i a=/>"),
            "<div/ a|>x</div><b |/ ><i a=|/>"
        );
        assert_eq!(
            marked(r#"<link name="CSS_PLACEHOLDER"><script name="JS_PLACEHOLDER"></script><b>"#),
            r#"<link name="CSS_PLACEHOLDER"><script name="JS_PLACEHOLDER"></script><b|>"#
        );
    }

    #[test]
    fn the_outline_says_what_a_fragment_does_to_depth() {
        assert_eq!(
            roots("<div>").1,
            Outline {
                depth: 1,
                min_depth: 0,
                clean: true
            }
        );
        assert_eq!(
            roots("</div><p>").1,
            Outline {
                depth: 0,
                min_depth: -1,
                clean: true
            }
        );
        assert_eq!(roots("text").1, Outline::default());
        assert!(!roots("<div class=\"").1.clean);
    }

    /// Pieces HTML is made of, with the bytes that change the scanner's state among them.
    fn piece() -> impl proptest::strategy::Strategy<Value = &'static str> {
        proptest::sample::select(vec![
            "<",
            ">",
            "/",
            "/>",
            "</",
            "<!",
            "<!--",
            "-->",
            "-",
            "\"",
            "'",
            " ",
            "\n",
            "=",
            "a",
            "é",
            "—",
            "<li>",
            "</li>",
            "<ul class=\"x\">",
            "</ul>",
            "<br/>",
            "<br />",
            "<img src=x/>",
            "<p a='>'>",
            "<script>",
            "</script>",
            "</scr",
            "<SCRIPT>",
            "<title>",
            "</title >",
            "<div",
            " id=",
            "<?x>",
            "<!DOCTYPE html>",
            "<averyverylongname>",
            "</averyverylongname>",
        ])
    }

    proptest::proptest! {
        /// A fragment's HTML arrives in pieces (text, then a child's, then more text): however it
        /// is cut, down to a byte at a time, the scan must find what it finds at once.
        #[test]
        fn scanning_byte_by_byte_is_scanning_at_once(pieces in proptest::collection::vec(piece(), 0..60)) {
            let html = pieces.concat();
            let whole = roots(&html);
            let mut scanner = RootScanner::new();
            for at in 0..html.len() {
                scanner.scan(&html.as_bytes()[..=at], at);
            }
            proptest::prop_assert_eq!((scanner.roots.clone(), scanner.outline()), whole);
        }
    }

    #[test]
    fn scanning_in_pieces_is_scanning_at_once() {
        let html = "<div id=\"xy\"><script>a</scr</script><!-- c --></div><p/>";
        let whole = roots(html);
        for cut in 0..html.len() {
            let mut scanner = RootScanner::new();
            scanner.scan(&html.as_bytes()[..cut], 0);
            scanner.scan(html.as_bytes(), cut);
            assert_eq!((scanner.roots.clone(), scanner.outline()), whole, "cut at {cut}");
        }
    }
}
