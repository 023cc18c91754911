use sea_orm::DatabaseConnection;
use tonic::{Request, Response, Status};
use valued_proto::notification::v1 as pb;
use valued_proto::notification::v1::notification_service_server::NotificationService;

use crate::db::delivery;
use crate::error::Error;

pub struct NotificationApi {
    pub db: DatabaseConnection,
}

#[tonic::async_trait]
impl NotificationService for NotificationApi {
    async fn list_deliveries(
        &self,
        request: Request<pb::ListDeliveriesRequest>,
    ) -> Result<Response<pb::ListDeliveriesResponse>, Status> {
        let request = request.into_inner();
        let limit = u64::from(request.limit.clamp(1, 500));
        let recipient = Some(request.recipient.as_str()).filter(|r| !r.trim().is_empty());
        let rows = delivery::recent(&self.db, recipient, limit)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(pb::ListDeliveriesResponse {
            deliveries: rows.into_iter().map(to_message).collect(),
        }))
    }
}

fn to_message(row: delivery::Model) -> pb::Delivery {
    pb::Delivery {
        id: row.id.to_string(),
        recipient: row.recipient,
        template: row.template,
        subject: row.subject,
        text_body: row.text_body,
        status: row.status,
        attempts: u32::try_from(row.attempts).unwrap_or_default(),
        last_error: row.last_error.unwrap_or_default(),
        created_at: Some(prost_types::Timestamp {
            seconds: row.created_at.timestamp(),
            nanos: 0,
        }),
        cause_event_id: row.cause_event_id.to_string(),
    }
}
