//! Unit tests of the pickle reader's semantics on hand-written opcode streams.

use super::{PickleError, Value, unpickle};

fn run(body: &[u8]) -> Result<super::Unpickled, PickleError> {
    let mut data = vec![0x80, 2];
    data.extend_from_slice(body);
    unpickle(&data)
}

#[test]
fn memoized_dict_shows_later_items() {
    // {} PUT0 'k' 1 SETITEM, then a tuple (GET0,) - the memo must hold the filled dict.
    let un = run(b"}q\x00X\x01\x00\x00\x00kK\x01s0h\x00\x85.").unwrap();
    let items = un.items(&un.root).unwrap();
    let d = un.dict(&items[0]).unwrap();
    assert!(matches!(d.get("k"), Some(Value::Int(1))));
}

#[test]
fn long1_is_twos_complement() {
    let un = run(b"\x8a\x02\x00\xff.").unwrap();
    assert!(matches!(un.root, Value::Int(-256)));
    let un = run(b"\x8a\x00.").unwrap();
    assert!(matches!(un.root, Value::Int(0)));
}

#[test]
fn pops_cannot_cross_a_mark() {
    assert!(matches!(
        run(b"K\x01(0."),
        Err(PickleError::Malformed { .. })
    ));
    assert!(matches!(
        run(b"K\x01(s."),
        Err(PickleError::Malformed { .. })
    ));
}

#[test]
fn refusal_names_the_global() {
    match run(b"cposix\nsystem\n.") {
        Err(PickleError::Refused(name)) => assert_eq!(name, "posix.system"),
        _ => panic!("posix.system was not refused"),
    }
}

#[test]
fn truncation_and_unknown_opcodes_are_errors() {
    for body in [
        &b"X\x05\x00\x00\x00ab"[..],
        b"K",
        b"",
        b"(",
        b"\xff.",
        b"h\x07.",
    ] {
        assert!(run(body).is_err(), "{body:?}");
    }
}

#[test]
fn consumed_stops_after_stop() {
    let un = run(b"N.trailing").unwrap();
    assert_eq!(un.consumed, 4);
}
