//! [`Verify`]: the engine value, its construction and the helpers every operation
//! shares (one `now` per operation, scoped loads, store error mapping).

use verify_model::{
    ApiContext, Challenge, ChallengeSid, Entity, Factor, FactorSid, Identity, PairedTransition,
    Service, ServiceSid, UnixTime,
};
use verify_store::{Resource, Store, StoreError};

use crate::clock::Clock;
use crate::config::EngineConfig;
use crate::error::VerifyError;
use crate::rng::{EngineRng, SharedRng};

/// The verification engine: the service's operations over a [`Store`].
///
/// Holds no state between calls besides its configuration, clock and RNG: every
/// operation loads what it needs, decides with the pure model and factor crates, and
/// writes with compare-and-set, so any number of engines (processes) may share one
/// store.
pub struct Verify<S> {
    pub(crate) store: S,
    pub(crate) config: EngineConfig,
    clock: Box<dyn Clock>,
    rng: SharedRng,
}

impl<S> std::fmt::Debug for Verify<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verify")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S: Store> Verify<S> {
    /// An engine over `store` with an injected clock and RNG (for tests, a
    /// [`ManualClock`](crate::ManualClock) and a seeded RNG make every run
    /// reproducible).
    pub fn new<C, R>(store: S, config: EngineConfig, clock: C, rng: R) -> Self
    where
        C: Clock + 'static,
        R: EngineRng + 'static,
    {
        Self {
            store,
            config,
            clock: Box::new(clock),
            rng: SharedRng::new(rng),
        }
    }

    /// An engine with the system clock and the operating system's RNG: the
    /// production setup. Needs the features `std-clock` and `os-rng` (both on by
    /// default).
    #[cfg(all(feature = "std-clock", feature = "os-rng"))]
    #[cfg_attr(docsrs, doc(cfg(all(feature = "std-clock", feature = "os-rng"))))]
    #[must_use]
    pub fn with_system_defaults(store: S, config: EngineConfig) -> Self {
        Self::new(
            store,
            config,
            crate::clock::SystemClock::new(),
            rand_core::OsRng,
        )
    }

    /// The store.
    pub const fn store(&self) -> &S {
        &self.store
    }

    /// The configuration.
    pub const fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The context resource JSON views are built with (`account_sid`, base URL).
    #[must_use]
    pub fn api_context(&self) -> ApiContext {
        self.config.api_context()
    }

    /// The current time, once per operation.
    pub(crate) fn now(&self) -> Result<UnixTime, VerifyError> {
        Ok(self.clock.now()?)
    }

    /// Runs `f` with the engine's RNG (never across an `.await`).
    pub(crate) fn with_rng<T>(
        &self,
        f: impl FnOnce(&mut dyn EngineRng) -> T,
    ) -> Result<T, VerifyError> {
        self.rng.with(f)
    }

    /// Runs one compare-and-set round (load, decide, write conditionally on the
    /// version loaded) until it is not a conflict: once, then at most
    /// `conflict_retries` more times, each on a fresh load. For decisions that are
    /// safe to re-run on the reloaded record; a decision that must not be re-run
    /// (a used TOTP step, a signed answer already applied) writes once and answers
    /// a conflict with [`conflict`].
    ///
    /// # Errors
    /// The round's own error, or [`VerifyError::Conflict`] for `resource` when every
    /// round lost to a concurrent write.
    pub(crate) async fn cas_retry<T, Fut>(
        &self,
        resource: Resource,
        mut round: impl FnMut() -> Fut,
    ) -> Result<T, VerifyError>
    where
        Fut: Future<Output = Result<Round<T>, VerifyError>>,
    {
        self.cas_retry_from(resource, (), move |_| round()).await
    }

    /// [`Verify::cas_retry`] for a decision whose first round runs on a record the
    /// caller already loaded: the first round gets `Some(loaded)`, a round after a
    /// conflict gets `None` and loads the record again.
    ///
    /// # Errors
    /// As [`Verify::cas_retry`].
    pub(crate) async fn cas_retry_from<L, T, Fut>(
        &self,
        resource: Resource,
        loaded: L,
        mut round: impl FnMut(Option<L>) -> Fut,
    ) -> Result<T, VerifyError>
    where
        Fut: Future<Output = Result<Round<T>, VerifyError>>,
    {
        let mut loaded = Some(loaded);
        for _ in 0..=usize::from(self.config.conflict_retries) {
            if let Round::Done(value) = round(loaded.take()).await? {
                return Ok(value);
            }
        }
        Err(conflict(resource))
    }

    pub(crate) async fn load_service(&self, sid: ServiceSid) -> Result<Service, VerifyError> {
        self.store
            .get_service(sid)
            .await?
            .ok_or(VerifyError::NotFound {
                resource: Resource::Service,
            })
    }

    pub(crate) async fn load_entity(
        &self,
        service: ServiceSid,
        identity: &Identity,
    ) -> Result<Entity, VerifyError> {
        self.store
            .get_entity_by_identity(service, identity)
            .await?
            .ok_or(VerifyError::NotFound {
                resource: Resource::Entity,
            })
    }

    /// The factor `sid` of `identity` in `service` (another identity's factor is
    /// not found).
    pub(crate) async fn load_factor(
        &self,
        service: ServiceSid,
        identity: &Identity,
        sid: FactorSid,
    ) -> Result<Factor, VerifyError> {
        match self.store.get_factor(service, sid).await? {
            Some(factor) if factor.identity() == identity => Ok(factor),
            _ => Err(VerifyError::NotFound {
                resource: Resource::Factor,
            }),
        }
    }

    /// The challenge `sid` of `identity` in `service`.
    pub(crate) async fn load_challenge(
        &self,
        service: ServiceSid,
        identity: &Identity,
        sid: ChallengeSid,
    ) -> Result<Challenge, VerifyError> {
        match self.store.get_challenge(service, sid).await? {
            Some(challenge) if challenge.identity() == Some(identity) => Ok(challenge),
            _ => Err(VerifyError::NotFound {
                resource: Resource::Challenge,
            }),
        }
    }
}

