//! The container engines behind one trait: Docker (bollard), LXC (liblxc in a
//! helper process), Swarm, and an in-memory fake for planner tests. Engine
//! types never cross the trait.
