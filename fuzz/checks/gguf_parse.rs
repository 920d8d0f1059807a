//! Any bytes as a GGUF file: parse, then read back every value and tensor. Must
//! never panic, and whatever parses must keep the invariants the API promises.

use llmc::model::gguf::{self, Value};

/// Equality that holds for NaNs too (same bits).
fn same(a: &Value<'_>, b: &Value<'_>) -> bool {
    match (a, b) {
        (Value::F32(x), Value::F32(y)) => x.to_bits() == y.to_bits(),
        (Value::F64(x), Value::F64(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

/// Walks a value the way a caller would, nested arrays included.
fn visit(v: &Value<'_>, depth: u32) {
    assert!(depth <= gguf::MAX_ARRAY_DEPTH);
    if let Value::Array(a) = v {
        let mut n = 0;
        for e in a.iter() {
            assert_eq!(e.value_type(), a.elem_type());
            visit(&e, depth + 1);
            n += 1;
        }
        assert_eq!(n, a.len(), "every element reads back");
        if a.elem_type().fixed_size().is_some() && !a.is_empty() {
            let (last, walked) = (a.get(a.len() - 1).unwrap(), a.iter().last().unwrap());
            assert!(same(&last, &walked), "{last:?} != {walked:?}");
        }
        assert_eq!(a.get(a.len()), None);
    }
    let _ = (v.as_str(), v.as_u64(), v.as_i64(), v.as_f64(), v.as_bool());
}

pub fn run(data: &[u8]) {
    let Ok(g) = gguf::parse(data) else { return };
    assert!(g.alignment.is_power_of_two());
    assert!(gguf::HEADER_SIZE <= g.infos_end && g.infos_end <= data.len());
    assert_eq!(g.data_offset % g.alignment as usize, 0);
    assert!(g.data_offset >= g.infos_end && g.data_offset - g.infos_end < g.alignment as usize);
    assert!(g.tensors.is_empty() || g.data_offset <= data.len());
    for kv in &g.kv {
        assert!(!kv.key.is_empty() && kv.range.end <= g.infos_end);
        assert!(std::ptr::eq(g.get(kv.key).unwrap(), &kv.value), "keys are unique");
        visit(&kv.value, 0);
    }
    let mut spans = Vec::new();
    for t in &g.tensors {
        assert!(!t.name.is_empty() && t.name.len() <= gguf::MAX_NAME_LEN);
        assert_eq!(t.abs_offset as u64, g.data_offset as u64 + t.offset);
        assert_eq!(t.offset % u64::from(g.alignment), 0);
        assert!(t.abs_offset <= data.len());
        match (t.type_info(), t.data_range()) {
            (Some(ty), Some(r)) => {
                assert_eq!(g.tensor_data(t).unwrap().len(), r.len());
                assert_eq!(ty.nbytes(t.n_elements), Some(r.len() as u64));
                spans.push((r.start, r.end));
            }
            (None, None) => spans.push((t.abs_offset, t.abs_offset)),
            other => panic!("type and size disagree: {other:?}"),
        }
    }
    spans.sort_unstable();
    for w in spans.windows(2) {
        assert!(w[1].0 >= w[0].1, "tensors overlap");
    }
}
