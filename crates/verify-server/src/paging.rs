//! List query parameters (`PageSize`, `Page`, `PageToken`, `Order`) and the `meta`
//! block of list responses.

use serde_json::{Value, json};
use verify_engine::model::{ListOrder, PageSize, PageToken};
use verify_engine::store::{ListQuery, Listing};

use crate::error::ApiError;
use crate::form::Form;

/// A parsed list request.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Paging {
    /// The store query.
    pub query: ListQuery,
    /// `Page`: the client's page index, echoed in `meta`.
    pub page: u32,
}

impl Paging {
    /// Reads `PageSize` (1..=1000, default 50), `Page`, `PageToken` and `Order`
    /// (`asc` | `desc`).
    ///
    /// # Errors
    /// [`ApiError::invalid`] naming the parameter.
    pub fn from_form(form: &Form) -> Result<Self, ApiError> {
        let page_size = match form.parsed::<u64>("PageSize")? {
            Some(size) => PageSize::new(size)?,
            None => PageSize::default(),
        };
        let order = form.parsed::<ListOrder>("Order")?.unwrap_or_default();
        let mut query = ListQuery::new(order, page_size);
        if let Some(token) = form.get("PageToken") {
            query = query.with_page_token(PageToken::parse(token)?);
        }
        let page = form.parsed::<u32>("Page")?.unwrap_or(0);
        Ok(Self { query, page })
    }

    /// The list response: `{ key: [items], meta: {...} }`.
    pub fn respond<T>(
        &self,
        list_url: &str,
        key: &str,
        filters: &[(&str, String)],
        listing: &Listing<T>,
        view: impl Fn(&T) -> Value,
    ) -> Value {
        let mut extra = String::new();
        for (name, value) in filters {
            extra.push_str(&format!("&{name}={value}"));
        }
        if self.query.order == ListOrder::Desc {
            extra.push_str("&Order=desc");
        }
        let size = self.query.page_size.get();
        let url_for = |index: u32, token: Option<&PageToken>| {
            let token = token.map(|t| format!("&PageToken={t}")).unwrap_or_default();
            format!("{list_url}?PageSize={size}&Page={index}{extra}{token}")
        };
        let items: Vec<Value> = listing.items.iter().map(view).collect();
        json!({
            key: items,
            "meta": {
                "page": self.page,
                "page_size": size,
                "first_page_url": url_for(0, None),
                "previous_page_url": listing.previous_page_token.as_ref()
                    .map(|t| url_for(self.page.saturating_sub(1), Some(t))),
                "next_page_url": listing.next_page_token.as_ref()
                    .map(|t| url_for(self.page.saturating_add(1), Some(t))),
                "url": url_for(self.page, self.query.page_token.as_ref()),
                "key": key,
            }
        })
    }
}
