//! Services and entities.

use verify_model::config::PasskeysConfig;
use verify_model::factor::UnverifiedFactorTtl;
use verify_model::service::{PushServiceConfig, TotpServiceConfig};
use verify_model::{Entity, Event, Identity, Service, ServiceSid};
use verify_store::{ListQuery, Listing, Resource, Store};

use crate::engine::{Round, Verify};
use crate::error::VerifyError;

/// Settings of a service to apply at creation or update; `None` leaves a setting as
/// it is (at creation: the default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceSettings {
    /// `friendly_name` (1..=255 characters).
    pub friendly_name: Option<String>,
    /// The `totp` block.
    pub totp: Option<TotpServiceConfig>,
    /// The `push` block.
    pub push: Option<PushServiceConfig>,
    /// The `passkeys` block (relying party, attachment, ...).
    pub passkeys: Option<PasskeysConfig>,
    /// How long unverified factors stay verifiable (1..=24 h, default 24 h).
    pub unverified_factor_ttl: Option<UnverifiedFactorTtl>,
    /// Changes to single fields of the `totp` block, applied to the block as stored
    /// when the update is written (after `totp`, if both are given).
    pub totp_changes: Option<TotpChanges>,
    /// Changes to single fields of the `push` block, applied likewise.
    pub push_changes: Option<PushChanges>,
}

/// Changes to some fields of a service's `totp` block; `None` keeps the stored value
/// (so an update naming only `Totp.Skew` keeps the issuer, code length and time
/// step).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TotpChanges {
    /// `issuer`.
    pub issuer: Option<String>,
    /// `code_length`.
    pub code_length: Option<u8>,
    /// `time_step`.
    pub time_step: Option<u8>,
    /// `skew`.
    pub skew: Option<u8>,
}

impl TotpChanges {
    /// The block `current` with these changes, checked against the model's ranges.
    fn applied(&self, current: &TotpServiceConfig) -> Result<TotpServiceConfig, VerifyError> {
        let params = verify_model::TotpParams::new(
            self.code_length.unwrap_or(current.params.code_length()),
            self.time_step.unwrap_or(current.params.time_step()),
            self.skew.unwrap_or(current.params.skew()),
        )?;
        let issuer = self.issuer.as_deref().or(current
            .issuer
            .as_ref()
            .map(verify_model::FriendlyName::as_str));
        Ok(TotpServiceConfig::new(issuer, params)?)
    }
}

/// Changes to some fields of a service's `push` block; `None` keeps the stored
/// value, and an empty credential reference clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushChanges {
    /// `include_date`.
    pub include_date: Option<bool>,
    /// `apn_credential_sid` (`""` clears it).
    pub apn_credential_sid: Option<String>,
    /// `fcm_credential_sid` (`""` clears it).
    pub fcm_credential_sid: Option<String>,
}

impl PushChanges {
    /// The block `current` with these changes, checked by the model.
    fn applied(&self, current: &PushServiceConfig) -> Result<PushServiceConfig, VerifyError> {
        let reference = |change: &Option<String>, stored: &Option<String>| match change {
            Some(text) if text.is_empty() => None,
            Some(text) => Some(text.clone()),
            None => stored.clone(),
        };
        let apn = reference(&self.apn_credential_sid, &current.apn_credential_sid);
        let fcm = reference(&self.fcm_credential_sid, &current.fcm_credential_sid);
        Ok(PushServiceConfig::new(
            self.include_date.unwrap_or(current.include_date),
            apn.as_deref(),
            fcm.as_deref(),
        )?)
    }
}

impl ServiceSettings {
    /// No changes.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// With a friendly name.
    #[must_use]
    pub fn with_friendly_name(mut self, name: &str) -> Self {
        self.friendly_name = Some(name.to_owned());
        self
    }

    /// With a `totp` block.
    #[must_use]
    pub fn with_totp(mut self, totp: TotpServiceConfig) -> Self {
        self.totp = Some(totp);
        self
    }

    /// With a `push` block.
    #[must_use]
    pub fn with_push(mut self, push: PushServiceConfig) -> Self {
        self.push = Some(push);
        self
    }

    /// With a `passkeys` block.
    #[must_use]
    pub fn with_passkeys(mut self, passkeys: PasskeysConfig) -> Self {
        self.passkeys = Some(passkeys);
        self
    }

    /// With changes to single fields of the `totp` block.
    #[must_use]
    pub fn with_totp_changes(mut self, changes: TotpChanges) -> Self {
        self.totp_changes = Some(changes);
        self
    }

    /// With changes to single fields of the `push` block.
    #[must_use]
    pub fn with_push_changes(mut self, changes: PushChanges) -> Self {
        self.push_changes = Some(changes);
        self
    }

