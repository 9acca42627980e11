//! Model values for the checks: a seeded RNG and a fixed clock, so every run builds
//! the same records.

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use verify_model::{
    AccessToken, AnswerInput, Challenge, ChallengeTarget, CredentialSid, Details, Entity, Event,
    Factor, FactorKind, Identity, ModelError, NewAccessToken, NewChallenge, NewFactor,
    NotificationPlatform, PasskeysConfig, RelyingParty, Service, TotpAlgorithm, TotpParams,
    TotpSecret, UnixTime, VerificationProof, Webhook, WebhookEventType,
    factor::{PasskeyCredential, PushBinding, PushConfig},
};

use super::Failure;

/// The fixed "now" every fixture starts at (2026-01-01T00:00:00Z).
pub(super) const T0: UnixTime = UnixTime::from_secs(1_767_225_600);

/// The 27-byte prefix of a P-256 SubjectPublicKeyInfo with an uncompressed point.
const P256_SPKI_PREFIX: [u8; 27] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
];

/// Builds records for one check.
pub(super) struct Fixture {
    check: &'static str,
    rng: ChaCha20Rng,
}

impl Fixture {
    pub(super) fn new(check: &'static str, seed: u64) -> Self {
        Self {
            check,
            rng: ChaCha20Rng::seed_from_u64(seed),
        }
    }

    /// Turns a model error while building fixtures into a failure of the check.
    pub(super) fn model<T>(&self, result: Result<T, ModelError>) -> Result<T, Failure> {
        result.map_err(|error| Failure::new(self.check, format!("building a fixture: {error}")))
    }

    pub(super) fn service(&mut self, name: &str) -> Result<Service, Failure> {
        let service = Service::create(name, T0, &mut self.rng);
        self.model(service)
    }

    pub(super) fn identity(&self, text: &str) -> Result<Identity, Failure> {
        self.model(Identity::parse(text))
    }

    pub(super) fn entity(&mut self, service: &Service, identity: &str) -> Result<Entity, Failure> {
        let identity = self.identity(identity)?;
        Ok(Entity::create(service.sid(), identity, T0, &mut self.rng))
    }

    /// An entity named `identity` created at `now`.
    pub(super) fn entity_at(
        &mut self,
        service: &Service,
        identity: &str,
        now: UnixTime,
    ) -> Result<Entity, Failure> {
        let identity = self.identity(identity)?;
        Ok(Entity::create(service.sid(), identity, now, &mut self.rng))
    }

    fn new_factor(entity: &Entity, name: &str) -> NewFactor {
        NewFactor::new(
            entity.service_sid(),
            entity.sid(),
            entity.identity().clone(),
            name,
        )
    }

    /// An unverified TOTP factor created at `now`, with its `factor.created` event.
    pub(super) fn totp_factor(
        &mut self,
        entity: &Entity,
        now: UnixTime,
    ) -> Result<(Factor, Vec<Event>), Failure> {
        let kind = FactorKind::totp(
            TotpSecret::generate(&mut self.rng),
            TotpAlgorithm::default(),
            TotpParams::default(),
        );
        let created = Factor::create(
            Self::new_factor(entity, "Authenticator"),
            kind,
            now,
            &mut self.rng,
        );
        let created = self.model(created)?;
        Ok((created.factor, created.events))
    }

    /// An unverified passkey factor created at `now`.
    pub(super) fn passkey_factor(
        &mut self,
        entity: &Entity,
        now: UnixTime,
    ) -> Result<(Factor, Vec<Event>), Failure> {
        let rp = RelyingParty::new(
            "example.com",
            "Example",
            vec!["https://example.com".to_owned()],
        );
        let kind = FactorKind::passkeys(PasskeysConfig::new(self.model(rp)?));
        let created = Factor::create(
            Self::new_factor(entity, "Passkey"),
            kind,
            now,
            &mut self.rng,
        );
        let created = self.model(created)?;
        Ok((created.factor, created.events))
    }

    /// An unverified push factor created at `now`.
    pub(super) fn push_factor(
        &mut self,
        entity: &Entity,
        now: UnixTime,
    ) -> Result<(Factor, Vec<Event>), Failure> {
        let mut der = P256_SPKI_PREFIX.to_vec();
        der.extend_from_slice(&[0x42; 64]);
        let binding = self.model(PushBinding::from_spki_der(&der))?;
        let config = PushConfig::new(
            "com.example.app",
            NotificationPlatform::None,
            None,
            Some("1.0.0"),
            CredentialSid::generate(&mut self.rng),
        );
        let kind = FactorKind::push(binding, self.model(config)?);
        let created = Factor::create(Self::new_factor(entity, "Phone"), kind, now, &mut self.rng);
        let created = self.model(created)?;
        Ok((created.factor, created.events))
    }

    /// A passkey credential record with `id` and `sign_count`.
    pub(super) fn credential(
        &self,
        id: &[u8],
        sign_count: u32,
    ) -> Result<PasskeyCredential, Failure> {
        self.model(PasskeyCredential::new(
            id.to_vec(),
            vec![0xa5; 77],
            -7,
            sign_count,
            Vec::new(),
            false,
            false,
            [0; 16],
            "none",
            true,
        ))
    }

