//! Table definitions, shared by both backends.

diesel::table! {
    units (code) {
        code -> Text,
        name -> Text,
        kind -> Text,
        is_standing_agency -> Bool,
        fields -> Text,
        active -> Bool,
        position -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deactivated_at -> Nullable<Timestamp>,
        email -> Nullable<Text>,
    }
}

diesel::table! {
    unit_successors (unit_code, successor_code) {
        unit_code -> Text,
        successor_code -> Text,
    }
}

diesel::table! {
    categories (code) {
        code -> Text,
        name -> Text,
        description -> Text,
        mandatory -> Bool,
        answer_days -> Integer,
        legal_basis -> Text,
        position -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    holidays (date) {
        date -> Date,
        name -> Text,
        kind -> Text,
        source -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    obligations (id) {
        id -> BigInt,
        unit_code -> Text,
        category_code -> Nullable<Text>,
        cadence -> Text,
        min_items -> Integer,
        due_day -> Nullable<Integer>,
        starts_on -> Date,
        ends_on -> Nullable<Date>,
        description -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(obligations -> units (unit_code));
diesel::joinable!(obligations -> categories (category_code));

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        password_hash -> Text,
        role -> Text,
        unit_code -> Nullable<Text>,
        display_name -> Text,
        disabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        credentials_version -> Integer,
        email -> Nullable<Text>,
        notify_digest -> Bool,
    }
}

diesel::table! {
    api_clients (id) {
        id -> Text,
        client_id -> Text,
        secret_hash -> Text,
        name -> Text,
        unit_code -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        credentials_version -> Integer,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        login -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    submissions (id) {
        id -> Text,
        unit_code -> Text,
        category_code -> Text,
        title -> Text,
        summary -> Text,
        body -> Text,
        source_ref -> Nullable<Text>,
        source_url -> Nullable<Text>,
        event_date -> Nullable<Date>,
        attachments -> Text,
        status -> Text,
        version -> Integer,
        author -> Text,
        search_text -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        submitted_at -> Nullable<Timestamp>,
        published_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    submission_revisions (id) {
        id -> BigInt,
        submission_id -> Text,
        version -> Integer,
        category_code -> Text,
        title -> Text,
        summary -> Text,
        body -> Text,
        source_ref -> Nullable<Text>,
        source_url -> Nullable<Text>,
        event_date -> Nullable<Date>,
        attachments -> Text,
        author -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    submission_events (id) {
        id -> BigInt,
        submission_id -> Text,
        version -> Integer,
        action -> Text,
        from_status -> Nullable<Text>,
        to_status -> Text,
        actor -> Text,
        note -> Nullable<Text>,
        created_at -> Timestamp,
        unit_code -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (principal, key) {
        principal -> Text,
        key -> Text,
        request_hash -> Text,
        state -> Text,
        status_code -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    questions (id) {
        id -> Text,
        tracking_code -> Text,
        access_key_hash -> Text,
        title -> Text,
        body -> Text,
        category_code -> Nullable<Text>,
        unit_code -> Nullable<Text>,
        asker_name -> Text,
        asker_email -> Nullable<Text>,
        asker_phone -> Nullable<Text>,
        asker_address -> Nullable<Text>,
        asker_organization -> Nullable<Text>,
        publish_consent -> Bool,
        status -> Text,
        rejection_note -> Nullable<Text>,
        search_text -> Text,
        received_at -> Timestamp,
        due_at -> Timestamp,
        answered_at -> Nullable<Timestamp>,
        published_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
        rating_score -> Nullable<Integer>,
        rating_comment -> Nullable<Text>,
        rated_at -> Nullable<Timestamp>,
        rejected_at -> Nullable<Timestamp>,
        answer_working_days -> Nullable<Integer>,
    }
}

diesel::table! {
    question_replies (id) {
        id -> BigInt,
        question_id -> Text,
        body -> Text,
        unit_code -> Nullable<Text>,
        author -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    events (seq) {
        seq -> BigInt,
        id -> Text,
        #[sql_name = "type"]
        kind -> Text,
        occurred_at -> Timestamp,
        unit_code -> Nullable<Text>,
        subject_kind -> Text,
        subject_id -> Text,
        data -> Text,
    }
}

diesel::table! {
    event_marks (kind, subject_id) {
        #[sql_name = "type"]
        kind -> Text,
        subject_id -> Text,
        marked_at -> Timestamp,
    }
}

diesel::table! {
    event_cursors (name) {
        name -> Text,
        seq -> BigInt,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        url -> Text,
        events -> Text,
        unit_code -> Nullable<Text>,
        description -> Nullable<Text>,
        secret -> Text,
        enabled -> Bool,
        owner -> Nullable<Text>,
        failing_since -> Nullable<Timestamp>,
        disabled_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        webhook_id -> Text,
        event_id -> Text,
        event_type -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        lease_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> BigInt,
        delivery_id -> BigInt,
        webhook_id -> Text,
        attempt -> Integer,
        attempted_at -> Timestamp,
        http_status -> Nullable<Integer>,
        error -> Nullable<Text>,
        duration_ms -> BigInt,
        next_attempt_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> Text,
        cause -> Text,
        kind -> Text,
        recipient -> Text,
        subject_id -> Nullable<Text>,
        unit_code -> Nullable<Text>,
        data -> Text,
        secret -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        subject -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    obligation_reminders (obligation_id, period_start, kind) {
        obligation_id -> BigInt,
        period_start -> Date,
        kind -> Text,
        reminded_at -> Timestamp,
        recipients -> Integer,
    }
}

diesel::joinable!(submissions -> units (unit_code));
diesel::joinable!(submissions -> categories (category_code));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));

diesel::allow_tables_to_appear_in_same_query!(
    units,
    mail_outbox,
    obligation_reminders,
    unit_successors,
    categories,
    holidays,
    obligations,
    users,
    api_clients,
    login_failures,
    submissions,
    submission_revisions,
    submission_events,
    idempotency_keys,
    questions,
    question_replies,
    events,
    event_marks,
    event_cursors,
    webhooks,
    webhook_deliveries,
    webhook_attempts
);
