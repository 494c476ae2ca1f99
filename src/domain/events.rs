//! Events: every change of state, as integrators read it in the feed and receive it by webhook.
//!
//! An event names what happened (`type`), when, to which unit's business, and to what
//! (`subject`); `data` carries what a receiver needs to act without asking again, and never an
//! asker's name, e-mail, phone, address or access key.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{json, Map, Value};

macro_rules! event_types {
    ($($variant:ident => $name:literal, $doc:literal;)*) => {
        /// What an event says happened.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventType {
            $(#[doc = $doc] $variant,)*
        }

        impl EventType {
            /// Every type, in the documented order.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant,)*];

            /// The wire and stored name.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $(EventType::$variant => $name,)*
                }
            }

            /// The type a name stands for.
            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $($name => Some(EventType::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

event_types! {
    SubmissionCreated => "submission.created", "An item was created (as a draft or submitted).";
    SubmissionUpdated => "submission.updated", "An item's content was edited.";
    SubmissionSubmitted => "submission.submitted", "An item was sent to the board.";
    SubmissionWithdrawn => "submission.withdrawn", "The unit took an item back.";
    SubmissionReviewStarted => "submission.review_started", "The board began reviewing an item.";
    SubmissionReturned => "submission.returned", "The board returned an item for changes.";
    SubmissionRejected => "submission.rejected", "The board rejected an item.";
    SubmissionPublished => "submission.published", "An item was published on the portal.";
    SubmissionUnpublished => "submission.unpublished", "An item was taken off the portal.";
    QuestionAsked => "question.asked", "A citizen asked a question.";
    QuestionAssigned => "question.assigned", "A question was routed to a unit.";
    QuestionAnswered => "question.answered", "A question got its first reply.";
    QuestionReplied => "question.replied", "An answered question got a further reply.";
    QuestionRejected => "question.rejected", "The board rejected a question.";
    QuestionPublished => "question.published", "A question was published in the public Q&A.";
    QuestionRated => "question.rated", "The asker rated the answer.";
    QuestionDueSoon => "question.due_soon", "An unanswered question is due in 3 working days.";
    QuestionOverdue => "question.overdue", "An unanswered question passed its due time.";
    UnitCreated => "unit.created", "A unit was created.";
    UnitUpdated => "unit.updated", "A unit was renamed, given fields or reactivated.";
    UnitDeactivated => "unit.deactivated", "A unit was deactivated (merged or dissolved).";
    HolidayChanged => "holiday.changed", "A holiday or make-up working day was set or removed.";
    ObligationPeriodMissed => "obligation.period_missed", "A period closed without enough items.";
    WebhookDisabled => "webhook.disabled", "A webhook was disabled after failing for days.";
    WebhookTest => "webhook.test", "A test sent on request; never in the feed.";
}

impl EventType {
    /// Whether a webhook may subscribe to it: every type but the test, sent on request.
    pub fn subscribable(self) -> bool {
        self != EventType::WebhookTest
    }
}

/// What kind of thing an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    /// An item a unit posted.
    Submission,
    /// A citizen's question.
    Question,
    /// A government unit.
    Unit,
    /// One period of a unit's obligation (`{obligation id}:{period start}`).
    ObligationPeriod,
    /// A calendar exception, by date.
    Holiday,
    /// A webhook endpoint.
    Webhook,
}

impl SubjectKind {
    /// The wire and stored name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Submission => "submission",
            Self::Question => "question",
            Self::Unit => "unit",
            Self::ObligationPeriod => "obligation_period",
            Self::Holiday => "holiday",
            Self::Webhook => "webhook",
        }
    }
}

/// Time as events give it: UTC, whole seconds, `Z`.
pub fn wire_time(at: NaiveDateTime) -> String {
    DateTime::<Utc>::from_naive_utc_and_offset(at, Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// When an event occurred, as it is sent: UTC to the millisecond, `Z`.
pub fn occurred_time(at: NaiveDateTime) -> String {
    DateTime::<Utc>::from_naive_utc_and_offset(at, Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// An event about to be recorded, in the transaction of the change it reports.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// `evt_` and 32 hex digits; the `webhook-id` of its deliveries.
    pub id: String,
    /// What happened.
    pub kind: EventType,
    /// When (UTC).
    pub occurred_at: NaiveDateTime,
    /// The unit whose business it is, if any: officers and API clients see their unit's.
    pub unit: Option<String>,
    /// What it is about.
    pub subject_kind: SubjectKind,
    /// The subject's id (a UUID, a unit code, a date).
    pub subject_id: String,
    /// What a receiver needs to act, as a JSON object.
    pub data: Map<String, Value>,
}

impl NewEvent {
    /// A new event with a fresh id and empty data.
    pub fn new(
        kind: EventType,
        occurred_at: NaiveDateTime,
        unit: Option<String>,
        subject_kind: SubjectKind,
        subject_id: impl Into<String>,
    ) -> Self {
        Self {
            id: new_event_id(),
            kind,
            occurred_at,
            unit,
            subject_kind,
            subject_id: subject_id.into(),
            data: Map::new(),
        }
    }

    /// Adds a field to `data`; `None` is left out.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        let value = value.into();
        if !value.is_null() {
            self.data.insert(key.to_string(), value);
        }
        self
    }
}

/// What every event about a question carries: what a receiver needs to act, nothing of the
/// asker's.
#[derive(Debug, Clone, Copy)]
pub struct QuestionFacts<'a> {
    /// The question's UUID, the event's subject.
    pub id: &'a str,
    /// Its status after the change.
    pub status: &'a str,
    /// The code the asker follows it with.
    pub tracking_code: &'a str,
    /// Its title.
    pub title: &'a str,
    /// The unit that is to answer, once routed.
    pub unit: Option<&'a str>,
    /// Its category, if any.
    pub category: Option<&'a str>,
    /// When it was asked (UTC).
    pub received_at: NaiveDateTime,
    /// When the answer is due (UTC).
    pub due_at: NaiveDateTime,
}

/// The [`QuestionFacts`] of a question row (any type with the fields of a question: the stored
/// question, the time-driven sweep's unanswered one).
macro_rules! question_facts {
    ($q:expr) => {
        $crate::domain::events::QuestionFacts {
            id: &$q.id,
            status: $q.status.as_str(),
            tracking_code: &$q.tracking_code,
            title: &$q.title,
            unit: $q.unit.as_deref(),
            category: $q.category.as_deref(),
            received_at: $q.received_at,
            due_at: $q.due_at,
        }
    };
}
pub(crate) use question_facts;

/// An event about a question, with the facts every such event carries.
pub fn question_event(kind: EventType, now: NaiveDateTime, q: QuestionFacts<'_>) -> NewEvent {
    NewEvent::new(
        kind,
        now,
        q.unit.map(str::to_string),
        SubjectKind::Question,
        q.id,
    )
    .with("status", q.status)
    .with("tracking_code", q.tracking_code)
    .with("title", q.title)
    .with("unit", q.unit)
    .with("category", q.category)
    .with("received_at", wire_time(q.received_at))
    .with("due_at", wire_time(q.due_at))
}

/// A fresh event id.
pub fn new_event_id() -> String {
    format!("evt_{}", uuid::Uuid::new_v4().simple())
}

/// A recorded event, numbered.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The event's place in the log: no event appears under a number a reader has passed, so
    /// a reader that remembers the last one misses nothing.
    pub seq: i64,
    /// The event as recorded.
    pub event: NewEvent,
}

