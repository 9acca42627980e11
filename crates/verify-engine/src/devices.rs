//! Device request authentication after enrollment (docs/push-protocol.md, section 4): the push SDKs call the
//! device endpoints with `Authorization: Basic base64("token:" + JWT)`, the JWT
//! ES256-signed by the factor's key, its header `kid` naming the factor's
//! `config.credential_sid`, its claims `{"sub": <account sid>, "exp", "nbf"}`.
//!
//! [`Verify::authenticate_device`] finds the push factor of `identity` whose
//! credential sid is the `kid` (a deleted factor is gone from the store, another
//! identity's or service's factor is never looked at), verifies the JWT with that
//! factor's key and the time rules of [`RequestPolicy`], and returns the factor. The
//! host then lets the caller act only on that identity (and, for factor endpoints,
//! only on that factor).

use verify_model::factor::FactorKind;
use verify_model::{Factor, FactorSid, Identity, ServiceSid, UnixTime};
use verify_push::{DeviceKey, RequestAuthError, RequestJwt, RequestPolicy};
use verify_store::{Resource, Store};

use crate::engine::Verify;
use crate::error::VerifyError;

/// A device request authenticated by a push factor's key.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeviceAuth {
    /// The push factor whose key signed the request JWT (verified or not yet
    /// verified: the SDK verifies its factor with a device-authenticated call).
    pub factor: Factor,
    /// The factor's key, parsed from its binding to check the JWT; the answer of a
    /// push challenge by this device reuses it.
    pub key: DeviceKey,
    /// The JWT's `exp`.
    pub expires_at: UnixTime,
    /// The time the JWT was checked at.
    pub checked_at: UnixTime,
}

impl DeviceAuth {
    /// The sid of the authenticated factor.
    #[must_use]
    pub const fn factor_sid(&self) -> FactorSid {
        self.factor.sid()
    }

    /// The identity the authenticated factor belongs to.
    #[must_use]
    pub const fn identity(&self) -> &Identity {
        self.factor.identity()
    }
}

impl VerifyError {
    /// Whether this error refuses a device's credential in
    /// [`Verify::authenticate_device`] (malformed header or JWT, unknown `kid`,
    /// wrong signature, wrong `sub`, outside `nbf..exp`): answer it with `401` and a
    /// `Date` header ([`verify_push::http_date`]) so the SDK can correct its clock
    /// and retry once. Other errors (store, clock) are the server's own failures.
    #[must_use]
    pub const fn is_device_auth_refusal(&self) -> bool {
        matches!(self, Self::Push(_))
    }
}

impl<S: Store> Verify<S> {
    /// Authenticates a device request from its `Authorization` header value
    /// (`Basic base64("token:" + JWT)`): see [`Verify::authenticate_device_jwt`].
    ///
    /// # Errors
    /// As [`Verify::authenticate_device_jwt`]; a header that is not Basic `token:`
    /// credentials is [`VerifyError::Push`] with [`RequestAuthError::NotBasic`] or
    /// [`RequestAuthError::NotTokenUser`].
    pub async fn authenticate_device(
        &self,
        service: ServiceSid,
        identity: &Identity,
        authorization: &str,
    ) -> Result<DeviceAuth, VerifyError> {
        let jwt = RequestJwt::from_authorization(authorization)?;
        self.authenticate_device_jwt(service, identity, &jwt).await
    }

    /// Authenticates a device request JWT for `identity` in `service`: the push
    /// factor of that identity whose `config.credential_sid` is the JWT's `kid`
    /// must verify its ES256 signature, `sub` must be the engine's account sid, and
    /// now must be within `nbf..exp` (with [`RequestPolicy::default`]'s leeway and
    /// lifetime cap).
    ///
    /// Every refusal is a [`VerifyError::Push`] (see
    /// [`VerifyError::is_device_auth_refusal`]): a `kid` that names no push factor of
    /// this identity is [`RequestAuthError::KidMismatch`], exactly as a `kid` that
    /// does not match the verifying key, so the answer does not tell which factors
    /// exist; a bad signature is the opaque
    /// [`PushError::SignatureInvalid`](verify_push::PushError::SignatureInvalid).
    ///
    /// # Errors
    /// [`VerifyError::Push`] for a refused credential; [`VerifyError::Store`],
    /// [`VerifyError::Clock`] for the server's own failures.
    pub async fn authenticate_device_jwt(
        &self,
        service: ServiceSid,
        identity: &Identity,
        jwt: &RequestJwt,
    ) -> Result<DeviceAuth, VerifyError> {
        let now = self.now()?;
        let kid = jwt.kid()?;
        let refused = || VerifyError::Push(RequestAuthError::KidMismatch.into());
        let Some(entity) = self.store.get_entity_by_identity(service, identity).await? else {
            return Err(refused());
        };
        let factors = self.store.entity_factors(service, entity.sid()).await?;
        let found = factors.into_iter().find_map(|factor| {
            let FactorKind::Push(push) = factor.kind() else {
                return None;
            };
            let credential = push.config().credential_sid().to_string();
            (credential == kid && factor.identity() == identity).then_some((factor, credential))
        });
        let Some((factor, credential_sid)) = found else {
            return Err(refused());
        };
        let FactorKind::Push(push) = factor.kind() else {
            return Err(refused());
        };
        let key = DeviceKey::from_spki_der(push.binding().spki_der()).map_err(|_| {
            VerifyError::Inconsistent {
                resource: Resource::Factor,
                rule: "a push factor's binding is a P-256 public key",
            }
        })?;
        let account = self.config.account_sid.to_string();
        let verified = jwt.verify(
            &key,
            &credential_sid,
            &account,
            &RequestPolicy::default(),
            now,
        )?;
        Ok(DeviceAuth {
            factor,
            key,
            expires_at: verified.expires_at,
            checked_at: now,
        })
    }
}
