//! One error type for every HTTP handler, turned into a status code and a JSON `{error}` message.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// An extractor's rejection (malformed JSON 400, wrong types 422→400, too large 413), kept.
    #[error("{1}")]
    Rejected(StatusCode, String),
    /// A request that conflicts with the server's state; `offset` tells a resuming upload where to
    /// start (`{error, offset}`).
    #[error("{message}")]
    Conflict { message: String, offset: u64 },
    #[error("{0}")]
    PayloadTooLarge(String),
    /// Well-formed but refused on its content (a blob that does not hash to its name).
    #[error("{0}")]
    Unprocessable(String),
    /// Slowed down: `Retry-After` tells when to come back.
    #[error(
        "quá nhiều lần thử; thử lại sau {retry_after} giây / too many attempts; try again in {retry_after} seconds"
    )]
    TooManyRequests { retry_after: u64 },
    /// The server is saturated for this kind of request right now (not the client's fault).
    #[error(
        "máy chủ đang bận; thử lại sau {retry_after} giây / server busy; try again in {retry_after} seconds"
    )]
    Busy { retry_after: u64 },
    /// A store the server depends on (the photo store) failed: the cause is logged, the client
    /// retries later and keeps what it sent meanwhile.
    #[error(
        "kho ảnh tạm thời không dùng được; thử lại sau {retry_after} giây / the photo store is unavailable; try again in {retry_after} seconds"
    )]
    StoreUnavailable { retry_after: u64 },
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<crate::blob_store::BlobStoreError> for ApiError {
    fn from(e: crate::blob_store::BlobStoreError) -> Self {
        tracing::error!(error = %e, "photo store failed");
        ApiError::StoreUnavailable { retry_after: 30 }
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        ApiError::Internal(e.into())
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(e: axum::extract::rejection::JsonRejection) -> Self {
        ApiError::Rejected(e.status(), e.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Rejected(s, _) if *s == StatusCode::UNPROCESSABLE_ENTITY => {
                StatusCode::BAD_REQUEST
            }
            ApiError::Rejected(s, _) => *s,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Busy { .. } | ApiError::StoreUnavailable { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(e) => {
                // The cause goes to the log, never to the client.
                tracing::error!(error = %format!("{e:#}"), "internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let body = shared::api::ErrorBody {
            error: self.to_string(),
            offset: match &self {
                ApiError::Conflict { offset, .. } => Some(*offset),
                _ => None,
            },
        };
        let mut res = (status, Json(body)).into_response();
        if let ApiError::TooManyRequests { retry_after }
        | ApiError::Busy { retry_after }
        | ApiError::StoreUnavailable { retry_after } = &self
        {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, (*retry_after).into());
        }
        res
    }
}