    /// With an unverified-factor TTL.
    #[must_use]
    pub const fn with_unverified_factor_ttl(mut self, ttl: UnverifiedFactorTtl) -> Self {
        self.unverified_factor_ttl = Some(ttl);
        self
    }

    fn apply(
        &self,
        service: &Service,
        now: verify_model::UnixTime,
    ) -> Result<Service, VerifyError> {
        let mut next = service.clone();
        if let Some(name) = &self.friendly_name {
            next = next.with_friendly_name(name, now)?;
        }
        if let Some(totp) = &self.totp {
            next = next.with_totp(totp.clone(), now)?;
        }
        if let Some(changes) = &self.totp_changes {
            let totp = changes.applied(next.totp())?;
            next = next.with_totp(totp, now)?;
        }
        if let Some(push) = &self.push {
            // Through the model's checks, whoever built the block.
            let checked = PushServiceConfig::new(
                push.include_date,
                push.apn_credential_sid.as_deref(),
                push.fcm_credential_sid.as_deref(),
            )?;
            next = next.with_push(checked, now)?;
        }
        if let Some(changes) = &self.push_changes {
            let push = changes.applied(next.push())?;
            next = next.with_push(push, now)?;
        }
        if let Some(passkeys) = &self.passkeys {
            // Whether the relying party is usable is the WebAuthn crate's rule:
            // checked here, so no stored configuration fails a later ceremony.
            crate::passkeys::relying_party(passkeys, &passkeys.policy)?;
            next = next.with_passkeys(passkeys.clone(), now)?;
        }
        if let Some(ttl) = self.unverified_factor_ttl {
            next = next.with_unverified_factor_ttl(ttl, now)?;
        }
        if next.version() == service.version() {
            return Ok(next);
        }
        // Each `with_*` bumps the version; the store's compare-and-set wants exactly
        // one bump per write, so the settings are written as one change.
        with_version(&next, service.version().saturating_add(1))
    }
}

impl<S: Store> Verify<S> {
    /// Creates a service named `friendly_name` with `settings` applied.
    ///
    /// # Errors
    /// [`VerifyError::Model`] for a setting out of its limits;
    /// [`VerifyError::Store`], [`VerifyError::Clock`].
    pub async fn create_service(
        &self,
        friendly_name: &str,
        settings: &ServiceSettings,
    ) -> Result<Service, VerifyError> {
        let now = self.now()?;
        let created = self.with_rng(|rng| Service::create(friendly_name, now, rng))??;
        let service = with_version(&settings.apply(&created, now)?, created.version())?;
        self.store.insert_service(&service).await?;
        Ok(service)
    }

    /// The oldest service named `friendly_name`, or a new one created with
    /// `settings` when there is none: for a host that embeds the engine and would
    /// rather not keep a service sid in its configuration. The settings apply only to
    /// a service this call creates; an existing one is returned as it is.
    ///
    /// Names are not unique in the model, so two processes starting at the same time
    /// on an empty store may each create one; every later call, in any process,
    /// returns the older of them, so they agree from then on. A host that starts
    /// many processes at once creates its service once, before them.
    ///
    /// # Errors
    /// As [`Verify::create_service`] and [`Verify::list_services`].
    pub async fn ensure_service(
        &self,
        friendly_name: &str,
        settings: &ServiceSettings,
    ) -> Result<Service, VerifyError> {
        let page =
            verify_model::list::PageSize::new(u64::from(verify_model::limits::MAX_PAGE_SIZE))?;
        let mut query = ListQuery::new(verify_model::ListOrder::Asc, page);
        loop {
            let listing = self.list_services(&query).await?;
            if let Some(found) = listing
                .items
                .into_iter()
                .filter(|service| service.friendly_name().as_str() == friendly_name)
                .min_by_key(|service| (service.date_created(), service.sid()))
            {
                return Ok(found);
            }
            match listing.next_page_token {
                Some(token) => query = query.with_page_token(token),
                None => return self.create_service(friendly_name, settings).await,
            }
        }
    }

    /// The service `sid`.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`]; [`VerifyError::Store`].
    pub async fn fetch_service(&self, sid: ServiceSid) -> Result<Service, VerifyError> {
        self.load_service(sid).await
    }

    /// A page of services.
    ///
    /// # Errors
    /// [`VerifyError::Store`] (a page token of the other order among them).
    pub async fn list_services(&self, query: &ListQuery) -> Result<Listing<Service>, VerifyError> {
        Ok(self.store.list_services(query).await?)
    }

    /// Applies `settings` to the service `sid` (reloading and re-applying on a
    /// concurrent update: the settings do not depend on the old values).
    ///
    /// # Errors
    /// [`VerifyError::NotFound`]; [`VerifyError::Model`] for a setting out of its
    /// limits; [`VerifyError::Conflict`] when the retries run out.
    pub async fn update_service(
        &self,
        sid: ServiceSid,
        settings: &ServiceSettings,
    ) -> Result<Service, VerifyError> {
        let now = self.now()?;
        self.cas_retry(Resource::Service, move || async move {
            let service = self.load_service(sid).await?;
            let next = settings.apply(&service, now)?;
            if next.version() == service.version() {
                return Ok(Round::Done(service));
            }
            let written = self.store.update_service(&next).await;
            Round::written(written, next)
        })
        .await
    }

