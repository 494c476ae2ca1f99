//! `portal-api generate-demo`: realistic data straight into the database, for trying the
//! service and for measuring it. Rows go in statements of a few hundred, a transaction per [`PER_TRANSACTION`] rows.

use std::time::Instant;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::bulk::BulkLoad;
use crate::db::questions::{NewQuestion, NewReply};
use crate::db::submissions::{NewEvent, NewRevision, NewSubmission};
use crate::db::{self, DbConnection};
use crate::domain::calendar::{local_date, WorkingCalendar};
use crate::domain::content::{index_text, search_text};
use crate::domain::question::{tracking_code, Status as QuestionStatus};
use crate::domain::submission::{Action, Status};

const BATCH: usize = 500;
/// Rows per transaction: big transactions write each touched index page once.
const PER_TRANSACTION: usize = 20_000;

const TOPICS: &[&str] = &[
    "tuyển dụng công chức",
    "cải cách hành chính",
    "chuyển đổi số",
    "xây dựng nông thôn mới",
    "phòng chống thiên tai",
    "an toàn giao thông",
    "thu hút đầu tư",
    "đào tạo nghề",
    "bảo hiểm xã hội",
    "giải phóng mặt bằng",
    "cấp giấy chứng nhận quyền sử dụng đất",
    "hỗ trợ doanh nghiệp nhỏ và vừa",
    "nghiên cứu khoa học",
    "y tế cơ sở",
    "giáo dục phổ thông",
    "du lịch sinh thái",
    "bảo vệ môi trường",
    "quy hoạch đô thị",
    "phát triển cây điều",
    "dịch vụ công trực tuyến",
];
const KINDS: &[&str] = &[
    "Thông báo",
    "Kế hoạch",
    "Hướng dẫn",
    "Báo cáo kết quả",
    "Tin hoạt động",
    "Quyết định",
];
const PLACES: &[&str] = &[
    "Đồng Xoài",
    "Bình Long",
    "Phước Long",
    "Chơn Thành",
    "Bù Đăng",
    "Bù Đốp",
    "Bù Gia Mập",
    "Đồng Phú",
    "Hớn Quản",
    "Lộc Ninh",
    "Phú Riềng",
];
const NAMES: &[&str] = &["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"];
const GIVEN: &[&str] = &[
    "Văn An",
    "Thị Bình",
    "Minh Châu",
    "Quốc Dũng",
    "Thị Hoa",
    "Đức Long",
];

/// What was generated, and how fast.
#[derive(Debug, Default)]
pub struct Generated {
    /// Submissions inserted.
    pub submissions: usize,
    /// Questions inserted.
    pub questions: usize,
    /// Seconds taken.
    pub seconds: f64,
}

