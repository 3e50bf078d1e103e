//! A small JSON Schema validator: the subset pakn's event schemas use
//! (`type`, `const`, `enum`, `required`, `properties`,
//! `additionalProperties: false`, `items`, `anyOf`, `minimum`, `minItems`,
//! `format: date-time | date`). Written here rather than pulling a full
//! validator and its regex engine into every test build; a schema keyword
//! it does not know is an error, so a schema can never silently check less
//! than it says.

use serde_json::Value;

/// `Ok` if `v` is valid against `schema`, else the first violation with its path.
pub fn validate(schema: &Value, v: &Value) -> Result<(), String> {
    check(schema, v, "$")
}

const KNOWN: &[&str] = &[
    "$schema",
    "$id",
    "title",
    "description",
    "examples",
    "type",
    "const",
    "enum",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "anyOf",
    "minimum",
    "minItems",
    "format",
];

fn check(schema: &Value, v: &Value, path: &str) -> Result<(), String> {
    let Some(s) = schema.as_object() else {
        return Err(format!("{path}: a schema must be an object"));
    };
    if let Some(k) = s.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(format!("{path}: unsupported schema keyword '{k}'"));
    }
    if let Some(t) = s.get("type") {
        let types: Vec<&str> = match t {
            Value::String(x) => vec![x.as_str()],
            Value::Array(a) => a.iter().filter_map(|x| x.as_str()).collect(),
            _ => return Err(format!("{path}: bad 'type'")),
        };
        if !types.iter().any(|t| has_type(v, t)) {
            return Err(format!("{path}: expected {types:?}, got {v}"));
        }
    }
    if let Some(c) = s.get("const") {
        if c != v {
            return Err(format!("{path}: expected {c}, got {v}"));
        }
    }
    if let Some(Value::Array(options)) = s.get("enum") {
        if !options.contains(v) {
            return Err(format!("{path}: {v} is not one of {options:?}"));
        }
    }
    if let (Some(min), Some(x)) = (s.get("minimum").and_then(Value::as_f64), v.as_f64()) {
        if x < min {
            return Err(format!("{path}: {x} < {min}"));
        }
    }
    if let (Some(f), Some(x)) = (s.get("format").and_then(Value::as_str), v.as_str()) {
        let ok = match f {
            "date-time" => chrono::DateTime::parse_from_rfc3339(x).is_ok(),
            "date" => chrono::NaiveDate::parse_from_str(x, "%Y-%m-%d").is_ok(),
            other => return Err(format!("{path}: unsupported format '{other}'")),
        };
        if !ok {
            return Err(format!("{path}: '{x}' is not a {f}"));
        }
    }
    if let Some(Value::Array(options)) = s.get("anyOf") {
        let errors: Vec<String> = options
            .iter()
            .filter_map(|o| check(o, v, path).err())
            .collect();
        if errors.len() == options.len() {
            return Err(format!("{path}: matches none of anyOf: {errors:?}"));
        }
    }
    if let Value::Object(o) = v {
        for r in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = r.as_str().unwrap_or_default();
            if !o.contains_key(r) {
                return Err(format!("{path}: missing required '{r}'"));
            }
        }
        let props = s.get("properties").and_then(Value::as_object);
        for (k, x) in o {
            match props.and_then(|p| p.get(k)) {
                Some(ps) => check(ps, x, &format!("{path}.{k}"))?,
                None if s.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    return Err(format!("{path}: undocumented property '{k}'"));
                }
                None => {}
            }
        }
    }
    if let Value::Array(a) = v {
        if let Some(min) = s.get("minItems").and_then(Value::as_u64) {
            if (a.len() as u64) < min {
                return Err(format!("{path}: fewer than {min} items"));
            }
        }
        if let Some(items) = s.get("items") {
            for (i, x) in a.iter().enumerate() {
                check(items, x, &format!("{path}[{i}]"))?;
            }
        }
    }
    Ok(())
}

fn has_type(v: &Value, t: &str) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn checks_the_keywords_it_knows() {
        let s = json!({"type": "object", "required": ["a"], "additionalProperties": false,
            "properties": {"a": {"type": "integer", "minimum": 1},
                           "b": {"type": ["string", "null"], "format": "date-time"},
                           "c": {"type": "array", "minItems": 1, "items": {"enum": ["x", "y"]}},
                           "d": {"anyOf": [{"const": 1}, {"type": "string"}]}}});
        assert!(validate(&s, &json!({"a": 1, "b": null, "c": ["x"], "d": "z"})).is_ok());
        assert!(validate(&s, &json!({"a": 1, "b": "2026-12-03T04:05:06Z", "d": 1})).is_ok());
        for bad in [
            json!({}),
            json!({"a": 0}),
            json!({"a": 1.5}),
            json!({"a": 1, "b": "yesterday"}),
            json!({"a": 1, "c": []}),
            json!({"a": 1, "c": ["z"]}),
            json!({"a": 1, "d": 2}),
            json!({"a": 1, "e": true}),
            json!([1]),
        ] {
            assert!(validate(&s, &bad).is_err(), "{bad} passed");
        }
        assert!(
            validate(&json!({"pattern": "x"}), &json!("x")).is_err(),
            "unknown keyword"
        );
    }

    #[test]
    fn every_event_schema_accepts_its_own_vietnamese_example() {
        for (event, _) in pakn_api::routes::events::SCHEMAS {
            let s = pakn_api::routes::events::schema(event).unwrap();
            let example = &s["examples"][0];
            assert_eq!(example["body"]["schema_version"], 1, "{event}");
            validate(s, example).unwrap_or_else(|e| panic!("{event}: {e}"));
        }
    }
}
