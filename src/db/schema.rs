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

diesel::allow_tables_to_appear_in_same_query!(
    units,
    unit_successors,
    categories,
    holidays,
    obligations
);
