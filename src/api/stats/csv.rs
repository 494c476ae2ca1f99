//! The report as CSV: the JSON's figures, one row per unit.

use actix_web::http::header;
use actix_web::HttpRequest;

use super::{Compliance, QuarterlyReport};
use crate::domain::compliance::Reason;
use crate::domain::export::csv_text;
use crate::error::{ApiError, FieldError};

/// The report as CSV, UTF-8 with a byte order mark.
pub fn report(report: &QuarterlyReport) -> Result<Vec<u8>, ApiError> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record([
            "unit",
            "name",
            "kind",
            "active",
            "successors",
            "submissions_received",
            "submissions_published",
            "submissions_returned",
            "submissions_rejected",
            "obligations_due",
            "obligations_met",
            "obligations_late",
            "obligations_missing",
            "obligations_pending",
            "questions_received",
            "questions_answered",
            "questions_answered_on_time",
            "questions_overdue_open",
            "median_working_days_to_answer",
            "compliance",
            "reasons",
        ])
        .map_err(anyhow::Error::from)?;
        for r in &report.units {
            let (s, o, q) = (&r.submissions, &r.obligations, &r.questions);
            // Unit names are typed by people; every text cell goes through `csv_text`, numbers
            // and true/false do not.
            w.write_record([
                csv_text(&r.unit).into_owned(),
                csv_text(&r.name).into_owned(),
                csv_text(r.kind.as_str()).into_owned(),
                r.active.to_string(),
                csv_text(&r.successors.join(";")).into_owned(),
                s.received.to_string(),
                s.published.to_string(),
                s.returned.to_string(),
                s.rejected.to_string(),
                o.due.to_string(),
                o.met.to_string(),
                o.late.to_string(),
                o.missing.to_string(),
                o.pending.to_string(),
                q.received.to_string(),
                q.answered.to_string(),
                q.answered_on_time.to_string(),
                q.overdue_open.to_string(),
                q.median_working_days_to_answer
                    .map(|m| m.to_string())
                    .unwrap_or_default(),
                csv_text(match r.compliance {
                    Compliance::Compliant => "compliant",
                    Compliance::NonCompliant => "non_compliant",
                })
                .into_owned(),
                csv_text(
                    &r.reasons
                        .iter()
                        .map(Reason::as_str)
                        .collect::<Vec<_>>()
                        .join(";"),
                )
                .into_owned(),
            ])
            .map_err(anyhow::Error::from)?;
        }
        w.flush().map_err(anyhow::Error::from)?;
    }
    Ok(out)
}

/// Whether the answer is CSV: `format` when given, else the `Accept` header.
pub fn wants_csv(req: &HttpRequest, format: Option<&str>) -> Result<bool, ApiError> {
    match format {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(_) => Err(ApiError::InvalidParameter(FieldError::new(
            "format",
            "must be json or csv",
        ))),
        None => Ok(req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/csv"))),
    }
}
