//! URL slugs: lowercase ASCII words joined by `-`, transliterated from any
//! script (deunicode via the `slug` crate), made unique with `-2`, `-3`.

pub const MAX_LEN: usize = 120;

/// The slug for a text, or `None` when nothing sluggable is left.
pub fn slugify(text: &str) -> Option<String> {
    let s = slug::slugify(text);
    let mut s: String = s.chars().take(MAX_LEN).collect();
    while s.ends_with('-') {
        s.pop();
    }
    (!s.is_empty()).then_some(s)
}

/// Whether a client-chosen slug is already in canonical form.
pub fn is_valid(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= MAX_LEN
        && slug.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// The first of `base`, `base-2`, `base-3`, ... not in `taken`.
pub fn first_free(base: &str, taken: &[String]) -> String {
    if !taken.iter().any(|t| t == base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|candidate| !taken.iter().any(|t| t == candidate))
        .unwrap_or_else(|| base.to_string())
}

/// The `LIKE` pattern that finds `base` and its numbered variants.
pub fn variants_pattern(base: &str) -> String {
    format!("{base}-%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_ascii_and_unique() {
        assert_eq!(
            slugify("Fighting for Freedom: U.S. & South Korea").as_deref(),
            Some("fighting-for-freedom-u-s-south-korea")
        );
        assert_eq!(
            slugify("Ürümqi Öl Straße").as_deref(),
            Some("urumqi-ol-strasse")
        );
        assert_eq!(slugify("北京").as_deref(), Some("bei-jing"));
        assert_eq!(slugify("!!!"), None);
        assert_eq!(first_free("a", &["a".into(), "a-2".into()]), "a-3");
        assert!(is_valid("a-b-3"));
        assert!(!is_valid("A-b"));
        assert!(!is_valid("a--b"));
    }
}
