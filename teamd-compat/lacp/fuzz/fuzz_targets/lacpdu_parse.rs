//! Any byte string: the parser returns a value or an error, never panics,
//! and whatever it accepts serialises to a frame that parses the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use teamd_lacp::Lacpdu;

fuzz_target!(|data: &[u8]| {
    if let Ok(pdu) = Lacpdu::parse(data) {
        assert_eq!(Lacpdu::parse(&pdu.to_frame()).as_ref(), Ok(&pdu));
    }
});
