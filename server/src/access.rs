//! Who may read or write which document: the authorization rules of DESIGN §6, as pure functions.

pub use shared::vocab::Role;
use shared::{DocKey, DocKind};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The communes whose work a user may read: all of them (their node is the top of the tree), or
/// those under their node — a province's, a district's or one commune's committee alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Communes(Arc<BTreeSet<String>>),
}

impl Scope {
    pub fn covers(&self, commune: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Communes(c) => c.contains(commune),
        }
    }

    pub fn of(communes: impl IntoIterator<Item = String>) -> Scope {
        Scope::Communes(Arc::new(communes.into_iter().collect()))
    }
}

/// An authenticated user on one device (one token, one peer ID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub node_id: String,
    /// The commune a member works in; `None` for the aggregating level.
    pub commune_id: Option<String>,
    pub peer_id: String,
    pub token_id: i64,
    /// The communes under the user's node (for a member: their own).
    pub scope: Scope,
    /// An administrator or plan editor who also holds the viewer role: only then do they read the
    /// communes' notes and progress (least privilege).
    pub also_viewer: bool,
}

impl Principal {
    /// Whether this user reads the communes' work (notes, progress, the figures made of them) in
    /// their scope: viewers, and administrators and editors who also hold the viewer role.
    pub fn reads_communes(&self) -> bool {
        match self.role {
            Role::Viewer => true,
            Role::Admin | Role::Editor => self.also_viewer,
            Role::Member | Role::Other(_) => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    None,
    Read,
    Write,
}

/// The access `p` has to the document `key`. Members write their own commune's progress and notes and
/// read the org and plans; the aggregating level reads the communes under its node (all of them
/// from the top of the tree); administrators edit the org tree and plan editors (and
/// administrators) edit plans, from their devices like anyone else.
pub fn access(p: &Principal, key: &DocKey) -> Access {
    match key.kind {
        DocKind::Org if p.role == Role::Admin => Access::Write,
        DocKind::Plan if matches!(p.role, Role::Admin | Role::Editor) => Access::Write,
        DocKind::Org | DocKind::Plan if p.role.is_known() => Access::Read,
        DocKind::Org | DocKind::Plan => Access::None,
        DocKind::Progress | DocKind::Notes => match p.role {
            Role::Member if p.commune_id.as_deref() == key.commune() && key.commune().is_some() => {
                Access::Write
            }
            Role::Member => Access::None,
            Role::Admin | Role::Editor | Role::Viewer
                if p.reads_communes() && key.commune().is_some_and(|c| p.scope.covers(c)) =>
            {
                Access::Read
            }
            Role::Admin | Role::Editor | Role::Viewer => Access::None,
            // A role this version does not know gets nothing it does not grant everyone.
            Role::Other(_) => Access::None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::Quarter;

    fn member(commune: &str) -> Principal {
        Principal {
            user_id: 1,
            username: "m".into(),
            display_name: "m".into(),
            role: Role::Member,
            node_id: commune.into(),
            commune_id: Some(commune.into()),
            peer_id: "p".into(),
            token_id: 1,
            scope: Scope::of([commune.to_string()]),
            also_viewer: false,
        }
    }

    #[test]
    fn rules() {
        let q = Quarter { year: 2026, q: 4 };
        let a = member("a");
        assert_eq!(access(&a, &DocKey::notes("a", q)), Access::Write);
        assert_eq!(access(&a, &DocKey::progress("plan", "a")), Access::Write);
        assert_eq!(access(&a, &DocKey::notes("b", q)), Access::None);
        assert_eq!(access(&a, &DocKey::progress("plan", "b")), Access::None);
        assert_eq!(access(&a, &DocKey::org()), Access::Read);
        assert_eq!(access(&a, &DocKey::plan("plan")), Access::Read);
        let v = Principal {
            role: Role::Viewer,
            commune_id: None,
            scope: Scope::All,
            ..a
        };
        assert_eq!(access(&v, &DocKey::notes("b", q)), Access::Read);
        assert_eq!(access(&v, &DocKey::org()), Access::Read);
        assert_eq!(access(&v, &DocKey::plan("plan")), Access::Read);
        let e = Principal {
            role: Role::Editor,
            ..v.clone()
        };
        assert_eq!(access(&e, &DocKey::plan("plan")), Access::Write);
        assert_eq!(access(&e, &DocKey::org()), Access::Read);
        // Least privilege: editors and administrators read the communes' work only as viewers too.
        assert_eq!(access(&e, &DocKey::notes("b", q)), Access::None);
        assert_eq!(access(&e, &DocKey::progress("plan", "b")), Access::None);
        let e_viewer = Principal {
            also_viewer: true,
            ..e.clone()
        };
        assert_eq!(access(&e_viewer, &DocKey::notes("b", q)), Access::Read);
        let admin = Principal {
            role: Role::Admin,
            ..v
        };
        assert_eq!(access(&admin, &DocKey::org()), Access::Write);
        assert_eq!(access(&admin, &DocKey::notes("b", q)), Access::None);
        let admin_viewer = Principal {
            also_viewer: true,
            ..admin.clone()
        };
        assert_eq!(access(&admin_viewer, &DocKey::notes("b", q)), Access::Read);
        let unknown = Principal {
            role: Role::Other("auditor".into()),
            ..admin
        };
        for key in [DocKey::org(), DocKey::plan("plan"), DocKey::notes("b", q)] {
            assert_eq!(access(&unknown, &key), Access::None);
        }

        // A viewer of one branch reads nothing of another.
        let branch = Principal {
            role: Role::Viewer,
            commune_id: None,
            scope: Scope::of(["a".to_string()]),
            ..member("a")
        };
        assert_eq!(access(&branch, &DocKey::notes("a", q)), Access::Read);
        assert_eq!(
            access(&branch, &DocKey::progress("plan", "a")),
            Access::Read
        );
        assert_eq!(access(&branch, &DocKey::notes("b", q)), Access::None);
        assert_eq!(
            access(&branch, &DocKey::progress("plan", "b")),
            Access::None
        );
        assert_eq!(access(&branch, &DocKey::plan("plan")), Access::Read);
    }
}
