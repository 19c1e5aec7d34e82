//! What both HTTP clients (the REST API's and the registry's) share: the token they send and
//! how fast they may go. It imports nothing else of ours, so both clients and the
//! configuration can import it.

pub mod pacing;
pub mod token;
