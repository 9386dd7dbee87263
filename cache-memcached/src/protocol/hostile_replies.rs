//! The reply parser fed what a broken or hostile server might send: arbitrary bytes, and streams
//! built from reply pieces with every numeric field out of range (lengths past the item size
//! limit, `u64::MAX` and beyond, negative numbers, flags past 32 bits), keys nobody asked for,
//! truncated frames and endless lines, delivered in arbitrary chunks as a socket would.
//!
//! Whatever arrives, the parser must not panic, must never ask the reader to wait for (and so
//! reserve) more than the limit allows, must never hand a value to a key other than the one it
//! answers, and must reach the same verdict however the bytes were split.

use proptest::collection::vec;
use proptest::prelude::*;

use super::*;

/// The item size limit in these tests.
const LIMIT: usize = 1024;

/// The commands a reply may answer; the parser is told to expect any kind of reply to any of
/// them, as a server out of step would send.
const COMMANDS: [&[u8]; 6] = [
    b"get a\r\n",
    b"get a b k\r\n",
    b"get k k\r\n",
    b"incr k 1\r\n",
    b"delete a\r\n",
    b"stats\r\n",
];

fn expect() -> impl Strategy<Value = Expect> {
    prop_oneof![
        Just(Expect::Values),
        Just(Expect::Status),
        Just(Expect::Number),
        Just(Expect::Stats)
    ]
}

/// Numbers for every numeric field: the edges of each range, past them, negative, malformed.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..=LIMIT + 4).prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        prop_oneof![
            Just(u32::MAX.to_string()),
            Just((u64::from(u32::MAX) + 1).to_string()),
            Just("1099511627776".to_owned()),
            Just(u64::MAX.to_string()),
            Just("18446744073709551616".to_owned()),
            Just("99999999999999999999999".to_owned()),
            Just("-1".to_owned()),
            Just("-0".to_owned()),
            Just("+1".to_owned()),
            Just("1e3".to_owned()),
            Just(String::new()),
        ],
    ]
}

/// Keys: the ones asked, near misses, and anything.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_owned()),
        Just("b".to_owned()),
        Just("k".to_owned()),
        Just("ab".to_owned()),
        Just(String::new()),
        "[ -~]{0,12}",
    ]
}

/// One piece of a reply stream.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // A header with any numbers in any field, and no data behind it.
        (key(), number(), number(), proptest::option::of(number())).prop_map(|(key, flags, length, cas)| {
            let cas = cas.map(|cas| format!(" {cas}")).unwrap_or_default();
            format!("VALUE {key} {flags} {length}{cas}\r\n").into_bytes()
        }),
        // A whole block, for any key.
        (key(), vec(any::<u8>(), 0..64)).prop_map(|(key, data)| {
            [format!("VALUE {key} 0 {}\r\n", data.len()).as_bytes(), &data, b"\r\n"].concat()
        }),
        // A block whose data is longer or shorter than its header says.
        (key(), vec(any::<u8>(), 0..64), 0..8usize).prop_map(|(key, data, off)| {
            let claimed = (data.len() + off).saturating_sub(4);
            [format!("VALUE {key} 0 {claimed}\r\n").as_bytes(), &data, b"\r\n"].concat()
        }),
        number().prop_map(|n| format!("{n}\r\n").into_bytes()),
        prop_oneof![
            Just("END"),
            Just("STORED"),
            Just("NOT_FOUND"),
            Just("DELETED"),
            Just("OK"),
            Just("ERROR"),
            Just("CLIENT_ERROR bad data chunk"),
            Just("SERVER_ERROR out of memory"),
            Just("STAT pid 1"),
            Just("STAT"),
            Just(""),
        ]
        .prop_map(|line| format!("{line}\r\n").into_bytes()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        vec(any::<u8>(), 0..32),
        // Lines around the length limit, ended or not.
        (MAX_LINE - 2..MAX_LINE + 3, any::<bool>()).prop_map(|(n, ended)| {
            let mut line = vec![b'x'; n];
            if ended {
                line.extend_from_slice(b"\r\n");
            }
            line
        }),
    ]
}

/// What [`parse`] concludes.
type Verdict = Result<Option<(usize, Parsed)>, ProtocolError>;

/// Parses `stream` delivered up to each of `cuts` in turn, then whole, with one `Progress`, as the
/// reader does; checks what every step may promise and returns the verdict and the hits.
fn feed(command: &[u8], expect: Expect, stream: &[u8], cuts: &[usize]) -> (Verdict, Vec<Hit>) {
    let mut progress = Progress::new(command, LIMIT);
    let mut ends: Vec<usize> = cuts.iter().map(|&cut| cut % (stream.len() + 1)).collect();
    ends.sort_unstable();
    ends.push(stream.len());
    for end in ends {
        let buffer = &stream[..end];
        let verdict = parse(buffer, expect, &mut progress);
        match &verdict {
            Ok(None) => {
                // The reader waits for at most one data block, and keeps at most one unfinished
                // line, beyond what was already parsed.
                assert!(progress.wanted <= LIMIT + 2, "wanted {}", progress.wanted);
                let unparsed = buffer.len() - progress.position;
                if progress.wanted == 0 {
                    assert!(
                        unparsed <= MAX_LINE + 1,
                        "{unparsed} unparsed bytes and no end in sight"
                    );
                } else {
                    assert!(unparsed <= MAX_LINE + 2 + LIMIT + 1, "{unparsed} unparsed bytes");
                }
                continue;
            }
            Ok(Some((end, _))) => assert!(*end <= buffer.len()),
            Err(_) => {}
        }
        let hits = match &verdict {
            Ok(Some((end, Parsed::Values))) => {
                let frame = Bytes::copy_from_slice(&buffer[..*end]);
                std::mem::replace(&mut progress, Progress::new(command, LIMIT)).values(&frame)
            }
            _ => Vec::new(),
        };
        return (verdict, hits);
    }
    // Even the whole stream is no complete reply: the reader would read on.
    (Ok(None), Vec::new())
}

/// What every finished `Values` reply promises: each value answers the key asked at its index,
/// in the order asked, and fits the limit.
fn check_hits(command: &[u8], hits: &[Hit]) {
    let asked: Vec<&[u8]> = command
        .strip_prefix(b"get ")
        .map(|keys| keys.strip_suffix(b"\r\n").unwrap().split(|&b| b == b' ').collect())
        .unwrap_or_default();
    let mut previous = None;
    for hit in hits {
        assert_eq!(Some(&&hit.key[..]), asked.get(hit.index), "a value for another key");
        assert!(previous < Some(hit.index), "hits out of order");
        assert!(hit.value.len() <= LIMIT);
        previous = Some(hit.index);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes(
        command in proptest::sample::select(&COMMANDS[..]),
        expect in expect(),
        stream in vec(any::<u8>(), 0..4096),
        cuts in vec(any::<usize>(), 0..8),
    ) {
        let (_, hits) = feed(command, expect, &stream, &cuts);
        check_hits(command, &hits);
    }

    #[test]
    fn hostile_reply_streams(
        command in proptest::sample::select(&COMMANDS[..]),
        expect in expect(),
        pieces in vec(piece(), 0..12),
        cuts in vec(any::<usize>(), 0..8),
    ) {
        let stream = pieces.concat();
        let (verdict, hits) = feed(command, expect, &stream, &cuts);
        check_hits(command, &hits);
        // However the bytes arrived, the verdict is the one the whole stream gets at once.
        let (at_once, hits_at_once) = feed(command, expect, &stream, &[]);
        prop_assert_eq!(verdict, at_once);
        prop_assert_eq!(hits, hits_at_once);
    }
}
