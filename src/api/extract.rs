//! Request extractors whose failures are problems naming the offending field.

use std::future::{ready, Future, Ready};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

use crate::error::{ApiError, FieldError};
use crate::state::BODY_LIMIT;

/// Query parameters; a parameter that cannot be read answers 400 naming it.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    /// The parsed parameters.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

fn field_of<E>(err: &serde_path_to_error::Error<E>, fallback: &str) -> String {
    let path = err.path().to_string();
    if path == "." || path.is_empty() {
        fallback.to_string()
    } else {
        path
    }
}

/// Whether a percent-encoded string decodes to UTF-8 without NUL characters
/// (`form_urlencoded` would silently put replacement characters in place of bad bytes).
pub(crate) fn decodes_to_utf8(encoded: &str) -> bool {
    // Text without an escape is what it says: UTF-8 already.
    if !encoded.contains('%') {
        return !encoded.contains('\0');
    }
    let bytes = encoded.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).and_then(|b| hex(*b)),
            bytes.get(i + 2).and_then(|b| hex(*b)),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                decoded.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    std::str::from_utf8(&decoded).is_ok() && !decoded.contains(&0)
}

/// Whether a JSON text holds a `\u0000` escape: NUL cannot be stored as text (PostgreSQL
/// refuses it), so it is refused at the door rather than failing deep inside.
fn has_nul_escape(json: &[u8]) -> bool {
    json.windows(6).enumerate().any(|(i, w)| {
        w.eq_ignore_ascii_case(b"\\u0000")
            && json[..i].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 0
    })
}

/// Parses a query string into `T`.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    if let Some(bad) = query.split('&').find(|pair| !decodes_to_utf8(pair)) {
        let name = bad.split('=').next().unwrap_or("query");
        return Err(ApiError::InvalidParameter(FieldError::new(
            if decodes_to_utf8(name) { name } else { "query" },
            "is not valid UTF-8 text (or holds a NUL character) once percent-decoded",
        )));
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        ApiError::InvalidParameter(FieldError::new(
            field_of(&e, "query"),
            e.inner().to_string(),
        ))
    })
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(req.query_string()).map(Query))
    }
}

/// A JSON body; the error says which field is wrong, and why.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The parsed body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// The media type of the body, lower case, without parameters.
fn media_type(req: &HttpRequest) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn is_json(req: &HttpRequest) -> bool {
    let essence = media_type(req);
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn is_form(req: &HttpRequest) -> bool {
    media_type(req) == "application/x-www-form-urlencoded"
}

/// Reads the whole body within the size limit.
async fn read_body(body: <web::Bytes as FromRequest>::Future) -> Result<web::Bytes, ApiError> {
    body.await.map_err(|e| {
        if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge { limit: BODY_LIMIT }
        } else {
            ApiError::BadRequest(format!("The body could not be read: {e}"))
        }
    })
}

/// Parses a JSON body into `T`: syntax errors are 400, wrong content 422 naming every missing
/// required field (from `T`'s schema) besides the first error serde met, each with its code.
pub fn parse_json<T: DeserializeOwned + ToSchema>(body: &[u8]) -> Result<T, ApiError> {
    if has_nul_escape(body) {
        return Err(ApiError::invalid_field(
            "body",
            "text must not contain the NUL character (\\u0000)",
        ));
    }
    if std::str::from_utf8(body).is_err() {
        return Err(ApiError::MalformedJson("the body is not UTF-8 text".into()));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        // Well-formed JSON of the wrong shape is a validation error, even where serde reports it
        // as a syntax error (an enum given as `{}`): only text that is not JSON at all is malformed.
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(sent) => {
                let mut errors = Vec::new();
                let mut named = Vec::new();
                T::schemas(&mut named);
                missing_required(&sent, &T::schema(), &named, "", &mut errors);
                let first = serde_field_error(&e);
                if first.code != "required" || !errors.iter().any(|f| f.field == first.field) {
                    errors.push(first);
                }
                errors.sort_by(|a, b| a.field.cmp(&b.field));
                ApiError::Validation(errors)
            }
            Err(_) => ApiError::MalformedJson(without_position(&e.inner().to_string())),
        }
    })?;
    de.end()
        .map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    Ok(value)
}

