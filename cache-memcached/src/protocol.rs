//! memcached's text protocol: encoding the commands the backend sends and parsing the replies.
//!
//! Pure functions over bytes, so every reply shape, well-formed or hostile, is tested without a
//! server. Keys reach the encoders already checked by [`wire_key::check`](crate::wire_key::check),
//! so none can break a command line.

use std::ops::Range;

use bytes::Bytes;

/// What kind of reply a command gets, which is how the reader knows where a reply ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// `VALUE …` blocks then `END` (`get`, `gets`).
    Values,
    /// One status line (`STORED`, `DELETED`, `TOUCHED`, `OK`, …).
    Status,
    /// A decimal number or `NOT_FOUND` (`incr`, `decr`).
    Number,
    /// `STAT name value` lines then `END`.
    Stats,
}

/// A complete reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    /// The items found, in the order the server sent them.
    Values(Vec<Hit>),
    /// A status line.
    Status(Status),
    /// The result of `incr`/`decr`.
    Number(u64),
    /// `stats` output, in order.
    Stats(Vec<(String, String)>),
    /// `ERROR`, `CLIENT_ERROR …` or `SERVER_ERROR …`.
    Error(ErrorReply),
}

/// One `VALUE` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    /// Which key of the `get` it answers: 0 for the first key asked. The parser has matched the
    /// key the server sent back to it, so a value never goes to another key.
    pub index: usize,
    /// The key as the server sent it back.
    pub key: Bytes,
    /// The data block, shared with the read buffer (no copy).
    pub value: Bytes,
}

/// The status lines the backend acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// `STORED`
    Stored,
    /// `NOT_STORED`
    NotStored,
    /// `EXISTS`
    Exists,
    /// `NOT_FOUND`
    NotFound,
    /// `TOUCHED`
    Touched,
    /// `DELETED`
    Deleted,
    /// `OK`
    Ok,
}

/// An error reply: the command was read and refused, and the connection stays in step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ErrorReply {
    /// `ERROR`: an unknown command.
    Error,
    /// `CLIENT_ERROR <message>`: the request was wrong.
    Client(String),
    /// `SERVER_ERROR <message>`: the server couldn't do it.
    Server(String),
}

impl ErrorReply {
    /// `SERVER_ERROR object too large for cache`: the value exceeds the item size limit.
    pub(crate) fn is_too_large(&self) -> bool {
        matches!(self, ErrorReply::Server(message) if message.contains("too large"))
    }

    /// `CLIENT_ERROR cannot increment or decrement non-numeric value`.
    pub(crate) fn is_non_numeric(&self) -> bool {
        matches!(self, ErrorReply::Client(message) if message.contains("non-numeric"))
    }

    /// `SERVER_ERROR out of memory …`: may succeed once the server has evicted something.
    pub(crate) fn is_out_of_memory(&self) -> bool {
        matches!(self, ErrorReply::Server(message) if message.contains("out of memory"))
    }
}

impl std::fmt::Display for ErrorReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ErrorReply::Error => f.write_str("ERROR"),
            ErrorReply::Client(message) => write!(f, "CLIENT_ERROR {message}"),
            ErrorReply::Server(message) => write!(f, "SERVER_ERROR {message}"),
        }
    }
}

/// Bytes the server sent that fit no reply: the connection can't be trusted any more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProtocolError(pub String);

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unexpected reply from memcached: {}", self.0)
    }
}

impl std::error::Error for ProtocolError {}

// ---- encoding --------------------------------------------------------------------------------

/// `get <key> <key> …\r\n`.
pub(crate) fn get<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let mut line = Vec::with_capacity(64);
    line.extend_from_slice(b"get");
    for key in keys {
        line.push(b' ');
        line.extend_from_slice(key.as_bytes());
    }
    line.extend_from_slice(b"\r\n");
    line
}

/// The storage verbs the backend uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Store {
    /// `set`
    Set,
    /// `add`
    Add,
}

