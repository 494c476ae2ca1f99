//! Folding Vietnamese text so that searches ignore case, tones and vowel marks.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Lower-case hex of the SHA-256 of `bytes`: access keys and request fingerprints are kept
/// this way.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Folds text for accent-insensitive search: lowercase, tone and vowel marks removed, đ→d, whitespace collapsed.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    // Lowercase before decomposing: a few capitals (e.g. 'İ') lowercase into a
    // base letter plus a combining mark, which must then be dropped too.
    let letters = s
        .chars()
        .flat_map(char::to_lowercase)
        .nfd()
        .filter(|c| !is_combining_mark(*c));
    for c in letters {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        // 'đ' is a letter of its own in Unicode, not 'd' plus a mark, so NFD keeps it.
        out.push(if c == 'đ' { 'd' } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn strips_tones_and_maps_d_with_stroke() {
        assert_eq!(fold("Đồng Xoài"), "dong xoai");
        assert_eq!(fold("Tuyển dụng"), "tuyen dung");
        assert_eq!(fold("đường ĐẠI LỘ"), "duong dai lo");
    }

    #[test]
    fn collapses_and_trims_whitespace() {
        assert_eq!(fold("  THÔNG   báo\tmới "), "thong bao moi");
        assert_eq!(fold("a\n\r\u{00A0} b"), "a b");
        assert_eq!(fold(" \t "), "");
        assert_eq!(fold(""), "");
    }

    #[test]
    fn ascii_is_only_lowercased() {
        assert_eq!(fold("Binh Phuoc 2024"), "binh phuoc 2024");
    }

    #[test]
    fn precomposed_and_decomposed_input_fold_alike() {
        let precomposed = "Nguyễn Thị Ánh";
        let decomposed: String =
            unicode_normalization::UnicodeNormalization::nfd(precomposed).collect();
        assert_ne!(precomposed, decomposed);
        assert_eq!(fold(precomposed), fold(&decomposed));
        assert_eq!(fold(&decomposed), "nguyen thi anh");
    }

    #[test]
    fn every_vowel_with_every_tone_folds_to_a_plain_vowel() {
        let lower = "ạảãàá ặẳẵằắ ậẩẫầấ ẹẻẽèé ệểễềế ịỉĩìí ọỏõòó ộổỗồố ợởỡờớ ụủũùú ựửữừứ ỵỷỹỳý";
        for s in [lower.to_string(), lower.to_uppercase()] {
            let folded = fold(&s);
            assert!(
                folded.chars().all(|c| "aeiouy ".contains(c)),
                "{s} folded to {folded}"
            );
            assert_eq!(folded.split(' ').count(), 12);
        }
        assert_eq!(fold("ăâêôơư ĂÂÊÔƠƯ"), "aaeoou aaeoou");
    }
}
