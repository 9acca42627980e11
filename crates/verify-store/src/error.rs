//! [`StoreError`]: what a store reports instead of overwriting or guessing.

use std::fmt;

/// The kind of record a store error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Resource {
    /// A [`Service`](verify_model::Service).
    Service,
    /// An [`Entity`](verify_model::Entity).
    Entity,
    /// A [`Factor`](verify_model::Factor).
    Factor,
    /// A [`Challenge`](verify_model::Challenge).
    Challenge,
    /// An [`AccessToken`](verify_model::AccessToken).
    AccessToken,
    /// A [`Webhook`](verify_model::Webhook).
    Webhook,
}

impl Resource {
    /// The resource's name in lower case (`service`, `access token`, ...).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Service => "service",
            Self::Entity => "entity",
            Self::Factor => "factor",
            Self::Challenge => "challenge",
            Self::AccessToken => "access token",
            Self::Webhook => "webhook",
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A unique key an insert or update collided with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UniqueKey {
    /// The record's sid.
    Sid,
    /// An entity's identity within its service.
    Identity,
    /// A passkey credential id within its service.
    CredentialId,
}

impl fmt::Display for UniqueKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sid => "sid",
            Self::Identity => "identity within the service",
            Self::CredentialId => "passkey credential id within the service",
        })
    }
}

/// Which quota an atomic factor insert found exhausted
/// (see [`FactorQuota`](crate::FactorQuota)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QuotaKind {
    /// Factors of this type per entity (60315).
    FactorsOfType,
    /// Factor creations per entity in the window (60326).
    CreationsInWindow,
}

/// An error from a [`Store`](crate::Store).
///
/// Conditional writes never overwrite: a write whose expected version does not match
/// the stored row is [`StoreError::Conflict`] and changes nothing (neither the row nor
/// the outbox). The engine answers a conflict by reloading and re-deciding, or by
/// reporting it; it never retries blindly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A compare-and-set write found another version than the one it expected
    /// (another writer got there first). Nothing was written.
    #[error(
        "{resource} {sid} changed concurrently (expected {})",
        describe_expected(*.expected_version)
    )]
    Conflict {
        /// The record's kind.
        resource: Resource,
        /// The record's sid.
        sid: String,
        /// The version the write expected to find; `None` when it expected the
        /// record to be absent (an entity delete that found a factor it was not told
        /// about).
        expected_version: Option<u64>,
    },
    /// The record a write or a cascade needs does not exist (it may have been deleted
    /// concurrently). Nothing was written.
    #[error("{resource} {sid} not found")]
    NotFound {
        /// The record's kind.
        resource: Resource,
        /// The record's sid.
        sid: String,
    },
    /// An insert or update collided with a unique key. Nothing was written; creates
    /// that race on a unique key (the first factor of an identity) reload the winner.
    #[error("{resource} already exists with this {key}")]
    Duplicate {
        /// The record's kind.
        resource: Resource,
        /// The key that collided.
        key: UniqueKey,
    },
    /// A factor insert found the entity's quota exhausted inside the same atomic write.
    /// Nothing was written.
    #[error("factor quota exhausted: {count} of at most {limit} ({kind:?})")]
    QuotaExceeded {
        /// Which quota.
        kind: QuotaKind,
        /// The quota.
        limit: usize,
        /// What the store counted.
        count: usize,
    },
    /// The caller broke a write's precondition (a new value whose version is not the
    /// stored one plus one, a record of another service, a factor that does not
    /// belong to the challenge). A bug in the caller; nothing was written.
    #[error("invalid {resource} write: {rule}")]
    InvalidWrite {
        /// The record's kind.
        resource: Resource,
        /// The precondition that failed.
        rule: &'static str,
    },
    /// A page token issued for another list order (tokens are opaque to clients,
    /// but a token of an ascending list cannot page a descending one).
    #[error("page token was issued for another list order")]
    InvalidPageToken,
    /// A stored record could not be read back (corrupt row, failed invariant).
    #[error("stored {resource} is unreadable: {rule}")]
    Corrupt {
        /// The record's kind.
        resource: Resource,
        /// What is wrong with it.
        rule: String,
    },
    /// The backend failed (I/O, a statement the database refused, a record that
    /// does not serialize): nothing was written, and the write may be retried as a
    /// whole. A fault known to pass (the database unreachable or busy) is
    /// [`StoreError::Unavailable`] instead. The in-memory store never returns it.
    #[error("store backend failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// The backend could not be reached in time, a fault that passes: no pooled
    /// connection came free within the acquire timeout, the connection was refused
    /// or reset, the database server is shutting down or starting up, or another
    /// process held SQLite's write lock past the busy timeout. Nothing was written
    /// (short of a connection lost while its `COMMIT` was under way, as with
    /// [`StoreError::Backend`]: a compare-and-set retried then reports a conflict,
    /// never a second write); retrying the operation later can succeed (a server
    /// answers 503 with `Retry-After`). The message names no cause (the source does, for logs, and
    /// never holds the connection password). The in-memory store never returns it.
    #[error("store temporarily unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