fn pick<'a>(rng: &mut StdRng, items: &'a [&'a str]) -> &'a str {
    items[rng.random_range(0..items.len())]
}

/// A moment in 2024–2025, during office hours in Vietnam.
fn moment(rng: &mut StdRng, start: NaiveDate) -> NaiveDateTime {
    let day = start + Duration::days(rng.random_range(0..730));
    day.and_hms_opt(
        1 + rng.random_range(0..9),
        rng.random_range(0..60),
        rng.random_range(0..60),
    )
    .unwrap_or_default()
}

/// Generates `n_submissions` submissions and `n_questions` questions (with replies for most).
pub fn generate(
    conn: &mut DbConnection,
    n_submissions: usize,
    n_questions: usize,
    seed: u64,
) -> anyhow::Result<Generated> {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(seed);
    let units: Vec<String> = db::units::list(conn, Default::default())?
        .into_iter()
        .map(|u| u.code)
        .collect();
    let categories: Vec<String> = db::categories::list(conn)?
        .into_iter()
        .map(|c| c.code)
        .collect();
    anyhow::ensure!(
        !units.is_empty() && !categories.is_empty(),
        "the database has no reference data"
    );
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
    let calendar = db::holidays::calendar(conn, start, start + Duration::days(1200))?;
    let refs = Reference {
        units,
        categories,
        start,
        calendar,
    };

    let mut batches = BulkLoad::start(conn, PER_TRANSACTION)?;
    let mut done = 0;
    while done < n_submissions {
        let n = BATCH.min(n_submissions - done);
        let mut batch = SubmissionBatch::with_capacity(n);
        for _ in 0..n {
            one_submission(&mut rng, &refs, &mut batch);
        }
        db::submissions::insert_many(conn, &batch.submissions, &batch.revisions, &batch.events)?;
        done += n;
        batches.step(conn, n)?;
    }

    let mut done = 0;
    while done < n_questions {
        let n = BATCH.min(n_questions - done);
        let mut batch = QuestionBatch::with_capacity(n);
        for _ in 0..n {
            one_question(&mut rng, &refs, &mut batch);
        }
        db::questions::insert_many(conn, &batch.questions, &batch.replies)?;
        done += n;
        batches.step(conn, n)?;
    }
    batches.finish(conn)?;
    Ok(Generated {
        submissions: n_submissions,
        questions: n_questions,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// How often each status is drawn, in percent.
const SUBMISSION_STATUSES: [(Status, u32); 7] = [
    (Status::Published, 60),
    (Status::Submitted, 10),
    (Status::InReview, 5),
    (Status::Returned, 8),
    (Status::Rejected, 5),
    (Status::Draft, 7),
    (Status::Unpublished, 5),
];

/// What generated rows refer to: the reference data and the first day of the period.
struct Reference {
    units: Vec<String>,
    categories: Vec<String>,
    start: NaiveDate,
    calendar: WorkingCalendar,
}

/// One batch of submissions with their first revisions and their events.
struct SubmissionBatch {
    submissions: Vec<NewSubmission<'static>>,
    revisions: Vec<NewRevision<'static>>,
    events: Vec<NewEvent<'static>>,
}

impl SubmissionBatch {
    fn with_capacity(n: usize) -> Self {
        Self {
            submissions: Vec::with_capacity(n),
            revisions: Vec::with_capacity(n),
            events: Vec::with_capacity(2 * n),
        }
    }
}

/// One batch of questions with their replies.
struct QuestionBatch {
    questions: Vec<NewQuestion<'static>>,
    replies: Vec<NewReply<'static>>,
}

impl QuestionBatch {
    fn with_capacity(n: usize) -> Self {
        Self {
            questions: Vec::with_capacity(n),
            replies: Vec::with_capacity(n),
        }
    }
}

/// Draws one submission, in a status with the events that led to it.
fn one_submission(rng: &mut StdRng, refs: &Reference, batch: &mut SubmissionBatch) {
    let id = uuid::Uuid::from_u128(rng.random()).to_string();
    let unit = refs.units[rng.random_range(0..refs.units.len())].clone();
    let category = refs.categories[rng.random_range(0..refs.categories.len())].clone();
    let title = format!(
        "{} về {} tại {}",
        pick(rng, KINDS),
        pick(rng, TOPICS),
        pick(rng, PLACES)
    );
    let summary = format!(
        "Triển khai {} năm {}",
        pick(rng, TOPICS),
        2024 + rng.random_range(0..2)
    );
    let body = format!(
        "<p>{} triển khai {} trên địa bàn {}, góp phần nâng cao chất lượng {}.</p>",
        pick(rng, KINDS),
        pick(rng, TOPICS),
        pick(rng, PLACES),
        pick(rng, TOPICS)
    );
    let mut roll = rng.random_range(0..100);
    let mut status = Status::Published;
    for (candidate, weight) in SUBMISSION_STATUSES {
        if roll < weight {
            status = candidate;
            break;
        }
        roll -= weight;
    }
    let created = moment(rng, refs.start);
    let submitted =
        (status != Status::Draft).then(|| created + Duration::minutes(rng.random_range(5..600)));
    let published = matches!(status, Status::Published | Status::Unpublished)
        .then(|| submitted.unwrap_or(created) + Duration::hours(rng.random_range(1..72)));
    let author = format!("user:demo-{unit}");
    let search = search_text(&title, &summary, &body, None);
    batch.revisions.push(NewRevision {
        submission_id: id.clone().into(),
        version: 1,
        category_code: category.clone().into(),
        title: title.clone().into(),
        summary: summary.clone().into(),
        body: body.clone().into(),
        source_ref: None,
        source_url: None,
        event_date: None,
        attachments: "[]".into(),
        author: author.clone().into(),
        created_at: created,
    });
    batch.events.push(NewEvent {
        submission_id: id.clone().into(),
        unit_code: unit.clone().into(),
        version: 1,
        action: "create",
        from_status: None,
        to_status: if status == Status::Draft {
            Status::Draft
        } else {
            Status::Submitted
        }
        .as_str(),
        actor: author.clone().into(),
        note: None,
        created_at: created,
    });
    let mut version = 1;
    let last_step = match status {
        Status::Published | Status::Unpublished => {
            Some((Action::Publish, Status::Published, published))
        }
        Status::Returned => Some((
            Action::Return,
            Status::Returned,
            submitted.map(|t| t + Duration::days(2)),
        )),
        Status::Rejected => Some((
            Action::Reject,
            Status::Rejected,
            submitted.map(|t| t + Duration::days(2)),
        )),
        Status::InReview => Some((
            Action::StartReview,
            Status::InReview,
            submitted.map(|t| t + Duration::hours(3)),
        )),
        Status::Draft | Status::Submitted => None,
    };
    if let Some((action, to, Some(at))) = last_step {
        version += 1;
        batch.events.push(NewEvent {
            submission_id: id.clone().into(),
            unit_code: unit.clone().into(),
            version,
            action: action.as_str(),
            from_status: Some(Status::Submitted.as_str()),
            to_status: to.as_str(),
            actor: "user:demo-editor".into(),
            note: action.needs_note().then(|| "Cần bổ sung".into()),
            created_at: at,
        });
    }
    batch.submissions.push(NewSubmission {
        id: id.into(),
        unit_code: unit.into(),
        category_code: category.into(),
        title: title.into(),
        summary: summary.into(),
        body: body.into(),
        source_ref: None,
        source_url: None,
        event_date: None,
        attachments: "[]".into(),
        status: status.as_str(),
        version,
        author: author.into(),
        search_text: search,
        created_at: created,
        updated_at: published.or(submitted).unwrap_or(created),
        submitted_at: submitted,
        published_at: published,
    });
}

/// Draws one question: routed or not, answered on time or late, published or not.
fn one_question(rng: &mut StdRng, refs: &Reference, batch: &mut QuestionBatch) {
    let id = uuid::Uuid::from_u128(rng.random()).to_string();
    let received = moment(rng, refs.start);
    let unit = (rng.random_range(0..10) > 0)
        .then(|| refs.units[rng.random_range(0..refs.units.len())].clone());
    let due = refs
        .calendar
        .deadline_after(received.and_utc(), 15)
        .due_at
        .naive_utc();
    let answered = (unit.is_some() && rng.random_range(0..100) < 85).then(|| {
        // Most answers come within the deadline, some after it.
        received + Duration::hours(rng.random_range(2..(24 * 30)))
    });
    let consent = rng.random_range(0..2) == 0;
    let status = match (answered, &unit) {
        (Some(_), _) if consent && rng.random_range(0..2) == 0 => QuestionStatus::Published,
        (Some(_), _) => QuestionStatus::Answered,
        (None, Some(_)) => QuestionStatus::Assigned,
        (None, None) => QuestionStatus::Received,
    };
    let title = format!("Hỏi về {} ở {}", pick(rng, TOPICS), pick(rng, PLACES));
    let body = format!(
        "Xin cho biết thủ tục và thời hạn liên quan đến {}.",
        pick(rng, TOPICS)
    );
    let name = format!("{} {}", pick(rng, NAMES), pick(rng, GIVEN));
    let code_year = local_date(received.and_utc());
    let code = format!(
        "{}{}",
        tracking_code(chrono::Datelike::year(&code_year)),
        &id[..4]
    );
    if let Some(at) = answered {
        batch.replies.push(NewReply {
            question_id: id.clone().into(),
            body: format!(
                "Trả lời: về {}, đề nghị liên hệ bộ phận một cửa.",
                pick(rng, TOPICS)
            )
            .into(),
            unit_code: unit.clone().map(Into::into),
            author: "user:demo-officer".into(),
            created_at: at,
        });
    }
    batch.questions.push(NewQuestion {
        search_text: index_text(&format!("{title} {body}")).into(),
        id: id.into(),
        tracking_code: code.into(),
        access_key_hash: "demo".into(),
        title: title.into(),
        body: body.into(),
        category_code: Some(
            refs.categories[rng.random_range(0..refs.categories.len())]
                .clone()
                .into(),
        ),
        unit_code: unit.map(Into::into),
        asker_name: name.into(),
        asker_email: Some("demo@example.vn".into()),
        asker_phone: None,
        asker_address: None,
        asker_organization: None,
        publish_consent: consent,
        status: status.as_str(),
        received_at: received,
        due_at: due,
        answered_at: answered,
        answer_working_days: answered.map(|at| {
            i32::try_from(
                refs.calendar
                    .working_days_between(received.and_utc(), at.and_utc()),
            )
            .unwrap_or(i32::MAX)
        }),
        published_at: (status == QuestionStatus::Published)
            .then(|| answered.unwrap_or(received) + Duration::days(1)),
        updated_at: answered.unwrap_or(received),
    });
}
