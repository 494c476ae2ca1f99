//! Text written into files that people open in spreadsheets.

use std::borrow::Cow;

/// A text cell of a CSV file, safe to open in a spreadsheet: text that begins with `=`, `+`,
/// `-`, `@`, a tab or a carriage return gets a leading `'`, so that it is shown as text
/// instead of being run as a formula (OWASP's advice on CSV injection). Numeric columns are
/// written as they are: a negative number is not a formula.
pub fn csv_text(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::csv_text;

    #[test]
    fn text_that_a_spreadsheet_would_run_gets_a_leading_apostrophe() {
        for (text, cell) in [
            (
                r#"=HYPERLINK("https://evil.example","Sở Test")"#,
                r#"'=HYPERLINK("https://evil.example","Sở Test")"#,
            ),
            ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
        ] {
            assert_eq!(csv_text(text), cell, "{text:?}");
        }
    }

    #[test]
    fn other_text_is_written_as_it_is() {
        for text in [
            "Sở Khoa học và Công nghệ",
            "so-khcn",
            "a=b",
            " =1",
            "'=1",
            "",
        ] {
            assert_eq!(csv_text(text), text, "{text:?}");
        }
    }
}