/// `<set|add> <key> 0 <exptime> <bytes>\r\n`; the data block and its `\r\n` follow separately.
pub(crate) fn store(verb: Store, key: &str, exptime: u32, length: usize) -> Vec<u8> {
    let mut line = Vec::with_capacity(key.len() + 32);
    line.extend_from_slice(match verb {
        Store::Set => b"set ",
        Store::Add => b"add ",
    });
    line.extend_from_slice(key.as_bytes());
    line.extend_from_slice(b" 0 ");
    line.extend_from_slice(itoa::Buffer::new().format(exptime).as_bytes());
    line.push(b' ');
    line.extend_from_slice(itoa::Buffer::new().format(length).as_bytes());
    line.extend_from_slice(b"\r\n");
    line
}

/// `touch <key> <exptime>\r\n`.
pub(crate) fn touch(key: &str, exptime: u32) -> Vec<u8> {
    let mut line = Vec::with_capacity(key.len() + 20);
    line.extend_from_slice(b"touch ");
    line.extend_from_slice(key.as_bytes());
    line.push(b' ');
    line.extend_from_slice(itoa::Buffer::new().format(exptime).as_bytes());
    line.extend_from_slice(b"\r\n");
    line
}

/// `delete <key>\r\n`.
pub(crate) fn delete(key: &str) -> Vec<u8> {
    let mut line = Vec::with_capacity(key.len() + 9);
    line.extend_from_slice(b"delete ");
    line.extend_from_slice(key.as_bytes());
    line.extend_from_slice(b"\r\n");
    line
}

/// `incr <key> <amount>\r\n` or `decr <key> <amount>\r\n`.
pub(crate) fn arithmetic(increment: bool, key: &str, amount: u64) -> Vec<u8> {
    let mut line = Vec::with_capacity(key.len() + 28);
    line.extend_from_slice(if increment { b"incr " } else { b"decr " });
    line.extend_from_slice(key.as_bytes());
    line.push(b' ');
    line.extend_from_slice(itoa::Buffer::new().format(amount).as_bytes());
    line.extend_from_slice(b"\r\n");
    line
}

/// `flush_all\r\n`.
pub(crate) fn flush_all() -> Vec<u8> {
    b"flush_all\r\n".to_vec()
}

/// `stats\r\n`.
pub(crate) fn stats() -> Vec<u8> {
    b"stats\r\n".to_vec()
}

// ---- parsing ---------------------------------------------------------------------------------
//
// Nothing a server sends is trusted to size anything: a claimed data length is checked against the
// item size limit before the reader waits for (or reserves room for) that many bytes, every line
// and `STAT` list has a ceiling, every number is range-checked, and each `VALUE` must answer a key
// the `get` asked for. A reply past any of these is a `ProtocolError`, and the connection that
// carried it is closed.

/// The longest line a reply may hold. A `VALUE` header with a 250-byte key and three 20-digit
/// numbers is under 320 bytes, and memcached's status, error and `STAT` lines are shorter; a line
/// with no end in sight past this is a server talking nonsense, not one still sending.
pub(crate) const MAX_LINE: usize = 2048;

/// The most `STAT` lines a `stats` reply may hold; memcached sends about a hundred.
const MAX_STATS: usize = 1024;

/// How far the parse of one reply got; kept across reads so a long multi-get reply is scanned once.
#[derive(Debug)]
pub(crate) struct Progress<'a> {
    /// The keys the `get` being answered asked for, space-separated, in order; empty for
    /// other commands.
    asked: &'a [u8],
    /// Where in `asked` the next hit's key is looked for, and that key's index.
    next_asked: usize,
    next_index: usize,
    /// The longest data block accepted: the servers' item size limit.
    max_value: usize,
    /// Where the next unparsed line starts.
    position: usize,
    /// `(index of the key asked, key, value)` of the `VALUE` blocks read so far, as byte ranges.
    hits: Vec<(usize, Range<usize>, Range<usize>)>,
    stats: Vec<(String, String)>,
    /// How many more bytes the reply needs at least, when known (a data block being read). Never
    /// more than `max_value` + 2.
    pub wanted: usize,
}

/// A reply that is complete in the buffer: it ends at `end`; the values of a `Values` reply are
/// cut out of the buffer by [`Progress::values`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// `VALUE` blocks and `END`.
    Values,
    /// Anything else, already whole.
    Other(Reply),
}

