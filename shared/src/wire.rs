//! The automerge-repo wire protocol (v1): CBOR maps exchanged over a WebSocket.
//!
//! Only what a client needs is modelled; message types we do not use (ephemeral) decode to
//! [`WireMessage::Other`] so that a newer server cannot break an older phone. Of the remote-heads
//! gossip we use one thing: a phone subscribes, and the server pushes its *durable* heads.

use crate::ids::DocumentId;
use automerge::ChangeHash;
use minicbor::data::Type;
use minicbor::{Decoder, Encoder};

pub const PROTOCOL_VERSION: &str = "1";

/// What a phone subscribes to: the server's durable heads. automerge-repo names a storage ID here;
/// a phone does not know the server's, and the server has one storage, so it takes any name.
pub const DURABLE_STORAGE: &str = "durable";

/// Every message type of the automerge-repo protocol; anything else is a protocol violation.
pub const KNOWN_TYPES: &[&str] = &[
    "join",
    "peer",
    "leave",
    "request",
    "sync",
    "doc-unavailable",
    "ephemeral",
    "error",
    "remote-subscription-change",
    "remote-heads-changed",
];

/// Check an inbound frame before handing it to a repo: well-formed CBOR, a known type, and the
/// fields we rely on of the right types. Returns the frame's routing fields, which is all a gate in
/// front of a repo needs to decide whether the repo may see it.
pub fn check_frame(bytes: &[u8]) -> Result<Envelope, WireError> {
    let f = Fields::read(bytes)?;
    let kind = f.kind.clone().ok_or(WireError::MissingType)?;
    if !KNOWN_TYPES.contains(&kind.as_str()) {
        return Err(WireError::UnknownType(kind));
    }
    // Message types a client never decodes (ephemeral, remote-heads gossip) still name a
    // document; it must be a well-formed one.
    let document_id = f
        .document_id
        .as_deref()
        .map(|s| {
            s.parse()
                .map_err(|_| WireError::BadDocumentId(s.to_owned()))
        })
        .transpose()?;
    let sender_id = f.sender_id.clone();
    WireMessage::from_fields(kind.clone(), f)?;
    Ok(Envelope {
        kind,
        sender_id,
        document_id,
    })
}

/// The routing fields of a frame: what it is, who claims to send it, which document it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub kind: String,
    pub sender_id: Option<String>,
    pub document_id: Option<DocumentId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireMessage {
    Join {
        sender_id: String,
        supported_protocol_versions: Vec<String>,
    },
    Peer {
        sender_id: String,
        target_id: String,
        selected_protocol_version: String,
    },
    Leave {
        sender_id: String,
    },
    Request {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
        data: Vec<u8>,
    },
    Sync {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
        data: Vec<u8>,
    },
    DocUnavailable {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
    },
    Error {
        message: String,
    },
    /// The sender wants (`add`) or no longer wants (`remove`) the heads that these storages hold of
    /// the documents it syncs. Our server takes any `add` as a subscription to its durable heads.
    RemoteSubscriptionChange {
        sender_id: String,
        target_id: String,
        add: Vec<String>,
        remove: Vec<String>,
    },
    /// The heads that storages hold of one document; from our server, its durable heads.
    RemoteHeadsChanged {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
        new_heads: Vec<RemoteHeads>,
    },
    /// A well-formed message of a type this client ignores.
    Other {
        kind: String,
    },
}

/// One storage's heads of a document, as `remote-heads-changed` carries them: the heads in
/// automerge-repo's URL form ([`encode_head`]) and the sender's clock (ms) when it saw them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteHeads {
    pub storage_id: String,
    pub heads: Vec<String>,
    pub timestamp: u64,
}

/// A change hash as automerge-repo 2 writes heads on the wire and in URLs: bs58check.
pub fn encode_head(h: &ChangeHash) -> String {
    crate::ids::bs58check_encode(&h.0)
}

