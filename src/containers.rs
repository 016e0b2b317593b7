//! Configuration → the desired containers (`ContainerSpec`), one per instance of
//! the container dynamic family. Pure.
