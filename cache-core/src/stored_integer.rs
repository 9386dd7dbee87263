//! The stored form of an integer that `incr` reads and writes: ASCII decimal.
//!
//! The façade's codec writes integers as plain decimal so that every backend (Redis `INCRBY`,
//! memcached `incr`, locmem, files) increments the same bytes. A backend that increments stored
//! bytes itself must read exactly that form and nothing looser, or a value another backend refuses
//! would increment there: [`increment`] does it the one way.

use bytes::Bytes;

use crate::backend_error::{BackendError, BackendResult};

/// `stored` plus `delta`: the new value and its stored form. `NotAnInteger` when `stored` is not a
/// decimal integer (a float, `true`, a JSON string), `Overflow` when the sum leaves the `i64`
/// range or `stored` is already outside it.
pub fn increment(stored: &[u8], delta: i64) -> BackendResult<(i64, Bytes)> {
    let current = parse_decimal(stored).map_err(|problem| match problem {
        NotAnI64::NotDecimal => BackendError::not_an_integer(),
        NotAnI64::OutOfRange => BackendError::overflow(delta),
    })?;
    let new = current
        .checked_add(delta)
        .ok_or_else(|| BackendError::overflow(delta))?;
    Ok((new, format_decimal(new)))
}

/// Why stored bytes could not be read as an `i64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NotAnI64 {
    /// Not an optional `-` followed by digits (a float, `true`, a JSON string, empty).
    NotDecimal,
    /// A decimal integer, but outside the `i64` range.
    OutOfRange,
}

/// Reads `-?[0-9]+`, allowing trailing spaces (memcached pads a `decr` that shortened a number, so
/// values copied from it may carry them).
fn parse_decimal(bytes: &[u8]) -> Result<i64, NotAnI64> {
    let end = bytes.iter().rposition(|&b| b != b' ').map_or(0, |last| last + 1);
    let (negative, digits) = match &bytes[..end] {
        [b'-', rest @ ..] => (true, rest),
        all => (false, all),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(NotAnI64::NotDecimal);
    }
    // Accumulate towards the sign so that i64::MIN, whose magnitude has no positive i64, parses.
    let mut value: i64 = 0;
    for &digit in digits {
        let digit = i64::from(digit - b'0');
        value = value
            .checked_mul(10)
            .and_then(|v| {
                if negative {
                    v.checked_sub(digit)
                } else {
                    v.checked_add(digit)
                }
            })
            .ok_or(NotAnI64::OutOfRange)?;
    }
    Ok(value)
}

/// The stored form of `value`.
fn format_decimal(value: i64) -> Bytes {
    Bytes::copy_from_slice(itoa::Buffer::new().format(value).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_plain_decimal_with_trailing_spaces() {
        assert_eq!(parse_decimal(b"0"), Ok(0));
        assert_eq!(parse_decimal(b"41"), Ok(41));
        assert_eq!(parse_decimal(b"-8"), Ok(-8));
        assert_eq!(parse_decimal(b"007"), Ok(7));
        assert_eq!(parse_decimal(b"12  "), Ok(12));
        assert_eq!(parse_decimal(b"9223372036854775807"), Ok(i64::MAX));
        assert_eq!(parse_decimal(b"-9223372036854775808"), Ok(i64::MIN));
    }

    #[test]
    fn refuses_anything_else() {
        for text in [
            &b""[..],
            b" ",
            b"-",
            b"+5",
            b" 5",
            b"1.5",
            b"1e3",
            b"true",
            b"\"12\"",
            b"null",
            b"12\n",
            b"--1",
            b"\xff",
        ] {
            assert_eq!(parse_decimal(text), Err(NotAnI64::NotDecimal), "{text:?}");
        }
    }

    #[test]
    fn out_of_range_is_told_apart() {
        assert_eq!(parse_decimal(b"9223372036854775808"), Err(NotAnI64::OutOfRange));
        assert_eq!(parse_decimal(b"-9223372036854775809"), Err(NotAnI64::OutOfRange));
        assert_eq!(parse_decimal(b"1180591620717411303424"), Err(NotAnI64::OutOfRange));
    }

    #[test]
    fn increments_with_the_errors_backends_report() {
        assert_eq!(increment(b"41", 1).unwrap(), (42, Bytes::from_static(b"42")));
        assert_eq!(increment(b"12  ", -20).unwrap().0, -8);
        assert_eq!(
            *increment(b"1.5", 1).unwrap_err().kind(),
            crate::ErrorKind::NotAnInteger
        );
        let overflow = crate::ErrorKind::Overflow { delta: 1 };
        assert_eq!(*increment(b"9223372036854775807", 1).unwrap_err().kind(), overflow);
        assert_eq!(*increment(b"9223372036854775808", 1).unwrap_err().kind(), overflow);
    }

    #[test]
    fn formats_as_the_codec_does() {
        assert_eq!(format_decimal(-13), Bytes::from_static(b"-13"));
        assert_eq!(format_decimal(i64::MIN), Bytes::from_static(b"-9223372036854775808"));
    }
}
