//! Any bytes as a safetensors file: parse the header. Must never panic, and what
//! parses must keep the promised layout: tensors inside the data section, sizes
//! matching dtype × shape where the dtype is known, no two tensors overlapping.

use llmc::model::safetensors;

pub fn run(data: &[u8]) {
    let Ok(st) = safetensors::parse(data) else { return };
    assert!(safetensors::looks_like(data));
    assert_eq!(st.file_len, data.len() as u64);
    assert!(st.data_offset >= 8 && st.data_offset <= st.file_len);
    let mut spans = Vec::new();
    for t in &st.tensors {
        assert!(t.shape.len() <= safetensors::MAX_DIMS);
        assert!(st.data_offset <= t.begin && t.begin <= t.end && t.end <= st.file_len, "{t:?}");
        if let Some(Some(n)) = t.dtype.nbytes(&t.shape) {
            assert_eq!(n, t.end - t.begin, "{t:?}");
        }
        if t.end > t.begin {
            spans.push((t.begin, t.end));
        }
    }
    spans.sort_unstable();
    for w in spans.windows(2) {
        assert!(w[1].0 >= w[0].1, "tensors overlap");
    }
}