/// serde's message without "at line 1 column 44", which says nothing about a field.
fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// serde's first complaint as a field error with a stable code. serde quotes the value it
/// refused ("invalid type: string \"…\", expected a boolean"): only what was expected is kept.
fn serde_field_error(e: &serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let message = without_position(&e.inner().to_string());
    let field = field_of(e, "body");
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.trim_end_matches('`');
        let field = if field == "body" {
            name.to_string()
        } else {
            format!("{field}.{name}")
        };
        return FieldError::coded(field, "required", "is required");
    }
    if message.starts_with("unknown field `") {
        let expected = message.split_once(", expected ").map(|(_, e)| e);
        let why = match expected {
            Some(e) => format!("is not a known field (expected {e})"),
            None => "is not a known field".to_string(),
        };
        return FieldError::coded(field, "unknown_field", why);
    }
    let expected = message
        .rsplit_once(", expected ")
        .map(|(_, e)| e.to_string());
    let (code, why) = if let Some(rest) = message.strip_prefix("unknown variant `") {
        // A short word is named back, as integrators mistype enum values; anything longer or
        // stranger is not repeated.
        let sent = rest.split('`').next().unwrap_or_default();
        let word = sent.len() <= 32
            && sent
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        let why = match (word, expected) {
            (true, Some(e)) => Some(format!("`{sent}` is not known: must be {e}")),
            (_, e) => e.map(|e| format!("must be {e}")),
        };
        ("unknown_value", why)
    } else if message.starts_with("invalid type") {
        ("invalid_type", expected.map(|e| format!("must be {e}")))
    } else if message.starts_with("invalid value") || message.starts_with("invalid length") {
        ("invalid", expected.map(|e| format!("must be {e}")))
    } else {
        ("invalid", None)
    };
    FieldError::coded(
        field,
        code,
        why.unwrap_or_else(|| "is not valid".to_string()),
    )
}

/// Adds a `required` error for each required property of `schema` absent from `sent`, down
/// through nested objects.
fn missing_required(
    sent: &serde_json::Value,
    schema: &RefOr<Schema>,
    named: &[(String, RefOr<Schema>)],
    prefix: &str,
    out: &mut Vec<FieldError>,
) {
    let schema = match schema {
        RefOr::T(schema) => schema,
        RefOr::Ref(r) => {
            let name = r.ref_location.rsplit('/').next().unwrap_or_default();
            match named.iter().find(|(n, _)| n == name) {
                Some((_, RefOr::T(schema))) => schema,
                _ => return,
            }
        }
    };
    let (Schema::Object(object), serde_json::Value::Object(fields)) = (schema, sent) else {
        return;
    };
    let path = |name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        }
    };
    for name in &object.required {
        if !fields.contains_key(name) {
            out.push(FieldError::coded(path(name), "required", "is required"));
        }
    }
    for (name, property) in &object.properties {
        if let Some(value) = fields.get(name) {
            missing_required(value, property, named, &path(name), out);
        }
    }
}

impl<T: DeserializeOwned + ToSchema + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if !is_json(req) {
            return Box::pin(ready(Err(ApiError::UnsupportedMediaType)));
        }
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move { parse_json(&read_body(body).await?).map(Json) })
    }
}

/// A JSON body whose type declares its field rules with `validator`: every broken rule is
/// answered at once, each with its code, never with the value sent.
#[derive(Debug)]
pub struct ValidJson<T>(pub T);

impl<T> ValidJson<T> {
    /// The parsed and checked body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// Checks a parsed request against its declared rules.
pub fn validated<T: validator::Validate>(value: T) -> Result<T, ApiError> {
    value
        .validate()
        .map_err(|e| ApiError::Validation(crate::error::validation_errors(e)))?;
    Ok(value)
}

impl<T: DeserializeOwned + ToSchema + validator::Validate + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = Json::<T>::from_request(req, payload);
        Box::pin(async move { validated(body.await?.into_inner()).map(ValidJson) })
    }
}

/// A body sent as JSON or as an HTML form (`application/x-www-form-urlencoded`), as OAuth 2
/// clients send token requests.
#[derive(Debug)]
pub struct JsonOrForm<T>(pub T);

