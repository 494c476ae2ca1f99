//! Units and categories: public reference data.

use actix_web::{get, patch, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::extract::{Query, ValidJson};
use super::{double_option, email_change, Page};
use crate::auth::policy::Action;
use crate::auth::Principal;
use crate::domain::account::{parse_name, parse_text};
use crate::domain::invalid::Invalid;
use crate::domain::question::Email;
use crate::domain::reference::{CategoryCode, UnitCode, UnitKind};
use crate::error::{ApiError, FieldError, Problem};
use crate::service::reference::{
    self as service, Category, CategoryChange, NewCategoryInput, NewUnitInput, Unit, UnitChange,
    UnitFilter,
};
use crate::state::AppState;

/// Filters for the unit list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitQuery {
    /// Only units of this kind.
    pub kind: Option<UnitKind>,
    /// `true` for active units only, `false` for merged or dissolved ones.
    pub active: Option<bool>,
}

/// A government unit.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitResponse {
    /// Stable identifier.
    #[schema(example = "so-khcn")]
    pub code: String,
    /// Official name.
    #[schema(example = "Sở Khoa học và Công nghệ")]
    pub name: String,
    /// Department or district.
    pub kind: UnitKind,
    /// Whether this unit is the portal's standing agency.
    pub is_standing_agency: bool,
    /// Information fields assigned to the unit (Decision 1764/QĐ-BBT).
    pub fields: Vec<String>,
    /// False once the unit has been merged or dissolved; its history stays.
    pub active: bool,
    /// Codes of the units that took over its duties.
    pub successors: Vec<String>,
    /// The unit's contact e-mail address.
    #[schema(format = Email, example = "vanthu@sokhcn.gov.vn")]
    pub email: Option<String>,
}

impl From<Unit> for UnitResponse {
    fn from(u: Unit) -> Self {
        Self {
            code: u.code,
            name: u.name,
            kind: u.kind,
            is_standing_agency: u.is_standing_agency,
            fields: u.fields,
            active: u.active,
            successors: u.successors,
            email: u.email,
        }
    }
}

/// A content category (chuyên mục).
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryResponse {
    /// Stable identifier.
    #[schema(example = "khoa-hoc-cong-nghe")]
    pub code: String,
    /// Display name.
    pub name: String,
    /// Longer description.
    pub description: String,
    /// Required on every unit's portal by Decree 42/2022/NĐ-CP Art. 4.
    pub mandatory: bool,
    /// Working days allowed to answer a citizen question on this topic.
    #[schema(example = 15)]
    pub answer_days: i32,
    /// The legal text behind the category.
    pub legal_basis: String,
}

impl From<Category> for CategoryResponse {
    fn from(c: Category) -> Self {
        Self {
            code: c.code,
            name: c.name,
            description: c.description,
            mandatory: c.mandatory,
            answer_days: c.answer_days,
            legal_basis: c.legal_basis,
        }
    }
}

/// List government units.
///
/// The whole list, in the province's order, as one page (`next_cursor` is always null):
/// units are few and change rarely.
#[utoipa::path(
    tag = "reference",
    params(UnitQuery),
    responses(
        (status = 200, description = "The units", body = Page<UnitResponse>),
        (status = 400, description = "Unreadable filter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/units")]
pub async fn list_units(
    state: web::Data<AppState>,
    query: Query<UnitQuery>,
) -> Result<web::Json<Page<UnitResponse>>, ApiError> {
    let filter = UnitFilter {
        kind: query.kind,
        active: query.active,
    };
    let units = service::list_units(&state, filter).await?;
    Ok(web::Json(Page::complete(
        units.into_iter().map(UnitResponse::from).collect(),
    )))
}

/// Get one government unit.
#[utoipa::path(
    tag = "reference",
    params(("code" = String, Path, description = "The unit's code", example = "so-khcn")),
    responses(
        (status = 200, description = "The unit", body = UnitResponse),
        (status = 404, description = "No such unit", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/units/{code}")]
pub async fn get_unit(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<web::Json<UnitResponse>, ApiError> {
    let unit = service::get_unit(&state, code.into_inner()).await?;
    Ok(web::Json(unit.into()))
}

/// List content categories.
///
/// The whole list as one page (`next_cursor` is always null).
#[utoipa::path(
    tag = "reference",
    responses((status = 200, description = "The categories", body = Page<CategoryResponse>))
)]
#[get("/categories")]
pub async fn list_categories(
    state: web::Data<AppState>,
) -> Result<web::Json<Page<CategoryResponse>>, ApiError> {
    let categories = service::list_categories(&state).await?;
    Ok(web::Json(Page::complete(
        categories.into_iter().map(CategoryResponse::from).collect(),
    )))
}

/// A new government unit.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CreateUnitRequest {
    /// Stable identifier: lower-case words joined by `-`.
    #[schema(example = "so-van-hoa")]
    pub code: String,
    /// Official name.
    #[schema(example = "Sở Văn hóa, Thể thao và Du lịch")]
    pub name: String,
    /// Department or district.
    pub kind: UnitKind,
    /// Whether this unit is the portal's standing agency.
    #[serde(default)]
    pub is_standing_agency: bool,
    /// Assigned information fields, at most 50.
    #[serde(default)]
    #[validate(length(max = 50, code = "too_long", message = "at most 50 fields"))]
    #[schema(max_items = 50)]
    pub fields: Vec<String>,
    /// Contact e-mail address; none when absent or `null`.
    #[schema(format = Email, max_length = 254, example = "vanthu@sokhcn.gov.vn")]
    pub email: Option<String>,
}