impl<'a> Progress<'a> {
    /// The start of the parse of the reply to `command` (its line, as sent), accepting data blocks
    /// of at most `max_value` bytes.
    pub(crate) fn new(command: &'a [u8], max_value: usize) -> Progress<'a> {
        let asked = command
            .strip_prefix(b"get ")
            .map_or(&[][..], |keys| keys.strip_suffix(b"\r\n").unwrap_or(keys));
        Progress {
            asked,
            next_asked: 0,
            next_index: 0,
            max_value,
            position: 0,
            hits: Vec::new(),
            stats: Vec::new(),
            wanted: 0,
        }
    }

    /// The hits of a finished `Values` reply, as slices of `frame` (the buffer's first `end` bytes).
    pub(crate) fn values(self, frame: &Bytes) -> Vec<Hit> {
        self.hits
            .into_iter()
            .map(|(index, key, value)| Hit {
                index,
                key: frame.slice(key),
                value: frame.slice(value),
            })
            .collect()
    }

    /// The index of the asked key that `key` answers, and where the search for the next hit
    /// resumes. memcached answers a multi-get in the order asked, leaving out misses, so a hit can
    /// only be for a key after the previous hit's; anything else would hand one key's value to
    /// another.
    fn answering(&self, key: &[u8]) -> Option<(usize, usize)> {
        let mut start = self.next_asked;
        let mut index = self.next_index;
        while start < self.asked.len() {
            let rest = &self.asked[start..];
            let length = rest.iter().position(|&byte| byte == b' ').unwrap_or(rest.len());
            if &rest[..length] == key {
                return Some((index, start + length + 1));
            }
            start += length + 1;
            index += 1;
        }
        None
    }
}

/// Parses the reply at the start of `buffer`, continuing from `progress`.
///
/// `Ok(None)`: the reply isn't complete yet; read more and call again with the same `progress`.
/// `Ok(Some((end, parsed)))`: the reply takes the first `end` bytes.
pub(crate) fn parse(
    buffer: &[u8],
    expect: Expect,
    progress: &mut Progress<'_>,
) -> Result<Option<(usize, Parsed)>, ProtocolError> {
    progress.wanted = 0;
    loop {
        let Some((line, next)) = line_at(buffer, progress.position) else {
            // The line so far, plus room for a `\r` whose `\n` is still on its way.
            if buffer.len().saturating_sub(progress.position) > MAX_LINE + 1 {
                return Err(ProtocolError(format!("a line of over {MAX_LINE} bytes")));
            }
            return Ok(None);
        };
        if line.len() > MAX_LINE {
            return Err(ProtocolError(format!("a line of over {MAX_LINE} bytes")));
        }
        if let Some(error) = error_line(line) {
            return Ok(Some((next, Parsed::Other(Reply::Error(error)))));
        }
        match expect {
            Expect::Values => {
                if line == b"END" {
                    return Ok(Some((next, Parsed::Values)));
                }
                let (key, length) = value_header(line, progress.position, progress.max_value)?;
                let Some((index, next_asked)) = progress.answering(&buffer[key.clone()]) else {
                    return Err(not_asked(&buffer[key]));
                };
                // `length` is at most `max_value`, so neither sum can overflow.
                let end = next + length;
                if buffer.len() < end + 2 {
                    progress.wanted = end + 2 - buffer.len();
                    return Ok(None);
                }
                if &buffer[end..end + 2] != b"\r\n" {
                    return Err(ProtocolError("a data block not followed by \\r\\n".into()));
                }
                progress.hits.push((index, key, next..end));
                progress.next_asked = next_asked;
                progress.next_index = index + 1;
                progress.position = end + 2;
            }
            Expect::Stats => {
                if line == b"END" {
                    let stats = std::mem::take(&mut progress.stats);
                    return Ok(Some((next, Parsed::Other(Reply::Stats(stats)))));
                }
                if progress.stats.len() == MAX_STATS {
                    return Err(ProtocolError(format!("a `stats` reply of over {MAX_STATS} lines")));
                }
                let text = String::from_utf8_lossy(line);
                let mut parts = text.splitn(3, ' ');
                match (parts.next(), parts.next(), parts.next()) {
                    (Some("STAT"), Some(name), value) => {
                        progress.stats.push((name.to_owned(), value.unwrap_or("").to_owned()));
                    }
                    _ => return Err(unexpected(line)),
                }
                progress.position = next;
            }
            Expect::Number => {
                if line == b"NOT_FOUND" {
                    return Ok(Some((next, Parsed::Other(Reply::Status(Status::NotFound)))));
                }
                let number = decimal(line).ok_or_else(|| unexpected(line))?;
                return Ok(Some((next, Parsed::Other(Reply::Number(number)))));
            }
            Expect::Status => {
                let status = match line {
                    b"STORED" => Status::Stored,
                    b"NOT_STORED" => Status::NotStored,
                    b"EXISTS" => Status::Exists,
                    b"NOT_FOUND" => Status::NotFound,
                    b"TOUCHED" => Status::Touched,
                    b"DELETED" => Status::Deleted,
                    b"OK" => Status::Ok,
                    _ => return Err(unexpected(line)),
                };
                return Ok(Some((next, Parsed::Other(Reply::Status(status)))));
            }
        }
    }
}

/// The line starting at `from`, without its `\r\n`, and where the next one starts.
fn line_at(buffer: &[u8], from: usize) -> Option<(&[u8], usize)> {
    let rest = buffer.get(from..)?;
    let newline = rest.iter().position(|&byte| byte == b'\n')?;
    let line = &rest[..newline];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Some((line, from + newline + 1))
}

fn error_line(line: &[u8]) -> Option<ErrorReply> {
    if line == b"ERROR" {
        return Some(ErrorReply::Error);
    }
    let text = |rest: &[u8]| String::from_utf8_lossy(rest).trim().to_owned();
    if let Some(rest) = line.strip_prefix(b"CLIENT_ERROR") {
        return Some(ErrorReply::Client(text(rest)));
    }
    line.strip_prefix(b"SERVER_ERROR")
        .map(|rest| ErrorReply::Server(text(rest)))
}

/// `VALUE <key> <flags> <bytes>[ <cas>]`: the key's range in the buffer and the data length, which
/// is at most `max_value`.
fn value_header(line: &[u8], line_start: usize, max_value: usize) -> Result<(Range<usize>, usize), ProtocolError> {
    let rest = line.strip_prefix(b"VALUE ").ok_or_else(|| unexpected(line))?;
    let mut tokens = rest.split(|&byte| byte == b' ');
    let key = tokens
        .next()
        .filter(|key| !key.is_empty())
        .ok_or_else(|| unexpected(line))?;
    // memcached's flags are 32 bits; this client stores 0 and reads none, but a number past
    // 32 bits is no memcached reply.
    tokens
        .next()
        .and_then(decimal)
        .filter(|&flags| u32::try_from(flags).is_ok())
        .ok_or_else(|| unexpected(line))?;
    let length = tokens.next().and_then(decimal).ok_or_else(|| unexpected(line))?;
    // A `gets` reply adds a CAS number; nothing may follow it.
    if tokens.next().is_some_and(|cas| decimal(cas).is_none()) || tokens.next().is_some() {
        return Err(unexpected(line));
    }
    let length = usize::try_from(length)
        .ok()
        .filter(|&length| length <= max_value)
        .ok_or_else(|| {
            ProtocolError(format!(
                "a value of {length} bytes, over the item size limit of {max_value} bytes (the \
                 item_size_max option)"
            ))
        })?;
    let key_start = line_start + b"VALUE ".len();
    Ok((key_start..key_start + key.len(), length))
}

fn decimal(text: &[u8]) -> Option<u64> {
    if text.is_empty() || text.len() > 20 || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}

fn unexpected(line: &[u8]) -> ProtocolError {
    ProtocolError(format!("`{}`", shown(line)))
}

fn not_asked(key: &[u8]) -> ProtocolError {
    ProtocolError(format!(
        "a value for the key `{}`, which the get didn't ask for (or not in the order asked)",
        shown(key)
    ))
}

/// At most 80 bytes of what the server sent, printable.
fn shown(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(80)])
        .escape_debug()
        .collect()
}

