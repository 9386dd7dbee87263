//! The stored form of an integer that `incr` reads and writes: ASCII decimal, as the façade's
//! codec writes integers (so a value set as `5` increments here as it does on Redis or memcached).

/// Why stored bytes could not be read as an `i64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotAnI64 {
    /// Not an optional `-` followed by digits (a float, `true`, a JSON string, empty).
    NotDecimal,
    /// A decimal integer, but outside the `i64` range.
    OutOfRange,
}

/// Reads `-?[0-9]+`, allowing trailing spaces (memcached pads numbers a `decr` shortened, so
/// values copied from it may carry them).
pub(crate) fn parse_decimal(bytes: &[u8]) -> Result<i64, NotAnI64> {
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
pub(crate) fn format_decimal(value: i64) -> Vec<u8> {
    itoa::Buffer::new().format(value).as_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_plain_decimal_only() {
        assert_eq!(parse_decimal(b"41"), Ok(41));
        assert_eq!(parse_decimal(b"-8  "), Ok(-8));
        assert_eq!(parse_decimal(b"-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(parse_decimal(b"9223372036854775808"), Err(NotAnI64::OutOfRange));
        for text in [&b""[..], b"1.5", b"true", b"\"12\"", b"+5", b" 5"] {
            assert_eq!(parse_decimal(text), Err(NotAnI64::NotDecimal), "{text:?}");
        }
        assert_eq!(format_decimal(-13), b"-13");
    }
}
