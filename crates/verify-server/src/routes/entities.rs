//! `/v2/Services/{sid}/Entities` and `/v2/Services/{sid}/Entities/{identity}`.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use verify_engine::VerifyError;
use verify_engine::model::api::EntityJson;
use verify_engine::store::{Resource, Store, StoreError, UniqueKey};

use crate::auth::{Caller, require_api_key};
use crate::error::ApiError;
use crate::form::Form;
use crate::paging::Paging;

use super::{ApiResult, Shared, identity, json, no_content, query, service_sid, value};

/// The documents' "Entity already exists" (409): an identity is unique per service.
const CODE_ENTITY_EXISTS: u32 = 60301;

pub(super) async fn create_entity<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path(sid): Path<String>,
    body: Bytes,
) -> ApiResult {
    require_api_key(&caller)?;
    let form = Form::parse(&body)?;
    let service = service_sid(&sid)?;
    let identity = identity(form.required("Identity")?)?;
    let entity = match app.engine.create_entity(service, &identity).await {
        Ok(entity) => entity,
        Err(VerifyError::Store(StoreError::Duplicate {
            resource: Resource::Entity,
            key: UniqueKey::Identity,
        })) => {
            return Err(ApiError {
                status: 409,
                retry_after: None,
                code: CODE_ENTITY_EXISTS,
                message: "an entity with this Identity already exists in the service".to_owned(),
            });
        }
        Err(other) => return Err(other.into()),
    };
    json(
        StatusCode::CREATED,
        &EntityJson::new(&entity, &app.engine.api_context()),
    )
}

pub(super) async fn list_entities<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path(sid): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult {
    require_api_key(&caller)?;
    let paging = Paging::from_form(&query(raw)?)?;
    let service = service_sid(&sid)?;
    let listing = app.engine.list_entities(service, &paging.query).await?;
    let ctx = app.engine.api_context();
    let url = format!("{}/v2/Services/{service}/Entities", app.base_url);
    json(
        StatusCode::OK,
        &paging.respond(&url, "entities", &[], &listing, |e| {
            value(&EntityJson::new(e, &ctx))
        }),
    )
}

pub(super) async fn fetch_entity<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path((sid, id)): Path<(String, String)>,
) -> ApiResult {
    require_api_key(&caller)?;
    let entity = app
        .engine
        .fetch_entity(service_sid(&sid)?, &identity(&id)?)
        .await?;
    json(
        StatusCode::OK,
        &EntityJson::new(&entity, &app.engine.api_context()),
    )
}

pub(super) async fn delete_entity<S: Store + 'static>(
    State(app): Shared<S>,
    caller: Caller,
    Path((sid, id)): Path<(String, String)>,
) -> ApiResult {
    require_api_key(&caller)?;
    app.engine
        .delete_entity(service_sid(&sid)?, &identity(&id)?)
        .await?;
    no_content()
}
