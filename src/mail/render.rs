//! A queued message made into its subject, text and HTML: the context its templates read,
//! built from what was queued and from the rows it is about, as they are when it is sent.
//!
//! A message to an asker reads that asker's question alone.

use chrono::NaiveDateTime;
use serde_json::{json, Map, Value};

use crate::db::{self, mail::Claimed, DbConnection};
use crate::domain::mail::{period_line, tracking_url, MailKind};
use crate::domain::vn_format;
use crate::templates::Templates;

/// What the links in messages are built from.
#[derive(Debug, Clone)]
pub struct Links {
    /// `PORTAL_PUBLIC_BASE_URL`, without its last `/`.
    pub base: String,
    /// `PORTAL_TRACKING_URL_TEMPLATE`.
    pub tracking: String,
}

/// A message rendered.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// One line.
    pub subject: String,
    /// Plain-text part.
    pub text: String,
    /// HTML part.
    pub html: String,
}

/// Renders a claimed message; an error says why it cannot be (it is then failed).
pub fn render(
    templates: &Templates,
    conn: &mut DbConnection,
    links: &Links,
    m: &Claimed,
) -> Result<Rendered, String> {
    let kind = MailKind::parse(&m.kind).ok_or_else(|| format!("unknown kind {:?}", m.kind))?;
    let data: Map<String, Value> = match serde_json::from_str(&m.data) {
        Ok(Value::Object(map)) => map,
        _ => return Err("its data is not a JSON object".into()),
    };
    let mut context = context(conn, links, kind, m, &data).map_err(|e| e.to_string())?;
    context.insert(
        "site".into(),
        json!({"name": "Cổng thông tin điện tử tỉnh", "short": "Cổng TTĐT", "base_url": links.base}),
    );
    context.insert(
        "recipient".into(),
        json!({"name": data.get("recipient_name").cloned().unwrap_or(Value::Null)}),
    );
    let context = Value::Object(context);
    let name = kind.as_str();
    let part = |suffix: &str| {
        templates
            .render(&format!("mail/{name}.{suffix}"), &context)
            .map_err(|e| format!("template mail/{name}.{suffix}: {e}"))
    };
    let subject = part("subject.txt")?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    Ok(Rendered {
        subject,
        text: part("txt")?,
        html: part("html")?,
    })
}

fn text(data: &Map<String, Value>, key: &str) -> Value {
    data.get(key).cloned().unwrap_or(Value::Null)
}

/// An RFC 3339 time of the event data as `dd/mm/yyyy`.
fn day(data: &Map<String, Value>, key: &str) -> Value {
    data.get(key)
        .and_then(Value::as_str)
        .and_then(vn_format::date_from_iso)
        .map_or(Value::Null, Value::from)
}

fn time(data: &Map<String, Value>, key: &str) -> Value {
    data.get(key)
        .and_then(Value::as_str)
        .and_then(vn_format::datetime_from_rfc3339)
        .map_or(Value::Null, Value::from)
}

fn unit_name(conn: &mut DbConnection, code: Option<&str>) -> Result<Value, db::DbError> {
    Ok(match code {
        Some(code) => db::mail::unit_name(conn, code)?
            .map(Value::from)
            .unwrap_or_else(|| code.into()),
        None => Value::Null,
    })
}

