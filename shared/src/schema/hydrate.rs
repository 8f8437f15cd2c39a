//! Hydrators for values other clients may store differently from us (text objects for strings;
//! ints, unsigned ints, timestamps or whole floats for numbers), used through `#[autosurgeon(hydrate)]`.

use automerge::{ObjId, ObjType, ScalarValue, Value};
use autosurgeon::{HydrateError, Prop, ReadDoc};

fn scalar_text(s: &ScalarValue) -> Option<String> {
    match s {
        ScalarValue::Str(s) => Some(s.to_string()),
        _ => None,
    }
}

pub fn text<D: ReadDoc>(doc: &D, obj: &ObjId, prop: Prop<'_>) -> Result<String, HydrateError> {
    opt_text(doc, obj, prop)?.ok_or_else(|| HydrateError::unexpected("text", "nothing".into()))
}

pub fn opt_text<D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    prop: Prop<'_>,
) -> Result<Option<String>, HydrateError> {
    match doc.get(obj, &prop)? {
        None => Ok(None),
        Some((Value::Scalar(s), _)) if matches!(s.as_ref(), ScalarValue::Null) => Ok(None),
        Some((Value::Scalar(s), _)) => scalar_text(s.as_ref())
            .map(Some)
            .ok_or_else(|| HydrateError::unexpected("text", format!("{s:?}"))),
        Some((Value::Object(ObjType::Text), id)) => Ok(Some(doc.text(&id)?)),
        Some((Value::Object(t), _)) => Err(HydrateError::unexpected("text", format!("{t:?}"))),
    }
}

pub fn text_list<D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    prop: Prop<'_>,
) -> Result<Vec<String>, HydrateError> {
    match doc.get(obj, &prop)? {
        None => Ok(Vec::new()),
        Some((Value::Object(ObjType::List), list)) => (0..doc.length(&list))
            .map(|i| text(doc, &list, i.into()))
            .collect(),
        Some((v, _)) => Err(HydrateError::unexpected("a list", format!("{v:?}"))),
    }
}

pub fn int<D: ReadDoc>(doc: &D, obj: &ObjId, prop: Prop<'_>) -> Result<i64, HydrateError> {
    opt_int(doc, obj, prop)?.ok_or_else(|| HydrateError::unexpected("a number", "nothing".into()))
}

pub fn opt_int<D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    prop: Prop<'_>,
) -> Result<Option<i64>, HydrateError> {
    let bad = |v: String| HydrateError::unexpected("a whole number", v);
    match doc.get(obj, &prop)? {
        None => Ok(None),
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Null => Ok(None),
            ScalarValue::Int(i) | ScalarValue::Timestamp(i) => Ok(Some(*i)),
            ScalarValue::Uint(u) => i64::try_from(*u).map(Some).map_err(|_| bad(u.to_string())),
            ScalarValue::F64(f) if f.fract() == 0.0 && f.abs() < 9e15 => Ok(Some(*f as i64)),
            // Version 1 wrote a task's `order` as a decimal string.
            ScalarValue::Str(t) => t.parse().map(Some).map_err(|_| bad(t.to_string())),
            other => Err(bad(format!("{other:?}"))),
        },
        Some((v, _)) => Err(bad(format!("{v:?}"))),
    }
}

pub fn opt_f64<D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    prop: Prop<'_>,
) -> Result<Option<f64>, HydrateError> {
    match doc.get(obj, &prop)? {
        None => Ok(None),
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Null => Ok(None),
            ScalarValue::F64(f) if f.is_finite() => Ok(Some(*f)),
            ScalarValue::Int(i) => Ok(Some(*i as f64)),
            ScalarValue::Uint(u) => Ok(Some(*u as f64)),
            other => Err(HydrateError::unexpected("a number", format!("{other:?}"))),
        },
        Some((v, _)) => Err(HydrateError::unexpected("a number", format!("{v:?}"))),
    }
}

pub fn bool<D: ReadDoc>(doc: &D, obj: &ObjId, prop: Prop<'_>) -> Result<bool, HydrateError> {
    match doc.get(obj, &prop)? {
        None => Ok(false),
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Null => Ok(false),
            ScalarValue::Boolean(b) => Ok(*b),
            other => Err(HydrateError::unexpected("true/false", format!("{other:?}"))),
        },
        Some((v, _)) => Err(HydrateError::unexpected("true/false", format!("{v:?}"))),
    }
}

/// A domain word (`shared::vocab`) stored as a string or a text object. One generic path through
/// [`text`] for every word type: autosurgeon's own `Hydrate` would add a copy of its dispatch per
/// type to the phone's download.
pub fn word<D: ReadDoc, T: for<'a> From<&'a str>>(
    doc: &D,
    obj: &ObjId,
    prop: Prop<'_>,
) -> Result<T, HydrateError> {
    text(doc, obj, prop).map(|s| T::from(s.as_str()))
}

/// [`word`] for an optional field.
pub fn opt_word<D: ReadDoc, T: for<'a> From<&'a str>>(
    doc: &D,
    obj: &ObjId,
    prop: Prop<'_>,
) -> Result<Option<T>, HydrateError> {
    Ok(opt_text(doc, obj, prop)?.map(|s| T::from(s.as_str())))
}