/// How one round of [`Verify::cas_retry`] ended.
pub(crate) enum Round<T> {
    /// Finished with this value: the write landed, or there was nothing to write.
    Done(T),
    /// The write lost to a concurrent one: load again and redo the round.
    Conflict,
}

impl<T> Round<T> {
    /// The round whose conditional write was `written`: `value` once it landed.
    ///
    /// # Errors
    /// A store error other than a conflict.
    pub(crate) fn written<U>(
        written: Result<U, StoreError>,
        value: T,
    ) -> Result<Self, VerifyError> {
        match written {
            Ok(_) => Ok(Self::Done(value)),
            Err(error) if error.is_conflict() => Ok(Self::Conflict),
            Err(error) => Err(error.into()),
        }
    }
}

impl<S: Store> Verify<S> {
    /// Writes an answer's transitions: the challenge and, when the answer moved it,
    /// its factor, in one transaction (each record with its own events).
    pub(crate) async fn write_paired(&self, paired: &PairedTransition) -> Result<(), StoreError> {
        match &paired.factor {
            Some(factor) => {
                self.store
                    .update_challenge_and_factor(&paired.challenge, factor)
                    .await
            }
            None => {
                self.store
                    .update_challenge(&paired.challenge.challenge, &paired.challenge.events)
                    .await
            }
        }
    }

    /// The factor `sid` of `service` as stored now (a retry's reload).
    pub(crate) async fn reload_factor(
        &self,
        service: ServiceSid,
        sid: FactorSid,
    ) -> Result<Factor, VerifyError> {
        self.store
            .get_factor(service, sid)
            .await?
            .ok_or(VerifyError::NotFound {
                resource: Resource::Factor,
            })
    }

    /// The challenge `sid` of `service` as stored now (a retry's reload).
    pub(crate) async fn reload_challenge(
        &self,
        service: ServiceSid,
        sid: ChallengeSid,
    ) -> Result<Challenge, VerifyError> {
        self.store
            .get_challenge(service, sid)
            .await?
            .ok_or(VerifyError::NotFound {
                resource: Resource::Challenge,
            })
    }
}

/// Whether a store result is a compare-and-set conflict (to reload and re-decide).
pub(crate) fn is_conflict<T>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(error) if error.is_conflict())
}

/// A conflict that is not retried (or whose retries ran out).
pub(crate) const fn conflict(resource: Resource) -> VerifyError {
    VerifyError::Conflict { resource }
}