/// The JSON of an event, as the feed lists it and a webhook receives it.
pub fn to_json(seq: Option<i64>, event: &NewEvent) -> Value {
    json!({
        "id": event.id,
        "seq": seq,
        "type": event.kind.as_str(),
        "occurred_at": occurred_time(event.occurred_at),
        "unit": event.unit,
        "subject": {"kind": event.subject_kind.as_str(), "id": event.subject_id},
        "data": event.data,
    })
}

impl Event {
    /// The wire form.
    pub fn to_json(&self) -> Value {
        to_json(Some(self.seq), &self.event)
    }
}

/// A subscription's list of types: `["*"]` or known, subscribable names, at most one of each.
pub fn parse_subscription(names: &[String]) -> Result<Vec<String>, (usize, String)> {
    if names.is_empty() {
        return Err((0, "name at least one event type, or \"*\" for all".into()));
    }
    if names.iter().any(|n| n == "*") {
        return if names.len() == 1 {
            Ok(vec!["*".into()])
        } else {
            Err((0, "\"*\" stands for every type and is sent alone".into()))
        };
    }
    let mut kept: Vec<String> = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        match EventType::parse(name) {
            Some(t) if t.subscribable() => {}
            _ => return Err((i, "not an event type a webhook can subscribe to".into())),
        }
        if kept.contains(name) {
            return Err((i, "named twice".into()));
        }
        kept.push(name.clone());
    }
    Ok(kept)
}

/// Whether a subscription (as [`parse_subscription`] keeps it) takes events of `kind`.
pub fn subscribed(subscription: &[String], kind: &str) -> bool {
    kind != EventType::WebhookTest.as_str() && subscription.iter().any(|s| s == "*" || s == kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(*t));
        }
        assert_eq!(EventType::parse("submission.create"), None);
        assert!(!EventType::WebhookTest.subscribable());
        assert!(EventType::QuestionAsked.subscribable());
    }

    #[test]
    fn the_wire_form_names_its_subject_and_leaves_out_empty_data() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 3, 2)
            .unwrap()
            .and_hms_opt(1, 2, 3)
            .unwrap();
        let e = NewEvent::new(
            EventType::QuestionAsked,
            at,
            Some("so-noi-vu".into()),
            SubjectKind::Question,
            "q1",
        )
        .with("title", "Hỏi")
        .with("unit", None::<String>);
        let v = to_json(Some(7), &e);
        assert_eq!(v["seq"], 7);
        assert_eq!(v["type"], "question.asked");
        assert_eq!(v["occurred_at"], "2026-03-02T01:02:03.000Z");
        assert_eq!(v["subject"], json!({"kind": "question", "id": "q1"}));
        assert_eq!(v["data"], json!({"title": "Hỏi"}));
        assert!(e.id.starts_with("evt_") && e.id.len() == 36);
    }

    #[test]
    fn a_subscription_is_all_or_known_types_once() {
        let s =
            |v: &[&str]| parse_subscription(&v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(s(&["*"]).unwrap(), vec!["*"]);
        assert!(s(&[]).is_err());
        assert!(s(&["*", "question.asked"]).is_err());
        assert_eq!(s(&["question.asked", "nope"]).unwrap_err().0, 1);
        assert!(s(&["webhook.test"]).is_err());
        assert_eq!(s(&["question.asked", "question.asked"]).unwrap_err().0, 1);
        let kept = s(&["question.asked"]).unwrap();
        assert!(subscribed(&kept, "question.asked"));
        assert!(!subscribed(&kept, "question.answered"));
        assert!(subscribed(&["*".to_string()], "unit.created"));
        assert!(!subscribed(&["*".to_string()], "webhook.test"));
    }
}
