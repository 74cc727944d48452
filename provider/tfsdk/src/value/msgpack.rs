//! The msgpack form of values (`DynamicValue.msgpack`), read and written
//! directly against the type, without an intermediate tree.
//!
//! Rules, as Terraform's encoder (cty) applies them:
//! - null is nil; an unknown is any extension (Terraform writes `d4 00 00`,
//!   or type 12 with refinements since 1.6), whatever the type;
//! - lists, sets and tuples are arrays; maps and objects are string-keyed
//!   maps, and an object map holds every attribute (a 0-length map reads as
//!   an empty object, as in cty);
//! - a `dynamic` position holds `[type JSON, value]`, or nil, or a bare
//!   extension for a value of unknown type;
//! - numbers are any integer or float format, or decimal text.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use super::MAX_DEPTH;
use super::error::{DecodeError, DecodeErrorKind, EncodeError, EncodeErrorKind, Step};
use super::number::{Decimal, Number, NumberError};
use super::types::Type;
use super::values::{Value, check_attributes, dedupe, kept_set_elements};

/// Decodes msgpack `bytes` holding a value of type `ty`.
pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    let mut reader = Reader { rest: bytes };
    let value = decode(&mut reader, ty, 0)?;
    if !reader.rest.is_empty() {
        return Err(DecodeError::new(DecodeErrorKind::TrailingBytes(
            reader.rest.len(),
        )));
    }
    Ok(value)
}

/// Encodes `value` as msgpack with type `ty`. Numbers are written in the
/// form they have; set elements that are wholly known and equal are merged.
pub fn encode_msgpack(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    encode(&mut out, value, ty, 0)?;
    Ok(out)
}

/// One msgpack item with its payload if it is a scalar, or its length if it
/// is a collection (whose items follow).
#[derive(Clone, Copy, Debug)]
enum Head<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(&'a [u8]),
    Bin(&'a [u8]),
    Array(usize),
    Map(usize),
    /// Any extension type; its payload is skipped.
    Ext,
}

impl Head<'_> {
    fn name(&self) -> &'static str {
        match self {
            Head::Nil => "nil",
            Head::Bool(_) => "bool",
            Head::Int(_) | Head::UInt(_) => "integer",
            Head::Float(_) => "float",
            Head::Str(_) => "string",
            Head::Bin(_) => "binary",
            Head::Array(_) => "array",
            Head::Map(_) => "map",
            Head::Ext => "extension",
        }
    }
}

struct Reader<'a> {
    rest: &'a [u8],
}

fn eof() -> DecodeError {
    DecodeError::new(DecodeErrorKind::UnexpectedEof)
}

/// A 32-bit length from the input; on 16-bit targets it saturates and the
/// read that follows fails for lack of input.
fn len32(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let (head, tail) = self.rest.split_at_checked(n).ok_or_else(eof)?;
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        <[u8; N]>::try_from(self.take(N)?).map_err(|_| eof())
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// Skips an extension's type byte and `len` bytes of payload.
    fn skip_ext(&mut self, len: usize) -> Result<Head<'a>, DecodeError> {
        self.take(len.saturating_add(1))?;
        Ok(Head::Ext)
    }

    fn head(&mut self) -> Result<Head<'a>, DecodeError> {
        let marker = self.u8()?;
        Ok(match marker {
            0x00..=0x7f => Head::Int(i64::from(marker)),
            0x80..=0x8f => Head::Map(usize::from(marker & 0x0f)),
            0x90..=0x9f => Head::Array(usize::from(marker & 0x0f)),
            0xa0..=0xbf => Head::Str(self.take(usize::from(marker & 0x1f))?),
            0xc0 => Head::Nil,
            0xc1 => return Err(DecodeError::new(DecodeErrorKind::ReservedByte)),
            0xc2 => Head::Bool(false),
            0xc3 => Head::Bool(true),
            0xc4 => {
                let n = self.u8()?;
                Head::Bin(self.take(usize::from(n))?)
            }
            0xc5 => {
                let n = self.u16()?;
                Head::Bin(self.take(usize::from(n))?)
            }
            0xc6 => {
                let n = self.u32()?;
                Head::Bin(self.take(len32(n))?)
            }
            0xc7 => {
                let n = self.u8()?;
                self.skip_ext(usize::from(n))?
            }
            0xc8 => {
                let n = self.u16()?;
                self.skip_ext(usize::from(n))?
            }
            0xc9 => {
                let n = self.u32()?;
                self.skip_ext(len32(n))?
            }
            0xca => Head::Float(f64::from(f32::from_be_bytes(self.array()?))),
            0xcb => Head::Float(f64::from_be_bytes(self.array()?)),
            0xcc => Head::Int(i64::from(self.u8()?)),
            0xcd => Head::Int(i64::from(self.u16()?)),
            0xce => Head::Int(i64::from(self.u32()?)),
            0xcf => {
                let u = u64::from_be_bytes(self.array()?);
                match i64::try_from(u) {
                    Ok(i) => Head::Int(i),
                    Err(_) => Head::UInt(u),
                }
            }
            0xd0 => Head::Int(i64::from(i8::from_be_bytes(self.array()?))),
            0xd1 => Head::Int(i64::from(i16::from_be_bytes(self.array()?))),
            0xd2 => Head::Int(i64::from(i32::from_be_bytes(self.array()?))),
            0xd3 => Head::Int(i64::from_be_bytes(self.array()?)),
            0xd4 => self.skip_ext(1)?,
            0xd5 => self.skip_ext(2)?,
            0xd6 => self.skip_ext(4)?,
            0xd7 => self.skip_ext(8)?,
            0xd8 => self.skip_ext(16)?,
            0xd9 => {
                let n = self.u8()?;
                Head::Str(self.take(usize::from(n))?)
            }
            0xda => {
                let n = self.u16()?;
                Head::Str(self.take(usize::from(n))?)
            }
            0xdb => {
                let n = self.u32()?;
                Head::Str(self.take(len32(n))?)
            }
            0xdc => Head::Array(usize::from(self.u16()?)),
            0xdd => Head::Array(len32(self.u32()?)),
            0xde => Head::Map(usize::from(self.u16()?)),
            0xdf => Head::Map(len32(self.u32()?)),
            0xe0..=0xff => Head::Int(i64::from(i8::from_be_bytes([marker]))),
        })
    }

    /// Room for at most this many more items: each takes at least a byte,
    /// so a hostile length cannot make us reserve more than the input size.
    fn capacity_for(&self, n: usize) -> usize {
        n.min(self.rest.len())
    }
}

