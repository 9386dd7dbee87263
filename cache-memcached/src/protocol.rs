//! memcached's text protocol: encoding the commands the backend sends and parsing the replies.
//!
//! Pure functions over bytes, so every reply shape is tested without a server. Keys reach the
//! encoders already checked by [`wire_key::check`](crate::wire_key::check), so none can break a
//! command line.

use std::ops::Range;

use bytes::Bytes;

/// What kind of reply a command gets, which is how the reader knows where a reply ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
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
pub enum Reply {
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
pub struct Hit {
    /// The key as the server sent it back.
    pub key: Bytes,
    /// The data block, shared with the read buffer (no copy).
    pub value: Bytes,
}

/// The status lines the backend acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
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
pub enum ErrorReply {
    /// `ERROR`: an unknown command.
    Error,
    /// `CLIENT_ERROR <message>`: the request was wrong.
    Client(String),
    /// `SERVER_ERROR <message>`: the server couldn't do it.
    Server(String),
}

impl ErrorReply {
    /// `SERVER_ERROR object too large for cache`: the value exceeds the item size limit.
    pub fn is_too_large(&self) -> bool {
        matches!(self, ErrorReply::Server(message) if message.contains("too large"))
    }

    /// `CLIENT_ERROR cannot increment or decrement non-numeric value`.
    pub fn is_non_numeric(&self) -> bool {
        matches!(self, ErrorReply::Client(message) if message.contains("non-numeric"))
    }

