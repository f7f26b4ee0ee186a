//! The IPC frame decoder, fed what a hostile worker could write: every message
//! type either decodes or is refused with a typed error, never a panic, and a
//! decoded message re-encodes to a frame that decodes to the same value.
#![no_main]
use agentbox_ipc::{MAX_FRAME, ToSupervisor, ToWorker, decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = decode::<ToSupervisor>(data, MAX_FRAME) {
        let again = encode(&m).expect("re-encode");
        let back: ToSupervisor = decode(&again, MAX_FRAME).expect("round trip");
        assert_eq!(format!("{m:?}"), format!("{back:?}"));
    }
    let _ = decode::<ToWorker>(data, MAX_FRAME);
    // The header alone, as the channel reads it first.
    if let Some(h) = data.get(..10).and_then(|h| <&[u8; 10]>::try_from(h).ok()) {
        if let Ok(len) = agentbox_ipc::decode_header(h, MAX_FRAME) {
            assert!(len <= MAX_FRAME);
        }
    }
});
