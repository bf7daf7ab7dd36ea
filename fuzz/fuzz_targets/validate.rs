//! Validate arbitrary bytes (and the 999/TA1 for them, and the typed parse): must
//! never panic. Inputs that do not start with ISA are also tried behind a valid ISA so
//! the fuzzer reaches the envelope and guide code.
#![no_main]

use libfuzzer_sys::fuzz_target;

const ISA: &[u8] = b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*^*00501*000000001*0*T*:~";

fuzz_target!(|data: &[u8]| {
    let opts = x12::Options { max_segment: 4096, ..Default::default() };
    let report = x12::validate_bytes(data, &opts);
    let _ = x12::ack::acknowledgement(&report, &x12::ack::AckOptions::default());
    if !data.starts_with(b"ISA") {
        let mut v = ISA.to_vec();
        v.extend_from_slice(data);
        let report = x12::validate_bytes(&v, &opts);
        let _ = x12::ack::acknowledgement(&report, &x12::ack::AckOptions::default());
        let (_, sets) = x12::model::parse_bytes(&v);
        for t in &sets {
            let _ = x12::model::typed(t);
        }
    }
});