    /// `SERVER_ERROR out of memory …`: may succeed once the server has evicted something.
    pub fn is_out_of_memory(&self) -> bool {
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
pub struct ProtocolError(pub String);

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unexpected reply from memcached: {}", self.0)
    }
}

impl std::error::Error for ProtocolError {}

// ---- encoding --------------------------------------------------------------------------------

/// `get <key> <key> …\r\n`.
pub fn get<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
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
pub enum Store {
    /// `set`
    Set,
    /// `add`
    Add,
}

/// `<set|add> <key> 0 <exptime> <bytes>\r\n`; the data block and its `\r\n` follow separately.
pub fn store(verb: Store, key: &str, exptime: u32, length: usize) -> Vec<u8> {
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
pub fn touch(key: &str, exptime: u32) -> Vec<u8> {
    let mut line = Vec::with_capacity(key.len() + 20);
    line.extend_from_slice(b"touch ");
    line.extend_from_slice(key.as_bytes());
    line.push(b' ');
    line.extend_from_slice(itoa::Buffer::new().format(exptime).as_bytes());
    line.extend_from_slice(b"\r\n");
    line
}

/// `delete <key>\r\n`.
pub fn delete(key: &str) -> Vec<u8> {
    let mut line = Vec::with_capacity(key.len() + 9);
    line.extend_from_slice(b"delete ");
    line.extend_from_slice(key.as_bytes());
    line.extend_from_slice(b"\r\n");
    line
}

/// `incr <key> <amount>\r\n` or `decr <key> <amount>\r\n`.
pub fn arithmetic(increment: bool, key: &str, amount: u64) -> Vec<u8> {
    let mut line = Vec::with_capacity(key.len() + 28);
    line.extend_from_slice(if increment { b"incr " } else { b"decr " });
    line.extend_from_slice(key.as_bytes());
    line.push(b' ');
    line.extend_from_slice(itoa::Buffer::new().format(amount).as_bytes());
    line.extend_from_slice(b"\r\n");
    line
}

/// `flush_all\r\n`.
pub fn flush_all() -> Vec<u8> {
    b"flush_all\r\n".to_vec()
}

/// `stats\r\n`.
pub fn stats() -> Vec<u8> {
    b"stats\r\n".to_vec()
}

// ---- parsing ---------------------------------------------------------------------------------

/// How far the parse of one reply got; kept across reads so a long multi-get reply is scanned once.
#[derive(Debug, Default)]
pub struct Progress {
    /// Where the next unparsed line starts.
    position: usize,
    /// `(key, value)` byte ranges of the `VALUE` blocks read so far.
    hits: Vec<(Range<usize>, Range<usize>)>,
    stats: Vec<(String, String)>,
    /// How many more bytes the reply needs at least, when known (a data block being read).
    pub wanted: usize,
}

/// A reply that is complete in the buffer: it ends at `end`; the values of a `Values` reply are
/// cut out of the buffer by [`Progress::values`].
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// `VALUE` blocks and `END`.
    Values,
    /// Anything else, already whole.
    Other(Reply),
}

impl Progress {
    /// The hits of a finished `Values` reply, as slices of `frame` (the buffer's first `end` bytes).
    pub fn values(self, frame: &Bytes) -> Vec<Hit> {
        self.hits
            .into_iter()
            .map(|(key, value)| Hit {
                key: frame.slice(key),
                value: frame.slice(value),
            })
            .collect()
    }
}

/// Parses the reply at the start of `buffer`, continuing from `progress`.
///
/// `Ok(None)`: the reply isn't complete yet; read more and call again with the same `progress`.
/// `Ok(Some((end, parsed)))`: the reply takes the first `end` bytes.
pub fn parse(buffer: &[u8], expect: Expect, progress: &mut Progress) -> Result<Option<(usize, Parsed)>, ProtocolError> {
    progress.wanted = 0;
    loop {
        let Some((line, next)) = line_at(buffer, progress.position) else {
            return Ok(None);
        };
        if let Some(error) = error_line(line) {
            return Ok(Some((next, Parsed::Other(Reply::Error(error)))));
        }
        match expect {
            Expect::Values => {
                if line == b"END" {
                    return Ok(Some((next, Parsed::Values)));
                }
                let (key, length) = value_header(line, progress.position)?;
                let end = next + length;
                if buffer.len() < end + 2 {
                    progress.wanted = end + 2 - buffer.len();
                    return Ok(None);
                }
                if &buffer[end..end + 2] != b"\r\n" {
                    return Err(ProtocolError("a data block not followed by \\r\\n".into()));
                }
                progress.hits.push((key, next..end));
                progress.position = end + 2;
            }
            Expect::Stats => {
                if line == b"END" {
                    let stats = std::mem::take(&mut progress.stats);
                    return Ok(Some((next, Parsed::Other(Reply::Stats(stats)))));
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

/// `VALUE <key> <flags> <bytes>[ <cas>]`: the key's range in the buffer and the data length.
fn value_header(line: &[u8], line_start: usize) -> Result<(Range<usize>, usize), ProtocolError> {
    let rest = line.strip_prefix(b"VALUE ").ok_or_else(|| unexpected(line))?;
    let mut tokens = rest.split(|&byte| byte == b' ');
    let key = tokens
        .next()
        .filter(|key| !key.is_empty())
        .ok_or_else(|| unexpected(line))?;
    let _flags = tokens.next().and_then(decimal).ok_or_else(|| unexpected(line))?;
    let length = tokens
        .next()
        .and_then(decimal)
        .and_then(|length| usize::try_from(length).ok())
        .ok_or_else(|| unexpected(line))?;
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
    let shown: String = String::from_utf8_lossy(&line[..line.len().min(80)])
        .escape_debug()
        .collect();
    ProtocolError(format!("`{shown}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(buffer: &[u8], expect: Expect) -> (usize, Reply) {
        let mut progress = Progress::default();
        let (end, parsed) = parse(buffer, expect, &mut progress).unwrap().expect("complete");
        let frame = Bytes::copy_from_slice(&buffer[..end]);
        let reply = match parsed {
            Parsed::Values => Reply::Values(progress.values(&frame)),
            Parsed::Other(reply) => reply,
        };
        (end, reply)
    }

    fn hit(key: &str, value: &[u8]) -> Hit {
        Hit {
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
        assert_eq!(parsed, Reply::Values(vec![hit("a", b"abc"), hit("b", b"")]));
    }

    #[test]
    fn data_blocks_may_hold_anything() {
        let reply = b"VALUE k 0 8\r\nEND\r\n\r\nX\r\nEND\r\n";
        assert_eq!(
            whole(reply, Expect::Values).1,
            Reply::Values(vec![hit("k", b"END\r\n\r\nX")])
        );
    }

    #[test]
    fn partial_replies_resume() {
        let reply = b"VALUE a 0 3\r\nabc\r\nVALUE b 0 10\r\n0123456789\r\nEND\r\n";
        for cut in 0..reply.len() {
            let mut progress = Progress::default();
            assert_eq!(
                parse(&reply[..cut], Expect::Values, &mut progress).unwrap(),
                None,
                "{cut}"
            );
            let (end, parsed) = parse(reply, Expect::Values, &mut progress).unwrap().unwrap();
            assert_eq!((end, parsed), (reply.len(), Parsed::Values));
            let frame = Bytes::copy_from_slice(reply);
            assert_eq!(progress.values(&frame), vec![hit("a", b"abc"), hit("b", b"0123456789")]);
        }
        let mut progress = Progress::default();
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
                parse(reply, expect, &mut Progress::default()).is_err(),
                "{:?}",
                String::from_utf8_lossy(reply)
            );
        }
    }
}
