//! Which server holds a key: pymemcache's rendezvous (highest random weight) hashing, bit for bit.
//!
//! Each server's score for a key is `murmur3_32("{node}-{key}")`; the highest score wins, a tie going
//! to the greater node name. Adding a server moves only the keys it now wins, about 1/N of them, and
//! removing one moves only its own keys. Because it is exactly what Django's `PyMemcacheCache` does
//! (its `HashClient` defaults to this hash with seed 0), a Rust process and a Django process given
//! the same servers put every key on the same server.

/// Picks a server for each key by rendezvous hashing over the servers' node names.
#[derive(Debug, Clone)]
pub(crate) struct Rendezvous {
    nodes: Vec<String>,
}

impl Rendezvous {
    /// Hashing over these node names (see [`ServerAddress::node_name`](crate::ServerAddress::node_name)).
    pub(crate) fn new(nodes: Vec<String>) -> Self {
        Rendezvous { nodes }
    }

    /// The index of the server that holds `key`. With one server, no hashing is done.
    ///
    /// # Panics
    /// When there are no nodes; the backend always has at least one server.
    pub(crate) fn pick(&self, key: &str) -> usize {
        if self.nodes.len() == 1 {
            return 0;
        }
        let mut best = 0;
        let mut best_score = None;
        for (index, node) in self.nodes.iter().enumerate() {
            let score = node_score(node, key);
            let wins = match best_score {
                None => true,
                Some(high) => score > high || (score == high && node.as_str() > self.nodes[best].as_str()),
            };
            if wins {
                best = index;
                best_score = Some(score);
            }
        }
        best
    }
}

/// `murmur3_32(f"{node}-{key}")` as pymemcache computes it.
fn node_score(node: &str, key: &str) -> u32 {
    if node.is_ascii() && key.is_ascii() {
        murmur3_32(node.bytes().chain([b'-']).chain(key.bytes()))
    } else {
        murmur3_32(node.chars().chain(['-']).chain(key.chars()).map(pymemcache_byte))
    }
}

/// pymemcache's pure-Python murmur3 reads a `str` one *code point* at a time and keeps only the low
/// byte of each (`ord(c) & 0xFF`); for ASCII that is the ordinary byte-wise hash.
fn pymemcache_byte(c: char) -> u8 {
    (u32::from(c) & 0xFF) as u8
}

/// MurmurHash3, x86 32-bit, seed 0, over a stream of bytes.
pub(crate) fn murmur3_32(data: impl IntoIterator<Item = u8>) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let mix = |k: u32| k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);

    let mut h: u32 = 0;
    let mut length: u32 = 0;
    let mut block: u32 = 0;
    for byte in data {
        block |= u32::from(byte) << (8 * (length % 4));
        length = length.wrapping_add(1);
        if length.is_multiple_of(4) {
            h ^= mix(block);
            h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
            block = 0;
        }
    }
    if !length.is_multiple_of(4) {
        h ^= mix(block);
    }
    h ^= length;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars_hash(text: &str) -> u32 {
        murmur3_32(text.chars().map(pymemcache_byte))
    }

    /// Values printed by pymemcache 4.0's `pymemcache.client.murmur3.murmur3_32`.
    #[test]
    fn murmur_matches_pymemcache() {
        for (text, expected) in [
            ("", 0),
            ("a", 1_009_084_850),
            ("ab", 2_613_040_991),
            ("abc", 3_017_643_002),
            ("abcd", 1_139_631_978),
            ("hello", 613_153_351),
            ("清", 1_405_797_717),
            ("😀x", 2_191_229_230),
            ("The quick brown fox jumps over the lazy dog", 776_992_547),
        ] {
            assert_eq!(chars_hash(text), expected, "{text:?}");
        }
        assert_eq!(murmur3_32(*b"hello"), 613_153_351);
    }

    /// Placements printed by pymemcache 4.0's `RendezvousHash(nodes).get_node(key)`.
    #[test]
    fn placement_matches_pymemcache() {
        let ring = Rendezvous::new(vec![
            "127.0.0.1:11211".into(),
            "127.0.0.1:11212".into(),
            "/run/memcached.sock".into(),
        ]);
        let long = format!(":1:{}", "x".repeat(247));
        for (key, expected) in [
            (":1:a", 2),
            (":1:user:42", 1),
            (":1:清", 0),
            (":1:emoji😀", 0),
            ("cacheprefix:2:Iñtërnâtiônàlizætiøn", 2),
            (long.as_str(), 1),
        ] {
            assert_eq!(ring.pick(key), expected, "{key}");
        }
    }

    #[test]
    fn one_server_takes_everything() {
        let ring = Rendezvous::new(vec!["a:1".into()]);
        assert_eq!(ring.pick("anything"), 0);
    }

    #[test]
    fn adding_a_server_moves_about_one_key_in_n() {
        let keys: Vec<String> = (0..20_000).map(|i| format!(":1:key{i}")).collect();
        let nodes: Vec<String> = (0..4).map(|i| format!("10.0.0.{i}:11211")).collect();
        let three = Rendezvous::new(nodes[..3].to_vec());
        let four = Rendezvous::new(nodes.clone());
        let mut moved = 0;
        let mut per_server = [0usize; 4];
        for key in &keys {
            let before = three.pick(key);
            let after = four.pick(key);
            per_server[after] += 1;
            if before != after {
                assert_eq!(after, 3, "a moved key only ever moves to the new server");
                moved += 1;
            }
        }
        let fraction = moved as f64 / keys.len() as f64;
        assert!((0.22..0.28).contains(&fraction), "moved {fraction}");
        for count in per_server {
            assert!((4_000..6_000).contains(&count), "uneven: {per_server:?}");
        }
        // Removing the server again moves the same keys back, and only those.
        let back = keys.iter().filter(|key| three.pick(key) != four.pick(key)).count();
        assert_eq!(back, moved);
    }
}