fn describe_expected(expected: Option<u64>) -> String {
    expected.map_or_else(|| "no record".to_owned(), |v| format!("version {v}"))
}

impl StoreError {
    /// Whether this is a [`StoreError::Conflict`] (another writer won).
    #[must_use]
    pub const fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict { .. })
    }

    /// Whether this is a [`StoreError::Unavailable`] (a passing fault: retry later).
    #[must_use]
    pub const fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }

    /// A machine-readable name of the variant (`conflict`, `not_found`, ...), stable
    /// across releases, for logs and for mapping to an API status.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Conflict { .. } => "conflict",
            Self::NotFound { .. } => "not_found",
            Self::Duplicate { .. } => "duplicate",
            Self::QuotaExceeded { .. } => "quota_exceeded",
            Self::InvalidWrite { .. } => "invalid_write",
            Self::InvalidPageToken => "invalid_page_token",
            Self::Corrupt { .. } => "corrupt",
            Self::Backend(_) => "backend",
            Self::Unavailable(_) => "unavailable",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_record_and_the_expectation() {
        let conflict = StoreError::Conflict {
            resource: Resource::Challenge,
            sid: "YC00000000000000000000000000000001".to_owned(),
            expected_version: Some(3),
        };
        assert_eq!(
            conflict.to_string(),
            "challenge YC00000000000000000000000000000001 changed concurrently (expected version 3)"
        );
        assert!(conflict.is_conflict());
        assert_eq!(conflict.kind(), "conflict");
        let unexpected = StoreError::Conflict {
            resource: Resource::Factor,
            sid: "YF00000000000000000000000000000002".to_owned(),
            expected_version: None,
        };
        assert!(unexpected.to_string().ends_with("(expected no record)"));
        let duplicate = StoreError::Duplicate {
            resource: Resource::Entity,
            key: UniqueKey::Identity,
        };
        assert_eq!(
            duplicate.to_string(),
            "entity already exists with this identity within the service"
        );
        assert!(!duplicate.is_conflict());
        let quota = StoreError::QuotaExceeded {
            kind: QuotaKind::FactorsOfType,
            limit: 20,
            count: 20,
        };
        assert_eq!(quota.kind(), "quota_exceeded");
        assert!(quota.to_string().contains("20 of at most 20"));
    }

    #[test]
    fn a_backend_error_keeps_its_source_out_of_the_message() {
        let error = StoreError::Backend(Box::new(std::io::Error::other("password=hunter2")));
        assert_eq!(error.to_string(), "store backend failed");
        assert!(std::error::Error::source(&error).is_some());
    }

    #[test]
    fn an_unavailable_error_is_typed_and_keeps_its_cause_out_of_the_message() {
        let error = StoreError::Unavailable(Box::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "postgres://verify:hunter2@db refused",
        )));
        assert_eq!(error.to_string(), "store temporarily unavailable");
        assert_eq!(error.kind(), "unavailable");
        assert!(error.is_unavailable());
        assert!(!error.is_conflict());
        assert!(std::error::Error::source(&error).is_some());
        let backend = StoreError::Backend(Box::new(std::io::Error::other("disk")));
        assert!(!backend.is_unavailable());
    }
}
