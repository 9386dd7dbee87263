//! Reading `CLUSTER NODES` for the health check: every node and whether the cluster considers it
//! failing. The reply comes from the network, so nothing in it is trusted: a malformed line is
//! skipped, never a panic.

/// One node as the cluster sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClusterNode {
    /// `ip:port`, as the cluster announces it.
    pub(crate) address: String,
    /// `master` or `replica`.
    pub(crate) role: &'static str,
    /// Why the cluster considers it down (`fail`, `fail?`, `noaddr`), `None` when it doesn't.
    pub(crate) failing: Option<String>,
}

/// The nodes listed in a `CLUSTER NODES` reply, in order. Lines that don't have the documented
/// shape (`<id> <ip:port@cport[,hostname]> <flags> …`) and nodes still in handshake are left out.
pub(crate) fn parse(reply: &str) -> Vec<ClusterNode> {
    reply.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<ClusterNode> {
    let mut fields = line.split_ascii_whitespace();
    let _id = fields.next()?;
    let address = fields.next()?;
    let flags = fields.next()?;
    let flags: Vec<&str> = flags.split(',').collect();
    if flags.contains(&"handshake") {
        return None;
    }
    // `ip:port@cport` then, since Redis 7, `,hostname`.
    let address = address.split(['@', ',']).next()?;
    if address.is_empty() {
        return None;
    }
    let role = if flags.contains(&"master") { "master" } else { "replica" };
    let failing = flags
        .iter()
        .find(|flag| matches!(**flag, "fail" | "fail?" | "noaddr"))
        .map(|flag| (*flag).to_owned());
    Some(ClusterNode {
        address: address.to_owned(),
        role,
        failing,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn nodes_and_their_failure_flags_are_read() {
        let reply = "\
07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,host-a slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected
67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922
292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@31003 master,fail - 0 1426238318243 3 disconnected 10923-16383
e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-5460
6ec23923021cf3ffec47632106199cb7f496ce01 127.0.0.1:30005@31005 slave,fail? 67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 0 1426238316232 5 connected
aaaa :0@0 handshake - 0 0 0 connected
garbage
";
        let nodes = parse(reply);
        let shown: Vec<_> = nodes
            .iter()
            .map(|node| (node.address.as_str(), node.role, node.failing.as_deref()))
            .collect();
        assert_eq!(
            shown,
            [
                ("127.0.0.1:30004", "replica", None),
                ("127.0.0.1:30002", "master", None),
                ("127.0.0.1:30003", "master", Some("fail")),
                ("127.0.0.1:30001", "master", None),
                ("127.0.0.1:30005", "replica", Some("fail?")),
            ]
        );
    }

    proptest! {
        #[test]
        fn arbitrary_replies_never_panic(reply in "\\PC*") {
            let _ = parse(&reply);
        }

        #[test]
        fn arbitrary_lines_of_the_right_shape_never_panic(
            lines in proptest::collection::vec("[a-f0-9]{0,4} [0-9.:@,a-z]{0,12} [a-z,?]{0,16}( .{0,8})?", 0..8)
        ) {
            let reply = lines.join("\n");
            for node in parse(&reply) {
                prop_assert!(!node.address.is_empty());
            }
        }
    }
}
