//! Property tests: both codecs round-trip every value of every type, and no
//! input bytes make a decoder panic.

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher, Hash};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

use super::strategy::{Gen, arb_number, arb_type, arb_typed_value};
use super::{Number, Type, decode_json, decode_msgpack, encode_json, encode_msgpack};

fn hash(v: &impl Hash) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(v)
}

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(e.to_string())
}

/// `bytes` with a few bytes overwritten, one inserted and the end cut off.
fn mutate(mut bytes: Vec<u8>, edits: &[(Index, u8)], insert: (Index, u8), cut: Index) -> Vec<u8> {
    if bytes.is_empty() {
        return bytes;
    }
    for (at, byte) in edits {
        let i = at.index(bytes.len());
        if let Some(b) = bytes.get_mut(i) {
            *b = *byte;
        }
    }
    bytes.insert(insert.0.index(bytes.len()), insert.1);
    bytes.truncate(cut.index(bytes.len()) + 1);
    bytes
}

/// Text made of JSON punctuation and words, likelier than random bytes to
/// get deep into the parser and the type-directed decoder.
fn json_ish() -> impl Strategy<Value = String> {
    vec(
        prop_oneof![
            Just("["),
            Just("]"),
            Just("{"),
            Just("}"),
            Just(","),
            Just(":"),
            Just("\"a\""),
            Just("\"value\""),
            Just("\"type\""),
            Just("\"string\""),
            Just("\"list\""),
            Just("\"object\""),
            Just("\"dynamic\""),
            Just("null"),
            Just("true"),
            Just("1.5e3"),
            Just("-7"),
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #[test]
    fn msgpack_round_trips_every_value((ty, value) in arb_typed_value(Gen::MSGPACK)) {
        let bytes = encode_msgpack(&value, &ty).map_err(fail)?;
        let back = decode_msgpack(&bytes, &ty).map_err(fail)?;
        prop_assert_eq!(hash(&back), hash(&value), "equal values must hash alike");
        prop_assert_eq!(back, value);
    }

    #[test]
    fn msgpack_output_is_read_whole_by_rmpv((ty, value) in arb_typed_value(Gen::MSGPACK)) {
        let bytes = encode_msgpack(&value, &ty).map_err(fail)?;
        let mut rest = &bytes[..];
        rmpv::decode::read_value(&mut rest).map_err(fail)?;
        prop_assert!(rest.is_empty(), "{} bytes left over", rest.len());
    }

    #[test]
    fn json_round_trips_wholly_known_values((ty, value) in arb_typed_value(Gen::JSON)) {
        prop_assert!(value.is_wholly_known());
        let bytes = encode_json(&value, &ty).map_err(fail)?;
        let back = decode_json(&bytes, &ty).map_err(fail)?;
        prop_assert_eq!(hash(&back), hash(&value), "equal values must hash alike");
        prop_assert_eq!(back, value);
    }

    #[test]
    fn numbers_survive_json_text(n in arb_number(Gen::JSON)) {
        let text = n.json_text().ok_or_else(|| fail("no JSON text"))?;
        let back: serde_json::Value = serde_json::from_str(&text).map_err(fail)?;
        prop_assert!(back.is_number(), "{} is not a JSON number", text);
        let back = Number::parse(&text).map_err(fail)?;
        prop_assert_eq!(hash(&back), hash(&n));
        prop_assert_eq!(back, n);
    }

    #[test]
    fn type_json_round_trips(ty in arb_type()) {
        prop_assert_eq!(Type::from_json(&ty.to_json_bytes()), Ok(ty.clone()));
        let via_serde = serde_json::to_vec(&ty.to_json()).map_err(fail)?;
        prop_assert_eq!(Type::from_json(&via_serde), Ok(ty));
    }

    #[test]
    fn msgpack_decoding_random_bytes_never_panics(
        ty in arb_type(),
        bytes in vec(any::<u8>(), 0..64),
    ) {
        let _ = decode_msgpack(&bytes, &ty);
    }

    #[test]
    fn msgpack_decoding_damaged_values_never_panics(
        (ty, value) in arb_typed_value(Gen::MSGPACK),
        edits in vec((any::<Index>(), any::<u8>()), 0..4),
        insert in (any::<Index>(), any::<u8>()),
        cut in any::<Index>(),
    ) {
        let bytes = encode_msgpack(&value, &ty).map_err(fail)?;
        let _ = decode_msgpack(&mutate(bytes, &edits, insert, cut), &ty);
    }

    #[test]
    fn json_decoding_random_input_never_panics(
        ty in arb_type(),
        bytes in vec(any::<u8>(), 0..64),
        text in json_ish(),
    ) {
        let _ = decode_json(&bytes, &ty);
        let _ = decode_json(text.as_bytes(), &ty);
        let _ = decode_json(text.as_bytes(), &Type::Dynamic);
    }

    #[test]
    fn json_decoding_damaged_values_never_panics(
        (ty, value) in arb_typed_value(Gen::JSON),
        edits in vec((any::<Index>(), any::<u8>()), 0..4),
        insert in (any::<Index>(), any::<u8>()),
        cut in any::<Index>(),
    ) {
        let bytes = encode_json(&value, &ty).map_err(fail)?;
        let _ = decode_json(&mutate(bytes, &edits, insert, cut), &ty);
    }

    #[test]
    fn type_parsing_random_input_never_panics(
        bytes in vec(any::<u8>(), 0..64),
        text in json_ish(),
        ty in arb_type(),
        edits in vec((any::<Index>(), any::<u8>()), 0..4),
        insert in (any::<Index>(), any::<u8>()),
        cut in any::<Index>(),
    ) {
        let _ = Type::from_json(&bytes);
        let _ = Type::from_json(text.as_bytes());
        let _ = Type::from_json(&mutate(ty.to_json_bytes(), &edits, insert, cut));
    }
}