#[cfg(test)]
mod hostile_replies;

#[cfg(test)]
mod tests {
    use super::*;

    /// The command every reply in these tests answers; its keys are the ones they use.
    const ASKED: &[u8] = b"get a b k\r\n";
    const LIMIT: usize = 1024;

    fn whole(buffer: &[u8], expect: Expect) -> (usize, Reply) {
        let mut progress = Progress::new(ASKED, LIMIT);
        let (end, parsed) = parse(buffer, expect, &mut progress).unwrap().expect("complete");
        let frame = Bytes::copy_from_slice(&buffer[..end]);
        let reply = match parsed {
            Parsed::Values => Reply::Values(progress.values(&frame)),
            Parsed::Other(reply) => reply,
        };
        (end, reply)
    }

    fn hit(index: usize, key: &str, value: &[u8]) -> Hit {
        Hit {
            index,
            key: Bytes::copy_from_slice(key.as_bytes()),
            value: Bytes::copy_from_slice(value),
        }
    }

    #[test]
    fn encodes_commands() {
        assert_eq!(get(["a"]), b"get a\r\n");
        assert_eq!(get([":1:a", ":1:b"]), b"get :1:a :1:b\r\n");
        assert_eq!(store(Store::Set, "k", 0, 5), b"set k 0 0 5\r\n");
        assert_eq!(store(Store::Add, "k", 2_592_000, 0), b"add k 0 2592000 0\r\n");
        assert_eq!(touch("k", 10), b"touch k 10\r\n");
        assert_eq!(delete("k"), b"delete k\r\n");
        assert_eq!(arithmetic(true, "k", u64::MAX), b"incr k 18446744073709551615\r\n");
        assert_eq!(arithmetic(false, "k", 3), b"decr k 3\r\n");
        assert_eq!(flush_all(), b"flush_all\r\n");
        assert_eq!(stats(), b"stats\r\n");
    }