fn text(bytes: &[u8]) -> Result<&str, DecodeError> {
    std::str::from_utf8(bytes).map_err(|_| DecodeError::new(DecodeErrorKind::InvalidUtf8))
}

/// A map key or object attribute name (cty also reads binary as a string).
fn read_key(reader: &mut Reader<'_>) -> Result<String, DecodeError> {
    match reader.head()? {
        Head::Str(b) | Head::Bin(b) => Ok(text(b)?.to_owned()),
        other => Err(DecodeError::mismatch("a string key", other.name())),
    }
}

fn decode(reader: &mut Reader<'_>, ty: &Type, depth: usize) -> Result<Value, DecodeError> {
    if depth > MAX_DEPTH {
        return Err(DecodeError::new(DecodeErrorKind::TooDeep(MAX_DEPTH)));
    }
    let head = reader.head()?;
    match head {
        Head::Ext => return Ok(Value::Unknown),
        Head::Nil => return Ok(Value::Null),
        _ => {}
    }
    match ty {
        Type::String => match head {
            Head::Str(b) | Head::Bin(b) => Ok(Value::String(text(b)?.to_owned())),
            other => Err(DecodeError::mismatch("string", other.name())),
        },
        Type::Number => decode_number(head).map(Value::Number),
        Type::Bool => match head {
            Head::Bool(b) => Ok(Value::Bool(b)),
            other => Err(DecodeError::mismatch("bool", other.name())),
        },
        Type::List(element) => {
            let Head::Array(n) = head else {
                return Err(DecodeError::mismatch("list", head.name()));
            };
            let mut items = Vec::with_capacity(reader.capacity_for(n));
            for i in 0..n {
                let item =
                    decode(reader, element, depth + 1).map_err(|e| e.within(Step::Index(i)))?;
                items.push(item);
            }
            Ok(Value::List(items))
        }
        Type::Set(element) => {
            let Head::Array(n) = head else {
                return Err(DecodeError::mismatch("set", head.name()));
            };
            // No path steps inside a set: Terraform cannot address elements.
            let mut items = Vec::with_capacity(reader.capacity_for(n));
            for _ in 0..n {
                items.push(decode(reader, element, depth + 1)?);
            }
            Ok(Value::Set(dedupe(items)))
        }
        Type::Tuple(elements) => {
            let Head::Array(n) = head else {
                return Err(DecodeError::mismatch("tuple", head.name()));
            };
            if n != elements.len() {
                return Err(DecodeError::new(DecodeErrorKind::TupleLength {
                    expected: elements.len(),
                    found: n,
                }));
            }
            let mut items = Vec::with_capacity(n);
            for (i, element) in elements.iter().enumerate() {
                let item =
                    decode(reader, element, depth + 1).map_err(|e| e.within(Step::Index(i)))?;
                items.push(item);
            }
            Ok(Value::Tuple(items))
        }
        Type::Map(element) => {
            let Head::Map(n) = head else {
                return Err(DecodeError::mismatch("map", head.name()));
            };
            let mut entries = BTreeMap::new();
            for _ in 0..n {
                let slot = match entries.entry(read_key(reader)?) {
                    Entry::Occupied(o) => {
                        return Err(DecodeError::new(DecodeErrorKind::DuplicateKey(
                            o.key().clone(),
                        )));
                    }
                    Entry::Vacant(slot) => slot,
                };
                let item = decode(reader, element, depth + 1)
                    .map_err(|e| e.within(Step::Key(slot.key().clone())))?;
                slot.insert(item);
            }
            Ok(Value::Map(entries))
        }
        Type::Object(attribute_types) => {
            let Head::Map(n) = head else {
                return Err(DecodeError::mismatch("object", head.name()));
            };
            let mut attributes = BTreeMap::new();
            for _ in 0..n {
                let name = read_key(reader)?;
                let Some(attribute_type) = attribute_types.get(&name) else {
                    return Err(DecodeError::new(DecodeErrorKind::UnexpectedAttribute(name)));
                };
                let slot = match attributes.entry(name) {
                    Entry::Occupied(o) => {
                        return Err(DecodeError::new(DecodeErrorKind::DuplicateKey(
                            o.key().clone(),
                        )));
                    }
                    Entry::Vacant(slot) => slot,
                };
                let item = decode(reader, attribute_type, depth + 1)
                    .map_err(|e| e.within(Step::Attr(slot.key().clone())))?;
                slot.insert(item);
            }
            // cty reads an empty map as an empty object whatever the type;
            // otherwise every attribute must be present.
            if n > 0
                && let Some(missing) = attribute_types
                    .keys()
                    .find(|name| !attributes.contains_key(*name))
            {
                return Err(DecodeError::new(DecodeErrorKind::MissingAttribute(
                    missing.clone(),
                )));
            }
            Ok(Value::Object(attributes))
        }
        Type::Dynamic => {
            let Head::Array(n) = head else {
                return Err(DecodeError::mismatch(
                    "a [type, value] array for a dynamically-typed value",
                    head.name(),
                ));
            };
            if n != 2 {
                return Err(DecodeError::new(DecodeErrorKind::DynamicShape(n)));
            }
            let type_json = match reader.head()? {
                Head::Bin(b) | Head::Str(b) => b,
                other => return Err(DecodeError::mismatch("type JSON", other.name())),
            };
            let ty = Type::from_json(type_json)
                .map_err(|e| DecodeError::new(DecodeErrorKind::InvalidType(e)))?;
            let value = decode(reader, &ty, depth + 1)?;
            Ok(Value::Dynamic(ty, Box::new(value)))
        }
    }
}

