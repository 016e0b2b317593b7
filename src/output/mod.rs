//! Rendered files → disk: only changed bytes written, atomically (temp, fsync,
//! rename), manifest of checksums, hand edits kept aside, `nginx -t` gate
//! before anything replaces the live configuration.