    #[test]
    fn values_with_and_without_hits() {
        assert_eq!(whole(b"END\r\n", Expect::Values), (5, Reply::Values(vec![])));
        let reply = b"VALUE a 0 3\r\nabc\r\nVALUE b 5 0 77\r\n\r\nEND\r\nSTORED\r\n";
        let (end, parsed) = whole(reply, Expect::Values);
        assert_eq!(end, reply.len() - "STORED\r\n".len());
        assert_eq!(parsed, Reply::Values(vec![hit(0, "a", b"abc"), hit(1, "b", b"")]));
    }

    #[test]
    fn data_blocks_may_hold_anything() {
        let reply = b"VALUE k 0 8\r\nEND\r\n\r\nX\r\nEND\r\n";
        assert_eq!(
            whole(reply, Expect::Values).1,
            Reply::Values(vec![hit(2, "k", b"END\r\n\r\nX")])
        );
    }

    #[test]
    fn partial_replies_resume() {
        let reply = b"VALUE a 0 3\r\nabc\r\nVALUE b 0 10\r\n0123456789\r\nEND\r\n";
        for cut in 0..reply.len() {
            let mut progress = Progress::new(ASKED, LIMIT);
            assert_eq!(
                parse(&reply[..cut], Expect::Values, &mut progress).unwrap(),
                None,
                "{cut}"
            );
            let (end, parsed) = parse(reply, Expect::Values, &mut progress).unwrap().unwrap();
            assert_eq!((end, parsed), (reply.len(), Parsed::Values));
            let frame = Bytes::copy_from_slice(reply);
            assert_eq!(
                progress.values(&frame),
                vec![hit(0, "a", b"abc"), hit(1, "b", b"0123456789")]
            );
        }
        let mut progress = Progress::new(ASKED, LIMIT);
        assert_eq!(
            parse(b"VALUE b 0 10\r\n01", Expect::Values, &mut progress).unwrap(),
            None
        );
        assert_eq!(progress.wanted, 10);
    }