fn context(
    conn: &mut DbConnection,
    links: &Links,
    kind: MailKind,
    m: &Claimed,
    data: &Map<String, Value>,
) -> Result<Map<String, Value>, Box<dyn std::error::Error>> {
    let mut c = Map::new();
    let subject = m.subject_id.as_deref().unwrap_or_default();
    if kind.to_asker() {
        let q = db::questions::find(conn, subject)?.ok_or("the question is gone")?;
        let unit = unit_name(conn, q.unit.as_deref())?;
        let link =
            |key: Option<&str>| tracking_url(&links.tracking, &links.base, &q.tracking_code, key);
        c.insert(
            "q".into(),
            json!({
                "code": q.tracking_code,
                "title": q.title,
                "unit_name": unit,
                "due_date": vn_format::day_of(q.due_at),
                "received": vn_format::datetime(q.received_at),
            }),
        );
        c.insert("tracking_url".into(), link(m.secret.as_deref()).into());
        c.insert("public_url".into(), link(None).into());
        match kind {
            MailKind::Answer | MailKind::Reply => {
                let reply = data
                    .get("reply")
                    .and_then(Value::as_object)
                    .ok_or("no reply")?;
                let reply_unit = unit_name(conn, reply.get("unit").and_then(Value::as_str))?;
                c.insert(
                    "reply".into(),
                    json!({
                        "body": text(reply, "body"),
                        "unit_name": reply_unit,
                        "at": time(reply, "created_at"),
                    }),
                );
            }
            MailKind::Rejection => {
                c.insert("note".into(), q.rejection_note.clone().into());
            }
            _ => {}
        }
        return Ok(c);
    }
    let unit = unit_name(conn, m.unit_code.as_deref())?;
    c.insert("unit_name".into(), unit);
    let base = &links.base;
    c.insert(
        "questions_url".into(),
        format!("{base}/api/v1/questions").into(),
    );
    c.insert(
        "items_url".into(),
        format!("{base}/api/v1/submissions").into(),
    );
    match kind {
        MailKind::QuestionRouted => {
            c.insert(
                "q".into(),
                json!({
                    "code": text(data, "tracking_code"),
                    "title": text(data, "title"),
                    "due_date": day(data, "due_at"),
                    "received": time(data, "received_at"),
                }),
            );
            c.insert(
                "questions_url".into(),
                format!("{base}/api/v1/questions/{subject}").into(),
            );
        }
        MailKind::ItemReturned | MailKind::ItemRejected | MailKind::ItemPublished => {
            c.insert(
                "item".into(),
                json!({
                    "title": text(data, "title"),
                    "category": text(data, "category"),
                    "version": text(data, "version"),
                }),
            );
            c.insert("note".into(), text(data, "note"));
            c.insert(
                "items_url".into(),
                format!("{base}/api/v1/submissions/{subject}").into(),
            );
            c.insert(
                "public_url".into(),
                if kind == MailKind::ItemPublished {
                    format!("{base}/api/v1/public/articles/{subject}").into()
                } else {
                    Value::Null
                },
            );
        }
        MailKind::Digest => {
            for key in [
                "date", "role", "due_soon", "overdue", "review", "unrouted", "counts",
            ] {
                c.insert(key.into(), text(data, key));
            }
        }
        MailKind::ObligationReminder => {
            // Written when it was queued, as the periods stood then.
            c.insert("periods".into(), text(data, "periods"));
        }
        MailKind::ObligationMissed => {
            obligation_context(conn, data, &mut c)?;
            c.insert(
                "for_board".into(),
                data.get("for_board").cloned().unwrap_or(false.into()),
            );
        }
        _ => return Err(format!("no context for {kind:?}").into()),
    }
    Ok(c)
}

/// The obligation and period of a reminder or a missed-period notice.
fn obligation_context(
    conn: &mut DbConnection,
    data: &Map<String, Value>,
    c: &mut Map<String, Value>,
) -> Result<(), Box<dyn std::error::Error>> {
    let id = data
        .get("obligation_id")
        .and_then(Value::as_i64)
        .ok_or("no obligation")?;
    let o = db::obligations::find(conn, id)?.ok_or("the obligation is gone")?;
    let start = data
        .get("period_start")
        .and_then(Value::as_str)
        .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .ok_or("no period")?;
    let period = o
        .periods(start, start)
        .into_iter()
        .find(|p| p.from == start)
        .ok_or("no such period")?;
    let category = match &o.category {
        Some(code) => db::categories::find(conn, code)?.map(|c| c.name),
        None => None,
    };
    let need = data.get("required").and_then(Value::as_i64).unwrap_or(1);
    let have = data.get("counted").and_then(Value::as_i64).unwrap_or(0);
    c.extend(period_line(&o, &period, category.as_deref(), have, need));
    Ok(())
}

/// `Date` header of a message rendered at `now`.
pub fn system_time(now: NaiveDateTime) -> std::time::SystemTime {
    let secs = now.and_utc().timestamp();
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(secs).unwrap_or(0))
}
