//! Observe → plan → apply. `plan(desired, observed)` is pure and decides, for
//! every container, create / recreate / start / stop / remove / nothing with
//! its reason; `apply` carries the plan out through a `Runtime`.