    #[test]
    fn statuses_numbers_and_errors() {
        assert_eq!(whole(b"STORED\r\n", Expect::Status).1, Reply::Status(Status::Stored));
        assert_eq!(
            whole(b"NOT_STORED\r\n", Expect::Status).1,
            Reply::Status(Status::NotStored)
        );
        assert_eq!(whole(b"TOUCHED\r\n", Expect::Status).1, Reply::Status(Status::Touched));
        assert_eq!(whole(b"DELETED\r\n", Expect::Status).1, Reply::Status(Status::Deleted));
        assert_eq!(
            whole(b"NOT_FOUND\r\n", Expect::Status).1,
            Reply::Status(Status::NotFound)
        );
        assert_eq!(whole(b"OK\r\n", Expect::Status).1, Reply::Status(Status::Ok));
        assert_eq!(whole(b"42\r\n", Expect::Number).1, Reply::Number(42));
        assert_eq!(
            whole(b"18446744073709551615\r\n", Expect::Number).1,
            Reply::Number(u64::MAX)
        );
        assert_eq!(
            whole(b"NOT_FOUND\r\n", Expect::Number).1,
            Reply::Status(Status::NotFound)
        );
        let non_numeric = whole(
            b"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
            Expect::Number,
        )
        .1;
        assert!(matches!(&non_numeric, Reply::Error(error) if error.is_non_numeric()));
        let too_large = whole(b"SERVER_ERROR object too large for cache\r\n", Expect::Status).1;
        assert!(matches!(&too_large, Reply::Error(error) if error.is_too_large()));
        assert_eq!(whole(b"ERROR\r\n", Expect::Values).1, Reply::Error(ErrorReply::Error));
    }

    #[test]
    fn stats_lines() {
        let reply = b"STAT pid 12\r\nSTAT version 1.6.18\r\nSTAT rusage_user 0.1 0.2\r\nEND\r\n";
        assert_eq!(
            whole(reply, Expect::Stats).1,
            Reply::Stats(vec![
                ("pid".into(), "12".into()),
                ("version".into(), "1.6.18".into()),
                ("rusage_user".into(), "0.1 0.2".into())
            ])
        );
    }

    #[test]
    fn garbage_is_a_protocol_error() {
        for (reply, expect) in [
            (&b"HELLO\r\n"[..], Expect::Status),
            (b"12x\r\n", Expect::Number),
            (b"123456789012345678901\r\n", Expect::Number),
            (b"VALUE k x 3\r\nabc\r\nEND\r\n", Expect::Values),
            (b"VALUE k 0 3\r\nabcd\r\nEND\r\n", Expect::Values),
            (b"VALUE  0 3\r\nabc\r\nEND\r\n", Expect::Values),
            (b"STORED\r\n", Expect::Values),
            (b"STAT\r\n", Expect::Stats),
        ] {
            assert!(
                parse(reply, expect, &mut Progress::new(ASKED, LIMIT)).is_err(),
                "{:?}",
                String::from_utf8_lossy(reply)
            );
        }
    }

    #[test]
    fn each_hit_answers_a_key_asked_in_the_order_asked() {
        let reply = b"VALUE a 0 1\r\n1\r\nVALUE a 0 1\r\n1\r\nVALUE b 0 1\r\n2\r\nEND\r\n";
        let mut progress = Progress::new(b"get a a b\r\n", LIMIT);
        let (end, _) = parse(reply, Expect::Values, &mut progress).unwrap().unwrap();
        let indexes: Vec<usize> = progress
            .values(&Bytes::copy_from_slice(&reply[..end]))
            .iter()
            .map(|hit| hit.index)
            .collect();
        assert_eq!(indexes, [0, 1, 2]);
        // Misses are left out.
        assert_eq!(
            whole(b"VALUE k 0 1\r\nx\r\nEND\r\n", Expect::Values).1,
            Reply::Values(vec![hit(2, "k", b"x")])
        );
        for (command, reply) in [
            // Another key's value.
            (&b"get a\r\n"[..], &b"VALUE b 0 1\r\nx\r\nEND\r\n"[..]),
            // A prefix of the key asked, and a key the asked one is a prefix of.
            (b"get ab\r\n", b"VALUE a 0 1\r\nx\r\nEND\r\n"),
            (b"get a\r\n", b"VALUE ab 0 1\r\nx\r\nEND\r\n"),
            // Out of order, and once more than asked.
            (b"get a b\r\n", b"VALUE b 0 1\r\nx\r\nVALUE a 0 1\r\nx\r\nEND\r\n"),
            (b"get a\r\n", b"VALUE a 0 1\r\nx\r\nVALUE a 0 1\r\nx\r\nEND\r\n"),
            // A value for a command that asked for none.
            (b"delete a\r\n", b"VALUE a 0 1\r\nx\r\nEND\r\n"),
        ] {
            let error = parse(reply, Expect::Values, &mut Progress::new(command, LIMIT)).unwrap_err();
            assert!(error.0.contains("didn't ask for"), "{error}");
        }
    }

