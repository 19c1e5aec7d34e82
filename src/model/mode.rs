//! What a run does to the versions it selects: delete them, restore them, or audit them.

/// Whether the run deletes active versions, restores deleted ones, or audits the active ones
/// (changing nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Delete,
    Restore,
    Audit,
}

impl Mode {
    /// The `mode` input's value: `delete` or `restore`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Delete => "delete",
            Mode::Restore => "restore",
            Mode::Audit => "audit",
        }
    }

    /// What was done to a version: `deleted` or `restored`.
    pub fn past_tense(self) -> &'static str {
        match self {
            Mode::Delete => "deleted",
            Mode::Restore => "restored",
            Mode::Audit => "audited",
        }
    }
}