impl<T> JsonOrForm<T> {
    /// The parsed body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + ToSchema + 'static> FromRequest for JsonOrForm<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = is_form(req);
        if !form && !is_json(req) {
            return Box::pin(ready(Err(ApiError::UnsupportedMediaType)));
        }
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = read_body(body).await?;
            if form {
                let text = std::str::from_utf8(&bytes)
                    .ok()
                    .filter(|t| t.split('&').all(decodes_to_utf8))
                    .ok_or_else(|| {
                        ApiError::BadRequest("The form is not UTF-8 text without NUL".into())
                    })?;
                let de =
                    serde_urlencoded::Deserializer::new(form_urlencoded::parse(text.as_bytes()));
                serde_path_to_error::deserialize(de)
                    .map(JsonOrForm)
                    .map_err(|e| {
                        ApiError::Validation(vec![FieldError::new(
                            field_of(&e, "body"),
                            e.inner().to_string(),
                        )])
                    })
            } else {
                parse_json(&bytes).map(JsonOrForm)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_escapes_are_found_and_escaped_backslashes_are_not() {
        assert!(has_nul_escape(br#"{"a":"x\u0000"}"#));
        assert!(has_nul_escape(br#"{"a":"\\\u0000"}"#));
        assert!(!has_nul_escape(br#"{"a":"\\u0000"}"#));
        assert!(!has_nul_escape(br#"{"a":"u0000"}"#));
    }

    #[test]
    fn percent_decoding_checks_utf8_and_nul() {
        assert!(decodes_to_utf8("q=%C4%91%C6%B0%E1%BB%9Dng+ph%E1%BB%91"));
        assert!(!decodes_to_utf8("q=%FF%FE"));
        assert!(!decodes_to_utf8("q=a%00b"));
        assert!(decodes_to_utf8("q=100%"));
    }
    use serde::Deserialize;

    #[derive(Debug, Deserialize, utoipa::ToSchema)]
    #[allow(dead_code)]
    struct Sample {
        count: u32,
        nested: Option<Nested>,
    }

    #[derive(Debug, Deserialize, utoipa::ToSchema)]
    #[allow(dead_code)]
    struct Nested {
        flag: bool,
    }

    fn field(err: ApiError) -> String {
        err.problem().errors[0].field.clone()
    }

    #[test]
    fn a_bad_query_parameter_is_named() {
        let err = parse_query::<Sample>("count=abc").unwrap_err();
        assert_eq!(err.code(), "invalid_parameter");
        assert_eq!(field(err), "count");
    }

    #[test]
    fn a_json_field_of_the_wrong_type_is_named_with_its_path() {
        let err = parse_json::<Sample>(br#"{"count": 1, "nested": {"flag": "yes"}}"#).unwrap_err();
        assert_eq!(err.code(), "validation_failed");
        assert_eq!(field(err), "nested.flag");
    }

    #[test]
    fn every_missing_field_is_named_at_once_and_no_value_is_echoed() {
        #[derive(Debug, Deserialize, utoipa::ToSchema)]
        #[allow(dead_code)]
        struct Two {
            title: String,
            consent: bool,
            nested: Nested,
        }
        let err = parse_json::<Two>(br#"{"nested": {}}"#).unwrap_err();
        let problem = err.problem();
        let got: Vec<(&str, &str)> = problem
            .errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("consent", "required"),
                ("nested.flag", "required"),
                ("title", "required")
            ]
        );
        let err = parse_json::<Two>(
            br#"{"title": "t", "consent": "secret-value", "nested": {"flag": true}}"#,
        )
        .unwrap_err();
        let problem = err.problem();
        assert_eq!(problem.errors.len(), 1);
        assert_eq!(problem.errors[0].field, "consent");
        assert_eq!(problem.errors[0].code, "invalid_type");
        assert!(
            !problem.errors[0].message.contains("secret-value"),
            "{:?}",
            problem.errors
        );
        assert!(!problem.detail.contains("secret-value"));
    }

    #[test]
    fn text_that_is_not_json_is_a_malformed_body() {
        let err = parse_json::<Sample>(b"{count: ").unwrap_err();
        assert_eq!(err.code(), "malformed_json");
        let err = parse_json::<Sample>(br#"{"count": 1} trailing"#).unwrap_err();
        assert_eq!(err.code(), "malformed_json");
    }

    #[test]
    fn well_formed_json_of_the_wrong_shape_is_a_validation_error() {
        #[derive(Debug, Deserialize, utoipa::ToSchema)]
        #[allow(dead_code)]
        enum Kind {
            One,
        }
        #[derive(Debug, Deserialize, utoipa::ToSchema)]
        #[allow(dead_code)]
        struct WithEnum {
            kind: Kind,
        }
        let err = parse_json::<WithEnum>(br#"{"kind": {}}"#).unwrap_err();
        assert_eq!(err.code(), "validation_failed");
        assert_eq!(field(err), "kind");
    }
}
