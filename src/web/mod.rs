//! The web configuration form (axum + askama): `router(state)` and one file per
//! page; validation is the core's, never re-implemented here.
