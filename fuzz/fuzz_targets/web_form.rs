//! The web form's decoder: any request body posted to the configuration form
//! (`application/x-www-form-urlencoded`, decoded as axum's `Form` does) must
//! be read into a posted form or refused with a message, never panic; an
//! accepted `action` must print back to itself.
#![no_main]

use brise::web::form::posted::{Action, Posted};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(data) else {
        return;
    };
    let Ok(posted) = Posted::parse(pairs) else {
        return;
    };
    let value = posted.action.to_value();
    assert_eq!(
        Action::parse(&value).as_ref(),
        Ok(&posted.action),
        "action `{value}` does not read back"
    );
    for value in posted.values.values() {
        let _ = value.items();
    }
});
