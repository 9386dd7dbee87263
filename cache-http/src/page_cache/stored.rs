//! A stored page: status, headers, the varying values it was stored under, and the body, in a
//! compact binary form the alias keeps as raw bytes.
//!
//! ```text
//! "DJPG" version:u8=1 status:u16
//! headers:u16 { name_len:u16 name value_len:u32 value }*
//! varied:u16  { name_len:u16 name present:u8 [value_len:u32 value] }*
//! body_len:u32 body
//! ```
//! Integers are big-endian. Anything else — another version, a truncated entry, trailing bytes,
//! a header HTTP doesn't allow — fails to decode, and the caller treats it as a miss.

use bytes::{BufMut, Bytes, BytesMut};
use http::StatusCode;
use http::header::{HeaderMap, HeaderName, HeaderValue};

const MAGIC: &[u8; 4] = b"DJPG";
const VERSION: u8 = 1;

/// A page as stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredPage {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    /// The varying headers (`HTTP_*` names) and the values of the request the page was made for.
    pub(crate) varied: Vec<(String, Option<Vec<u8>>)>,
    pub(crate) body: Bytes,
}

/// Why an entry didn't decode (logged at debug level; a miss either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecodeError {
    NotAPage,
    OtherVersion(u8),
    Truncated,
    Invalid(&'static str),
    TrailingBytes,
}

/// The most headers a stored page may have; a page with more isn't stored.
pub(crate) const MAX_HEADERS: usize = 1_000;

impl StoredPage {
    /// The entry's bytes; `None` when a length doesn't fit its field (a header over 4 GiB, more
    /// than 65535 headers): such a page isn't stored.
    pub(crate) fn encode(&self) -> Option<Bytes> {
        let mut out = BytesMut::with_capacity(64 + self.body.len());
        out.put_slice(MAGIC);
        out.put_u8(VERSION);
        out.put_u16(self.status.as_u16());
        if self.headers.len() > MAX_HEADERS {
            return None;
        }
        out.put_u16(u16::try_from(self.headers.len()).ok()?);
        for (name, value) in &self.headers {
            put_short(&mut out, name.as_str().as_bytes())?;
            put_long(&mut out, value.as_bytes())?;
        }
        out.put_u16(u16::try_from(self.varied.len()).ok()?);
        for (name, value) in &self.varied {
            put_short(&mut out, name.as_bytes())?;
            match value {
                Some(value) => {
                    out.put_u8(1);
                    put_long(&mut out, value)?;
                }
                None => out.put_u8(0),
            }
        }
        put_long(&mut out, &self.body)?;
        Some(out.freeze())
    }

    /// Reads an entry; the body is a slice of `bytes`, not a copy.
    pub(crate) fn decode(bytes: &Bytes) -> Result<StoredPage, DecodeError> {
        let mut reader = Reader { bytes, at: 0 };
        if reader.take(4)? != MAGIC {
            return Err(DecodeError::NotAPage);
        }
        let version = reader.u8()?;
        if version != VERSION {
            return Err(DecodeError::OtherVersion(version));
        }
        let status = StatusCode::from_u16(reader.u16()?).map_err(|_| DecodeError::Invalid("status"))?;
        let count = reader.u16()?;
        // More than any page sends: a value claiming more was written by something else, and
        // `HeaderMap` panics past its own limit (about 24,000 names).
        if usize::from(count) > MAX_HEADERS {
            return Err(DecodeError::Invalid("header count"));
        }
        let mut headers = HeaderMap::with_capacity(usize::from(count).min(64));
        for _ in 0..count {
            let name = reader.short()?;
            let value = reader.long()?;
            let name = HeaderName::from_bytes(name).map_err(|_| DecodeError::Invalid("header name"))?;
            let value = HeaderValue::from_bytes(value).map_err(|_| DecodeError::Invalid("header value"))?;
            headers
                .try_append(name, value)
                .map_err(|_| DecodeError::Invalid("header count"))?;
        }
        let count = reader.u16()?;
        let mut varied = Vec::with_capacity(usize::from(count).min(64));
        for _ in 0..count {
            let name = std::str::from_utf8(reader.short()?).map_err(|_| DecodeError::Invalid("varying header"))?;
            let value = match reader.u8()? {
                0 => None,
                1 => Some(reader.long()?.to_vec()),
                _ => return Err(DecodeError::Invalid("presence flag")),
            };
            varied.push((name.to_owned(), value));
        }
        let length = reader.length()?;
        let start = reader.at;
        reader.take(length)?;
        let body = bytes.slice(start..start + length);
        if reader.at != bytes.len() {
            return Err(DecodeError::TrailingBytes);
        }
        Ok(StoredPage {
            status,
            headers,
            varied,
            body,
        })
    }
}

