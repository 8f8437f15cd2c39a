use std::time::Duration;

use automerge::{Automerge, sync};

use crate::{
    UnixTimestamp,
    actors::{document::peer_doc_connection::PeerDocConnection, messages::SyncMessage},
};

#[derive(Debug)]
pub(crate) struct Ready;

impl Ready {
    pub(crate) fn new() -> Self {
        Self
    }

    /// danvan patch (saving received bytes): also returns the change chunks of a message that
    /// was applied, for `OnDiskState::received`.
    pub(crate) fn receive_sync_message(
        &mut self,
        now: UnixTimestamp,
        doc: &mut Automerge,
        conn: &mut PeerDocConnection,
        msg: SyncMessage,
    ) -> (Option<Duration>, Option<Vec<Vec<u8>>>) {
        match msg {
            SyncMessage::Request { data } | SyncMessage::Sync { data } => {
                let msg = match sync::Message::decode(&data) {
                    Ok(m) => m,
                    Err(e) => {
                        tracing::warn!(err=?e, conn_id=?conn.connection_id, "failed to decode sync message");
                        return (None, None);
                    }
                };
                let chunks = msg.changes.iter().map(<[u8]>::to_vec).collect();
                match conn.receive_sync_message(now, doc, msg) {
                    Ok(duration) => (Some(duration), Some(chunks)),
                    Err(e) => {
                        tracing::warn!(conn_id=?conn.connection_id, err=?e, "failed to process sync message");
                        (None, None)
                    }
                }
            }
            SyncMessage::DocUnavailable => {
                tracing::debug!("received doc-unavailable message whilst we have a doc");
                (None, None)
            }
        }
    }

    pub(crate) fn generate_sync_messages(
        &mut self,
        now: UnixTimestamp,
        doc: &mut Automerge,
        conn: &mut PeerDocConnection,
    ) -> Vec<(SyncMessage, Duration)> {
        if !conn.can_send() {
            return Vec::new();
        }
        conn.generate_sync_messages(now, doc)
            .into_iter()
            .map(|(msg, duration)| (SyncMessage::Sync { data: msg.encode() }, duration))
            .collect()
    }
}