    #[test]
    fn numbers_out_of_range_are_protocol_errors_before_any_data_is_awaited() {
        for header in [
            "VALUE k 0 1025",
            "VALUE k 0 1099511627776",
            "VALUE k 0 18446744073709551615",
            "VALUE k 0 18446744073709551616",
            "VALUE k 0 99999999999999999999999",
            "VALUE k 0 -1",
            "VALUE k 0 +1",
            "VALUE k 4294967296 1",
            "VALUE k -1 1",
            "VALUE k 0 1 -5",
            "VALUE k 0 1 18446744073709551616",
            "VALUE k 0 1 1 1",
            "VALUE k 0 1 ",
            "VALUE k 0",
        ] {
            let mut progress = Progress::new(ASKED, LIMIT);
            let parsed = parse(format!("{header}\r\n").as_bytes(), Expect::Values, &mut progress);
            assert!(parsed.is_err(), "{header}: {parsed:?}");
            assert_eq!(progress.wanted, 0, "{header}");
        }
        let error = parse(
            b"VALUE k 0 1099511627776\r\n",
            Expect::Values,
            &mut Progress::new(ASKED, LIMIT),
        );
        assert_eq!(
            error.unwrap_err().to_string(),
            "unexpected reply from memcached: a value of 1099511627776 bytes, over the item size limit \
             of 1024 bytes (the item_size_max option)"
        );
        // The limit itself, flags at 32 bits and a CAS number are fine.
        let mut progress = Progress::new(ASKED, LIMIT);
        assert_eq!(
            parse(
                b"VALUE k 4294967295 1024 18446744073709551615\r\n",
                Expect::Values,
                &mut progress
            ),
            Ok(None)
        );
        assert_eq!(progress.wanted, 1026);
        for number in ["-1", "18446744073709551616", "1 ", " 1", "0x10", "1e3"] {
            assert!(
                parse(
                    format!("{number}\r\n").as_bytes(),
                    Expect::Number,
                    &mut Progress::new(ASKED, LIMIT)
                )
                .is_err(),
                "{number:?}"
            );
        }
    }

    #[test]
    fn lines_and_stats_lists_have_a_ceiling() {
        let long = vec![b'x'; MAX_LINE];
        for expect in [Expect::Values, Expect::Status, Expect::Number, Expect::Stats] {
            assert_eq!(parse(&long, expect, &mut Progress::new(ASKED, LIMIT)), Ok(None));
            let longer = [&long[..], b"xx"].concat();
            assert!(parse(&longer, expect, &mut Progress::new(ASKED, LIMIT)).is_err());
            let ended = [&long[..], b"x\r\n"].concat();
            assert!(parse(&ended, expect, &mut Progress::new(ASKED, LIMIT)).is_err());
        }
        let stats = "STAT a 1\r\n".repeat(MAX_STATS);
        assert!(
            parse(
                format!("{stats}END\r\n").as_bytes(),
                Expect::Stats,
                &mut Progress::new(ASKED, LIMIT)
            )
            .is_ok()
        );
        assert!(
            parse(
                format!("{stats}STAT a 1\r\n").as_bytes(),
                Expect::Stats,
                &mut Progress::new(ASKED, LIMIT)
            )
            .is_err()
        );
    }
}
