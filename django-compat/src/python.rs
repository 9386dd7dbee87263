//! A Django settings module's `CACHES = {…}` as JSON: Python's literals (strings in either quote,
//! `True`/`False`/`None`, tuples, trailing commas, `#` comments) rewritten as JSON's, so the
//! snippet users paste from their `settings.py` is tested as written.

/// The JSON for the Python literal after `CACHES =` in `settings` (the whole text when there is
/// no `CACHES =`). Only literals are understood: names other than `True`, `False` and `None` are
/// kept as they are, so JSON parsing fails on them.
pub fn settings_to_json(settings: &str) -> String {
    let literal = settings
        .split_once("CACHES =")
        .map_or(settings, |(_, literal)| literal)
        .trim();
    let mut json = String::with_capacity(literal.len());
    let mut chars = literal.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '#' => {
                for skipped in chars.by_ref() {
                    if skipped == '\n' {
                        break;
                    }
                }
                json.push('\n');
            }
            '"' | '\'' => {
                json.push('"');
                while let Some(inner) = chars.next() {
                    match inner {
                        '\\' => {
                            json.push('\\');
                            if let Some(escaped) = chars.next() {
                                json.push(escaped);
                            }
                        }
                        '"' if c == '\'' => json.push_str("\\\""),
                        end if end == c => break,
                        other => json.push(other),
                    }
                }
                json.push('"');
            }
            '}' | ']' | ')' => {
                // Python allows a comma before a closing bracket; JSON doesn't.
                let kept = json.trim_end().len();
                if json[..kept].ends_with(',') {
                    json.truncate(kept - 1);
                }
                json.push(if c == ')' { ']' } else { c });
            }
            '(' => json.push('['),
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut word = String::from(c);
                while let Some(&next) = chars.peek() {
                    if next.is_ascii_alphanumeric() || next == '_' || next == '.' {
                        word.push(next);
                        chars.next();
                    } else {
                        break;
                    }
                }
                json.push_str(match word.as_str() {
                    "True" => "true",
                    "False" => "false",
                    "None" => "null",
                    other => other,
                });
            }
            other => json.push(other),
        }
    }
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_literals_become_json() {
        let settings = r#"
CACHES = {
    'default': {  # the only alias
        "BACKEND": 'django_redis.cache.RedisCache',
        "OPTIONS": {"A": True, "B": None, "C": False, "D": -1, "E": ("h", 26379), 'F': 'say"hi"',},
    },
}
"#;
        let json = settings_to_json(settings);
        let expected = r#"{"default":{"BACKEND":"django_redis.cache.RedisCache","OPTIONS":{"A":true,"B":null,"C":false,"D":-1,"E":["h",26379],"F":"say\"hi\""}}}"#;
        let squeezed: String = json.split_whitespace().collect();
        assert_eq!(squeezed, expected, "{json}");
    }
}
