//! Webhooks (create, fetch, list, update, delete) and the event outbox (drain,
//! peek/ack, delivery requests).

use verify_model::{ServiceSid, Webhook, WebhookEventType, WebhookSid, WebhookStatus};
use verify_store::{ListQuery, Listing, OutboxEvent, Resource, Store};

use crate::delivery::{WebhookRequest, WebhookSecret};
use crate::engine::{Round, Verify};
use crate::error::VerifyError;

/// A created webhook and its signing secret (`whsec_…`): give the secret to the
/// receiver once; the resource JSON never shows it.
#[derive(Debug)]
#[non_exhaustive]
pub struct CreatedWebhook {
    /// The webhook.
    pub webhook: Webhook,
    /// Its Standard Webhooks signing secret.
    pub secret: WebhookSecret,
}

/// Most webhooks fetched per page when building deliveries.
const WEBHOOK_PAGE: u64 = 1000;

impl<S: Store> Verify<S> {
    /// Creates an enabled webhook of `service` for `event_types` (`*` or event
    /// names) at `webhook_url`.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`] (service); [`VerifyError::Model`] for the name,
    /// event types or URL.
    pub async fn create_webhook(
        &self,
        service: ServiceSid,
        friendly_name: &str,
        event_types: Vec<WebhookEventType>,
        webhook_url: &str,
    ) -> Result<CreatedWebhook, VerifyError> {
        let now = self.now()?;
        let service = self.load_service(service).await?;
        let webhook = self.with_rng(|rng| {
            Webhook::create(
                service.sid(),
                friendly_name,
                event_types,
                webhook_url,
                now,
                rng,
            )
        })??;
        self.store.insert_webhook(&webhook).await?;
        let secret = WebhookSecret::from_bytes(webhook.secret().expose_secret());
        Ok(CreatedWebhook { webhook, secret })
    }

    /// The webhook `sid` of `service`.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`]; [`VerifyError::Store`].
    pub async fn fetch_webhook(
        &self,
        service: ServiceSid,
        sid: WebhookSid,
    ) -> Result<Webhook, VerifyError> {
        self.store
            .get_webhook(service, sid)
            .await?
            .ok_or(VerifyError::NotFound {
                resource: Resource::Webhook,
            })
    }

    /// A page of the webhooks of `service`.
    ///
    /// # Errors
    /// [`VerifyError::Store`].
    pub async fn list_webhooks(
        &self,
        service: ServiceSid,
        query: &ListQuery,
    ) -> Result<Listing<Webhook>, VerifyError> {
        Ok(self.store.list_webhooks(service, query).await?)
    }

    /// Enables or disables the webhook `sid` (retried on a concurrent update).
    ///
    /// Only `status` can change: the model offers no other webhook update yet;
    /// to change the URL or event types, create a new webhook and delete the old.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`]; [`VerifyError::Conflict`] when the retries run out.
    pub async fn update_webhook_status(
        &self,
        service: ServiceSid,
        sid: WebhookSid,
        status: WebhookStatus,
    ) -> Result<Webhook, VerifyError> {
        let now = self.now()?;
        self.cas_retry(Resource::Webhook, move || async move {
            let webhook = self.fetch_webhook(service, sid).await?;
            let next = webhook.with_status(status, now)?;
            let written = self.store.update_webhook(&next).await;
            Round::written(written, next)
        })
        .await
    }

    /// Updates the webhook `sid`: friendly name, event types, URL (each `None`
    /// keeps the current value) and status. Retried on a concurrent update.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`]; [`VerifyError::Model`] for the limits of the new
    /// values; [`VerifyError::Conflict`] when the retries run out.
    pub async fn update_webhook(
        &self,
        service: ServiceSid,
        sid: WebhookSid,
        friendly_name: Option<&str>,
        event_types: Option<Vec<WebhookEventType>>,
        webhook_url: Option<&str>,
        status: Option<WebhookStatus>,
    ) -> Result<Webhook, VerifyError> {
        let now = self.now()?;
        let event_types = &event_types;
        self.cas_retry(Resource::Webhook, move || async move {
            let webhook = self.fetch_webhook(service, sid).await?;
            let next = webhook.with_changes(
                friendly_name,
                event_types.clone(),
                webhook_url,
                status,
                now,
            )?;
            let written = self.store.update_webhook(&next).await;
            Round::written(written, next)
        })
        .await
    }

