//! What both HTTP clients (the REST API's and the registry's) share: the token they send.
//! It imports nothing else of ours, so both clients and the configuration can import it.

pub mod token;
