//! The one diesel schema shared by both backends. Only portable SQL types
//! appear here; backend-only columns (PostgreSQL's `search_vector`, SQLite's
//! `articles_fts` table) are reached through `db::search` instead.

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        name -> Text,
        slug -> Text,
        role -> Text,
        bio -> Nullable<Text>,
        avatar_url -> Nullable<Text>,
        password_hash -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        /// Bumped on a password change; access tokens of an older version are refused.
        token_version -> BigInt,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        family_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        created_at -> Timestamp,
        rotated_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    articles (id) {
        id -> BigInt,
        slug -> Text,
        title -> Text,
        subtitle -> Nullable<Text>,
        custom_excerpt -> Nullable<Text>,
        excerpt -> Text,
        body -> Text,
        body_format -> Text,
        body_html -> Text,
        body_text -> Text,
        status -> Text,
        published_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        feature_image -> Nullable<Text>,
        reading_time_minutes -> Integer,
        comments_enabled -> Bool,
        meta_title -> Nullable<Text>,
        meta_description -> Nullable<Text>,
        canonical_url -> Nullable<Text>,
        author_id -> BigInt,
        view_count -> BigInt,
        comment_count -> BigInt,
        /// A picture of the media library (then `feature_image` is NULL).
        feature_image_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    tags (id) {
        id -> BigInt,
        slug -> Text,
        name -> Text,
        description -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    article_tags (article_id, tag_id) {
        article_id -> BigInt,
        tag_id -> BigInt,
        position -> Integer,
        /// Copy of the article's status, kept by triggers (for tag counts).
        article_status -> Text,
        /// Copy of the article's published_at, kept by triggers.
        article_published_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    article_revisions (id) {
        id -> BigInt,
        article_id -> BigInt,
        version -> BigInt,
        title -> Text,
        editor_id -> Nullable<BigInt>,
        snapshot -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    slug_redirects (slug) {
        slug -> Text,
        article_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    comments (id) {
        id -> BigInt,
        article_id -> BigInt,
        parent_id -> Nullable<BigInt>,
        author_id -> BigInt,
        body -> Text,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    article_daily_stats (article_id, day) {
        article_id -> BigInt,
        day -> Date,
        views -> BigInt,
        comments -> BigInt,
    }
}

diesel::table! {
    /// The durable event log (see `events`).
    events (id) {
        id -> BigInt,
        #[sql_name = "type"]
        kind -> Text,
        subject -> Text,
        data -> Text,
        purge_keys -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Events of committed writes waiting for their place in `events`
    /// (PostgreSQL; see `events::queries::sequence`).
    event_outbox (id) {
        id -> BigInt,
        #[sql_name = "type"]
        kind -> Text,
        subject -> Text,
        data -> Text,
        purge_keys -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    integrations (id) {
        id -> BigInt,
        name -> Text,
        scopes -> Text,
        key_prefix -> Text,
        key_hash -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Scheduled articles whose `article.published` has not fired yet.
    scheduled_articles (article_id) {
        article_id -> BigInt,
        publish_at -> Timestamp,
    }
}

diesel::table! {
    webhooks (id) {
        id -> BigInt,
        url -> Text,
        events -> Text,
        secret -> Text,
        active -> Bool,
        last_event_id -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        webhook_id -> BigInt,
        event_id -> BigInt,
        event_type -> Text,
        subject -> Text,
        purge_keys -> Text,
        attempt -> Integer,
        status -> Text,
        response_status -> Nullable<Integer>,
        duration_ms -> Nullable<BigInt>,
        error -> Nullable<Text>,
        next_attempt_at -> Nullable<Timestamp>,
        lease_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    article_previews (id) {
        id -> BigInt,
        article_id -> BigInt,
        token_hash -> Text,
        version -> Nullable<BigInt>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    media (id) {
        id -> BigInt,
        /// SHA-256 (hex) of the uploaded bytes: where the files are kept.
        hash -> Text,
        mime_type -> Text,
        width -> Integer,
        height -> Integer,
        bytes -> BigInt,
        rendition_widths -> Text,
        alt -> Text,
        caption -> Nullable<Text>,
        credit -> Nullable<Text>,
        focal_x -> Nullable<Double>,
        focal_y -> Nullable<Double>,
        uploaded_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Old URLs and where they lead: an article or a fixed location.
    redirects (id) {
        id -> BigInt,
        from_path -> Text,
        article_id -> Nullable<BigInt>,
        location -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// What an import made from which source row.
    imports (source, kind, source_id) {
        source -> Text,
        kind -> Text,
        source_id -> Text,
        target_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(articles -> users (author_id));
diesel::joinable!(article_tags -> articles (article_id));
diesel::joinable!(article_tags -> tags (tag_id));
diesel::joinable!(article_revisions -> articles (article_id));
diesel::joinable!(slug_redirects -> articles (article_id));
diesel::joinable!(comments -> articles (article_id));
diesel::joinable!(comments -> users (author_id));
diesel::joinable!(article_daily_stats -> articles (article_id));
diesel::joinable!(scheduled_articles -> articles (article_id));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
diesel::joinable!(article_previews -> articles (article_id));

diesel::joinable!(media -> users (uploaded_by));
diesel::joinable!(redirects -> articles (article_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    refresh_tokens,
    articles,
    tags,
    article_tags,
    article_revisions,
    slug_redirects,
    comments,
    article_daily_stats,
    events,
    event_outbox,
    scheduled_articles,
    webhooks,
    webhook_deliveries,
    integrations,
    article_previews,
    media,
    redirects,
    imports,
);
