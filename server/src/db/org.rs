//! The org tree as the server's tables hold it (accounts hang on its nodes) and the list of plans:
//! both derived from their documents by the read model, both feeding the registry.

use super::sql::{OptionalExtension, params};
use super::{Db, Result};
use shared::vocab::OrgLevel;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRow {
    pub id: String,
    pub name: String,
    pub level: OrgLevel,
    pub parent: Option<String>,
    /// Taken out of the org tree by an administrator: kept (accounts and history refer to it),
    /// left out of lists and of new document IDs.
    pub removed: bool,
}

impl Db {
    pub fn upsert_node(&self, n: &NodeRow) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO org_nodes(id, name, level, parent, removed) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(id) DO UPDATE SET name = ?2, level = ?3, parent = ?4, removed = ?5",
                params![n.id, n.name, n.level.as_str(), n.parent, n.removed],
            )
            .map(|_| ())
        })
    }

    pub fn nodes(&self) -> Result<Vec<NodeRow>> {
        self.with(|c| {
            let mut st =
                c.prepare("SELECT id, name, level, parent, removed FROM org_nodes ORDER BY id")?;
            st.query_map((), |r| {
                Ok(NodeRow {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    level: OrgLevel::parse(&r.get::<_, String>(2)?),
                    parent: r.get(3)?,
                    removed: r.get(4)?,
                })
            })?
            .collect()
        })
    }

    /// The commune a node belongs to (itself, or a hamlet's parent), if any.
    pub fn commune_of(&self, node_id: &str) -> Result<Option<String>> {
        self.with(|c| {
            c.query_row(
                "SELECT CASE n.level WHEN 'commune' THEN n.id WHEN 'hamlet' THEN n.parent END
                 FROM org_nodes n WHERE n.id = ?1",
                [node_id],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()
            .map(Option::flatten)
        })
    }

    pub fn insert_plan(&self, id: &str, title: &str) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO plans(id, title) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET title = ?2",
                [id, title],
            )
            .map(|_| ())
        })
    }

    pub fn plan_ids(&self) -> Result<Vec<String>> {
        self.with(|c| {
            c.prepare("SELECT id FROM plans ORDER BY id")?
                .query_map((), |r| r.get(0))?
                .collect()
        })
    }
}
