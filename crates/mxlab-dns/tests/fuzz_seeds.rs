//! The fuzz target's property in `cargo test`: the committed seed queries, and a bounded
//! sample of their mutations (and of plain random bytes), asked over UDP and TCP, never make
//! `FakeDns::handle` panic or give a broken reply (`mxlab_dns::fuzz::check`), and a server
//! without faults answers a repeated query the same from its cache. `cargo xtask
//! fuzz-dns` runs the same for minutes.

use std::path::Path;

use mxlab_dns::Transport;
use mxlab_dns::fuzz::{check, check_repeat, mutate, seeds, src, world, world_without_faults};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

#[test]
fn every_seed_gets_a_sound_reply_or_none() {
    let corpus = seeds(Path::new(env!("CARGO_MANIFEST_DIR")));
    assert!(corpus.len() >= 20, "the seed corpus is there");
    let rt = runtime();
    let dns = rt.block_on(async { world() });
    for query in &corpus {
        for transport in [Transport::Udp, Transport::Tcp] {
            let reply = rt.block_on(dns.servers[0].handle(query, src(), transport));
            check(query, transport, reply.as_deref()).unwrap();
        }
    }
}

#[test]
fn a_response_is_never_answered() {
    let corpus = seeds(Path::new(env!("CARGO_MANIFEST_DIR")));
    let rt = runtime();
    let dns = rt.block_on(async { world() });
    for mut query in corpus.into_iter().filter(|q| q.len() > 2) {
        query[2] |= 0x80;
        for transport in [Transport::Udp, Transport::Tcp] {
            assert_eq!(
                rt.block_on(dns.servers[0].handle(&query, src(), transport)),
                None
            );
        }
    }
}

#[test]
fn mutated_queries_never_panic_nor_break_a_reply() {
    let corpus = seeds(Path::new(env!("CARGO_MANIFEST_DIR")));
    let rt = runtime();
    let dns = rt.block_on(async { world() });
    let plain = rt.block_on(async { world_without_faults() });
    let mut runner = TestRunner::new(Config {
        cases: 2048,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        0..corpus.len(),
        0..corpus.len(),
        any::<u64>(),
        proptest::collection::vec(any::<u8>(), 0..300),
        any::<bool>(),
    );
    runner
        .run(&strategy, |(a, b, seed, random, use_random)| {
            let query = if use_random {
                random
            } else {
                let mut q = corpus[a].clone();
                let mut state = seed | 1;
                mutate(&mut q, &corpus[b], || {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state
                });
                q
            };
            for transport in [Transport::Udp, Transport::Tcp] {
                let reply = rt.block_on(dns.servers[0].handle(&query, src(), transport));
                prop_assert_eq!(check(&query, transport, reply.as_deref()), Ok(()));
                let first = rt.block_on(plain.servers[0].handle(&query, src(), transport));
                let second = rt.block_on(plain.servers[0].handle(&query, src(), transport));
                prop_assert_eq!(check(&query, transport, first.as_deref()), Ok(()));
                prop_assert_eq!(check_repeat(first.as_deref(), second.as_deref()), Ok(()));
            }
            Ok(())
        })
        .unwrap();
}
