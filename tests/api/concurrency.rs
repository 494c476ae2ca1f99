//! Many clients editing and moving the same items at once.

use std::collections::BTreeSet;

use serde_json::{json as j, Value};

use crate::helpers::{json, spawn_app, TestApp};

const ITEMS: usize = 3;
const WORKERS: usize = 12;
const ROUNDS: usize = 6;

/// What one worker does in one round: read the item, then edit it with the version it saw, or
/// move it along an action of its role (whether or not the action fits the status it saw).
async fn round(app: &TestApp, token: &str, board: bool, id: &str, step: usize) -> u16 {
    let path = format!("{}/api/v1/submissions/{id}", app.address);
    let seen = app
        .client
        .get(&path)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(seen.status(), 200);
    let etag = seen.headers()["etag"].to_str().unwrap().to_string();
    let request = if step.is_multiple_of(2) {
        app.client
            .patch(&path)
            .header("if-match", etag)
            .json(&j!({"title": format!("Bản sửa {step}"), "summary": format!("Tóm tắt {step}")}))
    } else {
        let actions: &[(&str, Option<&str>)] = if board {
            &[
                ("start_review", None),
                ("return", Some("Bổ sung nguồn")),
                ("publish", None),
                ("unpublish", Some("Tạm gỡ")),
            ]
        } else {
            &[("submit", None), ("withdraw", None)]
        };
        let (action, note) = actions[(step / 2) % actions.len()];
        app.client
            .post(format!("{path}/transitions"))
            .json(&j!({"action": action, "note": note}))
    };
    let response = request.bearer_auth(token).send().await.unwrap();
    response.status().as_u16()
}

#[tokio::test]
async fn concurrent_edits_and_transitions_leave_each_item_whole_and_every_loser_told() {
    let app = spawn_app().await;
    let officer = app.user("officer", Some("so-khcn")).await.token;
    let editor = app.user("editor", None).await.token;
    let mut ids = Vec::new();
    for i in 0..ITEMS {
        let body = j!({
            "category": "tin-tuc", "title": format!("Tin {i}"), "summary": "Gốc",
            "body": "<p>Nội dung</p>", "draft": true
        });
        let made = json(
            app.post_as(&officer, "/api/v1/submissions", &body).await,
            201,
        )
        .await;
        ids.push(made["id"].as_str().unwrap().to_string());
    }

    let app = std::sync::Arc::new(app);
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..WORKERS * ITEMS {
        let (app, id) = (app.clone(), ids[w % ITEMS].clone());
        let board = (w / ITEMS).is_multiple_of(3);
        let token = if board {
            editor.clone()
        } else {
            officer.clone()
        };
        workers.spawn(async move {
            let mut statuses = Vec::new();
            for r in 0..ROUNDS {
                statuses.push(round(&app, &token, board, &id, w + r).await);
            }
            (id, statuses)
        });
    }
    let results = workers.join_all().await;

    let mut all = Vec::new();
    for id in &ids {
        let statuses: Vec<u16> = results
            .iter()
            .filter(|(item, _)| item == id)
            .flat_map(|(_, s)| s.iter().copied())
            .collect();
        assert!(
            statuses.iter().all(|s| [200, 409, 412].contains(s)),
            "every call wins or is told why it lost: {statuses:?}"
        );
        let wins = statuses.iter().filter(|s| **s == 200).count();
        assert!(wins > 0 && wins < statuses.len(), "{statuses:?}");

        let item = json(
            app.get_as(&officer, &format!("/api/v1/submissions/{id}"))
                .await,
            200,
        )
        .await;
        let history = json(
            app.get_as(&officer, &format!("/api/v1/submissions/{id}/history"))
                .await,
            200,
        )
        .await;
        let version = item["version"].as_i64().unwrap();
        assert_eq!(
            version as usize,
            1 + wins,
            "each success is one version, and only successes are"
        );
        check_history(&item, &history);
        all.extend(statuses);
    }
    println!(
        "{} calls on {ITEMS} items: {} won, {} got 409, {} got 412",
        all.len(),
        all.iter().filter(|s| **s == 200).count(),
        all.iter().filter(|s| **s == 409).count(),
        all.iter().filter(|s| **s == 412).count()
    );
}

/// The history is one unbroken line: versions 1..=current, each exactly once (the first as both
/// the creation's revision and event); each event starts where the previous one ended; the item
/// stands where the last event left it, with the last revision's content.
fn check_history(item: &Value, history: &Value) {
    let revisions = history["revisions"].as_array().unwrap();
    let events = history["events"].as_array().unwrap();
    let version = |v: &Value| v["version"].as_i64().unwrap();
    let mut seen = BTreeSet::new();
    for v in revisions
        .iter()
        .chain(events)
        .map(version)
        .filter(|v| *v > 1)
    {
        assert!(seen.insert(v), "version {v} appears twice: {history}");
    }
    let current = item["version"].as_i64().unwrap();
    assert_eq!(
        seen,
        (2..=current).collect::<BTreeSet<i64>>(),
        "no gap: {history}"
    );
    assert_eq!(version(&revisions[0]), 1);
    assert_eq!(version(&events[0]), 1);
    for pair in events.windows(2) {
        assert_eq!(pair[1]["from"], pair[0]["to"], "{history}");
        assert!(version(&pair[1]) > version(&pair[0]));
    }
    assert_eq!(item["status"], events.last().unwrap()["to"]);
    let last = revisions.last().unwrap();
    assert_eq!(item["title"], last["title"]);
    assert_eq!(item["summary"], last["summary"]);
}
