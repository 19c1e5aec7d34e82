//! What both HTTP clients (the REST API's and the registry's) share: the HTTP client itself
//! (User-Agent, certificate authorities, refused certificates told apart), the token they
//! send, how fast they may go, how names are encoded into URLs, and the capped read of an
//! answer's body.
//! It imports nothing else of ours, so both clients, the configuration and the reports can
//! import it.

pub mod body;
pub mod client;
pub mod encode;
pub mod pacing;
pub mod token;
