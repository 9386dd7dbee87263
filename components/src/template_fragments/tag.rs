//! `cache(timeout, name, vary_on…, using="alias")`: the template function a `{% call %}` block
//! wraps a fragment in, with the argument rules of Django's `{% cache %}` tag.

use cache_core::{Cache, Caches, Timeout};
use md5::{Digest, Md5};
use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

use crate::rendering::markers;
use crate::rendering::template::{scope, slot_content};
use crate::template_fragments::PendingTemplateFragment;
use crate::template_fragments::key::{hash_value, key_of};

/// The alias fragments go to when the call doesn't say `using=`, if it is configured (else
/// `default`), as in Django.
pub const TEMPLATE_FRAGMENTS_ALIAS: &str = "template_fragments";

const USAGE: &str = "write {% call cache(300, \"sidebar\", user.id) %}…{% endcall %}: \
                     a timeout in seconds (or none: forever), the fragment's name, then the values it varies on";

/// Renders the block's body now (its components are only markers), records it with its key, alias
/// and timeout, and prints its marker: the fragment is looked up once the template is done.
pub(crate) fn cache(state: &mut State, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let scope = scope(state, "cache()")?;
    let (timeout, name, vary_on) = match args.0.as_slice() {
        [timeout, name, vary_on @ ..] => (timeout, name, vary_on),
        _ => return Err(invalid(format!("cache() takes at least a timeout and a name; {USAGE}"))),
    };
    let name = name.as_str().ok_or_else(|| {
        invalid(format!(
            "cache(): the fragment name must be a string, got {name}; {USAGE}"
        ))
    })?;
    let timeout = timeout_of(timeout)?;
    if let Some(unknown) = kwargs.args().find(|arg| !matches!(*arg, "using" | "caller")) {
        return Err(invalid(format!(
            "cache() takes no argument `{unknown}=` (only `using=\"alias\"`); {USAGE}"
        )));
    }
    // `peek::<Option<_>>` would read an undefined variable as "not given": Django refuses it.
    let using = if kwargs.has("using") {
        Some(kwargs.peek::<Value>("using")?)
    } else {
        None
    };
    let cache = alias(&scope.page.state.caches, using)?;
    let Some(caller) = kwargs.peek::<Option<Value>>("caller")? else {
        return Err(invalid(format!("cache() wraps what it caches: {USAGE}")));
    };

    let mut hasher = Md5::new();
    for value in vary_on {
        // minijinja prints none, booleans, integers and ordinary floats as Python's str() does
        // (not lists, maps, NaN or exponent-form floats: see the README).
        hash_value(&mut hasher, &value.to_string());
    }
    let body = slot_content(&caller.call(state, &[])?);
    let n = scope.page.add_template_fragment(PendingTemplateFragment {
        key: key_of(name, hasher),
        cache,
        timeout,
        body,
    });
    Ok(Value::from_safe_string(markers::template_fragment_marker(n)))
}

/// The alias `using=` names, else [`TEMPLATE_FRAGMENTS_ALIAS`] when configured, else `default`.
fn alias(caches: &Caches, using: Option<Value>) -> Result<Cache, Error> {
    let Some(using) = using else {
        // Not `caches.get`: its error, built on every render without the alias, lists every alias.
        let configured = caches.all().find(|cache| cache.alias() == TEMPLATE_FRAGMENTS_ALIAS);
        return Ok(configured.cloned().unwrap_or_else(|| caches.default_cache()));
    };
    let alias = using.as_str().ok_or_else(|| {
        invalid(format!(
            "cache(…, using=…): `using` must name a cache alias, e.g. using=\"fragments\", got {}",
            if using.is_undefined() {
                "an undefined variable".to_owned()
            } else {
                format!("{using:?}")
            }
        ))
    })?;
    caches.get(alias).map_err(|error| {
        invalid(format!(
            "cache(…, using=\"{alias}\"): {error}; add `[caches.{alias}]` to the configuration or name a configured alias"
        ))
    })
}

/// The timeout as Django's tag reads it: `None` is forever, anything else goes through Python's
/// `int()` — an integer, a float cut toward zero, a boolean as 1 or 0, a string of an integer —
/// and whatever `int()` refuses is an error. Zero or less is passed on, as Django does: the
/// fragment is rendered and nothing readable is stored.
fn timeout_of(value: &Value) -> Result<Timeout, Error> {
    let seconds = match value.kind() {
        ValueKind::None => return Ok(Timeout::Never),
        ValueKind::Undefined => {
            return Err(invalid(format!(
                "cache(): the timeout is an undefined variable; {USAGE}"
            )));
        }
        ValueKind::Bool => Some(f64::from(u8::from(value.is_true()))),
        ValueKind::Number => value.as_i64().map(|seconds| seconds as f64).or_else(|| {
            f64::try_from(value.clone())
                .ok()
                .filter(|seconds| seconds.is_finite())
                .map(f64::trunc)
        }),
        ValueKind::String => value.as_str().and_then(python_int).map(|seconds| seconds as f64),
        _ => None,
    };
    seconds.map(Timeout::Seconds).ok_or_else(|| {
        invalid(format!(
            "cache() got a non-integer timeout value: {value:?} (Django's {{% cache %}} refuses it too); {USAGE}"
        ))
    })
}

/// Python's `int(text)` for a string: surrounding whitespace, a sign, ASCII digits with single
/// underscores between them; `None` where Python raises (or the value doesn't fit an `i64`).
fn python_int(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let well_formed = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    if !well_formed {
        return None;
    }
    let magnitude: i64 = digits.replace('_', "").parse().ok()?;
    Some(if negative { -magnitude } else { magnitude })
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_follow_pythons_int() {
        let seconds = |value: Value| match timeout_of(&value) {
            Ok(Timeout::Seconds(s)) => Some(s),
            Ok(other) => panic!("{other:?}"),
            Err(_) => None,
        };
        assert!(matches!(timeout_of(&Value::from(())), Ok(Timeout::Never)));
        assert_eq!(seconds(Value::from(300)), Some(300.0));
        assert_eq!(seconds(Value::from(3.9)), Some(3.0), "int(3.9) == 3");
        assert_eq!(seconds(Value::from(-0.5)), Some(0.0));
        assert_eq!(seconds(Value::from(true)), Some(1.0), "int(True) == 1");
        assert_eq!(seconds(Value::from(" +1_000 ")), Some(1000.0));
        assert_eq!(seconds(Value::from("-5")), Some(-5.0));
        assert_eq!(seconds(Value::from(0)), Some(0.0));
        for refused in [
            Value::from("3.5"),
            Value::from("ten"),
            Value::from(""),
            Value::from("1__0"),
            Value::from(f64::NAN),
            Value::from(f64::INFINITY),
            Value::from(vec![1]),
            Value::UNDEFINED,
        ] {
            let error = timeout_of(&refused).expect_err("refused");
            assert!(error.to_string().contains("cache()"), "{error}");
        }
    }

    #[test]
    fn values_print_as_pythons_str() {
        let printed: Vec<String> = [
            Value::from(()),
            Value::from(true),
            Value::from(1.5),
            Value::from(2.0),
            Value::UNDEFINED,
        ]
        .iter()
        .map(Value::to_string)
        .collect();
        assert_eq!(printed, ["None", "True", "1.5", "2.0", ""]);
    }
}
