//! The declared containers exported for another orchestrator (compose file,
//! Kubernetes objects), from the same desired state `reconcile` uses.
