//! Units and categories: public reference data.

use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::Query;
use super::Page;
use crate::db::{self, categories::Category, units::Unit, units::UnitFilter};
use crate::domain::reference::UnitKind;
use crate::error::{ApiError, Problem};
use crate::startup::AppState;

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
    let units = db::run(&state.pool, move |conn| Ok(db::units::list(conn, filter)?)).await?;
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
    let unit = db::run(&state.pool, move |conn| Ok(db::units::find(conn, &lookup)?)).await?;
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
    let categories = db::run(&state.pool, |conn| Ok(db::categories::list(conn)?)).await?;
    Ok(web::Json(Page::complete(
        categories.into_iter().map(CategoryResponse::from).collect(),
    )))
}
