//! The OpenAPI document, generated from the same registration as the routes.

use actix_web::App;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{InfoBuilder, OpenApi, Ref, RefOr};
use utoipa_actix_web::AppExt;

use crate::api;
use crate::error::PROBLEM_JSON;

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
            .name("auth")
            .description(Some("Access tokens for people and agency portals"))
            .build(),
        TagBuilder::new()
            .name("accounts")
            .description(Some("User accounts and API clients (admin)"))
            .build(),
        TagBuilder::new()
            .name("submissions")
            .description(Some("Content sent by units and the editorial workflow"))
            .build(),
        TagBuilder::new()
            .name("questions")
            .description(Some("Citizen questions, tracking and official replies"))
            .build(),
        TagBuilder::new()
            .name("obligations")
            .description(Some(
                "Recurring duties of units and the status of their periods",
            ))
            .build(),
        TagBuilder::new()
            .name("statistics")
            .description(Some(
                "The quarterly compliance report and dashboard counters",
            ))
            .build(),
        TagBuilder::new()
            .name("public")
            .description(Some("Published content for everyone"))
            .build(),
        TagBuilder::new()
            .name("reference")
            .description(Some("Units and content categories"))
            .build(),
        TagBuilder::new()
            .name("calendar")
            .description(Some("Working days, holidays and deadlines"))
            .build(),
        TagBuilder::new()
            .name("events")
            .description(Some(
                "Every change of state, in commit order, and the webhooks that push them",
            ))
            .build(),
        TagBuilder::new()
            .name("operations")
            .description(Some("Health probes and metrics"))
            .build(),
    ]);
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "An access token from POST /api/v1/auth/token, as `Authorization: Bearer <token>`",
                ))
                .build(),
        ),
    );
    add_common_responses(&mut doc);
    doc
}

fn problem_response(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build(),
    )
}

/// Adds the answers every operation of a kind can give, so handlers list only their own:
/// 400 where there are parameters or a body that may not be readable, 413 and 415 where there
/// is a body, 401, 403 and 404 on protected operations (a resource the caller may not see
/// answers 404), 404 where a path names a resource, 500 everywhere.
fn add_common_responses(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let names_resource = path.contains('{');
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            let protected = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let has_body = op.request_body.is_some();
            let has_parameters = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let responses = &mut op.responses.responses;
            let mut add = |status: &str, description: &str| {
                responses
                    .entry(status.to_string())
                    .or_insert_with(|| problem_response(description));
            };
            if has_parameters || has_body {
                add("400", "A parameter cannot be read, or the body is not JSON");
            }
            if has_body {
                add("413", "The body is larger than the limit");
                add("415", "The body is not sent with a supported Content-Type");
            }
            if protected {
                add("401", "No token, or an invalid, expired or revoked one");
                add("403", "The caller's role does not allow this");
            }
            if protected || names_resource {
                add("404", "No such resource, or none the caller may see");
            }
            add(
                "500",
                "The service failed; the cause is logged with the request id",
            );
        }
    }
}

/// The document as pretty JSON with a final newline, as committed in `openapi/openapi.json`.
pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    json.push('\n');
    json
}
