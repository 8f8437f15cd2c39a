//! The product's domain words as types: roles, document access, org levels, recurrences, activity
//! types, petition statuses and plan section kinds, each with its wire form and its labels.
//!
//! Every word travels as a short ASCII string (in JSON and in Automerge documents alike). Each type
//! has an `Other(String)` variant for a value this version does not know — written by a newer app
//! or server — so reading and writing it back keeps it exactly as it was (DESIGN §5: tolerant,
//! forward-only). Code that decides something (access, validation) treats `Other` as "not allowed"
//! or "not valid"; code that shows it shows the raw word.

use automerge::ObjId;
use autosurgeon::{Hydrate, HydrateError, ReadDoc, Reconcile, Reconciler};
use std::fmt;

/// What every vocabulary offers generic code (pickers list [`Word::known`] with their labels).
pub trait Word: Sized + 'static {
    /// Every word this version knows, in the order pickers show them.
    fn known() -> &'static [Self];
    /// The wire form.
    fn wire(&self) -> &str;
    /// The Vietnamese and English labels of a known word.
    fn labels(&self) -> Option<(&'static str, &'static str)>;
}

/// Declares a vocabulary: the enum, its wire strings and Vietnamese/English labels, and its
/// conversions (serde, autosurgeon, `Display`), all from one table.
macro_rules! vocab {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, $vi:literal, $en:literal; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A word this version does not know, kept as written.
            Other(String),
        }

        impl $name {
            /// Every word this version knows, in the order pickers show them.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The wire form.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )*
                    $name::Other(s) => s,
                }
            }

            /// The word for a wire form; an unknown one is kept as [`Self::Other`].
            pub fn parse(s: &str) -> Self {
                match s {
                    $( $wire => $name::$variant, )*
                    other => $name::Other(other.to_string()),
                }
            }

            /// Whether this version knows the word.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Other(_))
            }

            /// A word this version knows, or one a newer version could have written (a short
            /// lowercase ASCII word): anything else is hostile or broken input.
            pub fn is_well_formed(&self) -> bool {
                match self {
                    $name::Other(s) => {
                        (1..=32).contains(&s.len())
                            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    }
                    _ => true,
                }
            }

            /// The Vietnamese and English labels of a known word (for `t(vi, en)` in the app).
            pub fn labels(&self) -> Option<(&'static str, &'static str)> {
                match self {
                    $( $name::$variant => Some(($vi, $en)), )*
                    $name::Other(_) => None,
                }
            }

            /// The label in Vietnamese, or English when `en`; an unknown word shows as written.
            pub fn label(&self, en: bool) -> &str {
                match self {
                    $( $name::$variant => if en { $en } else { $vi }, )*
                    $name::Other(s) => s,
                }
            }
        }

        impl Word for $name {
            fn known() -> &'static [Self] {
                Self::ALL
            }
            fn wire(&self) -> &str {
                self.as_str()
            }
            fn labels(&self) -> Option<(&'static str, &'static str)> {
                $name::labels(self)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Ok($name::parse(&s))
            }
        }

        impl Reconcile for $name {
            type Key<'a> = autosurgeon::reconcile::NoKey;
            fn reconcile<R: Reconciler>(&self, mut r: R) -> Result<(), R::Error> {
                r.str(self.as_str())
            }
        }

        impl Hydrate for $name {
            fn hydrate_string(s: &'_ str) -> Result<Self, HydrateError> {
                Ok($name::parse(s))
            }
            // automerge JS 3 stores plain strings as collaborative text.
            fn hydrate_text<D: ReadDoc>(doc: &D, obj: &ObjId) -> Result<Self, HydrateError> {
                Ok($name::parse(&doc.text(obj)?))
            }
        }
    };
}

vocab! {
    /// What a user does in the product (DESIGN §6).
    Role {
        Admin = "admin", "Quản trị", "Administrator";
        Editor = "editor", "Biên tập kế hoạch", "Plan editor";
        /// The aggregating level: reads every commune's work.
        Viewer = "viewer", "Cấp tổng hợp", "Aggregating level";
        Member = "member", "Cán bộ cơ sở", "Member";
    }
}

vocab! {
    /// What a device may do with a document, as `/api/docs` lists it.
    DocAccess {
        ReadWrite = "rw", "Đọc và ghi", "Read and write";
        ReadOnly = "ro", "Chỉ đọc", "Read only";
    }
}

vocab! {
    /// Levels of the org tree; units (organisations) hang under any node.
    OrgLevel {
        /// The aggregating node: a province, a district (before 2025) or a commune committee.
        Root = "root", "Cấp tổng hợp", "Aggregating level";
        Commune = "commune", "Xã, phường, thị trấn", "Commune, ward, township";
        Hamlet = "hamlet", "Thôn, bon, tổ dân phố", "Hamlet, village, residential group";
        Unit = "unit", "Đơn vị", "Unit";
    }
}

