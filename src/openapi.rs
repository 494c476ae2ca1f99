//! The OpenAPI document, generated from the same registration as the routes.

use actix_web::App;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    InfoBuilder, ObjectBuilder, OpenApi, PathsBuilder, Ref, RefOr, Required, Type,
};
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
                "Every change of state, in order, and the webhooks that push them",
            ))
            .build(),
        TagBuilder::new()
            .name("webhooks")
            .description(Some(
                "URLs that receive every event as it happens, signed with their secret \
                 (the `event` webhook of this document describes the request they receive)",
            ))
            .build(),
        TagBuilder::new()
            .name("mail")
            .description(Some(
                "Messages the service sends to askers and staff, and where each stands (admin)",
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
    doc.webhooks = Some(
        PathsBuilder::new()
            .path("event", PathItem::new(HttpMethod::Post, event_delivery()))
            .build(),
    );
    doc
}

fn header(name: &str, description: &str, example: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .example(Some(example.into()))
        .build()
}

/// The request a webhook receives for each event (Standard Webhooks).
fn event_delivery() -> OperationBuilder {
    OperationBuilder::new()
        .tag("webhooks")
        .operation_id(Some("event"))
        .summary(Some("An event, sent to every webhook subscribed to it"))
        .description(Some(
            "Each event a webhook subscribes to (of its unit, or of every unit) is sent as a \
             `POST` of the event's JSON, as the events feed lists it, to the webhook's URL, \
             following the Standard Webhooks specification. Redirects are not followed.\n\n\
             **Verifying it.** Take the bytes after `whsec_` in the webhook's secret, base64 \
             decoded, as the key; compute the HMAC-SHA256 of \
             `{webhook-id}.{webhook-timestamp}.{body}` (the body exactly as received); encode it \
             in base64 and compare it, in constant time, with each space-separated signature \
             of `webhook-signature` after its `v1,` prefix. Refuse a timestamp more than 5 \
             minutes from your clock.\n\n\
             **Retries.** A 2xx answer within 10 seconds is a delivery; anything else (another \
             status, no answer in time, no connection) is retried after 5 s, 5 min, 30 min, \
             2 h, 5 h, 10 h and 10 h (`PORTAL_WEBHOOK_RETRY_SECONDS`), then the delivery is \
             marked failed. A webhook whose deliveries have all failed for 5 days is disabled, \
             with a `webhook.disabled` event. Delivery is at least once: de-duplicate by \
             `webhook-id`, and catch up after downtime with `GET /api/v1/events?after_seq=`.",
        ))
        .parameter(header(
            "webhook-id",
            "The event's id; the same in every retry of its delivery: de-duplicate by it",
            "evt_5f0c6a3e9d2b4f7a8c1e2d3b4a5f6e7d",
        ))
        .parameter(header(
            "webhook-timestamp",
            "When this attempt was sent, in Unix seconds",
            "1767225600",
        ))
        .parameter(header(
            "webhook-signature",
            "`v1,` and the base64 HMAC-SHA256, keyed with the secret's decoded bytes, of \
             `{webhook-id}.{webhook-timestamp}.{body}`",
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ))
        .request_body(Some(
            RequestBodyBuilder::new()
                .description(Some("The event"))
                .required(Some(Required::True))
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Event")))
                        .build(),
                )
                .build(),
        ))
        .response(
            "2XX",
            Response::new("Delivered: a 2xx answer within 10 seconds"),
        )
        .response(
            "default",
            Response::new("Not delivered: any other answer, or none within 10 seconds, is retried"),
        )
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