/// Changes to a unit; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct UpdateUnitRequest {
    /// New name.
    pub name: Option<String>,
    /// New assigned fields, at most 50.
    #[validate(length(max = 50, code = "too_long", message = "at most 50 fields"))]
    #[schema(max_items = 50)]
    pub fields: Option<Vec<String>>,
    /// Standing agency flag.
    pub is_standing_agency: Option<bool>,
    /// `false` deactivates the unit (merged or dissolved): it gets no new submissions or
    /// questions, and its history stays. `true` reactivates it and clears its successors.
    pub active: Option<bool>,
    /// With `active: false`: codes of the active units that take over its duties.
    pub successors: Option<Vec<String>>,
    /// New contact e-mail address; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Email, max_length = 254)]
    pub email: Option<Option<String>>,
}

/// Collects every refused field of a request, so that all are answered at once.
#[derive(Default)]
struct Refusals(Vec<FieldError>);

impl Refusals {
    /// The value, or `None` with the refusal noted under `field`.
    fn check<T>(&mut self, field: impl Into<String>, parsed: Result<T, Invalid>) -> Option<T> {
        parsed
            .map_err(|why| self.0.push(FieldError::new(field, why)))
            .ok()
    }

    /// An optional value: absent stays absent.
    fn check_opt<T>(&mut self, field: &str, parsed: Option<Result<T, Invalid>>) -> Option<T> {
        parsed.and_then(|p| self.check(field, p))
    }

    /// Each of a list of information fields: a name of at most 300 characters.
    fn fields(&mut self, fields: &[String]) -> Option<Vec<String>> {
        let before = self.0.len();
        let parsed: Vec<String> = fields
            .iter()
            .enumerate()
            .filter_map(|(i, f)| self.check(format!("fields[{i}]"), parse_name(f, 300)))
            .collect();
        (self.0.len() == before).then_some(parsed)
    }

    /// `Ok(value)` when nothing was refused.
    fn done<T>(self, value: T) -> Result<T, ApiError> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.into_error())
        }
    }

    /// The answer naming every refused field; for when a required value is missing, which
    /// means at least one was refused.
    fn into_error(self) -> ApiError {
        ApiError::Validation(self.0)
    }
}

/// Create a unit.
#[utoipa::path(
    tag = "reference",
    security(("bearer" = [])),
    request_body = CreateUnitRequest,
    responses(
        (status = 201, description = "Created", body = UnitResponse),
        (status = 409, description = "The code is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/units")]
pub async fn create_unit(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<CreateUnitRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Action::ManageUnits)?;
    let req = body.into_inner();
    let mut refused = Refusals::default();
    let code = refused.check("code", UnitCode::parse(&req.code));
    let name = refused.check("name", parse_name(&req.name, 200));
    let fields = refused.fields(&req.fields);
    let email = refused.check("email", req.email.as_deref().map(Email::parse).transpose());
    let (Some(code), Some(name), Some(fields), Some(email)) = (code, name, fields, email) else {
        return Err(refused.into_error());
    };
    let unit = service::create_unit(
        &state,
        NewUnitInput {
            code,
            name,
            kind: req.kind,
            is_standing_agency: req.is_standing_agency,
            fields,
            email,
        },
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/units/{}", unit.code)))
        .json(UnitResponse::from(unit)))
}

/// Change a unit: rename, reassign fields, set its contact e-mail address, deactivate with
/// successors, reactivate.
#[utoipa::path(
    tag = "reference",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The unit's code")),
    request_body = UpdateUnitRequest,
    responses(
        (status = 200, description = "The changed unit", body = UnitResponse),
        (status = 422, description = "Invalid field or successor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/units/{code}")]
