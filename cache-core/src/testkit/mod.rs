//! The conformance suite and real-server fixtures (being written).
