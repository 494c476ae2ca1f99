//! Units and categories: public reference data.

use actix_web::{get, patch, post, web, HttpResponse};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{Json, Query};
use super::Page;
use crate::auth::policy::Action;
use crate::auth::Principal;
use crate::db::{self, categories::Category, units::Unit, units::UnitFilter};
use crate::domain::account::{parse_name, parse_text, Code};
use crate::domain::reference::UnitKind;
use crate::error::{ApiError, Problem};
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
    let units = state
        .read(move |conn| Ok(db::units::list(conn, filter)?))
        .await?;
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
    let code = code.into_inner();
    let lookup = code.clone();
    let unit = state
        .read(move |conn| Ok(db::units::find(conn, &lookup)?))
        .await?;
    unit.map(|u| web::Json(u.into()))
        .ok_or_else(|| ApiError::not_found(format!("Unit {code:?}")))
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
    let categories = state.read(|conn| Ok(db::categories::list(conn)?)).await?;
    Ok(web::Json(Page::complete(
        categories.into_iter().map(CategoryResponse::from).collect(),
    )))
}

/// A new government unit.
#[derive(Debug, Deserialize, ToSchema)]
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
    /// Assigned information fields.
    #[serde(default)]
    pub fields: Vec<String>,
}

/// Changes to a unit; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUnitRequest {
    /// New name.
    pub name: Option<String>,
    /// New assigned fields.
    pub fields: Option<Vec<String>>,
    /// Standing agency flag.
    pub is_standing_agency: Option<bool>,
    /// `false` deactivates the unit (merged or dissolved): it gets no new submissions or
    /// questions, and its history stays. `true` reactivates it and clears its successors.
    pub active: Option<bool>,
    /// With `active: false`: codes of the active units that take over its duties.
    pub successors: Option<Vec<String>>,
}

fn check_fields(fields: &[String]) -> Result<Vec<String>, ApiError> {
    if fields.len() > 50 {
        return Err(ApiError::invalid_field("fields", "at most 50 fields"));
    }
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            parse_name(f, 300).map_err(|why| ApiError::invalid_field(format!("fields[{i}]"), why))
        })
        .collect()
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
    body: Json<CreateUnitRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Action::ManageUnits)?;
    let req = body.into_inner();
    let code = Code::parse(&req.code).map_err(|why| ApiError::invalid_field("code", why))?;
    let name = parse_name(&req.name, 200).map_err(|why| ApiError::invalid_field("name", why))?;
    let fields = serde_json::to_string(&check_fields(&req.fields)?).map_err(anyhow::Error::from)?;
    let unit = state
        .write(move |conn| {
            conn.transaction(|conn| {
                if db::units::is_active(conn, code.as_str())?.is_some() {
                    return Err(ApiError::Conflict(format!(
                        "A unit with the code {} exists",
                        code.as_str()
                    )));
                }
                let now = db::now();
                let position = db::units::next_position(conn)?;
                db::units::insert(
                    conn,
                    &db::units::NewUnit {
                        code: code.as_str(),
                        name: &name,
                        kind: req.kind.as_str(),
                        is_standing_agency: req.is_standing_agency,
                        fields,
                        active: true,
                        position,
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                db::units::find(conn, code.as_str())?.ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!("unit vanished after insert"))
                })
            })
        })
        .await?;
    state.references.invalidate();
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/units/{}", unit.code)))
        .json(UnitResponse::from(unit)))
}

/// Change a unit: rename, reassign fields, deactivate with successors, reactivate.
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
    body: Json<UpdateUnitRequest>,
) -> Result<web::Json<UnitResponse>, ApiError> {
    principal.require(Action::ManageUnits)?;
    let code = code.into_inner();
    let req = body.into_inner();
    let name = req
        .name
        .as_deref()
        .map(|n| parse_name(n, 200).map_err(|why| ApiError::invalid_field("name", why)))
        .transpose()?;
    let fields = match &req.fields {
        Some(f) => Some(serde_json::to_string(&check_fields(f)?).map_err(anyhow::Error::from)?),
        None => None,
    };
    if req.successors.is_some() && req.active != Some(false) {
        return Err(ApiError::invalid_field(
            "successors",
            "successors are named when deactivating: send them with \"active\": false",
        ));
    }
    let unit = state
        .write(move |conn| {
            conn.transaction(|conn| {
                let current = db::units::find(conn, &code)?
                    .ok_or_else(|| ApiError::not_found(format!("Unit {code:?}")))?;
                let now = db::now();
                let mut changes = db::units::UnitChanges {
                    name,
                    fields,
                    is_standing_agency: req.is_standing_agency,
                    active: req.active,
                    updated_at: Some(now),
                    ..Default::default()
                };
                match req.active {
                    Some(false) => {
                        let successors = req.successors.unwrap_or_default();
                        check_successors(conn, &code, &successors)?;
                        if current.active {
                            changes.deactivated_at = Some(Some(now));
                        }
                        db::units::set_successors(conn, &code, &successors)?;
                    }
                    Some(true) if !current.active => {
                        changes.deactivated_at = Some(None);
                        db::units::set_successors(conn, &code, &[])?;
                    }
                    _ => {}
                }
                db::units::update(conn, &code, &changes)?;
                db::units::find(conn, &code)?.ok_or_else(|| ApiError::not_found("Unit"))
            })
        })
        .await?;
    state.references.invalidate();
    Ok(web::Json(unit.into()))
}

