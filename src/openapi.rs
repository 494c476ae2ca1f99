//! The OpenAPI document, generated from the same registration as the routes.

use actix_web::App;
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{InfoBuilder, OpenApi};
use utoipa_actix_web::AppExt;

use crate::api;

/// Builds the OpenAPI document of every registered route.
pub fn document() -> OpenApi {
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .configure(api::routes)
        .split_for_parts();
    doc.info = InfoBuilder::new()
        .title("portal-api")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "The service behind a provincial e-portal: government units send the information \
             they must publish, the editorial board reviews and publishes it, citizens ask \
             questions and get official answers within deadlines counted in working days, and \
             each quarter the province sees which units complied.\n\n\
             Errors are RFC 9457 problem details (`application/problem+json`) with a stable \
             `code`. Lists answer `{\"items\": [...], \"next_cursor\": ...}`.",
        ))
        .build();
    doc.tags = Some(vec![
        TagBuilder::new()
            .name("reference")
            .description(Some("Units and content categories"))
            .build(),
        TagBuilder::new()
            .name("calendar")
            .description(Some("Working days, holidays and deadlines"))
            .build(),
        TagBuilder::new()
            .name("operations")
            .description(Some("Health probes and metrics"))
            .build(),
    ]);
    doc
}

/// The document as pretty JSON with a final newline, as committed in `openapi/openapi.json`.
pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    json.push('\n');
    json
}
