//! `keep-referenced`: the images that files of the workspace name, so that a deployment's
//! image is never deleted. Three parts, each on its own:
//! - [`patterns`]: the input's glob patterns, checked when the configuration is read;
//! - [`read`]: the I/O, bounded: which files match, read within the limits, never through
//!   a link that leads outside the workspace;
//! - [`parse`]: pure, property-tested: the references to this owner's packages on this
//!   registry in a file's text.
//!
//! The decision is the policy's (`Policy::referenced`); the reports show it.

pub mod parse;
pub mod patterns;
pub mod read;