fn put_short(out: &mut BytesMut, bytes: &[u8]) -> Option<()> {
    out.put_u16(u16::try_from(bytes.len()).ok()?);
    out.put_slice(bytes);
    Some(())
}

fn put_long(out: &mut BytesMut, bytes: &[u8]) -> Option<()> {
    out.put_u32(u32::try_from(bytes.len()).ok()?);
    out.put_slice(bytes);
    Some(())
}

/// Bounds-checked reads: a length is trusted only as far as the bytes that are there.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, length: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.at.checked_add(length).ok_or(DecodeError::Truncated)?;
        let slice = self.bytes.get(self.at..end).ok_or(DecodeError::Truncated)?;
        self.at = end;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        let bytes = self.take(2)?;
        Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    fn length(&mut self) -> Result<usize, DecodeError> {
        let bytes = self.take(4)?;
        let length = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        usize::try_from(length).map_err(|_| DecodeError::Truncated)
    }

    fn short(&mut self) -> Result<&'a [u8], DecodeError> {
        let length = self.u16()?;
        self.take(usize::from(length))
    }

    fn long(&mut self) -> Result<&'a [u8], DecodeError> {
        let length = self.length()?;
        self.take(length)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// `HeaderMap` panics past about 24,000 names: an entry claiming 25,000 distinct headers (a
    /// quarter of a megabyte, which anyone who can write to the alias can store) is refused, and a
    /// page with more headers than a stored one may have isn't stored.
    #[test]
    fn an_entry_with_too_many_headers_is_refused_not_a_panic() {
        let mut bytes = BytesMut::new();
        bytes.put_slice(MAGIC);
        bytes.put_u8(VERSION);
        bytes.put_u16(200);
        bytes.put_u16(25_000);
        for i in 0..25_000 {
            put_short(&mut bytes, format!("x-{i}").as_bytes()).unwrap();
            put_long(&mut bytes, b"").unwrap();
        }
        bytes.put_u16(0);
        put_long(&mut bytes, b"").unwrap();
        assert!(matches!(
            StoredPage::decode(&bytes.freeze()),
            Err(DecodeError::Invalid("header count"))
        ));
        let mut crowded = page();
        for i in 0..=MAX_HEADERS {
            crowded.headers.append(
                HeaderName::from_bytes(format!("x-{i}").as_bytes()).unwrap(),
                HeaderValue::from_static(""),
            );
        }
        assert!(crowded.encode().is_none());
    }

    fn page() -> StoredPage {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("text/html; charset=utf-8"));
        headers.append("x-two", HeaderValue::from_static("a"));
        headers.append("x-two", HeaderValue::from_static("b"));
        StoredPage {
            status: StatusCode::OK,
            headers,
            varied: vec![
                ("HTTP_COOKIE".to_owned(), Some(b"a=1".to_vec())),
                ("HTTP_ACCEPT".to_owned(), None),
            ],
            body: Bytes::from_static(b"<p>\x00\xff binary is kept as is</p>"),
        }
    }

    #[test]
    fn a_page_round_trips() {
        let page = page();
        assert_eq!(StoredPage::decode(&page.encode().unwrap()).unwrap(), page);
    }

    #[test]
    fn the_body_is_stored_raw() {
        let encoded = page().encode().unwrap();
        assert!(encoded.ends_with(b"<p>\x00\xff binary is kept as is</p>"));
    }

    #[test]
    fn another_version_or_garbage_does_not_decode() {
        let mut encoded = page().encode().unwrap().to_vec();
        encoded[4] = 2;
        assert_eq!(
            StoredPage::decode(&Bytes::from(encoded)),
            Err(DecodeError::OtherVersion(2))
        );
        assert_eq!(
            StoredPage::decode(&Bytes::from_static(b"\"json\"")),
            Err(DecodeError::NotAPage)
        );
        let encoded = page().encode().unwrap();
        for cut in 0..encoded.len() {
            assert!(StoredPage::decode(&encoded.slice(..cut)).is_err(), "cut at {cut}");
        }
        let mut longer = encoded.to_vec();
        longer.push(0);
        assert_eq!(
            StoredPage::decode(&Bytes::from(longer)),
            Err(DecodeError::TrailingBytes)
        );
    }

    proptest! {
        /// Whatever a cache server hands back, decoding returns; it never panics or over-allocates.
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = StoredPage::decode(&Bytes::from(bytes));
        }

        /// Arbitrary bytes behind a valid prefix reach the deeper fields.
        #[test]
        fn decoding_arbitrary_tails_never_panics(tail in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut bytes = b"DJPG\x01\x00\xc8".to_vec();
            bytes.extend(tail);
            let _ = StoredPage::decode(&Bytes::from(bytes));
        }
    }
}