fn decode_number(head: Head<'_>) -> Result<Number, DecodeError> {
    match head {
        Head::Int(i) => Ok(Number::Int(i)),
        Head::UInt(u) => Ok(Number::UInt(u)),
        Head::Float(f) => Ok(Number::from_f64(f).ok_or(NumberError::NaN)?),
        // Kept verbatim so it can be sent back byte for byte.
        Head::Str(b) | Head::Bin(b) => Ok(Number::Decimal(Decimal::new(text(b)?)?)),
        other => Err(DecodeError::mismatch("number", other.name())),
    }
}

fn encode(out: &mut Vec<u8>, value: &Value, ty: &Type, depth: usize) -> Result<(), EncodeError> {
    if depth > MAX_DEPTH {
        return Err(EncodeError::new(EncodeErrorKind::TooDeep(MAX_DEPTH)));
    }
    match (value, ty) {
        (Value::Null, _) => out.push(0xc0),
        // fixext1, extension type 0, payload 0: what Terraform itself writes.
        (Value::Unknown, _) => out.extend_from_slice(&[0xd4, 0x00, 0x00]),
        (Value::Dynamic(inner_type, inner), Type::Dynamic) => {
            out.push(0x92);
            write_bin(out, &inner_type.to_json_bytes())?;
            encode(out, inner, inner_type, depth + 1)?;
        }
        (_, Type::Dynamic) => {
            return Err(EncodeError::new(EncodeErrorKind::UntypedDynamic(
                value.kind_name(),
            )));
        }
        (Value::Bool(b), Type::Bool) => out.push(if *b { 0xc3 } else { 0xc2 }),
        (Value::Number(n), Type::Number) => write_number(out, n)?,
        (Value::String(s), Type::String) => write_str(out, s)?,
        (Value::List(items), Type::List(element)) => {
            write_array_len(out, items.len())?;
            for (i, item) in items.iter().enumerate() {
                encode(out, item, element, depth + 1).map_err(|e| e.within(Step::Index(i)))?;
            }
        }
        (Value::Set(items), Type::Set(element)) => {
            let kept = kept_set_elements(items);
            write_array_len(out, kept.len())?;
            for item in kept {
                encode(out, item, element, depth + 1)?;
            }
        }
        (Value::Tuple(items), Type::Tuple(elements)) => {
            if items.len() != elements.len() {
                return Err(EncodeError::new(EncodeErrorKind::TupleLength {
                    expected: elements.len(),
                    found: items.len(),
                }));
            }
            write_array_len(out, items.len())?;
            for (i, (item, element)) in items.iter().zip(elements).enumerate() {
                encode(out, item, element, depth + 1).map_err(|e| e.within(Step::Index(i)))?;
            }
        }
        (Value::Map(entries), Type::Map(element)) => {
            write_map_len(out, entries.len())?;
            for (key, item) in entries {
                write_str(out, key)?;
                encode(out, item, element, depth + 1)
                    .map_err(|e| e.within(Step::Key(key.clone())))?;
            }
        }
        (Value::Object(attributes), Type::Object(attribute_types)) => {
            check_attributes(attributes, attribute_types)?;
            write_map_len(out, attributes.len())?;
            // Same keys in the same (sorted) order: the pairs line up.
            for ((name, item), attribute_type) in attributes.iter().zip(attribute_types.values()) {
                write_str(out, name)?;
                encode(out, item, attribute_type, depth + 1)
                    .map_err(|e| e.within(Step::Attr(name.clone())))?;
            }
        }
        _ => {
            return Err(EncodeError::new(EncodeErrorKind::Mismatch {
                expected: ty.kind_name(),
                found: value.kind_name(),
            }));
        }
    }
    Ok(())
}

fn write_number(out: &mut Vec<u8>, n: &Number) -> Result<(), EncodeError> {
    match n {
        Number::Int(i) => write_int(out, *i),
        Number::UInt(u) => write_uint(out, *u),
        Number::Float(f) if f.is_nan() => {
            return Err(EncodeError::new(EncodeErrorKind::UnencodableNumber(
                "NaN".to_owned(),
            )));
        }
        Number::Float(f) => {
            out.push(0xcb);
            out.extend_from_slice(&f.to_be_bytes());
        }
        Number::Decimal(d) => write_str(out, d.as_str())?,
    }
    Ok(())
}

