//! The GitHub token both clients send: a secret that no `Debug` output or error chain shows.

use std::fmt;

/// The API token. Its `Debug` never shows the secret, so it cannot leak through error chains.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(secret: String) -> Self {
        Token(secret)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}
