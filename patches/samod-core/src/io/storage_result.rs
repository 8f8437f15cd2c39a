use std::collections::HashMap;

use crate::StorageKey;

// The inverse of `IoAction`
#[derive(Debug, Clone)]
pub enum StorageResult {
    Load {
        value: Option<Vec<u8>>,
    },
    LoadRange {
        values: HashMap<StorageKey, Vec<u8>>,
    },
    Put,
    Delete,
    /// danvan patch (fallible storage): the storage could not answer a load. The loader and a
    /// loading document ask again instead of taking the key for absent (which would start an
    /// empty document, or a new storage ID, over data that is only unreadable for now).
    Failed {
        error: String,
    },
}
