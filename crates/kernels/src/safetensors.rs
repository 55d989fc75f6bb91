//! The index of a safetensors file (PyTorch's weight files): its `__metadata__` strings and,
//! for each tensor, its dtype, shape and where its bytes are. The format's own crate parses
//! and validates the header (JSON, contiguous offsets, sizes that match dtype and shape);
//! the TypeScript side reads the tensors' bytes and checks them against the architecture.
//!
//! Files come from outside: the crate checks that the tensors' offsets are contiguous and end
//! exactly at the end of the file, so every range in the index lies inside the bytes read.

use safetensors::tensor::Dtype;
use safetensors::SafeTensors;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// Why a file is not a readable safetensors file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SafetensorsError(String);

impl fmt::Display for SafetensorsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SafetensorsError {}

/// One tensor's entry in the index: byte offsets are from the start of the file.
#[derive(Serialize)]
struct TensorEntry {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    start: usize,
    end: usize,
}

#[derive(Serialize)]
struct Index {
    metadata: Option<BTreeMap<String, String>>,
    tensors: Vec<TensorEntry>,
}

/// The index of `file` as JSON: `{"metadata": {..} | null, "tensors": [{"name", "dtype",
/// "shape", "start", "end"}]}`, tensors in file order, offsets absolute. One string keeps
/// the boundary crossing to one call in both bindings.
pub fn safetensors_index(file: &[u8]) -> Result<String, SafetensorsError> {
    let (header_length, metadata) = SafeTensors::read_metadata(file)
        .map_err(|error| SafetensorsError(format!("not a safetensors file: {error}")))?;
    // The header is at most 100 MB (the crate refuses more), so this cannot overflow.
    let data_start = 8 + header_length;
    let tensors = metadata
        .offset_keys()
        .into_iter()
        .filter_map(|name| {
            let info = metadata.info(&name)?;
            let (first, last) = info.data_offsets;
            Some(TensorEntry {
                name,
                dtype: info.dtype,
                shape: info.shape.clone(),
                start: data_start + first,
                end: data_start + last,
            })
        })
        .collect();
    let index = Index {
        metadata: metadata
            .metadata()
            .as_ref()
            .map(|strings| strings.clone().into_iter().collect()),
        tensors,
    };
    serde_json::to_string(&index)
        .map_err(|error| SafetensorsError(format!("the index could not be written: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file of `header` (padded with spaces to a multiple of 8, as the crate writes) and `data`.
    fn file(header: &str, data: &[u8]) -> Vec<u8> {
        let mut header = header.as_bytes().to_vec();
        header.resize(header.len().next_multiple_of(8), b' ');
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(&header);
        bytes.extend_from_slice(data);
        bytes
    }

    #[test]
    fn indexes_tensors_in_file_order_with_absolute_offsets() {
        let header = r#"{"__metadata__":{"format":"ferronet"},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
        let bytes = file(header, &[0; 12]);
        let data_start = bytes.len() - 12;
        let index: serde_json::Value = serde_json::from_str(&safetensors_index(&bytes).unwrap()).unwrap();
        assert_eq!(index["metadata"]["format"], "ferronet");
        assert_eq!(index["tensors"][0]["name"], "a");
        assert_eq!(index["tensors"][0]["start"], data_start);
        assert_eq!(index["tensors"][0]["end"], data_start + 8);
        assert_eq!(index["tensors"][1]["name"], "b");
        assert_eq!(index["tensors"][1]["shape"], serde_json::json!([1]));
        assert_eq!(index["tensors"][1]["dtype"], "F32");
    }

    #[test]
    fn a_file_without_metadata_has_null_metadata() {
        let bytes = file(
            r#"{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#,
            &[0; 4],
        );
        let index: serde_json::Value = serde_json::from_str(&safetensors_index(&bytes).unwrap()).unwrap();
        assert!(index["metadata"].is_null());
        assert_eq!(index["tensors"][0]["dtype"], "F16");
    }

    #[test]
    fn refuses_damaged_files_with_a_reason() {
        let good = file(
            r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
            &[0; 8],
        );
        let cases: [(&str, Vec<u8>, &str); 5] = [
            ("empty", Vec::new(), "header too small"),
            (
                "truncated data",
                good[..good.len() - 1].to_vec(),
                "not fully covered",
            ),
            (
                "header longer than the file",
                {
                    let mut b = good.clone();
                    b[..8].copy_from_slice(&1000u64.to_le_bytes());
                    b
                },
                "invalid header length",
            ),
            ("not JSON", file("{nope", &[]), "invalid JSON"),
            (
                "size not matching the shape",
                file(
                    r#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
                    &[0; 8],
                ),
                "invalid shape, data type, or offset",
            ),
        ];
        for (what, bytes, reason) in cases {
            let error = safetensors_index(&bytes).expect_err(what).to_string();
            assert!(error.contains(reason), "{what}: {error}");
        }
    }
}