    /// `factor` verified at `now` with `proof`, and its events.
    pub(super) fn verified(
        &self,
        factor: &Factor,
        proof: VerificationProof,
        now: UnixTime,
    ) -> Result<(Factor, Vec<Event>), Failure> {
        let verified = self.model(factor.verify(proof, now))?;
        Ok((verified.factor, verified.events))
    }

    /// A pending challenge on `factor` created at `now` (default expiry: 5 minutes).
    pub(super) fn challenge(
        &mut self,
        factor: &Factor,
        now: UnixTime,
    ) -> Result<Challenge, Failure> {
        self.challenge_expiring(factor, now, None)
    }

    /// A pending challenge on `factor` created at `now` that expires at
    /// `expiration_date`.
    pub(super) fn challenge_until(
        &mut self,
        factor: &Factor,
        now: UnixTime,
        expiration_date: UnixTime,
    ) -> Result<Challenge, Failure> {
        self.challenge_expiring(factor, now, Some(expiration_date))
    }

    /// A pending challenge on `factor` created at `now`, expiring at
    /// `expiration_date` or after the default lifetime.
    fn challenge_expiring(
        &mut self,
        factor: &Factor,
        now: UnixTime,
        expiration_date: Option<UnixTime>,
    ) -> Result<Challenge, Failure> {
        let mut input = NewChallenge::new();
        if factor.factor_type() == verify_model::FactorType::Push {
            input = input.with_details(self.model(Details::new("Sign in?", Vec::new()))?);
        }
        if factor.factor_type() == verify_model::FactorType::Passkeys {
            input = input.with_passkey(ceremony(Some(b"YE0")));
        }
        input.expiration_date = expiration_date;
        let created = Challenge::create(ChallengeTarget::Factor(factor), input, now, &mut self.rng);
        Ok(self.model(created)?.challenge)
    }

    /// A pending usernameless passkey challenge of `service` created at `now`.
    pub(super) fn discoverable_challenge(
        &mut self,
        service: &Service,
        now: UnixTime,
    ) -> Result<Challenge, Failure> {
        self.passkey_challenge(ChallengeTarget::DiscoverablePasskey(service.sid()), now)
    }

    /// A pending passkey challenge of `entity` that any of its passkeys may answer
    /// (entity bound, factor unknown until approval), created at `now`.
    pub(super) fn entity_passkey_challenge(
        &mut self,
        entity: &Entity,
        now: UnixTime,
    ) -> Result<Challenge, Failure> {
        self.passkey_challenge(ChallengeTarget::EntityPasskeys(entity), now)
    }

    fn passkey_challenge(
        &mut self,
        target: ChallengeTarget<'_>,
        now: UnixTime,
    ) -> Result<Challenge, Failure> {
        // A discoverable sign-in names no user; the others carry the user's handle.
        let user_handle =
            (!matches!(target, ChallengeTarget::DiscoverablePasskey(_))).then_some(&b"YE0"[..]);
        let created = Challenge::create(
            target,
            NewChallenge::new().with_passkey(ceremony(user_handle)),
            now,
            &mut self.rng,
        );
        Ok(self.model(created)?.challenge)
    }

    /// `challenge` denied at `now`, and its events.
    pub(super) fn denied(
        &self,
        challenge: &Challenge,
        factor: &Factor,
        now: UnixTime,
    ) -> Result<(Challenge, Vec<Event>), Failure> {
        let denied = self.model(challenge.deny(&AnswerInput::new(now).with_factor(factor)))?;
        Ok((denied.challenge, denied.events))
    }

    /// `challenge` approved at `now` (no factor change), and its events.
    pub(super) fn approved(
        &self,
        challenge: &Challenge,
        factor: &Factor,
        now: UnixTime,
    ) -> Result<(Challenge, Vec<Event>), Failure> {
        let approved = self.model(challenge.approve(&AnswerInput::new(now).with_factor(factor)))?;
        Ok((approved.challenge, approved.events))
    }

    /// A push enrollment token for `identity` issued at `now`.
    pub(super) fn access_token(
        &mut self,
        service: &Service,
        identity: &Identity,
        now: UnixTime,
    ) -> Result<AccessToken, Failure> {
        let token = AccessToken::issue(
            NewAccessToken::new(service.sid(), identity.clone()),
            now,
            &mut self.rng,
        );
        self.model(token)
    }

    /// A webhook for every event type, created at `now`.
    pub(super) fn webhook(&mut self, service: &Service, now: UnixTime) -> Result<Webhook, Failure> {
        let webhook = Webhook::create(
            service.sid(),
            "Events",
            vec![WebhookEventType::All],
            "https://hooks.example.com/verify",
            now,
            &mut self.rng,
        );
        self.model(webhook)
    }
}

/// A passkey ceremony as the engine stores one (a routing challenge, no credentials
/// listed), for the identified user `user_handle` or a discoverable sign-in.
fn ceremony(user_handle: Option<&[u8]>) -> verify_model::ceremony::PasskeyCeremony {
    let options = verify_model::ceremony::PasskeyRequestOptions::new(
        b"YC0".to_vec(),
        300_000,
        "example.com".to_owned(),
        Vec::new(),
        verify_model::UserVerification::Preferred,
    );
    verify_model::ceremony::PasskeyCeremony::new(options, user_handle.map(<[u8]>::to_vec))
}
