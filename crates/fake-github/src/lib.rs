//! Stateful fake of the GitHub Packages REST API.
