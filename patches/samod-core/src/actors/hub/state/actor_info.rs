use crate::{DocumentActorId, DocumentId, doc_search::DocSearchPhase};

#[derive(Debug, Clone)]
pub(crate) struct ActorInfo {
    pub(crate) actor_id: DocumentActorId,
    pub(crate) document_id: DocumentId,
    pub(crate) search_phase: DocSearchPhase,
    /// danvan patch (unloading): when the document was last used (a peer's message, a sync
    /// message sent, a search); `None` until then.
    pub(crate) last_activity: Option<crate::UnixTimestamp>,
    /// danvan patch (unloading): told to terminate; no longer the document's actor.
    pub(crate) terminating: bool,
}

impl ActorInfo {
    pub fn new_with_id(actor_id: DocumentActorId, document_id: DocumentId) -> Self {
        Self {
            actor_id,
            document_id,
            search_phase: DocSearchPhase::Loading,
            last_activity: None,
            terminating: false,
        }
    }
}