    /// Gives the webhook `sid` a fresh signing secret, returned once like at
    /// creation. Deliveries are signed with the new secret and, for `overlap`
    /// (at most [`verify_model::limits::MAX_WEBHOOK_SECRET_OVERLAP`]), also with
    /// the old one, so receivers can switch without refusing a delivery.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`]; [`VerifyError::Model`] for an overlap out of
    /// range; [`VerifyError::Conflict`] when the retries run out.
    pub async fn rotate_webhook_secret(
        &self,
        service: ServiceSid,
        sid: WebhookSid,
        overlap: std::time::Duration,
    ) -> Result<CreatedWebhook, VerifyError> {
        let now = self.now()?;
        self.cas_retry(Resource::Webhook, move || async move {
            let webhook = self.fetch_webhook(service, sid).await?;
            let rotated = self.with_rng(|rng| webhook.rotate_secret(overlap, now, rng))??;
            let written = self.store.update_webhook(&rotated).await;
            let secret = WebhookSecret::from_bytes(rotated.secret().expose_secret());
            Round::written(
                written,
                CreatedWebhook {
                    webhook: rotated,
                    secret,
                },
            )
        })
        .await
    }

    /// Deletes the webhook `sid`.
    ///
    /// # Errors
    /// [`VerifyError::NotFound`]; [`VerifyError::Conflict`] when the retries run out.
    pub async fn delete_webhook(
        &self,
        service: ServiceSid,
        sid: WebhookSid,
    ) -> Result<(), VerifyError> {
        self.cas_retry(Resource::Webhook, move || async move {
            let webhook = self.fetch_webhook(service, sid).await?;
            let deleted = self
                .store
                .delete_webhook(service, sid, webhook.version())
                .await;
            Round::written(deleted, ())
        })
        .await
    }

    /// Removes and returns up to `limit` of the oldest outbox events, in order
    /// (at-most-once: concurrent drains never return one event twice). For
    /// at-least-once delivery use [`Verify::peek_events`] and
    /// [`Verify::ack_events`].
    ///
    /// # Errors
    /// [`VerifyError::Store`].
    pub async fn drain_events(&self, limit: usize) -> Result<Vec<OutboxEvent>, VerifyError> {
        Ok(self.store.drain_events(limit).await?)
    }

    /// Up to `limit` outbox events after sequence `after`, without removing them.
    ///
    /// # Errors
    /// [`VerifyError::Store`].
    pub async fn peek_events(
        &self,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<OutboxEvent>, VerifyError> {
        Ok(self.store.peek_events(after, limit).await?)
    }

    /// Removes the outbox events up to and including sequence `through`.
    ///
    /// # Errors
    /// [`VerifyError::Store`].
    pub async fn ack_events(&self, through: u64) -> Result<usize, VerifyError> {
        Ok(self.store.ack_events(through).await?)
    }

    /// The signed delivery requests of one outbox event: one per enabled webhook of
    /// the event's service that subscribed to its type, signed now (Standard
    /// Webhooks). The host sends them (and retries with the same `webhook-id`).
    ///
    /// # Errors
    /// [`VerifyError::Store`]; [`VerifyError::Webhook`].
    pub async fn webhook_requests(
        &self,
        event: &OutboxEvent,
    ) -> Result<Vec<WebhookRequest>, VerifyError> {
        let now = self.now()?;
        let page_size = verify_model::list::PageSize::new(WEBHOOK_PAGE)?;
        let mut query = ListQuery::new(verify_model::list::ListOrder::Asc, page_size);
        let mut requests = Vec::new();
        loop {
            let page = self
                .store
                .list_webhooks(event.event.service_sid, &query)
                .await?;
            for webhook in &page.items {
                if let Some(request) = WebhookRequest::build(
                    webhook,
                    &event.event,
                    event.sequence,
                    self.config.account_sid,
                    now,
                )? {
                    requests.push(request);
                }
            }
            match page.next_page_token {
                Some(token) => query = query.with_page_token(token),
                None => return Ok(requests),
            }
        }
    }
}