    /// Deletes the service `sid` with everything in it.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`]; [`VerifyError::Conflict`] when the retries run out.
    pub async fn delete_service(&self, sid: ServiceSid) -> Result<(), VerifyError> {
        self.cas_retry(Resource::Service, move || async move {
            let service = self.load_service(sid).await?;
            let deleted = self.store.delete_service(sid, service.version()).await;
            Round::written(deleted, ())
        })
        .await
    }

    /// The entity of `service` named `identity`.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`]; [`VerifyError::Store`].
    pub async fn fetch_entity(
        &self,
        service: ServiceSid,
        identity: &Identity,
    ) -> Result<Entity, VerifyError> {
        self.load_entity(service, identity).await
    }

    /// Creates the entity named `identity` (entities are otherwise created by their
    /// first factor).
    ///
    /// # Errors
    /// [`VerifyError::NotFound`] (service); [`VerifyError::Store`] with
    /// [`StoreError::Duplicate`](verify_store::StoreError::Duplicate) and
    /// [`UniqueKey::Identity`](verify_store::UniqueKey::Identity) when the service
    /// already has an entity of that identity (nothing is written).
    pub async fn create_entity(
        &self,
        service: ServiceSid,
        identity: &Identity,
    ) -> Result<Entity, VerifyError> {
        let now = self.now()?;
        let service = self.load_service(service).await?;
        let entity =
            self.with_rng(|rng| Entity::create(service.sid(), identity.clone(), now, rng))?;
        self.store.insert_entity(&entity).await?;
        Ok(entity)
    }

    /// A page of the service's entities, by creation.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`] (service); [`VerifyError::Store`] (a page token of
    /// the other order among them).
    pub async fn list_entities(
        &self,
        service: ServiceSid,
        query: &ListQuery,
    ) -> Result<Listing<Entity>, VerifyError> {
        let service = self.load_service(service).await?;
        Ok(self.store.list_entities(service.sid(), query).await?)
    }

    /// Deletes the entity named `identity` with its factors and challenges, writing
    /// one `factor.deleted` event per factor in the same write. A factor created or
    /// changed concurrently makes the store refuse; the engine reloads and retries.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`]; [`VerifyError::Conflict`] when the retries run out.
    pub async fn delete_entity(
        &self,
        service: ServiceSid,
        identity: &Identity,
    ) -> Result<(), VerifyError> {
        let now = self.now()?;
        self.cas_retry(Resource::Entity, move || async move {
            let entity = self.load_entity(service, identity).await?;
            let factors = self.store.entity_factors(service, entity.sid()).await?;
            let mut versions = Vec::with_capacity(factors.len());
            let mut events: Vec<Event> = Vec::with_capacity(factors.len());
            for factor in &factors {
                versions.push((factor.sid(), factor.version()));
                events.extend(factor.delete(now)?.events);
            }
            let deleted = self
                .store
                .delete_entity(service, entity.sid(), &versions, &events)
                .await;
            Round::written(deleted, ())
        })
        .await
    }

    /// The entity named `identity`, created (with a fresh sid) if it does not exist
    /// yet: entities are created implicitly by their first factor. Two racing first
    /// factors both end up with the one entity that won the insert.
    pub(crate) async fn entity_for_new_factor(
        &self,
        service: ServiceSid,
        identity: &Identity,
        now: verify_model::UnixTime,
    ) -> Result<Entity, VerifyError> {
        if let Some(entity) = self.store.get_entity_by_identity(service, identity).await? {
            return Ok(entity);
        }
        let entity = self.with_rng(|rng| Entity::create(service, identity.clone(), now, rng))?;
        match self.store.insert_entity(&entity).await {
            Ok(()) => Ok(entity),
            Err(verify_store::StoreError::Duplicate { .. }) => {
                self.load_entity(service, identity).await
            }
            Err(other) => Err(other.into()),
        }
    }
}

/// `service` with its compare-and-set version set to `version` (the model offers one
/// `with_*` per setting, each bumping the version; a settings change is one write).
fn with_version(service: &Service, version: u64) -> Result<Service, VerifyError> {
    let inconsistent = || VerifyError::Inconsistent {
        resource: Resource::Service,
        rule: "a service round-trips through its storage form",
    };
    let mut record = serde_json::to_value(service).map_err(|_| inconsistent())?;
    let slot = record.get_mut("version").ok_or_else(inconsistent)?;
    *slot = serde_json::Value::from(version);
    serde_json::from_value(record).map_err(|_| inconsistent())
}