fn check_successors(
    conn: &mut db::DbConnection,
    code: &str,
    successors: &[String],
) -> Result<(), ApiError> {
    let mut seen = std::collections::BTreeSet::new();
    for (i, successor) in successors.iter().enumerate() {
        let field = format!("successors[{i}]");
        if successor == code {
            return Err(ApiError::invalid_field(
                field,
                "a unit cannot succeed itself",
            ));
        }
        if !seen.insert(successor) {
            return Err(ApiError::invalid_field(field, "named twice"));
        }
        match db::units::is_active(conn, successor)? {
            None => {
                return Err(ApiError::invalid_field(
                    field,
                    format!("no unit has the code {successor:?}"),
                ))
            }
            Some(false) => {
                return Err(ApiError::invalid_field(
                    field,
                    format!("unit {successor:?} is itself deactivated"),
                ))
            }
            Some(true) => {}
        }
    }
    Ok(())
}

/// A new content category.
#[derive(Debug, Deserialize, ToSchema)]
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
    pub answer_days: Option<i32>,
    /// The legal text behind it.
    #[serde(default)]
    pub legal_basis: String,
}

/// Changes to a category; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
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
    pub answer_days: Option<i32>,
    /// Legal basis.
    pub legal_basis: Option<String>,
}

fn check_answer_days(days: i32) -> Result<i32, ApiError> {
    if (1..=365).contains(&days) {
        Ok(days)
    } else {
        Err(ApiError::invalid_field(
            "answer_days",
            "must be from 1 to 365",
        ))
    }
}

fn text_field(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    parse_text(value, max).map_err(|why| ApiError::invalid_field(field, why))
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
    body: Json<CreateCategoryRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Action::ManageCategories)?;
    let req = body.into_inner();
    let code = Code::parse(&req.code).map_err(|why| ApiError::invalid_field("code", why))?;
    let name = parse_name(&req.name, 200).map_err(|why| ApiError::invalid_field("name", why))?;
    let description = text_field("description", &req.description, 2000)?;
    let legal_basis = text_field("legal_basis", &req.legal_basis, 500)?;
    let answer_days = check_answer_days(
        req.answer_days
            .unwrap_or(state.settings.default_answer_days),
    )?;
    let category = state
        .write(move |conn| {
            conn.transaction(|conn| {
                if db::categories::find(conn, code.as_str())?.is_some() {
                    return Err(ApiError::Conflict(format!(
                        "A category with the code {} exists",
                        code.as_str()
                    )));
                }
                let now = db::now();
                let position = db::categories::next_position(conn)?;
                db::categories::insert(
                    conn,
                    &db::categories::NewCategory {
                        code: code.as_str(),
                        name: &name,
                        description: &description,
                        mandatory: req.mandatory,
                        answer_days,
                        legal_basis: &legal_basis,
                        position,
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                db::categories::find(conn, code.as_str())?.ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!("category vanished after insert"))
                })
            })
        })
        .await?;
    state.references.invalidate();
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
    body: Json<UpdateCategoryRequest>,
) -> Result<web::Json<CategoryResponse>, ApiError> {
    principal.require(Action::ManageCategories)?;
    let code = code.into_inner();
    let req = body.into_inner();
    let changes = db::categories::CategoryChanges {
        name: req
            .name
            .as_deref()
            .map(|n| parse_name(n, 200).map_err(|why| ApiError::invalid_field("name", why)))
            .transpose()?,
        description: req
            .description
            .as_deref()
            .map(|d| text_field("description", d, 2000))
            .transpose()?,
        mandatory: req.mandatory,
        answer_days: req.answer_days.map(check_answer_days).transpose()?,
        legal_basis: req
            .legal_basis
            .as_deref()
            .map(|l| text_field("legal_basis", l, 500))
            .transpose()?,
        updated_at: Some(db::now()),
    };
    let category = state
        .read(move |conn| {
            if !db::categories::update(conn, &code, &changes)? {
                return Err(ApiError::not_found(format!("Category {code:?}")));
            }
            db::categories::find(conn, &code)?.ok_or_else(|| ApiError::not_found("Category"))
        })
        .await?;
    state.references.invalidate();
    Ok(web::Json(category.into()))
}