vocab! {
    /// How often a duty of a plan repeats.
    Recurrence {
        Monthly = "monthly", "Hằng tháng", "Monthly";
        Quarterly = "quarterly", "Hằng quý", "Quarterly";
        Semiannual = "semiannual", "6 tháng một lần", "Every 6 months";
        Yearly = "yearly", "Hằng năm", "Yearly";
    }
}

vocab! {
    /// Activity types of a field note (DESIGN §4).
    ActivityType {
        Meeting = "hoi-nghi", "Hội nghị, họp", "Meeting";
        Propaganda = "tuyen-truyen", "Tuyên truyền", "Propaganda session";
        HomeVisit = "tham-hoi", "Thăm hỏi", "Home visit";
        Mobilisation = "van-dong", "Vận động", "Mobilisation";
        Supervision = "giam-sat", "Giám sát", "Supervision";
        SocialCritique = "phan-bien", "Phản biện xã hội", "Social critique";
        MeetingVoters = "tiep-xuc-cu-tri", "Tiếp xúc cử tri", "Meeting voters";
        Misc = "khac", "Khác", "Other";
    }
}

vocab! {
    /// The follow-up of a petition of the people.
    PetitionStatus {
        Received = "moi", "Mới tiếp nhận", "Received";
        InProgress = "dang-xu-ly", "Đang xử lý", "In progress";
        Answered = "da-giai-quyet", "Đã giải quyết, trả lời", "Resolved, answered";
        Referred = "da-chuyen", "Đã chuyển cấp có thẩm quyền", "Referred upwards";
    }
}

vocab! {
    /// What a section of a plan holds.
    SectionKind {
        /// Mục đích, yêu cầu.
        Purposes = "purposes", "Mục đích, yêu cầu", "Purposes and requirements";
        /// Nhiệm vụ, giải pháp: the tasks.
        Contents = "contents", "Nội dung", "Contents";
        /// Tổ chức thực hiện.
        Implementation = "implementation", "Tổ chức thực hiện", "Implementation";
    }
}

impl Default for OrgLevel {
    /// No level: a node written without one is quarantined, never taken for a commune.
    fn default() -> Self {
        OrgLevel::Other(String::new())
    }
}

impl Default for PetitionStatus {
    /// A petition just written down.
    fn default() -> Self {
        PetitionStatus::Received
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::{Automerge, ROOT, transaction::Transactable};

    #[test]
    fn every_word_round_trips_and_unknown_words_are_kept() {
        for r in Role::ALL {
            assert_eq!(&Role::parse(r.as_str()), r);
        }
        let newer = Recurrence::parse("biweekly");
        assert_eq!(newer, Recurrence::Other("biweekly".into()));
        assert!(!newer.is_known());
        assert_eq!(newer.label(false), "biweekly");
        assert_eq!(serde_json::to_string(&newer).unwrap(), "\"biweekly\"");
        let back: Recurrence = serde_json::from_str("\"biweekly\"").unwrap();
        assert_eq!(back, newer);
        assert_eq!(
            serde_json::from_str::<DocAccess>("\"rw\"").unwrap(),
            DocAccess::ReadWrite
        );
        assert_eq!(ActivityType::HomeVisit.label(false), "Thăm hỏi");
        assert_eq!(ActivityType::HomeVisit.label(true), "Home visit");
    }

    #[test]
    fn documents_keep_unknown_words_and_read_text_objects() {
        let mut doc = Automerge::new();
        doc.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.put(ROOT, "plain", "cuoc-hop-moi")?;
            let t = tx.put_object(ROOT, "text", automerge::ObjType::Text)?;
            tx.splice_text(&t, 0, 0, "tham-hoi")?;
            Ok(())
        })
        .unwrap();
        let plain: ActivityType = autosurgeon::hydrate_prop(&doc, ROOT, "plain").unwrap();
        assert_eq!(plain, ActivityType::Other("cuoc-hop-moi".into()));
        let text: ActivityType = autosurgeon::hydrate_prop(&doc, ROOT, "text").unwrap();
        assert_eq!(text, ActivityType::HomeVisit);
        doc.transact::<_, _, autosurgeon::ReconcileError>(|tx| {
            autosurgeon::reconcile_prop(tx, ROOT, "again", &plain)
        })
        .unwrap();
        let again: ActivityType = autosurgeon::hydrate_prop(&doc, ROOT, "again").unwrap();
        assert_eq!(again, plain);
    }
}