pub async fn update_unit(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
    body: ValidJson<UpdateUnitRequest>,
) -> Result<web::Json<UnitResponse>, ApiError> {
    principal.require(Action::ManageUnits)?;
    let req = body.into_inner();
    let mut refused = Refusals::default();
    let name = refused.check_opt("name", req.name.as_deref().map(|n| parse_name(n, 200)));
    let fields = match &req.fields {
        Some(f) => refused.fields(f),
        None => None,
    };
    let email = refused.check("email", email_change(req.email));
    let change = refused.done(UnitChange {
        name,
        fields,
        is_standing_agency: req.is_standing_agency,
        active: req.active,
        successors: req.successors,
        email: email.flatten(),
    })?;
    let unit = service::change_unit(&state, code.into_inner(), change).await?;
    Ok(web::Json(unit.into()))
}

/// A new content category.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CreateCategoryRequest {
    /// Stable identifier: lower-case words joined by `-`.
    #[schema(example = "van-hoa-du-lich")]
    pub code: String,
    /// Display name.
    pub name: String,
    /// Longer description.
    #[serde(default)]
    pub description: String,
    /// Required by Decree 42/2022/NĐ-CP Art. 4.
    #[serde(default)]
    pub mandatory: bool,
    /// Working days to answer questions on this topic, 1–365; the configured default
    /// (`PORTAL_DEFAULT_ANSWER_DAYS`, 15) when absent.
    #[schema(minimum = 1, maximum = 365)]
    #[validate(range(
        min = 1,
        max = 365,
        code = "out_of_range",
        message = "must be from 1 to 365"
    ))]
    pub answer_days: Option<i32>,
    /// The legal text behind it.
    #[serde(default)]
    pub legal_basis: String,
}

/// Changes to a category; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct UpdateCategoryRequest {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// Mandatory flag.
    pub mandatory: Option<bool>,
    /// Working days to answer, 1–365. Questions already asked keep their due date.
    #[schema(minimum = 1, maximum = 365)]
    #[validate(range(
        min = 1,
        max = 365,
        code = "out_of_range",
        message = "must be from 1 to 365"
    ))]
    pub answer_days: Option<i32>,
    /// Legal basis.
    pub legal_basis: Option<String>,
}

/// Create a category.
#[utoipa::path(
    tag = "reference",
    security(("bearer" = [])),
    request_body = CreateCategoryRequest,
    responses(
        (status = 201, description = "Created", body = CategoryResponse),
        (status = 409, description = "The code is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/categories")]
pub async fn create_category(
    state: web::Data<AppState>,
    principal: Principal,
    body: ValidJson<CreateCategoryRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Action::ManageCategories)?;
    let req = body.into_inner();
    let mut refused = Refusals::default();
    let code = refused.check("code", CategoryCode::parse(&req.code));
    let name = refused.check("name", parse_name(&req.name, 200));
    let description = refused.check("description", parse_text(&req.description, 2000));
    let legal_basis = refused.check("legal_basis", parse_text(&req.legal_basis, 500));
    let (Some(code), Some(name), Some(description), Some(legal_basis)) =
        (code, name, description, legal_basis)
    else {
        return Err(refused.into_error());
    };
    let category = service::create_category(
        &state,
        NewCategoryInput {
            code,
            name,
            description,
            mandatory: req.mandatory,
            answer_days: req.answer_days,
            legal_basis,
        },
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/categories/{}", category.code)))
        .json(CategoryResponse::from(category)))
}

/// Change a category.
#[utoipa::path(
    tag = "reference",
    security(("bearer" = [])),
    params(("code" = String, Path, description = "The category's code")),
    request_body = UpdateCategoryRequest,
    responses(
        (status = 200, description = "The changed category", body = CategoryResponse),
        (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/categories/{code}")]
pub async fn update_category(
    state: web::Data<AppState>,
    principal: Principal,
    code: web::Path<String>,
    body: ValidJson<UpdateCategoryRequest>,
) -> Result<web::Json<CategoryResponse>, ApiError> {
    principal.require(Action::ManageCategories)?;
    let req = body.into_inner();
    let mut refused = Refusals::default();
    let change = CategoryChange {
        name: refused.check_opt("name", req.name.as_deref().map(|n| parse_name(n, 200))),
        description: refused.check_opt(
            "description",
            req.description.as_deref().map(|d| parse_text(d, 2000)),
        ),
        mandatory: req.mandatory,
        answer_days: req.answer_days,
        legal_basis: refused.check_opt(
            "legal_basis",
            req.legal_basis.as_deref().map(|l| parse_text(l, 500)),
        ),
    };
    let change = refused.done(change)?;
    let category = service::change_category(&state, code.into_inner(), change).await?;
    Ok(web::Json(category.into()))
}
