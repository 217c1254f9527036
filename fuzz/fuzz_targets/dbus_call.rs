#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rteam_fuzz_checks::dbus_call(data));
