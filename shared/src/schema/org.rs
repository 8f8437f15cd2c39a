//! The org tree: the root (province, district or commune committee), communes, hamlets, and the
//! units (organisations) under any of them.

use super::entry::{Entry, put_entry, read_entries};
use super::{SchemaError, hydrate as am};
use crate::ids::DocKind;
use crate::vocab::OrgLevel;
use automerge::Automerge;
use autosurgeon::{Hydrate, ReadDoc, Reconcile};

/// A node of the org tree: the root (province or district), a commune, a hamlet, or a unit
/// (organisation) of any of them.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize, Hydrate, Reconcile,
)]
#[serde(default)]
pub struct OrgNode {
    #[autosurgeon(missing = "String::new", hydrate = "am::text")]
    pub id: String,
    #[autosurgeon(hydrate = "am::text")]
    pub name: String,
    #[autosurgeon(hydrate = "am::word")]
    pub level: OrgLevel,
    #[autosurgeon(hydrate = "am::opt_text")]
    pub parent: Option<String>,
    /// For a unit: its kind ([`UNIT_KINDS`] or another), which progress records name.
    #[autosurgeon(hydrate = "am::opt_text")]
    pub kind: Option<String>,
    /// Removed by an administrator: kept for history, hidden from pickers.
    #[autosurgeon(hydrate = "am::bool")]
    pub removed: bool,
}

impl Entry for OrgNode {
    const KIND: DocKind = DocKind::Org;
    fn entry_key(&self) -> String {
        self.id.clone()
    }
    fn set_key(&mut self, key: &str) {
        self.id = key.to_string();
    }
}

pub fn put_org_node(doc: &mut Automerge, node: &OrgNode) -> Result<(), SchemaError> {
    put_entry(doc, node)
}

/// The org tree's nodes (removed ones included: callers filter), by name.
pub fn read_org<D: ReadDoc>(doc: &D) -> Vec<OrgNode> {
    let mut out = read_entries::<OrgNode, _>(doc).0;
    out.retain(|n| n.level.is_known());
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The kinds of units (organisations) the plans of DESIGN §2 name: (id, Vietnamese, English).
pub const UNIT_KINDS: &[(&str, &str, &str)] = &[
    ("mttq", "Ủy ban MTTQ", "Fatherland Front Committee"),
    ("hoi-nong-dan", "Hội Nông dân", "Farmers' Union"),
    ("hoi-phu-nu", "Hội Liên hiệp Phụ nữ", "Women's Union"),
    ("doan-thanh-nien", "Đoàn TNCS Hồ Chí Minh", "Youth Union"),
    ("hoi-ccb", "Hội Cựu chiến binh", "Veterans' Union"),
    ("cong-doan", "Công đoàn", "Trade Union"),
    ("ban-dan-van", "Ban Dân vận", "Mass Mobilisation Commission"),
    ("ban-to-chuc", "Ban Tổ chức", "Organisation Commission"),
    ("ban-tuyen-giao", "Ban Tuyên giáo", "Propaganda Commission"),
    ("ubnd", "Ủy ban nhân dân", "People's Committee"),
    ("dang-uy", "Đảng ủy, chi bộ", "Party committee"),
];