/// The most compact form, non-negative values as unsigned like Terraform.
fn write_uint(out: &mut Vec<u8>, u: u64) {
    if let Ok(b) = u8::try_from(u) {
        if b < 0x80 {
            out.push(b);
        } else {
            out.extend_from_slice(&[0xcc, b]);
        }
    } else if let Ok(h) = u16::try_from(u) {
        out.push(0xcd);
        out.extend_from_slice(&h.to_be_bytes());
    } else if let Ok(w) = u32::try_from(u) {
        out.push(0xce);
        out.extend_from_slice(&w.to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&u.to_be_bytes());
    }
}

fn write_int(out: &mut Vec<u8>, i: i64) {
    if let Ok(u) = u64::try_from(i) {
        write_uint(out, u);
    } else if let Ok(b) = i8::try_from(i) {
        if b >= -32 {
            out.extend_from_slice(&b.to_be_bytes());
        } else {
            out.push(0xd0);
            out.extend_from_slice(&b.to_be_bytes());
        }
    } else if let Ok(h) = i16::try_from(i) {
        out.push(0xd1);
        out.extend_from_slice(&h.to_be_bytes());
    } else if let Ok(w) = i32::try_from(i) {
        out.push(0xd2);
        out.extend_from_slice(&w.to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

fn too_large(len: usize) -> EncodeError {
    EncodeError::new(EncodeErrorKind::TooLarge(len))
}

/// A length header: `fix` (with the length in its low bits) below
/// `fix_limit`, then the 16- and 32-bit markers.
fn write_len(
    out: &mut Vec<u8>,
    len: usize,
    fix: Option<(u8, usize)>,
    markers: [u8; 3],
) -> Result<(), EncodeError> {
    let [m8, m16, m32] = markers;
    match (
        fix,
        u8::try_from(len),
        u16::try_from(len),
        u32::try_from(len),
    ) {
        (Some((fix, limit)), Ok(b), _, _) if len < limit => out.push(fix | b),
        (_, Ok(b), _, _) if m8 != 0 => out.extend_from_slice(&[m8, b]),
        (_, _, Ok(h), _) => {
            out.push(m16);
            out.extend_from_slice(&h.to_be_bytes());
        }
        (_, _, _, Ok(w)) => {
            out.push(m32);
            out.extend_from_slice(&w.to_be_bytes());
        }
        _ => return Err(too_large(len)),
    }
    Ok(())
}

fn write_str(out: &mut Vec<u8>, s: &str) -> Result<(), EncodeError> {
    write_len(out, s.len(), Some((0xa0, 32)), [0xd9, 0xda, 0xdb])?;
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn write_bin(out: &mut Vec<u8>, b: &[u8]) -> Result<(), EncodeError> {
    write_len(out, b.len(), None, [0xc4, 0xc5, 0xc6])?;
    out.extend_from_slice(b);
    Ok(())
}

/// Arrays and maps have no 8-bit length form.
fn write_array_len(out: &mut Vec<u8>, len: usize) -> Result<(), EncodeError> {
    write_len(out, len, Some((0x90, 16)), [0, 0xdc, 0xdd])
}

fn write_map_len(out: &mut Vec<u8>, len: usize) -> Result<(), EncodeError> {
    write_len(out, len, Some((0x80, 16)), [0, 0xde, 0xdf])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let digits: Vec<u8> = s
            .bytes()
            .filter(u8::is_ascii_hexdigit)
            .map(|b| match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                _ => b - b'A' + 10,
            })
            .collect();
        digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect()
    }

    fn dec(bytes: &[u8], ty: &Type) -> Value {
        match decode_msgpack(bytes, ty) {
            Ok(v) => v,
            Err(e) => panic!("decoding {bytes:02x?} as {ty}: {e}"),
        }
    }

    fn enc(v: &Value, ty: &Type) -> Vec<u8> {
        match encode_msgpack(v, ty) {
            Ok(b) => b,
            Err(e) => panic!("encoding {v:?} as {ty}: {e}"),
        }
    }

    fn err(bytes: &[u8], ty: &Type) -> DecodeError {
        match decode_msgpack(bytes, ty) {
            Ok(v) => panic!("decoding {bytes:02x?} as {ty} gave {v:?}"),
            Err(e) => e,
        }
    }

    /// Independent bytes from rmpv, the msgpack library of the provider.
    fn rmpv_bytes(v: &rmpv::Value) -> Vec<u8> {
        let mut out = Vec::new();
        if let Err(e) = rmpv::encode::write_value(&mut out, v) {
            panic!("rmpv: {e}");
        }
        out
    }

    fn rmpv_read(bytes: &[u8]) -> rmpv::Value {
        match rmpv::decode::read_value(&mut &bytes[..]) {
            Ok(v) => v,
            Err(e) => panic!("rmpv cannot read {bytes:02x?}: {e}"),
        }
    }

    #[test]
    fn primitives_decode_and_encode() {
        assert_eq!(dec(&hex("a3 61 62 63"), &Type::String), Value::from("abc"));
        assert_eq!(dec(&hex("c3"), &Type::Bool), Value::Bool(true));
        assert_eq!(dec(&hex("c2"), &Type::Bool), Value::Bool(false));
        assert_eq!(dec(&hex("2a"), &Type::Number), Value::from(42));
        assert_eq!(enc(&Value::from("abc"), &Type::String), hex("a3 61 62 63"));
        assert_eq!(enc(&Value::Bool(true), &Type::Bool), hex("c3"));
        assert_eq!(enc(&Value::from(42), &Type::Number), hex("2a"));
        let long = "x".repeat(300);
        assert_eq!(
            enc(&Value::from(long.as_str()), &Type::String),
            rmpv_bytes(&rmpv::Value::from(long.as_str()))
        );
        assert_eq!(
            dec(
                &rmpv_bytes(&rmpv::Value::Binary(b"bin".to_vec())),
                &Type::String
            ),
            Value::from("bin")
        );
    }

    #[test]
    fn null_and_unknown_fit_every_type() {
        let types = [
            Type::String,
            Type::Number,
            Type::Bool,
            Type::Dynamic,
            Type::list(Type::String),
            Type::set(Type::Number),
            Type::map(Type::Bool),
            Type::object([("a", Type::String)]),
            Type::tuple([Type::String]),
        ];
        for ty in &types {
            assert_eq!(dec(&[0xc0], ty), Value::Null, "{ty}");
            assert_eq!(dec(&hex("d4 00 00"), ty), Value::Unknown, "{ty}");
            assert_eq!(enc(&Value::Null, ty), [0xc0]);
            assert_eq!(enc(&Value::Unknown, ty), hex("d4 00 00"));
        }
    }

    #[test]
    fn null_and_unknown_nested_at_every_level() {
        let ty = Type::object([
            (
                "a",
                Type::list(Type::object([("b", Type::map(Type::String))])),
            ),
            ("c", Type::tuple([Type::Number, Type::set(Type::Bool)])),
        ]);
        let v = Value::object([
            (
                "a",
                Value::list([
                    Value::Null,
                    Value::Unknown,
                    Value::object([("b", Value::Null)]),
                    Value::object([("b", Value::Unknown)]),
                    Value::object([("b", Value::map([("k", Value::Null), ("u", Value::Unknown)]))]),
                ]),
            ),
            (
                "c",
                Value::tuple([Value::Unknown, Value::set([Value::Null, Value::Unknown])]),
            ),
        ]);
        let bytes = enc(&v, &ty);
        assert_eq!(dec(&bytes, &ty), v);
        assert!(!dec(&bytes, &ty).is_wholly_known());
    }

    #[test]
    fn extensions_of_any_type_and_size_are_unknown() {
        for bytes in [
            "d4 00 00",
            "c7 00 00",
            "d4 05 ff",
            "d5 00 00 00",
            "d6 00 01 02 03 04",
            "d7 00 01 02 03 04 05 06 07 08",
            "d8 00 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f",
            "c8 00 02 0c 01 02",
            "c9 00 00 00 01 0c 01",
        ] {
            assert_eq!(dec(&hex(bytes), &Type::String), Value::Unknown, "{bytes}");
        }
    }

    #[test]
    fn refined_unknowns_decode_as_plain_unknowns() {
        // Terraform >= 1.6: extension 12 holding a map of refinements.
        let refinements = rmpv_bytes(&rmpv::Value::Map(vec![
            (rmpv::Value::from(1), rmpv::Value::from(false)),
            (rmpv::Value::from(2), rmpv::Value::from("arn:aws:")),
            (
                rmpv::Value::from(3),
                rmpv::Value::Array(vec![rmpv::Value::from(0), rmpv::Value::from(true)]),
            ),
        ]));
        let unknown = rmpv_bytes(&rmpv::Value::Ext(12, refinements));
        assert_eq!(dec(&unknown, &Type::String), Value::Unknown);
        let mut object = vec![0x82, 0xa1, b'a'];
        object.extend_from_slice(&unknown);
        object.extend_from_slice(&[0xa1, b'b', 0x05]);
        let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
        assert_eq!(
            dec(&object, &ty),
            Value::object([("a", Value::Unknown), ("b", 5.into())])
        );
    }

    #[test]
    fn every_integer_width_decodes() {
        let cases: [(rmpv::Value, Number); 12] = [
            (rmpv::Value::from(0u8), Number::Int(0)),
            (rmpv::Value::from(127u8), Number::Int(127)),
            (rmpv::Value::from(200u8), Number::Int(200)),
            (rmpv::Value::from(60_000u16), Number::Int(60_000)),
            (
                rmpv::Value::from(4_000_000_000u32),
                Number::Int(4_000_000_000),
            ),
            (rmpv::Value::from(u64::MAX), Number::UInt(u64::MAX)),
            (rmpv::Value::from(-1i8), Number::Int(-1)),
            (rmpv::Value::from(-32i8), Number::Int(-32)),
            (rmpv::Value::from(-100i8), Number::Int(-100)),
            (rmpv::Value::from(-30_000i16), Number::Int(-30_000)),
            (
                rmpv::Value::from(-2_000_000_000i32),
                Number::Int(-2_000_000_000),
            ),
            (rmpv::Value::from(i64::MIN), Number::Int(i64::MIN)),
        ];
        for (wire, expected) in cases {
            let bytes = rmpv_bytes(&wire);
            let Value::Number(n) = dec(&bytes, &Type::Number) else {
                panic!("{wire} did not decode as a number");
            };
            assert!(
                matches!((&n, &expected), (Number::Int(a), Number::Int(b)) if a == b)
                    || matches!((&n, &expected), (Number::UInt(a), Number::UInt(b)) if a == b),
                "{wire}: {n:?}"
            );
            // Re-encoding gives what rmpv reads as the same integer.
            assert_eq!(rmpv_read(&enc(&Value::Number(n), &Type::Number)), wire);
        }
        // Explicitly wide formats for small values are accepted too.
        for bytes in [
            "d3 00 00 00 00 00 00 00 05",
            "cf 00 00 00 00 00 00 00 05",
            "d0 05",
            "cc 05",
        ] {
            assert_eq!(dec(&hex(bytes), &Type::Number), Value::from(5), "{bytes}");
        }
    }

    #[test]
    fn integers_are_written_like_terraform_writes_them() {
        let cases: [(i64, &str); 8] = [
            (5, "05"),
            (200, "cc c8"),
            (70_000, "ce 00 01 11 70"),
            (-1, "ff"),
            (-33, "d0 df"),
            (-200, "d1 ff 38"),
            (-70_000, "d2 ff fe ee 90"),
            (i64::MIN, "d3 80 00 00 00 00 00 00 00"),
        ];
        for (i, bytes) in cases {
            assert_eq!(enc(&Value::from(i), &Type::Number), hex(bytes), "{i}");
        }
        assert_eq!(
            enc(&Value::Number(Number::UInt(u64::MAX)), &Type::Number),
            hex("cf ff ff ff ff ff ff ff ff")
        );
    }

    #[test]
    fn floats_of_both_widths_decode() {
        assert_eq!(
            dec(&hex("ca 3f c0 00 00"), &Type::Number),
            Value::Number(Number::Float(1.5))
        );
        let bytes = rmpv_bytes(&rmpv::Value::F64(0.1));
        let v = dec(&bytes, &Type::Number);
        assert!(matches!(v, Value::Number(Number::Float(f)) if f == 0.1));
        assert_eq!(enc(&v, &Type::Number), bytes);
        let inf = rmpv_bytes(&rmpv::Value::F64(f64::NEG_INFINITY));
        assert_eq!(enc(&dec(&inf, &Type::Number), &Type::Number), inf);
        let nan = rmpv_bytes(&rmpv::Value::F64(f64::NAN));
        assert_eq!(
            err(&nan, &Type::Number).kind,
            DecodeErrorKind::InvalidNumber(NumberError::NaN)
        );
        assert!(encode_msgpack(&Value::Number(Number::Float(f64::NAN)), &Type::Number).is_err());
    }

    #[test]
    fn decimal_strings_keep_full_precision_and_reencode_byte_for_byte() {
        for text in [
            "0.1",
            "123456789012345678901234567890",
            "-98765432109876543210.000000000000000000001",
            "1e400",
            "5",
        ] {
            let bytes = rmpv_bytes(&rmpv::Value::from(text));
            let v = dec(&bytes, &Type::Number);
            assert!(
                matches!(&v, Value::Number(Number::Decimal(d)) if d.as_str() == text),
                "{text}: {v:?}"
            );
            assert_eq!(enc(&v, &Type::Number), bytes, "{text}");
        }
        let big = dec(&rmpv_bytes(&rmpv::Value::from("1e400")), &Type::Number);
        assert_eq!(big.as_number().and_then(Number::as_f64), None);
    }

    #[test]
    fn non_numeric_text_is_not_a_number() {
        for text in ["abc", "", "1.2.3", "inf", "0x10"] {
            let e = err(&rmpv_bytes(&rmpv::Value::from(text)), &Type::Number);
            assert!(
                matches!(e.kind, DecodeErrorKind::InvalidNumber(_)),
                "{text}: {e}"
            );
        }
    }

    #[test]
    fn strings_must_be_valid_utf8() {
        let e = err(&hex("a2 c3 28"), &Type::String);
        assert_eq!(e.kind, DecodeErrorKind::InvalidUtf8);
        let e = err(&hex("81 a1 61 a1 ff"), &Type::map(Type::String));
        assert_eq!(e.to_string(), "a string is not valid UTF-8 at [\"a\"]");
        let e = err(&hex("81 a2 c3 28 c0"), &Type::map(Type::String));
        assert_eq!(e.kind, DecodeErrorKind::InvalidUtf8);
    }

    #[test]
    fn objects_hold_every_attribute() {
        let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
        let v = Value::object([("a", "x".into()), ("b", Value::Null)]);
        let bytes = enc(&v, &ty);
        assert_eq!(bytes, hex("82 a1 61 a1 78 a1 62 c0"));
        assert_eq!(dec(&bytes, &ty), v);
        // Attribute order on the wire does not matter.
        assert_eq!(dec(&hex("82 a1 62 c0 a1 61 a1 78"), &ty), v);
    }

    #[test]
    fn objects_with_missing_or_extra_attributes_are_errors() {
        let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
        let e = err(&hex("81 a1 61 a1 78"), &ty);
        assert_eq!(e.kind, DecodeErrorKind::MissingAttribute("b".into()));
        let e = err(&hex("83 a1 61 a1 78 a1 62 c0 a1 63 c0"), &ty);
        assert_eq!(e.kind, DecodeErrorKind::UnexpectedAttribute("c".into()));
        let e = err(&hex("82 a1 61 a1 78 a1 61 c0"), &ty);
        assert_eq!(e.kind, DecodeErrorKind::DuplicateKey("a".into()));
        let e = err(&hex("82 01 c0 a1 61 c0"), &ty);
        assert!(matches!(e.kind, DecodeErrorKind::Mismatch { .. }), "{e}");

        let missing = Value::object([("a", Value::from("x"))]);
        let e = encode_msgpack(&missing, &ty).err();
        assert_eq!(
            e.map(|e| e.kind),
            Some(EncodeErrorKind::MissingAttribute("b".into()))
        );
        let extra = Value::object([("a", "x".into()), ("b", Value::Null), ("c", Value::Null)]);
        let e = encode_msgpack(&extra, &ty).err();
        assert_eq!(
            e.map(|e| e.kind),
            Some(EncodeErrorKind::UnexpectedAttribute("c".into()))
        );
    }

    #[test]
    fn an_empty_map_is_an_empty_object() {
        let ty = Type::object([("a", Type::String)]);
        assert_eq!(dec(&[0x80], &ty), Value::Object(BTreeMap::new()));
        let empty = Type::object::<String>([]);
        assert_eq!(enc(&Value::Object(BTreeMap::new()), &empty), [0x80]);
    }

    #[test]
    fn errors_name_the_path_to_the_bad_value() {
        let ty = Type::object([(
            "function",
            Type::list(Type::object([("memory_size", Type::Number)])),
        )]);
        let bytes = hex("81 a8 66756e6374696f6e 91 81 ab 6d656d6f72795f73697a65 a3 626967");
        let e = err(&bytes, &ty);
        assert_eq!(e.path.to_string(), ".function[0].memory_size");
        assert_eq!(
            e.to_string(),
            "\"big\" is not a decimal number at .function[0].memory_size"
        );
        let bad = Value::object([(
            "function",
            Value::list([Value::object([("memory_size", "big".into())])]),
        )]);
        let e = encode_msgpack(&bad, &ty).err();
        assert_eq!(
            e.map(|e| e.to_string()).as_deref(),
            Some("expected number, found string at .function[0].memory_size")
        );
    }

    #[test]
    fn collections_round_trip() {
        let ty = Type::object([
            ("l", Type::list(Type::Number)),
            ("m", Type::map(Type::String)),
            ("t", Type::tuple([Type::String, Type::Bool])),
            ("s", Type::set(Type::String)),
        ]);
        let v = Value::object([
            ("l", Value::list([1.into(), 2.into()])),
            ("m", Value::map([("x", "1".into()), ("y", "2".into())])),
            ("t", Value::tuple(["a".into(), true.into()])),
            ("s", Value::Set(vec!["b".into(), "a".into()])),
        ]);
        let bytes = enc(&v, &ty);
        assert_eq!(dec(&bytes, &ty), v);
        // rmpv sees the same structure.
        let Some(entries) = rmpv_read(&bytes).as_map().cloned() else {
            panic!("not a map");
        };
        assert_eq!(entries.len(), 4);
        let e = err(&hex("92 a1 61 c3"), &Type::tuple([Type::String]));
        assert_eq!(
            e.kind,
            DecodeErrorKind::TupleLength {
                expected: 1,
                found: 2
            }
        );
        let e = err(&hex("82 a1 61 01 a1 61 02"), &Type::map(Type::Number));
        assert_eq!(e.kind, DecodeErrorKind::DuplicateKey("a".into()));
        let e = err(&hex("81 01 02"), &Type::map(Type::Number));
        assert!(matches!(e.kind, DecodeErrorKind::Mismatch { .. }));
    }

    #[test]
    fn sets_dedupe_and_ignore_order() {
        let ty = Type::set(Type::String);
        let v = Value::Set(vec![
            "a".into(),
            "b".into(),
            "a".into(),
            Value::Unknown,
            Value::Unknown,
        ]);
        let bytes = enc(&v, &ty);
        assert_eq!(bytes, hex("94 a1 61 a1 62 d4 00 00 d4 00 00"));
        let back = dec(&bytes, &ty);
        assert_eq!(back, v);
        assert_eq!(
            back,
            Value::Set(vec![Value::Unknown, "b".into(), "a".into()])
        );
        let Value::Set(items) = dec(&hex("93 a1 61 a1 61 a1 62"), &ty) else {
            panic!("not a set");
        };
        assert_eq!(items, vec![Value::from("a"), Value::from("b")]);
        let numbers = Value::Set(vec![Value::from(1), Value::Number(Number::UInt(1))]);
        assert_eq!(enc(&numbers, &Type::set(Type::Number)), hex("91 01"));
    }

    #[test]
    fn dynamic_values_carry_their_type() {
        let v = Value::dynamic(Type::list(Type::String), Value::list(["a".into()]));
        let bytes = enc(&v, &Type::Dynamic);
        let mut expected = vec![0x92, 0xc4, 17];
        expected.extend_from_slice(br#"["list","string"]"#);
        expected.extend_from_slice(&hex("91 a1 61"));
        assert_eq!(bytes, expected);
        assert_eq!(dec(&bytes, &Type::Dynamic), v);
        // The type may also come as a string.
        let mut as_str = vec![0x92, 0xa8];
        as_str.extend_from_slice(br#""number""#);
        as_str.push(0x07);
        assert_eq!(
            dec(&as_str, &Type::Dynamic),
            Value::dynamic(Type::Number, 7.into())
        );
    }

    #[test]
    fn dynamic_null_and_unknown_forms() {
        // Wholly unknown: the bare extension. Untyped null: nil.
        assert_eq!(dec(&hex("d4 00 00"), &Type::Dynamic), Value::Unknown);
        assert_eq!(dec(&[0xc0], &Type::Dynamic), Value::Null);
        // Unknown and null of a known type keep the wrapper.
        let unknown_string = Value::dynamic(Type::String, Value::Unknown);
        let bytes = enc(&unknown_string, &Type::Dynamic);
        assert_eq!(bytes, hex("92 c4 08 22737472696e6722 d4 00 00"));
        assert_eq!(dec(&bytes, &Type::Dynamic), unknown_string);
        let null_string = Value::dynamic(Type::String, Value::Null);
        assert_eq!(
            dec(&enc(&null_string, &Type::Dynamic), &Type::Dynamic),
            null_string
        );
        // Nested dynamic positions inside the concrete type.
        let nested = Value::dynamic(
            Type::object([("x", Type::Dynamic)]),
            Value::object([("x", Value::dynamic(Type::Bool, true.into()))]),
        );
        assert_eq!(dec(&enc(&nested, &Type::Dynamic), &Type::Dynamic), nested);
    }

    #[test]
    fn malformed_dynamic_values_are_errors() {
        let e = err(&hex("a1 61"), &Type::Dynamic);
        assert!(matches!(e.kind, DecodeErrorKind::Mismatch { .. }));
        let e = err(&hex("91 a8 22737472696e6722"), &Type::Dynamic);
        assert_eq!(e.kind, DecodeErrorKind::DynamicShape(1));
        let e = err(&hex("92 a6 22737472 696e c0"), &Type::Dynamic);
        assert!(matches!(e.kind, DecodeErrorKind::InvalidType(_)), "{e}");
        let e = err(&hex("92 01 c0"), &Type::Dynamic);
        assert!(matches!(e.kind, DecodeErrorKind::Mismatch { .. }));
        let e = encode_msgpack(&Value::from("x"), &Type::Dynamic).err();
        assert_eq!(
            e.map(|e| e.kind),
            Some(EncodeErrorKind::UntypedDynamic("string"))
        );
        let e = encode_msgpack(&Value::dynamic(Type::String, "x".into()), &Type::String).err();
        assert!(matches!(
            e.map(|e| e.kind),
            Some(EncodeErrorKind::Mismatch { .. })
        ));
    }

    #[test]
    fn truncated_and_trailing_input_are_errors() {
        assert_eq!(err(&[], &Type::String).kind, DecodeErrorKind::UnexpectedEof);
        assert_eq!(
            err(&hex("a3 61 62"), &Type::String).kind,
            DecodeErrorKind::UnexpectedEof
        );
        assert_eq!(
            err(&hex("dd ff ff ff ff"), &Type::list(Type::String)).kind,
            DecodeErrorKind::UnexpectedEof
        );
        assert_eq!(
            err(&hex("c9 ff ff ff ff 00"), &Type::String).kind,
            DecodeErrorKind::UnexpectedEof
        );
        assert_eq!(
            err(&hex("c0 c0"), &Type::String).kind,
            DecodeErrorKind::TrailingBytes(1)
        );
        assert_eq!(
            err(&hex("c1"), &Type::String).kind,
            DecodeErrorKind::ReservedByte
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let mut ty = Type::String;
        for _ in 0..MAX_DEPTH + 10 {
            ty = Type::list(ty);
        }
        let mut bytes = vec![0x91; MAX_DEPTH + 10];
        bytes.push(0xa0);
        assert_eq!(err(&bytes, &ty).kind, DecodeErrorKind::TooDeep(MAX_DEPTH));
        let mut v = Value::from("");
        for _ in 0..MAX_DEPTH + 10 {
            v = Value::list([v]);
        }
        let e = encode_msgpack(&v, &ty).err();
        assert_eq!(e.map(|e| e.kind), Some(EncodeErrorKind::TooDeep(MAX_DEPTH)));

        // Dynamic wrappers inside dynamic wrappers: each type is shallow, but
        // the value nests without end.
        let mut hostile = Vec::new();
        for _ in 0..10_000 {
            hostile.extend_from_slice(&hex("92 a9 2264796e616d696322"));
        }
        hostile.push(0xc0);
        assert_eq!(
            err(&hostile, &Type::Dynamic).kind,
            DecodeErrorKind::TooDeep(MAX_DEPTH)
        );
    }

    #[test]
    fn nesting_up_to_the_limit_is_fine() {
        let mut ty = Type::String;
        let mut v = Value::from("deep");
        for _ in 0..MAX_DEPTH {
            ty = Type::list(ty);
            v = Value::list([v]);
        }
        assert_eq!(dec(&enc(&v, &ty), &ty), v);
    }

    #[test]
    fn values_that_do_not_fit_the_type_are_encode_errors() {
        let cases: [(Value, Type); 6] = [
            (Value::from("x"), Type::Number),
            (Value::from(1), Type::Bool),
            (Value::list([1.into()]), Type::set(Type::Number)),
            (
                Value::map([("a", 1.into())]),
                Type::object([("a", Type::Number)]),
            ),
            (
                Value::tuple([1.into()]),
                Type::tuple([Type::Number, Type::Number]),
            ),
            (Value::list(["x".into()]), Type::list(Type::Number)),
        ];
        for (v, ty) in cases {
            assert!(encode_msgpack(&v, &ty).is_err(), "{v:?} as {ty}");
        }
    }
}