/// The inverse of [`encode_head`]; `None` for anything that is not a bs58check-written hash.
pub fn decode_head(s: &str) -> Option<ChangeHash> {
    let bytes = crate::ids::bs58check_decode(s)?;
    Some(ChangeHash(bytes.try_into().ok()?))
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    #[error("malformed CBOR: {0}")]
    Cbor(String),
    #[error("message has no type")]
    MissingType,
    #[error("message of type {kind} lacks field {field}")]
    MissingField { kind: String, field: &'static str },
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    #[error("bad document id: {0}")]
    BadDocumentId(String),
}

impl From<minicbor::decode::Error> for WireError {
    fn from(e: minicbor::decode::Error) -> Self {
        WireError::Cbor(e.to_string())
    }
}

#[derive(Default)]
struct Fields {
    kind: Option<String>,
    sender_id: Option<String>,
    target_id: Option<String>,
    document_id: Option<String>,
    data: Option<Vec<u8>>,
    message: Option<String>,
    selected: Option<String>,
    supported: Option<Vec<String>>,
    add: Option<Vec<String>>,
    remove: Option<Vec<String>>,
    new_heads: Option<Vec<RemoteHeads>>,
}

fn read_strings(d: &mut Decoder) -> Result<Vec<String>, WireError> {
    let n = d
        .array()?
        .ok_or_else(|| WireError::Cbor("indefinite array".into()))?;
    (0..n).map(|_| Ok(d.str()?.to_owned())).collect()
}

/// `newHeads`: storage ID → `{heads, timestamp}`. JS writes a large timestamp as a float, read
/// as 0: nothing here uses it, and a phone's bundle need not carry float decoding.
fn read_new_heads(d: &mut Decoder) -> Result<Vec<RemoteHeads>, WireError> {
    let definite = |n: Option<u64>| n.ok_or_else(|| WireError::Cbor("indefinite map".into()));
    let n = definite(d.map()?)?;
    let mut out = Vec::new();
    for _ in 0..n {
        let storage_id = d.str()?.to_owned();
        let (mut heads, mut timestamp) = (None, 0);
        for _ in 0..definite(d.map()?)? {
            match d.str()? {
                "heads" => heads = Some(read_strings(d)?),
                "timestamp" if d.datatype()? == Type::U64 => timestamp = d.u64()?,
                _ => d.skip()?,
            }
        }
        let heads = heads.ok_or_else(|| WireError::MissingField {
            kind: "remote-heads-changed".into(),
            field: "heads",
        })?;
        out.push(RemoteHeads {
            storage_id,
            heads,
            timestamp,
        });
    }
    Ok(out)
}

impl Fields {
    fn read(bytes: &[u8]) -> Result<Fields, WireError> {
        let mut d = Decoder::new(bytes);
        let len = d
            .map()?
            .ok_or_else(|| WireError::Cbor("indefinite map".into()))?;
        let mut f = Fields::default();
        for _ in 0..len {
            let key = d.str()?;
            match key {
                "type" => f.kind = Some(d.str()?.to_owned()),
                "senderId" => f.sender_id = Some(d.str()?.to_owned()),
                "targetId" => f.target_id = Some(d.str()?.to_owned()),
                "message" => f.message = Some(d.str()?.to_owned()),
                "selectedProtocolVersion" => f.selected = Some(d.str()?.to_owned()),
                "documentId" => f.document_id = Some(d.str()?.to_owned()),
                "data" => f.data = Some(d.bytes()?.to_vec()),
                "supportedProtocolVersions" => f.supported = Some(read_strings(&mut d)?),
                "add" => f.add = Some(read_strings(&mut d)?),
                "remove" => f.remove = Some(read_strings(&mut d)?),
                "newHeads" => f.new_heads = Some(read_new_heads(&mut d)?),
                _ => d.skip()?,
            }
        }
        if d.position() != bytes.len() {
            return Err(WireError::Cbor("trailing bytes after message".into()));
        }
        Ok(f)
    }
}

impl WireMessage {
    pub fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let mut f = Fields::read(bytes)?;
        let kind = f.kind.take().ok_or(WireError::MissingType)?;
        Self::from_fields(kind, f)
    }

    fn from_fields(kind: String, f: Fields) -> Result<Self, WireError> {
        let need = |v: Option<String>, field: &'static str| {
            v.ok_or_else(|| WireError::MissingField {
                kind: kind.clone(),
                field,
            })
        };
        let doc = |v: Option<String>| -> Result<DocumentId, WireError> {
            let s = v.ok_or_else(|| WireError::MissingField {
                kind: kind.clone(),
                field: "documentId",
            })?;
            s.parse().map_err(|_| WireError::BadDocumentId(s))
        };
        Ok(match kind.as_str() {
            "join" => WireMessage::Join {
                sender_id: need(f.sender_id, "senderId")?,
                supported_protocol_versions: f.supported.unwrap_or_default(),
            },
            "peer" => WireMessage::Peer {
                sender_id: need(f.sender_id, "senderId")?,
                target_id: need(f.target_id, "targetId")?,
                selected_protocol_version: need(f.selected, "selectedProtocolVersion")?,
            },
            "leave" => WireMessage::Leave {
                sender_id: need(f.sender_id, "senderId")?,
            },
            "request" | "sync" => {
                let sender_id = need(f.sender_id, "senderId")?;
                let target_id = need(f.target_id, "targetId")?;
                let document_id = doc(f.document_id)?;
                let data = f.data.ok_or_else(|| WireError::MissingField {
                    kind: kind.clone(),
                    field: "data",
                })?;
                if kind == "sync" {
                    WireMessage::Sync {
                        sender_id,
                        target_id,
                        document_id,
                        data,
                    }
                } else {
                    WireMessage::Request {
                        sender_id,
                        target_id,
                        document_id,
                        data,
                    }
                }
            }
            "doc-unavailable" => WireMessage::DocUnavailable {
                sender_id: need(f.sender_id, "senderId")?,
                target_id: need(f.target_id, "targetId")?,
                document_id: doc(f.document_id)?,
            },
            "error" => WireMessage::Error {
                message: f.message.unwrap_or_default(),
            },
            "remote-subscription-change" => WireMessage::RemoteSubscriptionChange {
                sender_id: need(f.sender_id, "senderId")?,
                target_id: need(f.target_id, "targetId")?,
                add: f.add.unwrap_or_default(),
                remove: f.remove.unwrap_or_default(),
            },
            "remote-heads-changed" => WireMessage::RemoteHeadsChanged {
                sender_id: need(f.sender_id, "senderId")?,
                target_id: need(f.target_id, "targetId")?,
                document_id: doc(f.document_id)?,
                new_heads: f.new_heads.ok_or_else(|| WireError::MissingField {
                    kind: kind.clone(),
                    field: "newHeads",
                })?,
            },
            _ => WireMessage::Other { kind },
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new(Vec::new());
        // Writing into a Vec cannot fail, hence the unwraps inside `encode_into`.
        encode_into(&mut e, self).expect("encoding into a Vec is infallible");
        e.into_writer()
    }
}

fn encode_into(
    e: &mut Encoder<Vec<u8>>,
    m: &WireMessage,
) -> Result<(), minicbor::encode::Error<std::convert::Infallible>> {
    match m {
        WireMessage::Join {
            sender_id,
            supported_protocol_versions,
        } => {
            e.map(4)?;
            e.str("type")?.str("join")?;
            e.str("senderId")?.str(sender_id)?;
            e.str("supportedProtocolVersions")?
                .array(supported_protocol_versions.len() as u64)?;
            for v in supported_protocol_versions {
                e.str(v)?;
            }
            // A phone keeps its documents in IndexedDB across sessions: not ephemeral.
            e.str("peerMetadata")?
                .map(1)?
                .str("isEphemeral")?
                .bool(false)?;
        }
        WireMessage::Peer {
            sender_id,
            target_id,
            selected_protocol_version,
        } => {
            e.map(4)?;
            e.str("type")?.str("peer")?;
            e.str("senderId")?.str(sender_id)?;
            e.str("targetId")?.str(target_id)?;
            e.str("selectedProtocolVersion")?
                .str(selected_protocol_version)?;
        }
        WireMessage::Leave { sender_id } => {
            e.map(2)?;
            e.str("type")?.str("leave")?;
            e.str("senderId")?.str(sender_id)?;
        }
        WireMessage::Request {
            sender_id,
            target_id,
            document_id,
            data,
        }
        | WireMessage::Sync {
            sender_id,
            target_id,
            document_id,
            data,
        } => {
            let kind = if matches!(m, WireMessage::Sync { .. }) {
                "sync"
            } else {
                "request"
            };
            e.map(5)?;
            e.str("type")?.str(kind)?;
            e.str("senderId")?.str(sender_id)?;
            e.str("targetId")?.str(target_id)?;
            e.str("documentId")?.str(&document_id.to_string())?;
            e.str("data")?.bytes(data)?;
        }
        WireMessage::DocUnavailable {
            sender_id,
            target_id,
            document_id,
        } => {
            e.map(4)?;
            e.str("type")?.str("doc-unavailable")?;
            e.str("senderId")?.str(sender_id)?;
            e.str("targetId")?.str(target_id)?;
            e.str("documentId")?.str(&document_id.to_string())?;
        }
        WireMessage::Error { message } => {
            e.map(2)?;
            e.str("type")?.str("error")?;
            e.str("message")?.str(message)?;
        }
        WireMessage::RemoteSubscriptionChange {
            sender_id,
            target_id,
            add,
            remove,
        } => {
            e.map(5)?;
            e.str("type")?.str("remote-subscription-change")?;
            e.str("senderId")?.str(sender_id)?;
            e.str("targetId")?.str(target_id)?;
            for (field, ids) in [("add", add), ("remove", remove)] {
                e.str(field)?.array(ids.len() as u64)?;
                for id in ids {
                    e.str(id)?;
                }
            }
        }
        WireMessage::RemoteHeadsChanged {
            sender_id,
            target_id,
            document_id,
            new_heads,
        } => {
            e.map(5)?;
            e.str("type")?.str("remote-heads-changed")?;
            e.str("senderId")?.str(sender_id)?;
            e.str("targetId")?.str(target_id)?;
            e.str("documentId")?.str(&document_id.to_string())?;
            e.str("newHeads")?.map(new_heads.len() as u64)?;
            for h in new_heads {
                e.str(&h.storage_id)?.map(2)?;
                e.str("heads")?.array(h.heads.len() as u64)?;
                for head in &h.heads {
                    e.str(head)?;
                }
                e.str("timestamp")?.u64(h.timestamp)?;
            }
        }
        WireMessage::Other { kind } => {
            e.map(1)?;
            e.str("type")?.str(kind)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::DocKey;

    #[test]
    fn round_trip() {
        let id = DocKey::org().doc_id();
        for m in [
            WireMessage::Join {
                sender_id: "a".into(),
                supported_protocol_versions: vec!["1".into()],
            },
            WireMessage::Peer {
                sender_id: "s".into(),
                target_id: "a".into(),
                selected_protocol_version: "1".into(),
            },
            WireMessage::Sync {
                sender_id: "a".into(),
                target_id: "s".into(),
                document_id: id,
                data: vec![1, 2],
            },
            WireMessage::Request {
                sender_id: "a".into(),
                target_id: "s".into(),
                document_id: id,
                data: vec![],
            },
            WireMessage::DocUnavailable {
                sender_id: "s".into(),
                target_id: "a".into(),
                document_id: id,
            },
            WireMessage::Error {
                message: "boom".into(),
            },
            WireMessage::Leave {
                sender_id: "a".into(),
            },
            WireMessage::RemoteSubscriptionChange {
                sender_id: "a".into(),
                target_id: "s".into(),
                add: vec!["store".into()],
                remove: vec![],
            },
            WireMessage::RemoteHeadsChanged {
                sender_id: "s".into(),
                target_id: "a".into(),
                document_id: id,
                new_heads: vec![RemoteHeads {
                    storage_id: "store".into(),
                    heads: vec![encode_head(&ChangeHash([7; 32]))],
                    timestamp: 1_790_000_000_000,
                }],
            },
        ] {
            assert_eq!(WireMessage::decode(&m.encode()).unwrap(), m);
        }
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic() {
        let good = WireMessage::Sync {
            sender_id: "a".into(),
            target_id: "s".into(),
            document_id: DocKey::org().doc_id(),
            data: vec![9; 40],
        }
        .encode();
        for cut in 0..good.len() {
            assert!(
                WireMessage::decode(&good[..cut]).is_err(),
                "truncated at {cut}"
            );
        }
        assert!(WireMessage::decode(b"\xff\x00garbage").is_err());
        assert!(WireMessage::decode(&[0xa1, 0x61, b'x', 0x01]).is_err()); // {x: 1}: no type
        let unknown = WireMessage::Other {
            kind: "ephemeral".into(),
        }
        .encode();
        assert_eq!(
            WireMessage::decode(&unknown).unwrap(),
            WireMessage::Other {
                kind: "ephemeral".into()
            }
        );
    }

    /// What automerge-repo 2 (cbor-x) sends: a float timestamp, heads in URL form, extra fields.
    #[test]
    fn remote_heads_as_the_js_repo_writes_them() {
        let hash = ChangeHash([0xab; 32]);
        assert_eq!(decode_head(&encode_head(&hash)), Some(hash));
        assert_eq!(decode_head("not-a-head"), None);
        let id = DocKey::org().doc_id();
        let mut e = Encoder::new(Vec::new());
        e.map(5).unwrap();
        e.str("type").unwrap().str("remote-heads-changed").unwrap();
        e.str("senderId").unwrap().str("s").unwrap();
        e.str("targetId").unwrap().str("a").unwrap();
        e.str("documentId").unwrap().str(&id.to_string()).unwrap();
        e.str("newHeads").unwrap().map(1).unwrap();
        e.str("store").unwrap().map(3).unwrap();
        e.str("heads").unwrap().array(1).unwrap();
        e.str(&encode_head(&hash)).unwrap();
        e.str("timestamp").unwrap().f64(1.79e12).unwrap();
        e.str("extra").unwrap().bool(true).unwrap();
        let bytes = e.into_writer();
        assert!(check_frame(&bytes).is_ok());
        let WireMessage::RemoteHeadsChanged { new_heads, .. } =
            WireMessage::decode(&bytes).unwrap()
        else {
            panic!("not decoded as remote-heads-changed");
        };
        assert_eq!(new_heads[0].heads, [encode_head(&hash)]);
        assert_eq!(new_heads[0].timestamp, 0);
        // Wrong types are errors: heads that are not an array, a subscription without a sender.
        let mut e = Encoder::new(Vec::new());
        e.map(3).unwrap();
        e.str("type").unwrap().str("remote-heads-changed").unwrap();
        e.str("documentId").unwrap().str(&id.to_string()).unwrap();
        e.str("newHeads").unwrap().map(1).unwrap();
        e.str("store").unwrap().map(1).unwrap();
        e.str("heads").unwrap().u8(1).unwrap();
        assert!(check_frame(&e.into_writer()).is_err());
        let mut e = Encoder::new(Vec::new());
        e.map(2).unwrap();
        e.str("type")
            .unwrap()
            .str("remote-subscription-change")
            .unwrap();
        e.str("add").unwrap().array(0).unwrap();
        assert!(check_frame(&e.into_writer()).is_err());
    }
}
