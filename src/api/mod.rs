//! HTTP handlers, grouped by resource; routes and the OpenAPI document come from [`routes`].

pub mod calendar;
pub mod extract;
pub mod health;
pub mod reference;

use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every route; the same registration yields the OpenAPI paths.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(
        scope("/api/v1")
            .service(reference::list_units)
            .service(reference::get_unit)
            .service(reference::list_categories)
            .service(calendar::list_holidays)
            .service(calendar::deadline),
    )
    .service(health::live)
    .service(health::ready)
    .service(health::metrics);
}

/// One page of a list; `next_cursor` is null on the last page.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null when there is none.
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> Page<T> {
    /// A whole, bounded list answered as a single page.
    pub fn complete(items: Vec<T>) -> Self {
        Self {
            items,
            next_cursor: None,
        }
    }
}
