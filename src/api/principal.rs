//! Who is calling: the bearer token of a request, checked and turned into a [`Principal`].

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

/// The bearer token of a request, or why it has none.
fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("This action needs a bearer token".into()))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("The Authorization header is not readable".into()))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_string())
        }
        _ => Err(ApiError::Unauthorized(
            "The Authorization header must be `Bearer <token>`".into(),
        )),
    }
}

fn invalid_token() -> ApiError {
    ApiError::Unauthorized("The token is invalid or expired".into())
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let token = token?;
            let state = state.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no app state")))?;
            let claims = state.tokens.verify(&token).ok_or_else(invalid_token)?;
            let account = crate::service::accounts::principal(&state, claims.sub).await?;
            // A token issued before the credentials last changed is over.
            match account {
                Some((principal, version)) if version == claims.cv => Ok(principal),
                _ => Err(invalid_token()),
            }
        })
    }
}
